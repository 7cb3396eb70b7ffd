import { type Db, hosts, rolloutLocks } from '@jetmon/db'
import type { Clock, Timers } from '@jetmon/vocabulary'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm'
import { checkBucketTotal } from './_checks.js'
import { assignBuckets, type BucketAssignment, type BucketRange, type LiveHost, rangesOf } from './buckets.js'
import { type Timing, timing } from './clock.js'
import { SchedulerError } from './errors.js'
import { DEFAULT_BUCKET_TOTAL } from './phase.js'

/**
 * `ROLLOUT_MODE`: how a host comes by its buckets. `active`: a share of the dynamic split, or its
 * pinned range; `standby`: none (it registers and heartbeats, and checks nothing);
 * `api-controlled`: exactly the ranges of its rollout locks in state `active`.
 */
export type RolloutMode = 'active' | 'standby' | 'api-controlled'

/** Every {@link RolloutMode}, `active` (the default) first. */
export const ROLLOUT_MODES: readonly RolloutMode[] = ['active', 'standby', 'api-controlled']

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
  /** `ROLLOUT_MODE` (default `active`); a pinned range needs `active`. Written to the row for the others. */
  mode?: RolloutMode
  /** `ROLLOUT_POLL_SEC` × 1000 (default 5 000): how often an `api-controlled` host reads its rollout locks. */
  rolloutPollMs?: number
  /** Default: the system clock. Lease expiry is judged by the database clock; this one only times renewals. */
  clock?: Clock
  /** Default: Node's timers. */
  timers?: Timers
  logger?: Logger
}

