import { type Db, hosts } from '@jetmon/db'
import type { Clock, Timers } from '@jetmon/vocabulary'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { and, eq, gt, sql } from 'drizzle-orm'
import { checkBucketTotal } from './_checks.js'
import { assignBuckets, type BucketAssignment, type BucketRange, type LiveHost, rangesOf } from './buckets.js'
import { type Timing, timing } from './clock.js'
import { SchedulerError } from './errors.js'
import { DEFAULT_BUCKET_TOTAL } from './phase.js'

/** Settings of {@link BucketLeases}: this host's identity, the lease length and an optional pinned range. */
export interface BucketLeasesOptions {
  /** The drizzle handle from `@jetmon/db`. */
  db: Db
  /** `HOST_ID`: this host's row in `jetmon_hosts` (at most 255 characters). */
  hostId: string
  /** Recorded in the row (at most 64 characters), for operators. */
  version: string
  /** `BUCKET_TOTAL` (default 1000); every host must use the same. */
  bucketTotal?: number
  /** `BUCKET_LEASE_SEC` × 1000 (default 30 000). Renewed every third of it. */
  leaseMs?: number
  /** `PINNED_BUCKET_MIN`/`MAX`: this host owns exactly this range, and dynamic hosts leave it alone. */
  pinned?: BucketRange | null
  /** Default: the system clock. Lease expiry is judged by the database clock; this one only times renewals. */
  clock?: Clock
  /** Default: Node's timers. */
  timers?: Timers
  logger?: Logger
}

/** A row of `jetmon_hosts` with an unexpired lease, status `active`. */
export interface LeaseHolder {
  hostId: string
  /** The pinned range for a pinned host, else null. */
  pinned: BucketRange | null
  /** What the host last recorded it owns (informational for dynamic hosts: see {@link BucketLeases}). */
  bucketMin: number | null
  bucketMax: number | null
  leaseExpiresAt: Date
  heartbeatAt: Date
  startedAt: Date
  version: string | null
}

/** Why this host's ranges changed. */
export type LeaseChangeReason =
  /** Registration or a renewal saw the live host set change. */
  | 'assignment'
  /** Renewals failed for a whole lease period: the others may have taken the buckets over. */
  | 'lease-lost'
  /** {@link BucketLeases.drain}, or the row was set to draining by someone else. */
  | 'drain'

/** What a {@link BucketLeases} change listener receives when this host's ranges change. */
export interface LeaseChange {
  /** The buckets this host should check from now on (empty: none). */
  ranges: BucketRange[]
  previous: BucketRange[]
  reason: LeaseChangeReason
  /** The whole split this was computed from (null when the host holds no lease). */
  split: BucketAssignment | null
}

/**
 * Where a {@link BucketLeases} is in its life: `idle` before it registers, `active` while its lease
 * is renewed, `lease-lost` after renewals failed for a whole lease period (it owns nothing until a
 * renewal succeeds again), `draining` once drained, by itself or by someone else setting its row
 * to draining (final: it takes no share again without registering anew).
 */
export type LeaseState = 'idle' | 'active' | 'lease-lost' | 'draining'

/**
 * This host's share of the bucket space, through a lease in `jetmon_hosts` (docs/operations.md,
 * "Scale-out across hosts"). Each host writes only its own row; the split is computed by every host from the set
 * of live rows (`status = 'active' AND lease_expires_at > NOW(3)`, judged by the database clock so
 * skewed host clocks agree) with {@link assignBuckets}, so all hosts reach the same answer.
 *
 * Handover bounds, with L the lease:
 * - a host joining takes its share at once; the others notice at their next renewal (≤ L/3), so
 *   two hosts check a bucket for at most L/3;
 * - a crashed host's lease runs out ≤ L after its last renewal and the others notice ≤ L/3 later:
 *   its buckets are taken over within 4L/3 (< 2L);
 * - a host that cannot renew stops checking (ranges → empty, reason `lease-lost`) once a whole
 *   lease period has passed since its last successful renewal was sent — no later than the
 *   database lets its lease expire — and takes its share back on the next successful renewal;
 * - {@link drain} expires the lease at once, so the buckets move at the others' next renewal.
 *
 * `bucket_min`/`bucket_max` hold a pinned host's range (which the others read) and, for a dynamic
 * host, the envelope of its current ranges (informational: a slice crossing a pinned range is
 * several ranges).
 */
export class BucketLeases {
  readonly hostId: string
  readonly bucketTotal: number
  readonly leaseMs: number
  readonly pinned: BucketRange | null
  readonly #db: Db
  readonly #version: string
  readonly #clock: Timing
  readonly #logger: Logger
  readonly #listeners = new Set<(change: LeaseChange) => void>()
  readonly #warned = new Set<string>()

