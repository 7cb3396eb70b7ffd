import type { Clock, Timers } from '@jetmon/vocabulary'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { type Timing, timing } from './clock.js'
import { SchedulerError } from './errors.js'
import { type LagSummary, LagWindow } from './lag.js'
import { nextDueAt, phaseOffsetMs } from './phase.js'

/** What `run` learns about the check it is asked to start. */
export interface RunContext {
  /** When the endpoint was due (epoch ms): a phase slot, or a retry time `run` asked for. */
  dueAt: number
  /** When the run started (epoch ms); `startedAt − dueAt` is the dispatch lag. */
  startedAt: number
}

/**
 * Runs one check of an endpoint. Resolve with a delay in ms to have the endpoint due again that
 * long after the result (the confirmation pipeline's retries: 20 s after a failure, 60 s while
 * Down), or with nothing to return to the next phase slot of its interval. A rejection is logged
 * and the endpoint keeps its schedule. The promise must settle: the endpoint is not run again
 * until it does.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: so that an `async () => {}` run (no retry, ever) type-checks
export type RunCheck = (endpointId: bigint, context: RunContext) => Promise<number | undefined | void>

/** Settings of a {@link Scheduler}. */
export interface SchedulerOptions {
  /** Runs one check; see {@link RunCheck}. */
  run: RunCheck
  /** Checks in flight at most (`MAX_IN_FLIGHT`); change it later with {@link Scheduler.setMaxInFlight}. */
  maxInFlight: number
  /** How often the one tick loop looks for due endpoints (default 100 ms). */
  tickMs?: number
  /** Default: the system clock. */
  clock?: Clock
  /** Default: Node's timers. */
  timers?: Timers
  logger?: Logger
  /** Endpoints to make room for up front (the arrays grow by doubling otherwise). */
  initialCapacity?: number
  /** Lag percentiles cover the last one to two windows of this length (default 60 000 ms). */
  lagWindowMs?: number
}

/** Counters and gauges of a {@link Scheduler}, from {@link Scheduler.stats}; counters run since construction. */
export interface SchedulerStats {
  /** Endpoints scheduled (in the queue or in flight). */
  endpoints: number
  inFlight: number
  maxInFlight: number
  /** Endpoints due now that have not started yet (waiting for a free in-flight slot). */
  dueBacklog: number
  /** Runs started since construction. */
  started: number
  /** Runs that settled (resolved or rejected). */
  completed: number
  /** Runs that rejected (logged; the endpoint kept its schedule). */
  failed: number
  /** Runs that asked for a retry delay. */
  retries: number
  /** Phase slots that came while the endpoint's previous run was still in flight: skipped, not doubled. */
  overruns: number
  /**
   * Phase slots that passed while the endpoint was still waiting in the queue (lag longer than its
   * interval): the late run stood in for them. Non-zero means the host is short of capacity.
   */
  missed: number
  /** Dispatch lag (start − due), in ms, over the recent window. */
  lagMs: LagSummary
}

/** One endpoint as the scheduler holds it, for diagnostics and tests. */
export interface ScheduledEndpoint {
  endpointId: bigint
  intervalMs: number
  phaseMs: number
  /** Next due time (epoch ms), or the due time of the run in flight. */
  dueAt: number
  inFlight: boolean
  /** Due at a retry time `run` asked for rather than at a phase slot. */
  retry: boolean
}

/** How {@link Scheduler.stop} waits for the runs in flight. */
export interface StopOptions {
  /** Wait for the runs in flight to settle (default true). */
  drain?: boolean
  /** Give up waiting after this long (default 30 000 ms). */
  timeoutMs?: number
}

/** What {@link Scheduler.stop} left behind. */
export interface StopResult {
  /** True when nothing was left in flight. */
  drained: boolean
  /** Runs still in flight when it returned (they settle later, unobserved). */
  inFlight: number
}

