import { type CheckSettings, type EndpointConfig, sameCheckSettings } from './endpoint-config.js'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** The map key of an endpoint id: a number up to 2^53 − 1 (no allocation per key), else the bigint. */
export function endpointKey(endpointId: bigint): number | bigint {
  return endpointId <= MAX_SAFE ? Number(endpointId) : endpointId
}

/** The fields of an {@link EndpointConfig} that most endpoints share: held once per distinct combination. */
type Settings = CheckSettings

/**
 * The endpoints an {@link EndpointSource} holds, as a struct of arrays: per endpoint one slot in
 * typed arrays (id, blog id, bucket, interval, a settings index) plus its URL and one map entry,
 * and the rest of its configuration interned — a fleet mostly shares a handful of combinations of
 * timeout, method, keywords, headers and thresholds. About 100 bytes per endpoint besides the URL,
 * where a frozen configuration object per endpoint costs three times that. {@link get} builds the
 * configuration object on demand.
 */
export class EndpointTable {
  readonly #slots = new Map<number | bigint, number>()
  readonly #bigIds = new Map<number, bigint>()
  #ids = new Float64Array(0)
  #blogIds = new BigUint64Array(0)
  #buckets = new Uint16Array(0)
  #intervals = new Float64Array(0)
  #settingsOf = new Uint32Array(0)
  #marks = new Uint8Array(0)
  #urls: (string | undefined)[] = []
  #free: number[] = []
  #used = 0
  #capacity = 0

  readonly #settings: (Settings | undefined)[] = []
  readonly #settingsKeys: string[] = []
  readonly #settingsRefs: number[] = []
  readonly #settingsIndex = new Map<string, number>()
  readonly #freeSettings: number[] = []
  #lastSettings = -1

  get size(): number {
    return this.#slots.size
  }

  has(key: number | bigint): boolean {
    return this.#slots.has(key)
  }

  /** The configuration (a new frozen object), or undefined. */
  get(key: number | bigint): EndpointConfig | undefined {
    const slot = this.#slots.get(key)
    return slot === undefined ? undefined : this.#config(slot)
  }

  /** True when the endpoint is held with exactly this configuration. */
  holds(config: EndpointConfig): boolean {
    const slot = this.#slots.get(endpointKey(config.endpointId))
    return (
      slot !== undefined &&
      this.#blogIds[slot] === config.blogId &&
      this.#buckets[slot] === config.bucketNo &&
      this.#intervals[slot] === config.intervalMs &&
      this.#urls[slot] === config.url &&
      sameCheckSettings(this.#settings[this.#settingsOf[slot]!]!, config)
    )
  }

  /** Adds or replaces an endpoint's configuration. */
  set(config: EndpointConfig): void {
    const key = endpointKey(config.endpointId)
    let slot = this.#slots.get(key)
    if (slot === undefined) {
      slot = this.#allocate()
      this.#slots.set(key, slot)
      if (typeof key === 'bigint') this.#bigIds.set(slot, key)
      else this.#ids[slot] = key
    } else {
      this.#releaseSettings(this.#settingsOf[slot]!)
    }
    this.#blogIds[slot] = config.blogId
    this.#buckets[slot] = config.bucketNo
    this.#intervals[slot] = config.intervalMs
    this.#urls[slot] = config.url
    this.#settingsOf[slot] = this.#internSettings(config)
  }

  delete(key: number | bigint): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#slots.delete(key)
    this.#bigIds.delete(slot)
    this.#releaseSettings(this.#settingsOf[slot]!)
    this.#urls[slot] = undefined
    this.#marks[slot] = 0
    this.#free.push(slot)
    return true
  }