/** A row of `jetmon_hosts` with an unexpired lease, status `active`. */
export interface LeaseHolder {
  hostId: string
  /** Its `ROLLOUT_MODE`: only `active` hosts are members of the split. */
  mode: RolloutMode
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
  /** An `api-controlled` host's rollout locks changed (a range activated or being released). */
  | 'rollout'

/** A rollout lock of this host as {@link BucketLeases.pollLocks} read it. */
export interface RolloutLock {
  id: bigint
  range: BucketRange
  state: 'active' | 'releasing'
}

/** A rollout lock as {@link hostRolloutLocks} reads it, with whether its activation was acknowledged. */
export interface HostRolloutLock extends RolloutLock {
  acknowledged: boolean
}

/**
 * The rollout locks of one host in state `active` or `releasing` (what it checks, and what it is
 * draining), by first bucket.
 */
export async function hostRolloutLocks({
  ctx,
  hostId,
}: {
  ctx: { db: Db }
  hostId: string
}): Promise<HostRolloutLock[]> {
  const rows = await ctx.db
    .select({
      id: rolloutLocks.id,
      bucketMin: rolloutLocks.bucketMin,
      bucketMax: rolloutLocks.bucketMax,
      state: rolloutLocks.state,
      acknowledgedAt: rolloutLocks.acknowledgedAt,
    })
    .from(rolloutLocks)
    .where(and(eq(rolloutLocks.hostId, hostId), inArray(rolloutLocks.state, ['active', 'releasing'])))
    .orderBy(rolloutLocks.bucketMin, rolloutLocks.id)
  return rows.flatMap((row) =>
    row.state === 'released'
      ? []
      : [
          {
            id: row.id,
            range: { min: row.bucketMin, max: row.bucketMax },
            state: row.state,
            acknowledged: row.acknowledgedAt !== null,
          },
        ],
  )
}

/** What one {@link BucketLeases.pollLocks} did. */
export interface LockSync {
  /** The locks of this host in state `active` or `releasing`, as read. */
  locks: RolloutLock[]
  /** The buckets this host checks now. */
  ranges: BucketRange[]
  /** True when the listeners finished the change (loaded what was activated, drained what was released). */
  settled: boolean
  /** Locks whose activation this poll acknowledged (`acknowledged_at` set). */
  acknowledged: bigint[]
  /** Locks whose release this poll acknowledged (state `released`, `released_at` set). */
  released: bigint[]
}

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
 * or `api-controlled` host, the envelope of its current ranges (informational: a slice crossing a
 * pinned range is several ranges).
 *
 * Rollout modes (`rollout_mode` in the row): only `active` hosts are members of the split, and the
 * buckets of rollout locks in state `active` or `releasing` are reserved — no dynamic or pinned host
 * takes them (a dynamic host gives them up at its next renewal, ≤ L/3). A `standby` host owns
 * nothing. An `api-controlled` host owns exactly its `active` locks, read every `rolloutPollMs`
 * ({@link pollLocks}): a new lock is loaded through the listeners and acknowledged
 * (`acknowledged_at`); a lock set to `releasing` is dropped, and once the listeners have drained it
 * (their promises settled: in-flight checks done, writers flushed) the host acknowledges the
 * release (state `released`, `released_at`). A listener that fails holds the acknowledgments back;
 * the change is offered again at the next poll.
 */
export class BucketLeases {
  readonly hostId: string
  readonly bucketTotal: number
  readonly leaseMs: number
  readonly pinned: BucketRange | null
  readonly mode: RolloutMode
  readonly rolloutPollMs: number
  readonly #db: Db
  readonly #version: string
  readonly #clock: Timing
  readonly #logger: Logger
  readonly #listeners = new Set<(change: LeaseChange) => unknown>()
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
  /** The ranges of this host's `active` rollout locks, as last polled. */
  #lockRanges: BucketRange[] = []
  /** The listeners' outcome for the last change: true when every one of them succeeded. */
  #settled: Promise<boolean> = Promise.resolve(true)
  /** False from a change whose listeners failed until one offered again succeeds. */
  #lastSettled = true
  #polling: Promise<LockSync> | null = null
  #pollTimer: unknown = undefined

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
    this.mode = options.mode ?? 'active'
    if (!ROLLOUT_MODES.includes(this.mode)) {
      throw new SchedulerError(
        'INVALID_OPTION',
        `mode must be one of ${ROLLOUT_MODES.join(', ')}, got ${String(this.mode)}`,
      )
    }
    this.rolloutPollMs = options.rolloutPollMs ?? 5_000
    if (!Number.isSafeInteger(this.rolloutPollMs) || this.rolloutPollMs < 1) {
      throw new SchedulerError('INVALID_OPTION', `rolloutPollMs must be a whole number ≥ 1`)
    }
    const pinned = options.pinned ?? null
    if (pinned && this.mode !== 'active') {
      throw new SchedulerError('INVALID_OPTION', `a pinned range needs mode active, not ${this.mode}`)
    }
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

  /**
   * Registers `cb` for changes of this host's ranges; returns a function that unregisters it. A
   * listener may return a promise: an `api-controlled` host acknowledges a lock change only once
   * every listener's promise has resolved (loaded, or drained and flushed).
   */
  onChange(cb: (change: LeaseChange) => unknown): () => void {
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
    const mine = this.#ownRanges(split)
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
      rolloutMode: this.mode,
    }
    await this.#db
      .insert(hosts)
      .values({ hostId: this.hostId, ...row })
      .onDuplicateKeyUpdate({ set: row })
    if (epoch !== this.#epoch) return [] // drained meanwhile: its write comes after this one
    this.#state = 'active'
    this.#validUntil = sentAt + this.leaseMs
    this.#logger.info(
      { hostId: this.hostId, ranges: mine, pinned: this.pinned, mode: this.mode, leaseMs: this.leaseMs },
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
    const mine = this.#ownRanges(split)
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
      mode: row.rolloutMode,
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
    if (this.mode !== 'active') return holding ? this.#ownRanges(null) : []
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
    let ranges = await this.register()
    this.#looping = true
    this.#nextRenewAt = this.#clock.now() + this.#renewEveryMs
    this.#arm()
    if (this.mode === 'api-controlled') {
      // The locks activated for this host before it started are its buckets from the start.
      ranges = (await this.pollLocks()).ranges
      this.#armPoll()
    }
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
    if (this.#pollTimer !== undefined) this.#clock.clearTimeout(this.#pollTimer)
    this.#pollTimer = undefined
  }

  /**
   * For an `api-controlled` host: reads its rollout locks in state `active` or `releasing`, makes
   * the `active` ones its ranges, waits for the listeners to finish that change (or the one still
   * under way), then acknowledges: `acknowledged_at` on each `active` lock not yet acknowledged,
   * state `released` with `released_at` on each `releasing` one. Nothing is acknowledged while the
   * host holds no lease or when a listener failed (the change is offered to the listeners again at
   * the next poll). Concurrent calls share one poll. Other modes: no-op.
   */
  pollLocks(): Promise<LockSync> {
    if (this.mode !== 'api-controlled') {
      return Promise.resolve({ locks: [], ranges: this.ranges, settled: true, acknowledged: [], released: [] })
    }
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = null
    })
    return this.#polling
  }

