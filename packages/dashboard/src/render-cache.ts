/** The most renders kept at once; the oldest is dropped first. */
export const MAX_CACHED_RENDERS = 200

/**
 * Renders shared by every page asking for the same thing within a short time: a hundred open tabs
 * refreshing the overview after a change cost one database read, not a hundred. An entry is used
 * while it is younger than the caller's TTL and, when the caller follows changes, while no change
 * came in since it was made (`seq`, the live stream's change counter). A render that fails is
 * forgotten, so the next request tries again.
 */
export class RenderCache<T> {
  readonly #renders = new Map<string, { seq: number; at: number; value: Promise<T> }>()
  readonly #seq: () => number
  readonly #maxEntries: number
  readonly #nowMs: () => number

  /**
   * @param seq The change counter renders follow.
   * @param maxEntries Most renders kept.
   * @param nowMs The clock TTLs are measured on (tests pass a manual one).
   */
  constructor(seq: () => number, maxEntries = MAX_CACHED_RENDERS, nowMs: () => number = Date.now) {
    this.#seq = seq
    this.#maxEntries = maxEntries
    this.#nowMs = nowMs
  }

  /** The cached render of `key`, or a new one from `render`. */
  get(key: string, ttlMs: number, followSeq: boolean, render: () => Promise<T>): Promise<T> {
    const t = this.#nowMs()
    const seq = this.#seq()
    const hit = this.#renders.get(key)
    if (hit && t - hit.at < ttlMs && (!followSeq || hit.seq === seq)) return hit.value
    const value = render()
    this.#renders.delete(key)
    this.#renders.set(key, { seq, at: t, value })
    if (this.#renders.size > this.#maxEntries) this.#renders.delete(this.#renders.keys().next().value as string)
    value.catch(() => {
      if (this.#renders.get(key)?.value === value) this.#renders.delete(key)
    })
    return value
  }
}