  #state: LeaseState = 'idle'
  #ranges: BucketRange[] = []
  #split: BucketAssignment | null = null
  /** Local time until which our lease is certainly valid (send time of the last successful write + L). */
  #validUntil = Number.NEGATIVE_INFINITY
  #renewing: Promise<BucketRange[]> | null = null
  /** Writes to the row run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve()
  /** Bumped by drain(): writes requested before it are dropped. */
  #epoch = 0
  #looping = false
  #timer: unknown = undefined
  #nextRenewAt = 0

  constructor(options: BucketLeasesOptions) {
    const { hostId, version } = options
    if (typeof hostId !== 'string' || hostId.length === 0 || hostId.length > 255) {
      throw new SchedulerError('INVALID_OPTION', `hostId must be 1–255 characters, got ${JSON.stringify(hostId)}`)
    }
    if (typeof version !== 'string' || version.length > 64) {
      throw new SchedulerError('INVALID_OPTION', `version must be a string of at most 64 characters`)
    }
    this.bucketTotal = options.bucketTotal ?? DEFAULT_BUCKET_TOTAL
    checkBucketTotal(this.bucketTotal)
    this.leaseMs = options.leaseMs ?? 30_000
    if (!Number.isSafeInteger(this.leaseMs) || this.leaseMs < 30) {
      throw new SchedulerError('INVALID_OPTION', `leaseMs must be a whole number ≥ 30, got ${String(options.leaseMs)}`)
    }
    const pinned = options.pinned ?? null
    if (pinned) {
      // Validates the range against the bucket space (throws INVALID_BUCKET_RANGE).
      assignBuckets({ hosts: [{ hostId, pinned }], bucketTotal: this.bucketTotal })
    }
    this.hostId = hostId
    this.pinned = pinned ? { min: pinned.min, max: pinned.max } : null
    this.#db = options.db
    this.#version = version
    this.#clock = timing(options.clock, options.timers)
    this.#logger = options.logger ?? noopLogger
  }

  /** The buckets this host should check now (a copy). */
  get ranges(): BucketRange[] {
    return this.#ranges.map((range) => ({ ...range }))
  }

  /** The last split computed (every live host's ranges), or null before registration. */
  get split(): BucketAssignment | null {
    return this.#split
  }

  get state(): LeaseState {
    return this.#state
  }

  /** True when `bucket` is in this host's current ranges. */
  owns(bucket: number): boolean {
    return this.#ranges.some((range) => range.min <= bucket && bucket <= range.max)
  }

  /** Registers `cb` for changes of this host's ranges; returns a function that unregisters it. */
  onChange(cb: (change: LeaseChange) => void): () => void {
    this.#listeners.add(cb)
    return () => this.#listeners.delete(cb)
  }

  /**
   * Writes this host's row — and only it — as active, with a fresh lease, heartbeat, start time,
   * pinned flag, version and the ranges it computes from the live set plus itself; then those
   * ranges apply. Returns them. Registering again (after {@link drain}) starts over.
   */
  register(): Promise<BucketRange[]> {
    const epoch = this.#epoch
    return this.#serial(() => this.#register(epoch))
  }

  async #register(epoch: number): Promise<BucketRange[]> {
    if (epoch !== this.#epoch) return []
    const sentAt = this.#clock.now()
    const split = await this.#computeSplit(true)
    const mine = rangesOf(split, this.hostId)
    const recorded = this.#recordedRange(mine)
    const row = {
      bucketMin: recorded.min,
      bucketMax: recorded.max,
      status: 'active' as const,
      leaseExpiresAt: sql`NOW(3) + INTERVAL ${this.leaseMs * 1000} MICROSECOND`,
      heartbeatAt: sql`NOW(3)`,
      pinned: this.pinned !== null,
      version: this.#version,
      startedAt: sql`NOW(3)`,
    }
    await this.#db
      .insert(hosts)
      .values({ hostId: this.hostId, ...row })
      .onDuplicateKeyUpdate({ set: row })
    if (epoch !== this.#epoch) return [] // drained meanwhile: its write comes after this one
    this.#state = 'active'
    this.#validUntil = sentAt + this.leaseMs
    this.#logger.info(
      { hostId: this.hostId, ranges: mine, pinned: this.pinned, leaseMs: this.leaseMs },
      'registered in jetmon_hosts',
    )
    this.#apply(mine, split, 'assignment')
    return this.ranges
  }

  /**
   * Extends this host's lease — its own row only — re-reads the live set and applies the ranges
   * computed from it. Concurrent calls share one renewal. If the row has disappeared it registers
   * again; if someone set it to draining, the host stops owning anything (reason `drain`).
   * Rejects when the database cannot be reached (the ranges stay until the lease runs out).
   */
  renew(): Promise<BucketRange[]> {
    if (this.#state === 'draining') return Promise.resolve([])
    if (this.#state === 'idle') return this.register()
    const epoch = this.#epoch
    this.#renewing ??= this.#serial(() => this.#renewOnce(epoch)).finally(() => {
      this.#renewing = null
    })
    return this.#renewing
  }

