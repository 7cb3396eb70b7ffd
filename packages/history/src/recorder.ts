import { performance } from 'node:perf_hooks'
import type { Db } from '@jetmon/db'
import { type Logger, noopLogger, type Timers } from '@jetmon/vocabulary'
import { ChunkQueue } from './_queue.js'
import { HourRollups } from './_rollups.js'
import { StateEntries } from './_state-entries.js'
import {
  type HistoryRow,
  insertHistory,
  type RollupDelta,
  type RollupWrite,
  type StateEntry,
  upsertRollups,
  upsertState,
} from './_statements.js'
import { InvalidOptionsError, InvalidSampleError } from './errors.js'
import {
  type CheckSample,
  type FlushOutcome,
  type HistoryMode,
  LOCAL_VANTAGE,
  type RecorderStats,
  type TableWrites,
} from './types.js'

const HOUR_MS = 3_600_000
type Table = 'history' | 'rollups' | 'state'
const MAX_ID = 2n ** 64n - 1n
const MAX_INT_UNSIGNED = 4_294_967_295
const MAX_SMALLINT_UNSIGNED = 65_535

export interface CheckRecorderOptions {
  /** A pool-backed handle (the recorder writes in the background, never inside a caller's transaction). */
  db: Db
  /** `HISTORY_MODE`: `all` (default) keeps every check in history, `failures` only failed ones. */
  historyMode?: HistoryMode
  /** History flush period (default 1 000 ms); also the retry period after a failed write. */
  flushMs?: number
  /** Rows per statement, and the history backlog that triggers a flush before the period (default 1 000). */
  maxBatch?: number
  /**
   * An hour's rollups are written once the hour has been over for this long (default 120 000 ms),
   * so checks that started in the hour and finished just after it join the same write.
   */
  rollupGraceMs?: number
  /**
   * Also write the current hour's rollups every this many ms (default: never). It bounds what a
   * crash can lose (otherwise up to the current hour), at the price of a histogram merge in SQL per
   * row and period (≈ 200 µs of MariaDB CPU per row, measured).
   */
  rollupCheckpointMs?: number | null
  /** `STATE_FLUSH_SEC` × 1 000: endpoint state flush period (default 300 000 ms). */
  stateFlushMs?: number
  /** Bound of the history buffer while the database is unreachable (default 100 000 rows); oldest dropped beyond. */
  maxPendingRows?: number
  /**
   * Bound of the pending rollup rows (default 2 000 000); oldest hour dropped first beyond it. An
   * hour holds one row per endpoint checked, so size it to at least twice the endpoints per host.
   */
  maxPendingRollups?: number
  /** Wall clock for hour buckets, flush deadlines and `updated_at` (default `() => new Date()`). */
  clock?: () => Date
  /** Timers for the flush loop (default: Node's, unref'd so they never keep a process alive). */
  timers?: Timers
  logger?: Logger
}

/** Node's timers, unref'd so the flush loop never keeps a process alive. */
const nodeTimers: Timers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms)
    handle.unref()
    return handle
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) throw new InvalidOptionsError(`${name} must be a positive integer, got ${v}`)
  return v
}

function timing(field: string, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'number' || !(value >= 0) || value > MAX_INT_UNSIGNED) {
    throw new InvalidSampleError(field, `must be null or a finite number of milliseconds ≥ 0, got ${value}`)
  }
  return Math.round(value)
}

function smallint(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SMALLINT_UNSIGNED) {
    throw new InvalidSampleError(field, `must be an integer within 0–65535, got ${value}`)
  }
  return value
}

function id(field: string, value: bigint): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_ID) {
    throw new InvalidSampleError(field, `must be a bigint within BIGINT UNSIGNED, got ${String(value)}`)
  }
  return value
}

function text(field: string, value: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new InvalidSampleError(field, `must be a string of 1–${max} characters, got ${JSON.stringify(value)}`)
  }
  return value
}

function date(field: string, value: Date): Date {
  const year = value instanceof Date ? value.getUTCFullYear() : Number.NaN
  if (!(year >= 1000 && year <= 9999)) {
    throw new InvalidSampleError(field, `must be a valid Date within the years 1000–9999, got ${String(value)}`)
  }
  return value
}