  async #pollOnce(): Promise<LockSync> {
    const rows = await hostRolloutLocks({ ctx: { db: this.#db }, hostId: this.hostId })
    const locks: RolloutLock[] = []
    const wanted = new Set<number>()
    for (const row of rows) {
      const range = { min: row.range.min, max: Math.min(row.range.max, this.bucketTotal - 1) }
      if (range.min > range.max) {
        this.#warnOnce(
          `lock:${row.id}`,
          { lockId: String(row.id), range: row.range, bucketTotal: this.bucketTotal },
          'a rollout lock of this host has no buckets inside its bucket space (different BUCKET_TOTAL?): ignored',
        )
        continue
      }
      locks.push({ id: row.id, range, state: row.state })
      if (row.state === 'active') for (let b = range.min; b <= range.max; b++) wanted.add(b)
    }
    this.#lockRanges = rangesOfSet(wanted)
    const result: LockSync = { locks, ranges: this.ranges, settled: false, acknowledged: [], released: [] }
    if (this.#state !== 'active') return result // no lease: nothing is checked, nothing acknowledged

    const before = this.#ranges
    const applied = this.#apply(this.#lockRanges, null, 'rollout', !this.#lastSettled)
    if (!sameRanges(before, this.#ranges)) {
      // The row's envelope follows at once, for the operators' views (renewals keep it current too).
      const recorded = this.#recordedRange(this.#ranges)
      await this.#serial(() =>
        this.#db
          .update(hosts)
          .set({ bucketMin: recorded.min, bucketMax: recorded.max })
          .where(and(eq(hosts.hostId, this.hostId), eq(hosts.status, 'active'))),
      )
    }
    const settled = await applied
    result.ranges = this.ranges
    result.settled = settled
    if (!settled || this.#state !== 'active') return { ...result, settled: false }
    for (const row of rows) {
      if (row.state === 'active' && !row.acknowledged) {
        const [update] = await this.#db
          .update(rolloutLocks)
          .set({ acknowledgedAt: sql`NOW(3)` })
          .where(
            and(eq(rolloutLocks.id, row.id), eq(rolloutLocks.state, 'active'), isNull(rolloutLocks.acknowledgedAt)),
          )
        if (update.affectedRows > 0) result.acknowledged.push(row.id)
      } else if (row.state === 'releasing') {
        const [update] = await this.#db
          .update(rolloutLocks)
          .set({ state: 'released', releasedAt: sql`NOW(3)` })
          .where(and(eq(rolloutLocks.id, row.id), eq(rolloutLocks.state, 'releasing')))
        if (update.affectedRows > 0) result.released.push(row.id)
      }
    }
    if (result.acknowledged.length + result.released.length > 0) {
      this.#logger.info(
        {
          hostId: this.hostId,
          activated: result.acknowledged.map(String),
          released: result.released.map(String),
          ranges: result.ranges,
        },
        'rollout locks acknowledged',
      )
    }
    return result
  }

  #armPoll(): void {
    if (!this.#looping || this.mode !== 'api-controlled') return
    this.#pollTimer = this.#clock.setTimeout(() => {
      this.#pollTimer = undefined
      if (!this.#looping) return
      this.pollLocks()
        .catch((error: unknown) =>
          this.#logger.error(
            { err: error, hostId: this.hostId },
            'could not read or acknowledge this host’s rollout locks (database unreachable?); trying again at the next poll',
          ),
        )
        .finally(() => this.#armPoll())
    }, this.rolloutPollMs)
  }

  /** The buckets this host checks while it holds a lease, by its mode. */
  #ownRanges(split: BucketAssignment | null): BucketRange[] {
    if (this.mode === 'standby') return []
    if (this.mode === 'api-controlled') return this.#lockRanges.map((range) => ({ ...range }))
    return split ? rangesOf(split, this.hostId) : []
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
    const locked = await this.#db
      .select({ min: rolloutLocks.bucketMin, max: rolloutLocks.bucketMax })
      .from(rolloutLocks)
      .where(inArray(rolloutLocks.state, ['active', 'releasing']))
    const members: LiveHost[] = []
    for (const host of live) {
      if (host.hostId === this.hostId || host.rolloutMode !== 'active') continue
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
    if (self && this.mode === 'active') members.push({ hostId: this.hostId, pinned: this.pinned })
    const split = assignBuckets({ hosts: members, bucketTotal: this.bucketTotal, reserved: locked })
    const pinned = this.pinned
    if (pinned && locked.some((lock) => lock.min <= pinned.max && pinned.min <= lock.max)) {
      this.#warnOnce(
        `locked:${pinned.min}-${pinned.max}`,
        { hostId: this.hostId, pinned, locks: locked },
        'a rollout lock covers part of this host’s pinned range: those buckets are left to the lock’s api-controlled host (release the lock or change PINNED_BUCKET_MIN/MAX)',
      )
    }
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
    if (this.mode === 'standby') return { min: null, max: null }
    if (ranges.length === 0) return { min: null, max: null }
    return { min: ranges[0]!.min, max: ranges.at(-1)!.max }
  }