// Per-slot flags.
const IN_FLIGHT = 1
/** Removed while in flight: the slot is freed when the run settles. */
const REMOVED = 2
/** Due at a retry time rather than a phase slot. */
const RETRY = 4
/** The id does not fit a double exactly; it is kept in `#bigIds`. */
const BIG_ID = 8
const USED = 16

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * The in-memory due queue of one monitor host: every endpoint it owns, due at
 * `k × interval + phase(endpoint_id)`, dispatched by one tick loop with bounded concurrency.
 *
 * - A binary min-heap of slot numbers ordered by due time; per-endpoint state lives in typed
 *   arrays indexed by slot (struct of arrays, no object per endpoint) plus one `Map` from id to
 *   slot — about 100 bytes per endpoint (see the README for measured figures).
 * - One timer, every `tickMs`; a run that settles starts the next due endpoint at once, so
 *   throughput is not bound to the tick.
 * - An endpoint in flight is out of the heap, so it can never run twice at once; phase slots that
 *   pass meanwhile are skipped and counted as overruns.
 * - When more is due than `maxInFlight` allows, endpoints start late in due order; nothing is
 *   dropped, and the lag is measured.
 *
 * Ids are `bigint`s; those up to 2^53 − 1 are stored as doubles, larger ones exactly in a side map.
 */
export class Scheduler {
  readonly #run: RunCheck
  readonly #clock: Timing
  readonly #logger: Logger
  readonly #tickMs: number
  #maxInFlight: number

  readonly #slots = new Map<number | bigint, number>()
  readonly #bigIds = new Map<number, bigint>()
  #capacity = 0
  #ids = new Float64Array(0)
  #due = new Float64Array(0)
  #interval = new Float64Array(0)
  #phase = new Uint32Array(0)
  #heapPos = new Int32Array(0)
  #flags = new Uint8Array(0)
  #heap = new Int32Array(0)
  #heapSize = 0
  #free = new Int32Array(0)
  #freeCount = 0
  #used = 0
  #count = 0

  #active = false
  #timer: unknown = undefined
  #dispatching = false
  #inFlight = 0
  #idleWaiters: (() => void)[] = []
  /** Runs in flight of endpoints removed meanwhile, and who waits for them to settle. */
  #removedInFlight = 0
  #removedWaiters: (() => void)[] = []

  #started = 0
  #completed = 0
  #failed = 0
  #retries = 0
  #overruns = 0
  #missed = 0
  readonly #lag: LagWindow