/** A validated copy in column shape: anything the database would reject is refused here. */
function historyRowOf(s: CheckSample): HistoryRow {
  return {
    endpointId: id('endpointId', s.endpointId),
    blogId: id('blogId', s.blogId),
    checkedAt: date('checkedAt', s.checkedAt),
    vantage: text('vantage', s.vantage, 64),
    method: text('method', s.method, 8),
    httpCode: s.httpCode === null ? null : smallint('httpCode', s.httpCode),
    errorCode: smallint('errorCode', s.errorCode),
    rttMs: timing('rttMs', s.rttMs),
    dnsMs: timing('dnsMs', s.dnsMs),
    tcpMs: timing('tcpMs', s.tcpMs),
    tlsMs: timing('tlsMs', s.tlsMs),
    ttfbMs: timing('ttfbMs', s.ttfbMs),
  }
}

function* chunks<T>(items: { length: number; slice(from: number, to: number): T[] }, size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

/**
 * The monitor's database writer for check results. `record()` is synchronous and cheap; rows are
 * written in the background as multi-row statements, never one per check:
 *
 * - **history** (`jetmon_check_history`): buffered and inserted every `flushMs`, or as soon as
 *   `maxBatch` rows wait; with `historyMode: 'failures'` only failed checks are kept;
 * - **rollups** (`jetmon_check_rollups`): local checks aggregate in memory per (endpoint, UTC hour);
 *   each hour is upserted once it is over (plus `rollupGraceMs`), on `flush()`/`stop()`, and at
 *   `rollupCheckpointMs` if set. Rows are written as *deltas* added in SQL (counts summed,
 *   histograms merged bucket by bucket), so any number of processes can write the same hour — a
 *   restart, two hosts during a lease handover, late samples — without losing counts. In the
 *   steady state each (endpoint, hour) row is inserted once and the costly JSON merge never runs;
 * - **endpoint state** (`jetmon_endpoint_state`): the newest local sample per endpoint, one
 *   multi-row upsert every `stateFlushMs`; newest wins in SQL.
 *
 * A failed statement keeps its rows in memory (bounded: beyond `maxPendingRows` /
 * `maxPendingRollups` the oldest are dropped and counted) and is retried on the next tick; the
 * failure is logged once per streak, the recovery once.
 *
 * Veriflier samples (vantage ≠ `'local'`) go to history only: rollups and state describe the
 * monitor's own scheduled checks, so latency percentiles are not skewed by other regions.
 */
export class CheckRecorder {
  readonly #db: Db
  readonly #mode: HistoryMode
  readonly #flushMs: number
  readonly #maxBatch: number
  readonly #rollupGraceMs: number
  readonly #rollupCheckpointMs: number | null
  readonly #stateFlushMs: number
  readonly #maxPendingRows: number
  readonly #maxPendingRollups: number
  readonly #clock: () => Date
  readonly #timers: Timers
  readonly #logger: Logger
  #timer: unknown

  #history: ChunkQueue<HistoryRow>
  /** Pending rollup deltas by UTC hour start (epoch ms). */
  #rollups = new Map<number, HourRollups>()
  #rollupCount = 0
  /** Rows of the latest hour opened: the room the next hour starts with. */
  #rollupCapacity = 0
  #states = new StateEntries(0)
  #inFlight = { history: 0, rollups: 0, state: 0 }

  #lastRollupCheckpoint: number
  #lastStateFlush: number
  /** Serializes every write: one statement at a time, in order. */
  #chain: Promise<unknown> = Promise.resolve()
  #tickQueued = false
  #batchQueued = false
  #stopped = false
  /** Consecutive failed statements per table; the first of a streak is logged, and the recovery. */
  #failureStreak: Record<Table, number> = { history: 0, rollups: 0, state: 0 }

  #writes = {
    history: { statements: 0, rows: 0 },
    rollups: { statements: 0, rows: 0 },
    state: { statements: 0, rows: 0 },
  }
  #errors = 0
  #dropped = { history: 0, rollups: 0 }
  #lastFlushMs: number | null = null
  #lastFlushAt: Date | null = null

  constructor(options: CheckRecorderOptions) {
    this.#db = options.db
    this.#mode = options.historyMode ?? 'all'
    if (this.#mode !== 'all' && this.#mode !== 'failures') {
      throw new InvalidOptionsError(`historyMode must be 'all' or 'failures', got ${String(this.#mode)}`)
    }
    this.#flushMs = positiveInteger('flushMs', options.flushMs, 1_000)
    this.#maxBatch = positiveInteger('maxBatch', options.maxBatch, 1_000)
    this.#rollupGraceMs = positiveInteger('rollupGraceMs', options.rollupGraceMs, 120_000)
    this.#rollupCheckpointMs =
      options.rollupCheckpointMs == null ? null : positiveInteger('rollupCheckpointMs', options.rollupCheckpointMs, 0)
    this.#stateFlushMs = positiveInteger('stateFlushMs', options.stateFlushMs, 300_000)
    this.#maxPendingRows = positiveInteger('maxPendingRows', options.maxPendingRows, 100_000)
    this.#maxPendingRollups = positiveInteger('maxPendingRollups', options.maxPendingRollups, 2_000_000)
    this.#clock = options.clock ?? (() => new Date())
    this.#timers = options.timers ?? nodeTimers
    this.#logger = options.logger ?? noopLogger
    this.#history = new ChunkQueue(this.#maxBatch)
    const now = this.#clock().getTime()
    this.#lastRollupCheckpoint = now
    this.#lastStateFlush = now
    this.#arm()
  }

  /**
   * Takes one check result. Synchronous, no I/O; the rows it produces are written later.
   * @throws InvalidSampleError when the sample could not be stored (a bug in the caller).
   */
  record(sample: CheckSample): void {
    const row = historyRowOf(sample)
    const sslExpiresAt = sample.sslExpiresAt == null ? null : date('sslExpiresAt', sample.sslExpiresAt)
    const tlsVersion = sample.tlsVersion == null ? null : text('tlsVersion', sample.tlsVersion, 16)
    if (this.#mode === 'all' || sample.failed) {
      this.#history.push(row)
      if (this.#history.length > this.#maxPendingRows) {
        this.#dropped.history += this.#history.dropOldest(this.#history.length - this.#maxPendingRows)
      }
      if (this.#history.length >= this.#maxBatch) this.#requestBatchFlush()
    }
    if (row.vantage !== LOCAL_VANTAGE) return

    const hourStart = Math.floor(row.checkedAt.getTime() / HOUR_MS) * HOUR_MS
    const hour = this.#rollups.get(hourStart) ?? this.#openHour(hourStart)
    if (hour.add(row.endpointId, row.blogId, sample.failed, row.rttMs)) {
      if (++this.#rollupCount > this.#maxPendingRollups) this.#dropOldestRollups()
    }

    this.#states.record(
      row.endpointId,
      row.checkedAt.getTime(),
      row.httpCode,
      row.errorCode,
      sslExpiresAt?.getTime() ?? null,
      tlsVersion,
    )
  }

  /**
   * One cycle of the flush loop (the timer calls it every `flushMs`): writes the buffered history,
   * the rollups of hours that are over (and of the current hour at a checkpoint), and endpoint
   * state when its period has elapsed. Failed rows stay pending.
   */
  /** The flush loop: every `flushMs`, re-armed before each tick so a slow flush does not delay the next. */
  #arm(): void {
    this.#timer = this.#timers.setTimeout(() => {
      if (this.#stopped) return
      this.#arm()
      void this.tick()
    }, this.#flushMs)
  }

  tick(): Promise<void> {
    if (this.#tickQueued) return this.#chain.then(() => undefined)
    this.#tickQueued = true
    return this.#exclusive(async () => {
      this.#tickQueued = false
      await this.#cycle(false)
    }).then(() => undefined)
  }

  /**
   * Writes everything pending now — history, rollups and state — after any write in progress (the
   * drain path). Never throws for database trouble: the outcome says whether anything is left.
   */
  flush(): Promise<FlushOutcome> {
    return this.#exclusive(() => this.#cycle(true))
  }

  /**
   * Stops the flush timer and flushes everything (the drain). Samples recorded afterwards are
   * written only when a full batch waits or on an explicit `flush()`.
   */
  async stop(): Promise<FlushOutcome> {
    if (!this.#stopped) {
      this.#stopped = true
      this.#timers.clearTimeout(this.#timer)
    }
    return this.flush()
  }

  stats(): RecorderStats {
    const pendingHistory = this.#history.length + this.#inFlight.history
    const pendingRollups = this.#rollupCount + this.#inFlight.rollups
    const pendingState = this.#states.size + this.#inFlight.state
    const w = this.#writes
    const copy = (t: TableWrites): TableWrites => ({ statements: t.statements, rows: t.rows })
    return {
      pending: pendingHistory + pendingRollups + pendingState,
      pendingHistory,
      pendingRollups,
      pendingState,
      statements: w.history.statements + w.rollups.statements + w.state.statements,
      rowsWritten: w.history.rows + w.rollups.rows + w.state.rows,
      tables: { history: copy(w.history), rollups: copy(w.rollups), state: copy(w.state) },
      lastFlushMs: this.#lastFlushMs,
      lastFlushAt: this.#lastFlushAt,
      errors: this.#errors,
      dropped: { ...this.#dropped },
    }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work)
    this.#chain = run.catch(() => undefined)
    return run
  }

  /** A full chunk is waiting: write full chunks now rather than at the next tick. */
  #requestBatchFlush(): void {
    // While the database is failing, retries follow the tick period instead of every batch.
    if (this.#batchQueued || this.#failureStreak.history > 0) return
    this.#batchQueued = true
    void this.#exclusive(async () => {
      this.#batchQueued = false
      const written = await this.#writeHistory(true)
      if (written.ok) this.#lastFlushAt = this.#clock()
    })
  }

  async #cycle(forced: boolean): Promise<FlushOutcome> {
    const started = performance.now()
    const now = this.#clock().getTime()
    let ok = true
    let rowsWritten = 0

    const history = await this.#writeHistory(false)
    ok &&= history.ok
    rowsWritten += history.rows

    const checkpoint = this.#rollupCheckpointMs !== null && now - this.#lastRollupCheckpoint >= this.#rollupCheckpointMs
    const hours = [...this.#rollups.keys()].filter(
      (hour) => forced || checkpoint || hour + HOUR_MS + this.#rollupGraceMs <= now,
    )
    if (hours.length > 0) {
      const rollups = await this.#writeRollups(hours)
      if (rollups.ok && checkpoint) this.#lastRollupCheckpoint = now
      ok &&= rollups.ok
      rowsWritten += rollups.rows
    }
    if (forced || now - this.#lastStateFlush >= this.#stateFlushMs) {
      const state = await this.#writeState()
      if (state.ok) this.#lastStateFlush = now
      ok &&= state.ok
      rowsWritten += state.rows
    }

    this.#lastFlushMs = performance.now() - started
    this.#lastFlushAt = this.#clock()
    return { ok, rowsWritten, pending: this.stats().pending }
  }

  /** Writes the history rows buffered at the start (only full statements when `fullOnly`). */
  async #writeHistory(fullOnly: boolean): Promise<{ ok: boolean; rows: number }> {
    let budget = this.#history.length
    let rows = 0
    while (budget > 0 && this.#history.length > 0) {
      if (fullOnly && this.#history.firstChunkLength < this.#maxBatch) break
      const batch = this.#history.takeChunk()
      budget -= batch.length
      this.#inFlight.history = batch.length
      try {
        await insertHistory(this.#db, batch)
        this.#succeeded('history', batch.length)
        rows += batch.length
      } catch (error) {
        this.#history.putBack(batch)
        const excess = this.#history.length - this.#maxPendingRows
        if (excess > 0) this.#dropped.history += this.#history.dropOldest(excess)
        this.#failed('history', error)
        return { ok: false, rows }
      } finally {
        this.#inFlight.history = 0
      }
    }
    return { ok: true, rows }
  }

  async #writeRollups(hours: number[]): Promise<{ ok: boolean; rows: number }> {
    const taken: HourRollups[] = []
    for (const hourStart of hours) {
      const hour = this.#rollups.get(hourStart)
      if (!hour) continue
      this.#rollups.delete(hourStart)
      this.#rollupCount -= hour.size
      this.#rollupCapacity = Math.max(hour.size, taken.length === 0 ? 0 : this.#rollupCapacity)
      taken.push(hour)
    }
    // Every (endpoint, hour) row, then their order: primary-key order, so that two hosts upserting
    // overlapping rows lock them in the same order (no deadlock). Deltas are built a statement at a time.
    const total = taken.reduce((sum, hour) => sum + hour.size, 0)
    const endpointIds = new Array<bigint>(total)
    const hourOf = new Uint32Array(total)
    const rowOf = new Uint32Array(total)
    let n = 0
    for (let h = 0; h < taken.length; h++) {
      for (const [endpointId, row] of taken[h]!.rows) {
        endpointIds[n] = endpointId
        hourOf[n] = h
        rowOf[n++] = row
      }
    }
    const order = new Uint32Array(total)
    for (let i = 0; i < total; i++) order[i] = i
    order.sort((a, b) =>
      endpointIds[a] === endpointIds[b]
        ? taken[hourOf[a]!]!.hourStart - taken[hourOf[b]!]!.hourStart
        : endpointIds[a]! < endpointIds[b]!
          ? -1
          : 1,
    )
    const writeAt = (i: number): RollupWrite => {
      const hour = taken[hourOf[i]!]!
      return { hourStart: hour.hourStart, delta: hour.delta(endpointIds[i]!, rowOf[i]!) }
    }
    this.#inFlight.rollups = total
    let rows = 0
    try {
      for (let from = 0; from < total; from += this.#maxBatch) {
        const batch = Array.from(order.subarray(from, Math.min(total, from + this.#maxBatch)), writeAt)
        try {
          await upsertRollups(this.#db, batch)
        } catch (error) {
          this.#restoreRollups(Array.from(order.subarray(from), writeAt))
          this.#failed('rollups', error)
          return { ok: false, rows }
        }
        this.#succeeded('rollups', batch.length)
        rows += batch.length
        this.#inFlight.rollups -= batch.length
      }
      return { ok: true, rows }
    } finally {
      this.#inFlight.rollups = 0
    }
  }

  async #writeState(): Promise<{ ok: boolean; rows: number }> {
    if (this.#states.size === 0) return { ok: true, rows: 0 }
    const states = this.#states
    this.#states = new StateEntries(states.size)
    // Primary-key order; the entries are built a statement at a time.
    const endpointIds = [...states.rows.keys()].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1))
    const entryAt = (endpointId: bigint) => states.entry(endpointId, states.rows.get(endpointId)!)
    const entries = {
      length: endpointIds.length,
      slice: (from: number, to?: number) => endpointIds.slice(from, to).map(entryAt),
    }
    this.#inFlight.state = entries.length
    let rows = 0
    try {
      for (const batch of chunks(entries, this.#maxBatch)) {
        try {
          await upsertState(this.#db, batch, this.#clock())
        } catch (error) {
          this.#restoreState(entries.slice(rows))
          this.#failed('state', error)
          return { ok: false, rows }
        }
        this.#succeeded('state', batch.length)
        rows += batch.length
        this.#inFlight.state -= batch.length
      }
      return { ok: true, rows }
    } finally {
      this.#inFlight.state = 0
    }
  }

  /** A new hour's pending rollups, with room for as many rows as the latest hour opened had. */
  #openHour(hourStart: number): HourRollups {
    let rows = 0
    for (const hour of this.#rollups.values()) rows = Math.max(rows, hour.size)
    if (rows > 0) this.#rollupCapacity = rows
    const hour = new HourRollups(hourStart, this.#rollupCapacity)
    this.#rollups.set(hourStart, hour)
    return hour
  }

  /** Unwritten deltas come back, added to any recorded since for the same (endpoint, hour). */
  #restoreRollups(unwritten: readonly { hourStart: number; delta: RollupDelta }[]): void {
    for (const { hourStart, delta } of unwritten) {
      const hour = this.#rollups.get(hourStart) ?? this.#openHour(hourStart)
      if (hour.merge(delta)) this.#rollupCount++
    }
    this.#dropOldestRollups()
  }

  /** Beyond the bound, drops rows of the oldest hour first. */
  #dropOldestRollups(): void {
    while (this.#rollupCount > this.#maxPendingRollups) {
      const oldest = Math.min(...this.#rollups.keys())
      const hour = this.#rollups.get(oldest)!
      for (const endpointId of hour.rows.keys()) {
        if (this.#rollupCount <= this.#maxPendingRollups) break
        hour.delete(endpointId)
        this.#rollupCount--
        this.#dropped.rollups++
      }
      if (hour.size === 0) this.#rollups.delete(oldest)
    }
  }

  /** Unwritten state entries come back unless a newer sample of the endpoint arrived meanwhile. */
  #restoreState(unwritten: StateEntry[]): void {
    for (const old of unwritten) this.#states.restore(old)
  }

  #succeeded(table: Table, rows: number): void {
    this.#writes[table].statements++
    this.#writes[table].rows += rows
    if (this.#failureStreak[table] > 0) {
      this.#logger.info(
        { table, failedAttempts: this.#failureStreak[table], dropped: { ...this.#dropped } },
        `${table} writes recovered; rows kept during the outage are being written now`,
      )
      this.#failureStreak[table] = 0
    }
  }

  #failed(table: Table, error: unknown): void {
    this.#errors++
    if (this.#failureStreak[table] === 0) {
      this.#logger.error(
        { err: error, table, pending: this.stats().pending, retryEveryMs: this.#flushMs },
        `could not write ${table} rows to the database; they are kept in memory (bounded, oldest dropped ` +
          'beyond the limit) and retried on every flush tick — check that the database is reachable',
      )
    }
    this.#failureStreak[table]++
  }
}