  /**
   * Makes `ranges` this host's and tells the listeners when they changed (or when `again`: the last
   * change failed and is offered once more). Resolves true once every listener has finished the
   * change; for unchanged ranges, with the outcome of the change still under way or last made.
   */
  #apply(
    ranges: BucketRange[],
    split: BucketAssignment | null,
    reason: LeaseChangeReason,
    again = false,
  ): Promise<boolean> {
    if (split) this.#split = split
    const previous = this.#ranges
    if (sameRanges(previous, ranges) && !again) return this.#settled
    this.#ranges = ranges
    const change: LeaseChange = { ranges: this.ranges, previous, reason, split }
    this.#logger.info({ hostId: this.hostId, ranges, previous, reason }, 'bucket ranges changed')
    const outcomes: Promise<boolean>[] = []
    const failed = (error: unknown) => {
      this.#logger.error({ err: error }, 'a bucket-change listener failed')
      return false
    }
    for (const listener of this.#listeners) {
      try {
        outcomes.push(Promise.resolve(listener(change)).then(() => true, failed))
      } catch (error) {
        outcomes.push(Promise.resolve(failed(error)))
      }
    }
    const settled = Promise.all(outcomes).then((all) => all.every(Boolean))
    this.#settled = settled
    this.#lastSettled = true
    void settled.then((ok) => {
      if (this.#settled === settled) this.#lastSettled = ok
    })
    return settled
  }

  #warnOnce(key: string, obj: object, msg: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    this.#logger.warn(obj, msg)
  }
}

/** A set of buckets as ascending ranges. */
function rangesOfSet(buckets: ReadonlySet<number>): BucketRange[] {
  const sorted = [...buckets].sort((a, b) => a - b)
  const ranges: BucketRange[] = []
  for (const bucket of sorted) {
    const last = ranges.at(-1)
    if (last && last.max === bucket - 1) last.max = bucket
    else ranges.push({ min: bucket, max: bucket })
  }
  return ranges
}

function sameRanges(a: readonly BucketRange[], b: readonly BucketRange[]): boolean {
  return a.length === b.length && a.every((range, i) => range.min === b[i]!.min && range.max === b[i]!.max)
}