  constructor(options: SchedulerOptions) {
    if (typeof options.run !== 'function') throw new SchedulerError('INVALID_OPTION', 'run must be a function')
    this.#run = options.run
    this.#maxInFlight = checkMaxInFlight(options.maxInFlight)
    this.#tickMs = options.tickMs ?? 100
    if (!Number.isFinite(this.#tickMs) || this.#tickMs <= 0) {
      throw new SchedulerError(
        'INVALID_OPTION',
        `tickMs must be a positive number of ms, got ${String(options.tickMs)}`,
      )
    }
    this.#clock = timing(options.clock, options.timers)
    this.#logger = options.logger ?? noopLogger
    this.#lag = new LagWindow(options.lagWindowMs ?? 60_000)
    this.#grow(Math.max(16, options.initialCapacity ?? 1024))
  }

  /** Endpoints scheduled (removed ones still in flight are not counted). */
  get size(): number {
    return this.#count
  }

  get maxInFlight(): number {
    return this.#maxInFlight
  }

  /** Runs started and not settled yet: what {@link stats} reports as `inFlight`, without its backlog walk. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#active
  }

  /**
   * Adds an endpoint or changes its interval. A new endpoint is first due at its next phase slot
   * (`k × interval + phase ≥ now`); an interval change moves it to the new interval's next phase
   * slot (a pending retry stays, unless the new slot comes sooner; an endpoint in flight takes the
   * new interval when its run settles). The same interval again is a no-op, so a reconciliation
   * may upsert everything it reads.
   *
   * @throws {SchedulerError} `INVALID_ID` or `INVALID_INTERVAL` (1 ms – 2^32 ms).
   */
  upsert(endpointId: bigint, intervalMs: number): void {
    const key = keyOf(endpointId)
    const phase = phaseOffsetMs(endpointId, intervalMs)
    let slot = this.#slots.get(key)
    if (slot === undefined) {
      slot = this.#allocate(endpointId)
      this.#slots.set(key, slot)
      this.#interval[slot] = intervalMs
      this.#phase[slot] = phase
      this.#due[slot] = nextDueAt({ now: this.#clock.now(), intervalMs, phaseMs: phase })
      this.#heapPush(slot)
      this.#count++
      return
    }
    const flags = this.#flags[slot]!
    if (flags & REMOVED) {
      this.#flags[slot] = flags & ~REMOVED
      this.#count++
      this.#removedSettled()
    }
    if (this.#interval[slot] === intervalMs) return
    this.#interval[slot] = intervalMs
    this.#phase[slot] = phase
    if (flags & IN_FLIGHT) return
    const aligned = nextDueAt({ now: this.#clock.now(), intervalMs, phaseMs: phase })
    if (flags & RETRY && this.#due[slot]! <= aligned) return
    this.#due[slot] = aligned
    this.#flags[slot] = flags & ~RETRY
    this.#heapFix(this.#heapPos[slot]!)
  }

  /**
   * Stops scheduling an endpoint. One in flight finishes its run (the result is not rescheduled).
   * Returns false when the endpoint was not scheduled.
   */
  remove(endpointId: bigint): boolean {
    const key = keyOf(endpointId)
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    const flags = this.#flags[slot]!
    if (flags & IN_FLIGHT) {
      if (flags & REMOVED) return false
      this.#flags[slot] = flags | REMOVED
      this.#count--
      this.#removedInFlight++
      return true
    }
    this.#heapRemove(this.#heapPos[slot]!)
    this.#slots.delete(key)
    this.#release(slot)
    this.#count--
    return true
  }

  has(endpointId: bigint): boolean {
    const slot = this.#slots.get(keyOf(endpointId))
    return slot !== undefined && (this.#flags[slot]! & REMOVED) === 0
  }

  /** The endpoint's schedule, or undefined when it is not scheduled. */
  get(endpointId: bigint): ScheduledEndpoint | undefined {
    const slot = this.#slots.get(keyOf(endpointId))
    if (slot === undefined) return undefined
    const flags = this.#flags[slot]!
    if (flags & REMOVED) return undefined
    return {
      endpointId,
      intervalMs: this.#interval[slot]!,
      phaseMs: this.#phase[slot]!,
      dueAt: this.#due[slot]!,
      inFlight: (flags & IN_FLIGHT) !== 0,
      retry: (flags & RETRY) !== 0,
    }
  }

  /**
   * Resolves once every run that was in flight when its endpoint was {@link remove}d has settled
   * (at once when there is none): after removing the endpoints of buckets given up, the point from
   * which none of their checks is running any more.
   */
  removedRunsSettled(): Promise<void> {
    if (this.#removedInFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#removedWaiters.push(resolve))
  }

  /** Raises or lowers the in-flight bound; lowering it lets the runs in flight finish. */
  setMaxInFlight(maxInFlight: number): void {
    this.#maxInFlight = checkMaxInFlight(maxInFlight)
    this.#dispatch()
  }

  /** Starts the tick loop (dispatching at once what is due). Starting twice is a no-op. */
  start(): void {
    if (this.#active) return
    this.#active = true
    this.#tick()
  }

  /**
   * Stops dispatching. With `drain` (the default) it resolves once the runs in flight have
   * settled, or after `timeoutMs` (default 30 s) with `drained: false`. Runs that settle later are
   * still rescheduled, so {@link start} can resume.
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    this.#active = false
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    if (options.drain === false || this.#inFlight === 0) {
      return { drained: this.#inFlight === 0, inFlight: this.#inFlight }
    }
    const timeoutMs = options.timeoutMs ?? 30_000
    await new Promise<void>((resolve) => {
      const onIdle = () => {
        this.#clock.clearTimeout(timeout)
        resolve()
      }
      const timeout = this.#clock.setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== onIdle)
        resolve()
      }, timeoutMs)
      this.#idleWaiters.push(onIdle)
    })
    return { drained: this.#inFlight === 0, inFlight: this.#inFlight }
  }

  stats(): SchedulerStats {
    const now = this.#clock.now()
    return {
      endpoints: this.#count,
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      dueBacklog: this.#countDue(now),
      started: this.#started,
      completed: this.#completed,
      failed: this.#failed,
      retries: this.#retries,
      overruns: this.#overruns,
      missed: this.#missed,
      lagMs: this.#lag.summary(now),
    }
  }

  // ── Dispatch ────────────────────────────────────────────────────────────────────────────────

  #tick = (): void => {
    this.#timer = undefined
    if (!this.#active) return
    this.#dispatch()
    this.#timer = this.#clock.setTimeout(this.#tick, this.#tickMs)
  }

  #dispatch(): void {
    if (!this.#active || this.#dispatching) return
    this.#dispatching = true
    try {
      while (this.#inFlight < this.#maxInFlight && this.#heapSize > 0) {
        const now = this.#clock.now()
        const slot = this.#heap[0]!
        if (this.#due[slot]! > now) break
        this.#heapRemove(0)
        this.#startRun(slot, now)
      }
    } finally {
      this.#dispatching = false
    }
  }

  #startRun(slot: number, now: number): void {
    const dueAt = this.#due[slot]!
    const flags = this.#flags[slot]!
    const wasRetry = (flags & RETRY) !== 0
    this.#flags[slot] = (flags | IN_FLIGHT) & ~RETRY
    this.#inFlight++
    this.#started++
    this.#lag.record(now - dueAt, now)
    if (!wasRetry) this.#missed += this.#slotsBetween(slot, dueAt, now)
    const endpointId = this.#idOf(slot)
    let result: Promise<unknown>
    try {
      result = Promise.resolve(this.#run(endpointId, { dueAt, startedAt: now }))
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(
      (delay) => this.#settle(slot, endpointId, now, wasRetry, delay, undefined),
      (error: unknown) => this.#settle(slot, endpointId, now, wasRetry, undefined, error ?? new Error('run rejected')),
    )
  }

  #settle(
    slot: number,
    endpointId: bigint,
    startedAt: number,
    wasRetry: boolean,
    delay: unknown,
    error: unknown,
  ): void {
    this.#inFlight--
    this.#completed++
    const now = this.#clock.now()
    const flags = this.#flags[slot]! & ~IN_FLIGHT
    this.#flags[slot] = flags
    // Slots that came while this run was in flight (the slot exactly at `now` is still run).
    if (!wasRetry) this.#overruns += this.#slotsBetween(slot, startedAt, now - 1)

    if (error !== undefined) {
      this.#failed++
      this.#logger.error(
        { err: error, endpointId: endpointId.toString() },
        'check run failed (a bug in the check pipeline, not a site outcome); the endpoint keeps its schedule',
      )
    }
    if (flags & REMOVED) {
      this.#slots.delete(keyOf(endpointId))
      this.#release(slot)
      this.#removedSettled()
    } else {
      if (delay !== undefined && error === undefined && !(typeof delay === 'number' && delay >= 0 && delay < 2 ** 32)) {
        this.#logger.warn(
          { endpointId: endpointId.toString(), delay: String(delay) },
          'check run returned an invalid retry delay; using the next phase slot instead',
        )
        delay = undefined
      }
      if (typeof delay === 'number' && error === undefined) {
        this.#retries++
        this.#due[slot] = now + Math.ceil(delay)
        this.#flags[slot] = flags | RETRY
      } else {
        this.#due[slot] = nextDueAt({
          lastDueAt: this.#due[slot]!,
          now,
          intervalMs: this.#interval[slot]!,
          phaseMs: this.#phase[slot]!,
        })
      }
      this.#heapPush(slot)
    }

    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const waiter of waiters) waiter()
    }
    this.#dispatch()
  }

  /** One removed run settled (or its endpoint came back): wakes the waiters when it was the last. */
  #removedSettled(): void {
    this.#removedInFlight--
    if (this.#removedInFlight > 0 || this.#removedWaiters.length === 0) return
    const waiters = this.#removedWaiters
    this.#removedWaiters = []
    for (const waiter of waiters) waiter()
  }

  /** Phase slots of the endpoint in (from, to]. */
  #slotsBetween(slot: number, from: number, to: number): number {
    if (to <= from) return 0
    const interval = this.#interval[slot]!
    const phase = this.#phase[slot]!
    return Math.floor((to - phase) / interval) - Math.floor((from - phase) / interval)
  }

  /** Heap entries due at or before `now`: a walk that only descends into due subtrees. */
  #countDue(now: number): number {
    if (this.#heapSize === 0 || this.#due[this.#heap[0]!]! > now) return 0
    let count = 0
    const stack = [0]
    while (stack.length > 0) {
      const i = stack.pop()!
      if (i >= this.#heapSize || this.#due[this.#heap[i]!]! > now) continue
      count++
      stack.push(2 * i + 1, 2 * i + 2)
    }
    return count
  }

  // ── Slots ───────────────────────────────────────────────────────────────────────────────────

  #allocate(endpointId: bigint): number {
    let slot: number
    if (this.#freeCount > 0) slot = this.#free[--this.#freeCount]!
    else {
      if (this.#used === this.#capacity) this.#grow(this.#capacity * 2)
      slot = this.#used++
    }
    if (endpointId <= MAX_SAFE) {
      this.#ids[slot] = Number(endpointId)
      this.#flags[slot] = USED
    } else {
      this.#bigIds.set(slot, endpointId)
      this.#flags[slot] = USED | BIG_ID
    }
    return slot
  }

  #release(slot: number): void {
    if (this.#flags[slot]! & BIG_ID) this.#bigIds.delete(slot)
    this.#flags[slot] = 0
    this.#heapPos[slot] = -1
    this.#free[this.#freeCount++] = slot
  }

  #idOf(slot: number): bigint {
    return this.#flags[slot]! & BIG_ID ? this.#bigIds.get(slot)! : BigInt(this.#ids[slot]!)
  }

  #grow(capacity: number): void {
    const copy = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(from: T, to: T): T => {
      to.set(from)
      return to
    }
    this.#ids = copy(this.#ids, new Float64Array(capacity))
    this.#due = copy(this.#due, new Float64Array(capacity))
    this.#interval = copy(this.#interval, new Float64Array(capacity))
    this.#phase = copy(this.#phase, new Uint32Array(capacity))
    this.#heapPos = copy(this.#heapPos, new Int32Array(capacity))
    this.#flags = copy(this.#flags, new Uint8Array(capacity))
    this.#heap = copy(this.#heap, new Int32Array(capacity))
    this.#free = copy(this.#free, new Int32Array(capacity))
    this.#capacity = capacity
  }

  // ── Binary min-heap of slots by due time ────────────────────────────────────────────────────

  #heapPush(slot: number): void {
    const i = this.#heapSize++
    this.#heap[i] = slot
    this.#heapPos[slot] = i
    this.#siftUp(i)
  }

  #heapRemove(i: number): void {
    const removed = this.#heap[i]!
    this.#heapPos[removed] = -1
    const last = --this.#heapSize
    if (i === last) return
    const moved = this.#heap[last]!
    this.#heap[i] = moved
    this.#heapPos[moved] = i
    this.#heapFix(i)
  }

  #heapFix(i: number): void {
    if (!this.#siftUp(i)) this.#siftDown(i)
  }

  /** Returns true when the entry moved. */
  #siftUp(start: number): boolean {
    const heap = this.#heap
    const due = this.#due
    const slot = heap[start]!
    const key = due[slot]!
    let i = start
    while (i > 0) {
      const parent = (i - 1) >> 1
      const parentSlot = heap[parent]!
      if (due[parentSlot]! <= key) break
      heap[i] = parentSlot
      this.#heapPos[parentSlot] = i
      i = parent
    }
    heap[i] = slot
    this.#heapPos[slot] = i
    return i !== start
  }

  #siftDown(start: number): void {
    const heap = this.#heap
    const due = this.#due
    const size = this.#heapSize
    const slot = heap[start]!
    const key = due[slot]!
    let i = start
    for (;;) {
      let child = 2 * i + 1
      if (child >= size) break
      const right = child + 1
      if (right < size && due[heap[right]!]! < due[heap[child]!]!) child = right
      const childSlot = heap[child]!
      if (due[childSlot]! >= key) break
      heap[i] = childSlot
      this.#heapPos[childSlot] = i
      i = child
    }
    heap[i] = slot
    this.#heapPos[slot] = i
  }
}

function keyOf(endpointId: bigint): number | bigint {
  if (typeof endpointId !== 'bigint' || endpointId < 0n) {
    throw new SchedulerError('INVALID_ID', `endpoint ids are unsigned bigints, got ${String(endpointId)}`)
  }
  return endpointId <= MAX_SAFE ? Number(endpointId) : endpointId
}

function checkMaxInFlight(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SchedulerError('INVALID_OPTION', `maxInFlight must be a whole number ≥ 1, got ${String(value)}`)
  }
  return value
}