  /** Every key with its bucket, in no particular order (deleting the current key meanwhile is allowed). */
  *buckets(): IterableIterator<[key: number | bigint, bucketNo: number]> {
    for (const [key, slot] of this.#slots) yield [key, this.#buckets[slot]!]
  }

  /** Every configuration (each a new object), in no particular order. */
  *values(): IterableIterator<EndpointConfig> {
    for (const slot of this.#slots.values()) yield this.#config(slot)
  }

  /** Every endpoint id held. */
  *ids(): IterableIterator<bigint> {
    for (const slot of this.#slots.values()) yield this.#idOf(slot)
  }

  /** Checks per second the endpoints held ask for (one per interval each). */
  checksPerSecond(): number {
    let rate = 0
    for (const slot of this.#slots.values()) rate += 1000 / this.#intervals[slot]!
    return rate
  }

  /** Clears every mark (before a full pass that {@link mark}s what it sees). */
  clearMarks(): void {
    this.#marks.fill(0)
  }

  mark(key: number | bigint): void {
    const slot = this.#slots.get(key)
    if (slot !== undefined) this.#marks[slot] = 1
  }

  /** The ids of the endpoints not marked since {@link clearMarks}. */
  unmarked(): bigint[] {
    const ids: bigint[] = []
    for (const slot of this.#slots.values()) if (this.#marks[slot] === 0) ids.push(this.#idOf(slot))
    return ids
  }

  #idOf(slot: number): bigint {
    return this.#bigIds.get(slot) ?? BigInt(this.#ids[slot]!)
  }

  #config(slot: number): EndpointConfig {
    const settings = this.#settings[this.#settingsOf[slot]!]!
    return Object.freeze({
      endpointId: this.#idOf(slot),
      blogId: this.#blogIds[slot]!,
      bucketNo: this.#buckets[slot]!,
      url: this.#urls[slot]!,
      intervalMs: this.#intervals[slot]!,
      timeoutMs: settings.timeoutMs,
      method: settings.method,
      profile: settings.profile,
      redirectPolicy: settings.redirectPolicy,
      maxRedirects: settings.maxRedirects,
      keyword: settings.keyword,
      forbiddenKeywords: settings.forbiddenKeywords,
      keywordCaseSensitive: settings.keywordCaseSensitive,
      customHeaders: settings.customHeaders,
      latencyThresholdMs: settings.latencyThresholdMs,
      tlsExpiryWarnDays: settings.tlsExpiryWarnDays,
      alertCooldownMinutes: settings.alertCooldownMinutes,
      tenantOwned: settings.tenantOwned,
    })
  }

  #internSettings(config: EndpointConfig): number {
    // Neighbouring rows mostly share their settings: the last ones interned are tried first.
    const last = this.#lastSettings
    if (last >= 0 && this.#settings[last] !== undefined && sameCheckSettings(this.#settings[last]!, config)) {
      this.#settingsRefs[last]!++
      return last
    }
    const key = keyOfSettings(config)
    let index = this.#settingsIndex.get(key)
    if (index === undefined) {
      index = this.#freeSettings.pop() ?? this.#settings.length
      this.#settings[index] = Object.freeze({
        timeoutMs: config.timeoutMs,
        method: config.method,
        profile: config.profile,
        redirectPolicy: config.redirectPolicy,
        maxRedirects: config.maxRedirects,
        keyword: config.keyword,
        forbiddenKeywords: config.forbiddenKeywords,
        keywordCaseSensitive: config.keywordCaseSensitive,
        customHeaders: config.customHeaders,
        latencyThresholdMs: config.latencyThresholdMs,
        tlsExpiryWarnDays: config.tlsExpiryWarnDays,
        alertCooldownMinutes: config.alertCooldownMinutes,
        tenantOwned: config.tenantOwned,
      })
      this.#settingsKeys[index] = key
      this.#settingsRefs[index] = 0
      this.#settingsIndex.set(key, index)
    }
    this.#settingsRefs[index]!++
    this.#lastSettings = index
    return index
  }

  #releaseSettings(index: number): void {
    if (--this.#settingsRefs[index]! > 0) return
    this.#settingsIndex.delete(this.#settingsKeys[index]!)
    this.#settings[index] = undefined
    this.#settingsKeys[index] = ''
    this.#freeSettings.push(index)
  }

  #allocate(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#used === this.#capacity) this.#grow(Math.max(1024, this.#capacity * 2))
    return this.#used++
  }

  #grow(capacity: number): void {
    const grown = <T extends Float64Array | BigUint64Array | Uint16Array | Uint32Array | Uint8Array>(
      from: T,
      to: T,
    ) => {
      to.set(from as never)
      return to
    }
    this.#ids = grown(this.#ids, new Float64Array(capacity))
    this.#blogIds = grown(this.#blogIds, new BigUint64Array(capacity))
    this.#buckets = grown(this.#buckets, new Uint16Array(capacity))
    this.#intervals = grown(this.#intervals, new Float64Array(capacity))
    this.#settingsOf = grown(this.#settingsOf, new Uint32Array(capacity))
    this.#marks = grown(this.#marks, new Uint8Array(capacity))
    this.#capacity = capacity
  }
}

/** The interning key of the shared part of a configuration: equal keys, equal settings. */
export function keyOfSettings(c: EndpointConfig): string {
  const simple = `${c.timeoutMs}|${c.method}|${c.profile}|${c.redirectPolicy}|${c.maxRedirects}|${c.keywordCaseSensitive ? 1 : 0}|${c.latencyThresholdMs}|${c.tlsExpiryWarnDays}|${c.alertCooldownMinutes}|${c.tenantOwned ? 1 : 0}`
  if (c.keyword === null && c.forbiddenKeywords.length === 0 && Object.keys(c.customHeaders).length === 0) {
    return simple
  }
  return `${simple}|${JSON.stringify([c.keyword, c.forbiddenKeywords, Object.entries(c.customHeaders)])}`
}