  async #renewOnce(epoch: number): Promise<BucketRange[]> {
    if (epoch !== this.#epoch) return []
    const sentAt = this.#clock.now()
    const split = await this.#computeSplit(true)
    const mine = rangesOf(split, this.hostId)
    const recorded = this.#recordedRange(mine)
    const [result] = await this.#db
      .update(hosts)
      .set({
        leaseExpiresAt: sql`NOW(3) + INTERVAL ${this.leaseMs * 1000} MICROSECOND`,
        heartbeatAt: sql`NOW(3)`,
        bucketMin: recorded.min,
        bucketMax: recorded.max,
      })
      .where(and(eq(hosts.hostId, this.hostId), eq(hosts.status, 'active')))
    if (epoch !== this.#epoch) return []
    if (result.affectedRows === 0) {
      const [row] = await this.#db.select({ status: hosts.status }).from(hosts).where(eq(hosts.hostId, this.hostId))
      if (!row) {
        this.#logger.warn(
          { hostId: this.hostId },
          'this host’s row in jetmon_hosts disappeared (deleted by hand?); registering again',
        )
        return this.#register(epoch)
      }
      this.#logger.warn(
        { hostId: this.hostId },
        'this host was set to draining in jetmon_hosts by someone else: releasing every bucket; restart or re-register to take a share again',
      )
      this.#stopLoop()
      this.#state = 'draining'
      this.#apply([], null, 'drain')
      return []
    }
    if (this.#state === 'lease-lost') {
      this.#logger.info({ hostId: this.hostId }, 'lease renewed again after a loss: taking a share of the buckets back')
    }
    this.#state = 'active'
    this.#validUntil = sentAt + this.leaseMs
    this.#apply(mine, split, 'assignment')
    return this.ranges
  }

  /** The live hosts: `status = 'active'` with `lease_expires_at > NOW(3)` (the database clock), by host id. */
  async liveHosts(): Promise<LeaseHolder[]> {
    return (await this.#readLive()).map((row) => ({
      hostId: row.hostId,
      pinned:
        row.pinned && row.bucketMin !== null && row.bucketMax !== null
          ? { min: row.bucketMin, max: row.bucketMax }
          : null,
      bucketMin: row.bucketMin,
      bucketMax: row.bucketMax,
      leaseExpiresAt: row.leaseExpiresAt,
      heartbeatAt: row.heartbeatAt,
      startedAt: row.startedAt,
      version: row.version,
    }))
  }

  async #readLive() {
    const rows = await this.#db
      .select()
      .from(hosts)
      .where(and(eq(hosts.status, 'active'), gt(hosts.leaseExpiresAt, sql`NOW(3)`)))
    return rows.sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0))
  }

  /**
   * This host's ranges as {@link assignBuckets} splits the space over the live set right now
   * (this host counted only while it holds a lease). A read: nothing is written or applied.
   */
  async assignment(): Promise<BucketRange[]> {
    const holding = this.#state === 'active' && this.#clock.now() < this.#validUntil
    return rangesOf(await this.#computeSplit(holding), this.hostId)
  }

  /**
   * Marks the row draining and expires the lease at once (the buckets move at the other hosts'
   * next renewal instead of after a lease period), after telling listeners this host owns nothing.
   * Stops the renewal loop.
   */
  async drain(): Promise<void> {
    this.#stopLoop()
    this.#epoch++
    this.#state = 'draining'
    this.#apply([], null, 'drain')
    await this.#serial(() =>
      this.#db
        .update(hosts)
        .set({
          status: 'draining',
          leaseExpiresAt: sql`NOW(3)`,
          heartbeatAt: sql`NOW(3)`,
          bucketMin: null,
          bucketMax: null,
        })
        .where(eq(hosts.hostId, this.hostId)),
    )
    this.#logger.info({ hostId: this.hostId }, 'drained: lease released, buckets move to the other hosts now')
  }

  /**
   * Registers, then renews every third of the lease with one timer (failed renewals are retried
   * within a second). Rejects when the first registration fails.
   */
  async start(): Promise<BucketRange[]> {
    const ranges = await this.register()
    this.#looping = true
    this.#nextRenewAt = this.#clock.now() + this.#renewEveryMs
    this.#arm()
    return ranges
  }

  /**
   * Stops renewing without releasing the lease (it runs out on its own, as if the host had
   * crashed). Use {@link drain} for a graceful exit.
   */
  stop(): void {
    this.#stopLoop()
  }

  get #renewEveryMs(): number {
    return Math.max(1, Math.floor(this.leaseMs / 3))
  }

  #stopLoop(): void {
    this.#looping = false
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => {})
    return run
  }

  #arm(): void {
    if (!this.#looping) return
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    let at = this.#nextRenewAt
    if (this.#state === 'active') at = Math.min(at, this.#validUntil)
    if (!Number.isFinite(at)) return // a renewal is pending and there is no lease to watch: it re-arms
    this.#timer = this.#clock.setTimeout(this.#wake, Math.max(0, at - this.#clock.now()))
  }

  #wake = (): void => {
    this.#timer = undefined
    if (!this.#looping) return
    const now = this.#clock.now()
    if (this.#state === 'active' && now >= this.#validUntil) this.#loseLease(now)
    if (this.#renewing === null && now >= this.#nextRenewAt) {
      const sentAt = now
      this.renew().then(
        () => {
          this.#nextRenewAt = sentAt + this.#renewEveryMs
          this.#arm()
        },
        (error: unknown) => {
          this.#logger.error(
            { err: error, hostId: this.hostId, validForMs: Math.max(0, this.#validUntil - this.#clock.now()) },
            'could not renew the bucket lease (database unreachable?); retrying — the buckets are released if it stays unrenewed for a lease period',
          )
          this.#nextRenewAt = this.#clock.now() + Math.min(this.#renewEveryMs, 1_000)
          this.#arm()
        },
      )
      // Keep watching the lease while the renewal is pending.
      this.#nextRenewAt = Number.POSITIVE_INFINITY
    }
    this.#arm()
  }

  #loseLease(now: number): void {
    this.#state = 'lease-lost'
    this.#logger.error(
      { hostId: this.hostId, sinceLastRenewalMs: now - (this.#validUntil - this.leaseMs) },
      'bucket lease not renewed for a whole lease period: stopped checking this host’s buckets (other hosts may have taken them over); they come back when a renewal succeeds',
    )
    this.#apply([], null, 'lease-lost')
  }

  /** Reads the live set and splits it; `self` adds this host (as it is configured) to it. */
  async #computeSplit(self: boolean): Promise<BucketAssignment> {
    const live = await this.#readLive()
    const members: LiveHost[] = []
    for (const host of live) {
      if (host.hostId === this.hostId) continue
      if (!host.pinned) {
        members.push({ hostId: host.hostId })
        continue
      }
      const range = { min: host.bucketMin ?? -1, max: host.bucketMax ?? -1 }
      if (range.min < 0 || range.min > range.max || range.max >= this.bucketTotal) {
        this.#warnOnce(
          `range:${host.hostId}`,
          { hostId: host.hostId, bucketMin: host.bucketMin, bucketMax: host.bucketMax, bucketTotal: this.bucketTotal },
          'a pinned host’s row has no valid range inside this host’s bucket space (different BUCKET_TOTAL?): leaving it out of the split',
        )
        continue
      }
      members.push({ hostId: host.hostId, pinned: range })
    }
    if (self) members.push({ hostId: this.hostId, pinned: this.pinned })
    const split = assignBuckets({ hosts: members, bucketTotal: this.bucketTotal })
    for (const overlap of split.pinnedOverlaps) {
      this.#warnOnce(
        `overlap:${overlap.hostIds.join(',')}`,
        overlap,
        'two pinned hosts claim the same buckets (check PINNED_BUCKET_MIN/MAX): both check them',
      )
    }
    return split
  }

  /** What goes into `bucket_min`/`bucket_max`: the pinned range, or the envelope of the ranges. */
  #recordedRange(ranges: readonly BucketRange[]): { min: number | null; max: number | null } {
    if (this.pinned) return { min: this.pinned.min, max: this.pinned.max }
    if (ranges.length === 0) return { min: null, max: null }
    return { min: ranges[0]!.min, max: ranges.at(-1)!.max }
  }

  #apply(ranges: BucketRange[], split: BucketAssignment | null, reason: LeaseChangeReason): void {
    if (split) this.#split = split
    const previous = this.#ranges
    if (sameRanges(previous, ranges)) return
    this.#ranges = ranges
    const change: LeaseChange = { ranges: this.ranges, previous, reason, split }
    this.#logger.info({ hostId: this.hostId, ranges, previous, reason }, 'bucket ranges changed')
    for (const listener of this.#listeners) {
      try {
        const result = listener(change) as unknown
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#logger.error({ err: error }, 'a bucket-change listener failed'))
        }
      } catch (error) {
        this.#logger.error({ err: error }, 'a bucket-change listener failed')
      }
    }
  }

  #warnOnce(key: string, obj: object, msg: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    this.#logger.warn(obj, msg)
  }
}

function sameRanges(a: readonly BucketRange[], b: readonly BucketRange[]): boolean {
  return a.length === b.length && a.every((range, i) => range.min === b[i]!.min && range.max === b[i]!.max)
}
