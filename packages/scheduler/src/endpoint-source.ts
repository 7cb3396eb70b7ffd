import { auditLog, type Db, endpointConfig, monitorSites } from '@jetmon/db'
import type { Clock, Timers } from '@jetmon/vocabulary'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { and, asc, between, eq, gt, inArray, lte, or, type SQL, sql } from 'drizzle-orm'
import { checkBucketTotal } from './_checks.js'
import type { BucketRange } from './buckets.js'
import { type Timing, timing } from './clock.js'
import {
  DEFAULT_ENDPOINT_DEFAULTS,
  type EndpointConfig,
  type EndpointDefaults,
  type EndpointRow,
  endpointColumns,
  type RowProblem,
  toEndpointConfig,
} from './endpoint-config.js'
import { EndpointTable } from './endpoint-table.js'
import { SchedulerError } from './errors.js'
import { DEFAULT_BUCKET_TOTAL } from './phase.js'

/** The audit event the API writes when it creates, changes, pauses or deletes an endpoint. */
export const ENDPOINT_CHANGED_EVENT = 'endpoint_changed'

/** What produced an {@link EndpointChange}. */
export type EndpointChangeReason =
  /** Buckets this host took over were loaded. */
  | 'load'
  /** Buckets this host gave up were dropped. */
  | 'unload'
  /** An incremental refresh found new, changed, paused or deleted endpoints. */
  | 'refresh'
  /** A full reconciliation found differences. */
  | 'reconcile'

/** A batch of changes to apply to the scheduler (and whatever else keys on endpoints). */
export interface EndpointChange {
  reason: EndpointChangeReason
  /** New endpoints and endpoints whose configuration changed (the whole new configuration). */
  upserts: readonly EndpointConfig[]
  /** Endpoints to stop checking: deleted, paused, or in a bucket this host no longer owns. */
  removals: readonly bigint[]
}

/** What one load, refresh or reconciliation did. */
export interface SyncSummary {
  reason: EndpointChangeReason | 'ranges'
  upserts: number
  removals: number
  /** Rows read from the database. */
  rowsRead: number
  durationMs: number
}

/** Settings of an {@link EndpointSource}. */
export interface EndpointSourceOptions {
  /** The drizzle handle from `@jetmon/db`. */
  db: Db
  /** `BUCKET_TOTAL` (default 1000), to validate ranges. */
  bucketTotal?: number
  /** Rows per query (default 5 000). */
  pageSize?: number
  /** `CHECK_TIMEOUT_MS`, `TLS_EXPIRY_WARN_DAYS`, `ALERT_COOLDOWN_MINUTES` (defaults 10 000, 30, 30). */
  defaults?: Partial<EndpointDefaults>
  /**
   * How far each incremental window reaches back before the previous refresh's start (default
   * 10 000 ms), for writes that committed late or were stamped by a writer with a slower clock.
   */
  lookbackMs?: number
  /** Default: the system clock (it only times the refresh loop; change windows use the database clock). */
  clock?: Clock
  /** Default: Node's timers. */
  timers?: Timers
  logger?: Logger
}

/** How often {@link EndpointSource.start}'s loop refreshes and fully reconciles. */
export interface EndpointSourceLoopOptions {
  /** `TARGET_RELOAD_SEC` × 1000 (default 30 000). */
  refreshMs?: number
  /** Full reconciliation period (default 300 000). */
  reconcileMs?: number
}

interface Cursors {
  /** Highest endpoint id seen by the new-endpoint scans. */
  idHighWater: bigint
  /** The next new-endpoint scan starts after this id (the high water of one refresh earlier). */
  idScanFrom: bigint
  /** Database time (as the server printed it) when the previous refresh started. */
  windowStart: string
  /** Highest `endpoint_changed` audit id processed. */
  lastAuditId: bigint
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const IN_CHUNK = 1_000

/**
 * The active endpoints of the buckets this host owns, read from `jetpack_monitor_sites` LEFT JOIN
 * `jetmon_endpoint_config` in pages, kept in memory, and kept current:
 *
 * - {@link setRanges} when the bucket leases change: drops the endpoints of buckets given up,
 *   loads those of buckets taken over (keyset pages in `(bucket_no, id)` order over the
 *   `(bucket_no, monitor_active)` index);
 * - {@link refresh} every `TARGET_RELOAD_SEC`, without a full reload: endpoints with an id above
 *   the highest seen, config rows whose `updated_at` moved, and endpoints named
 *   (`metadata.endpoint_id`) by `endpoint_changed` audit rows after the last audit id seen — plus
 *   overlapping windows on the database clock, so rows that committed late are not missed;
 * - {@link fullReconcile} every few minutes: re-reads the whole owned set and diffs it (catches
 *   what no audit row announced, e.g. an operator's SQL).
 *
 * Differences go to the {@link onChange} listeners in batches; unchanged rows emit nothing. All
 * operations run one at a time, in call order.
 */
export class EndpointSource {
  readonly bucketTotal: number
  readonly #db: Db
  readonly #pageSize: number
  readonly #lookbackMs: number
  readonly #clock: Timing
  readonly #logger: Logger
  #defaults: EndpointDefaults
  readonly #endpoints = new EndpointTable()
  readonly #listeners = new Set<(change: EndpointChange) => void>()
  #owned = new Uint8Array(65_536)
  /** Owned buckets whose load has not completed (a failed setRanges): loaded by the next setRanges or fullReconcile. */
  #unloaded = new Uint8Array(65_536)
  #ranges: BucketRange[] = []
  #cursors: Cursors | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #timer: unknown = undefined
  #looping = false
  #nextRefreshAt = 0
  #nextReconcileAt = 0

  constructor(options: EndpointSourceOptions) {
    this.bucketTotal = options.bucketTotal ?? DEFAULT_BUCKET_TOTAL
    checkBucketTotal(this.bucketTotal)
    this.#pageSize = options.pageSize ?? 5_000
    if (!Number.isSafeInteger(this.#pageSize) || this.#pageSize < 1) {
      throw new SchedulerError('INVALID_OPTION', `pageSize must be a whole number ≥ 1, got ${String(options.pageSize)}`)
    }
    this.#lookbackMs = options.lookbackMs ?? 10_000
    if (!Number.isSafeInteger(this.#lookbackMs) || this.#lookbackMs < 0) {
      throw new SchedulerError('INVALID_OPTION', `lookbackMs must be a whole number ≥ 0`)
    }
    this.#db = options.db
    this.#clock = timing(options.clock, options.timers)
    this.#logger = options.logger ?? noopLogger
    this.#defaults = { ...DEFAULT_ENDPOINT_DEFAULTS, ...options.defaults }
  }

  /** Endpoints held. */
  get size(): number {
    return this.#endpoints.size
  }

  /** The owned ranges the endpoints were loaded for (a copy). */
  get ranges(): BucketRange[] {
    return this.#ranges.map((range) => ({ ...range }))
  }

  /** The endpoint's configuration, or undefined when this host does not check it. */
  get(endpointId: bigint): EndpointConfig | undefined {
    return this.#endpoints.get(keyOf(endpointId))
  }

  /** Every endpoint held (each a new object), in no particular order. */
  values(): IterableIterator<EndpointConfig> {
    return this.#endpoints.values()
  }

  /** The ids of every endpoint held, in no particular order. */
  ids(): IterableIterator<bigint> {
    return this.#endpoints.ids()
  }

  /** Checks per second the endpoints held ask for (one per interval each). */
  checksPerSecond(): number {
    return this.#endpoints.checksPerSecond()
  }

  /** Registers a listener for batches of changes; returns a function that unregisters it. */
  onChange(listener: (change: EndpointChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * New configuration defaults (after a config reload). Endpoints already held pick them up at the
   * next {@link fullReconcile}, which emits those whose effective configuration changed.
   */
  setDefaults(defaults: Partial<EndpointDefaults>): void {
    this.#defaults = { ...DEFAULT_ENDPOINT_DEFAULTS, ...defaults }
  }

  /**
   * Makes `ranges` the owned buckets: emits removals for the endpoints of buckets no longer owned,
   * then loads the endpoints of newly owned buckets in pages (one `load` batch per page). If the
   * database fails part-way, the call rejects and the new ranges stay in force with what was
   * loaded; calling `setRanges` again, or the next {@link fullReconcile}, loads the rest.
   *
   * @throws {SchedulerError} `INVALID_BUCKET_RANGE` for a range outside the bucket space.
   */
  setRanges(ranges: readonly BucketRange[]): Promise<SyncSummary> {
    const wanted = new Uint8Array(65_536)
    for (const range of ranges) {
      if (
        !Number.isSafeInteger(range.min) ||
        !Number.isSafeInteger(range.max) ||
        range.min < 0 ||
        range.min > range.max ||
        range.max >= this.bucketTotal
      ) {
        return Promise.reject(
          new SchedulerError(
            'INVALID_BUCKET_RANGE',
            `${range.min}–${range.max} is not a range inside 0–${this.bucketTotal - 1}`,
          ),
        )
      }
      wanted.fill(1, range.min, range.max + 1)
    }
    return this.#exclusive(async () => {
      const started = this.#clock.now()
      if (!this.#cursors) await this.#initCursors()
      const previous = this.#owned
      this.#owned = wanted
      this.#ranges = rangesOfBitmap(wanted, this.bucketTotal)

      const batch = this.#batch('unload')
      for (const [key, bucketNo] of this.#endpoints.buckets()) {
        if (wanted[bucketNo]) continue
        this.#endpoints.delete(key)
        batch.removals.push(BigInt(key))
      }
      const removals = batch.removals.length
      this.#emit(batch)

      const toLoad = wanted.map((w, bucket) => (w && (!previous[bucket] || this.#unloaded[bucket]) ? 1 : 0))
      this.#unloaded = toLoad
      const load = await this.#readRanges(rangesOfBitmap(toLoad, this.bucketTotal), 'load', false)
      this.#unloaded = new Uint8Array(65_536)
      return { ...load, reason: 'ranges', removals: load.removals + removals, durationMs: this.#clock.now() - started }
    })
  }

  /**
   * The incremental refresh: new endpoints (ids above the highest seen, all buckets, filtered
   * here), config rows with `updated_at` in the window, and the endpoints named by
   * `endpoint_changed` audit rows in the window. Each becomes an upsert, a removal (deleted, paused,
   * bucket not owned) or nothing (unchanged).
   */
  refresh(): Promise<SyncSummary> {
    return this.#exclusive(() => this.#refresh())
  }

  /**
   * Re-reads every active endpoint of the owned buckets and diffs the result against what is held:
   * upserts for new or changed ones, removals for those gone. Also applies new {@link setDefaults}.
   */
  fullReconcile(): Promise<SyncSummary> {
    return this.#exclusive(async () => {
      const started = this.#clock.now()
      if (!this.#cursors) await this.#initCursors()
      this.#endpoints.clearMarks()
      const summary = await this.#readRanges(this.#ranges, 'reconcile', true)
      this.#unloaded = new Uint8Array(65_536)
      const batch = this.#batch('reconcile')
      for (const endpointId of this.#endpoints.unmarked()) {
        this.#endpoints.delete(keyOf(endpointId))
        batch.removals.push(endpointId)
      }
      const removals = batch.removals.length
      this.#emit(batch)
      if (summary.upserts + summary.removals + removals > 0) {
        this.#logger.info(
          { upserts: summary.upserts, removals: summary.removals + removals },
          'full reconciliation found endpoint changes the incremental refresh had not seen',
        )
      }
      return { ...summary, removals: summary.removals + removals, durationMs: this.#clock.now() - started }
    })
  }

  /**
   * Runs {@link refresh} every `refreshMs` and {@link fullReconcile} every `reconcileMs` (in place
   * of a refresh), with one timer. Failures are logged and retried at the next period.
   */
  start(options: EndpointSourceLoopOptions = {}): void {
    if (this.#looping) return
    const refreshMs = options.refreshMs ?? 30_000
    const reconcileMs = options.reconcileMs ?? 300_000
    if (!(refreshMs > 0) || !(reconcileMs > 0)) {
      throw new SchedulerError('INVALID_OPTION', 'refreshMs and reconcileMs must be positive')
    }
    this.#looping = true
    const now = this.#clock.now()
    this.#nextRefreshAt = now + refreshMs
    this.#nextReconcileAt = now + reconcileMs
    const wake = () => {
      this.#timer = undefined
      if (!this.#looping) return
      const at = this.#clock.now()
      const reconcile = at >= this.#nextReconcileAt
      const work = reconcile ? this.fullReconcile() : this.refresh()
      work
        .catch((error: unknown) =>
          this.#logger.error(
            { err: error, reconcile },
            'could not refresh the endpoint list from the database; retrying at the next period',
          ),
        )
        .finally(() => {
          const done = this.#clock.now()
          this.#nextRefreshAt = done + refreshMs
          if (reconcile) this.#nextReconcileAt = done + reconcileMs
          arm()
        })
    }
    const arm = () => {
      if (!this.#looping) return
      const at = Math.min(this.#nextRefreshAt, this.#nextReconcileAt)
      this.#timer = this.#clock.setTimeout(wake, Math.max(0, at - this.#clock.now()))
    }
    arm()
  }

  /** Stops the loop; resolves when the operation under way (if any) has finished. */
  async stop(): Promise<void> {
    this.#looping = false
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#queue
  }

  // ── Reading ─────────────────────────────────────────────────────────────────────────────────

  async #refresh(): Promise<SyncSummary> {
    const started = this.#clock.now()
    if (!this.#cursors) await this.#initCursors()
    const cursors = this.#cursors!
    const windowStart = await this.#dbNow()
    const since = sql`CAST(${cursors.windowStart} AS DATETIME(3)) - INTERVAL ${this.#lookbackMs * 1000} MICROSECOND`
    const batch = this.#batch('refresh')
    let rowsRead = 0

    // 1. New endpoints, every bucket (so the cursor passes other hosts' rows once), from the high
    //    water of one refresh ago: ids allocated earlier but committed later are seen too.
    let after = cursors.idScanFrom
    let highWater = cursors.idHighWater
    for (;;) {
      const rows = await this.#selectEndpoints(gt(monitorSites.endpointId, after), [asc(monitorSites.endpointId)])
      rowsRead += rows.length
      for (const row of rows) this.#apply(row, batch)
      this.#emitIfFull(batch)
      if (rows.length > 0) after = rows.at(-1)!.endpointId
      if (after > highWater) highWater = after
      if (rows.length < this.#pageSize) break
    }

    // 2. Configuration rows touched in the window.
    let configAfter = -1n
    for (;;) {
      const rows = await this.#db
        .select(endpointColumns)
        .from(endpointConfig)
        .innerJoin(monitorSites, eq(monitorSites.endpointId, endpointConfig.endpointId))
        .where(and(gt(endpointConfig.updatedAt, since), gt(endpointConfig.endpointId, configAfter)))
        .orderBy(asc(endpointConfig.endpointId))
        .limit(this.#pageSize)
      rowsRead += rows.length
      for (const row of rows) this.#apply(row as EndpointRow, batch)
      this.#emitIfFull(batch)
      if (rows.length > 0) configAfter = rows.at(-1)!.endpointId
      if (rows.length < this.#pageSize) break
    }

    // 3. Endpoints the API announced in the audit log (changes, pauses, deletes): the rows after
    //    the last audit id seen (a primary-key range), and rows in the window at or below it (late
    //    commits of lower ids).
    const named = new Set<bigint>()
    let lastAuditId = cursors.lastAuditId
    const audits = [
      { from: cursors.lastAuditId, where: undefined },
      { from: 0n, where: and(gt(auditLog.createdAt, since), lte(auditLog.id, cursors.lastAuditId)) },
    ]
    for (const audit of audits) {
      let after = audit.from
      for (;;) {
        const rows = await this.#db
          .select({
            id: auditLog.id,
            endpointId: sql<string | null>`JSON_UNQUOTE(JSON_EXTRACT(${auditLog.metadata}, '$.endpoint_id'))`,
          })
          .from(auditLog)
          .where(and(eq(auditLog.eventType, ENDPOINT_CHANGED_EVENT), gt(auditLog.id, after), audit.where))
          .orderBy(asc(auditLog.id))
          .limit(this.#pageSize)
        rowsRead += rows.length
        for (const row of rows) {
          const id = parseId(row.endpointId)
          if (id !== null) named.add(id)
          else if (row.id > cursors.lastAuditId) {
            this.#logger.warn(
              { auditId: row.id.toString() },
              'an endpoint_changed audit row has no usable metadata.endpoint_id; ignored (the full reconciliation will catch the change)',
            )
          }
          if (row.id > lastAuditId) lastAuditId = row.id
        }
        if (rows.length > 0) after = rows.at(-1)!.id
        if (rows.length < this.#pageSize) break
      }
    }
    const ids = [...named]
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK)
      const rows = await this.#selectEndpoints(inArray(monitorSites.endpointId, chunk), [])
      rowsRead += rows.length
      const found = new Set<number | bigint>()
      for (const row of rows) {
        found.add(keyOf(row.endpointId))
        this.#apply(row, batch)
      }
      for (const id of chunk) {
        const key = keyOf(id)
        if (found.has(key) || !this.#endpoints.has(key)) continue
        this.#endpoints.delete(key) // deleted
        batch.removals.push(id)
      }
      this.#emitIfFull(batch)
    }

    const upserts = batch.total.upserts + batch.upserts.length
    const removals = batch.total.removals + batch.removals.length
    this.#emit(batch)
    this.#cursors = { idHighWater: highWater, idScanFrom: cursors.idHighWater, windowStart, lastAuditId }
    if (upserts + removals > 0) this.#logger.debug({ upserts, removals }, 'endpoint refresh applied changes')
    return { reason: 'refresh', upserts, removals, rowsRead, durationMs: this.#clock.now() - started }
  }

  /** Pages through the active endpoints of `ranges` in (bucket_no, id) order. */
  async #readRanges(
    ranges: readonly BucketRange[],
    reason: EndpointChangeReason,
    /** Marks every endpoint read (a full reconciliation removes those left unmarked). */
    mark: boolean,
  ): Promise<SyncSummary> {
    const started = this.#clock.now()
    const batch = this.#batch(reason)
    let rowsRead = 0
    for (const range of ranges) {
      const page = (after: { bucket: number; id: bigint } | null) => {
        const inRange = and(
          eq(monitorSites.monitorActive, 1),
          between(monitorSites.bucketNo, range.min, range.max),
          after
            ? or(
                gt(monitorSites.bucketNo, after.bucket),
                and(eq(monitorSites.bucketNo, after.bucket), gt(monitorSites.endpointId, after.id)),
              )
            : undefined,
        )!
        const rows = this.#selectEndpoints(inRange, [asc(monitorSites.bucketNo), asc(monitorSites.endpointId)])
        rows.catch(() => {}) // awaited below; this only keeps a page read ahead from failing unobserved
        return rows
      }
      let next: Promise<EndpointRow[]> | null = page(null)
      while (next) {
        const rows: EndpointRow[] = await next
        // The next page is read while this one is applied.
        const last = rows.at(-1)
        next = last && rows.length >= this.#pageSize ? page({ bucket: last.bucketNo, id: last.endpointId }) : null
        rowsRead += rows.length
        for (const row of rows) {
          this.#apply(row, batch)
          if (mark) this.#endpoints.mark(keyOf(row.endpointId))
        }
        this.#emit(batch)
      }
    }
    return {
      reason,
      upserts: batch.total.upserts,
      removals: batch.total.removals,
      rowsRead,
      durationMs: this.#clock.now() - started,
    }
  }

  async #selectEndpoints(where: SQL | undefined, orderBy: SQL[]): Promise<EndpointRow[]> {
    const base = this.#db
      .select(endpointColumns)
      .from(monitorSites)
      .leftJoin(endpointConfig, eq(endpointConfig.endpointId, monitorSites.endpointId))
      .where(where)
      .orderBy(...orderBy)
    const query = orderBy.length > 0 ? base.limit(this.#pageSize) : base
    // The driver's rows as arrays, decoded column by column here: a whole fleet is loaded through
    // this query, and the query builder's generic row mapping costs more than the rest of the load.
    const client = (this.#db as { $client?: RawClient }).$client
    if (typeof client?.query !== 'function') return (await query) as EndpointRow[]
    const { sql: text, params } = query.toSQL()
    const [rows] = await client.query({ sql: text, rowsAsArray: true }, params)
    return rows.map(decodeEndpointRow)
  }

  async #initCursors(): Promise<void> {
    const windowStart = await this.#dbNow()
    const [site] = await this.#db
      .select({ maxId: sql<string | number | null>`MAX(${monitorSites.endpointId})` })
      .from(monitorSites)
    const [audit] = await this.#db.select({ maxId: sql<string | number | null>`MAX(${auditLog.id})` }).from(auditLog)
    const idHighWater = BigInt(site?.maxId ?? 0)
    this.#cursors = {
      idHighWater,
      idScanFrom: idHighWater,
      windowStart,
      lastAuditId: BigInt(audit?.maxId ?? 0),
    }
  }

  /** The database's current time, as text it can read back (the window bounds use its clock). */
  async #dbNow(): Promise<string> {
    const [row] = await this.#db.select({ now: sql<unknown>`NOW(3)` }).from(sql`DUAL`)
    const value = row?.now
    if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '')
    return String(value)
  }

  // ── Applying ────────────────────────────────────────────────────────────────────────────────

  /** One row read from the database → an upsert, a removal or nothing. */
  #apply(row: EndpointRow, batch: Batch): void {
    if (row.active !== 1 || !this.#owned[row.bucketNo]) {
      if (this.#endpoints.delete(keyOf(row.endpointId))) batch.removals.push(row.endpointId)
      return
    }
    const problems: RowProblem[] = []
    const config = toEndpointConfig(row, this.#defaults, problems)
    const unchanged = this.#endpoints.holds(config)
    if (problems.length > 0 && !unchanged) {
      this.#logger.warn(
        { endpointId: row.endpointId.toString(), columns: problems },
        'unusable JSON in jetmon_endpoint_config (expected an array of strings / an object of strings); checking with the default instead',
      )
    }
    if (unchanged) return
    this.#endpoints.set(config)
    batch.upserts.push(config)
  }

  #batch(reason: EndpointChangeReason): Batch {
    return { reason, upserts: [], removals: [], total: { upserts: 0, removals: 0 } }
  }

  #emitIfFull(batch: Batch): void {
    if (batch.upserts.length + batch.removals.length >= this.#pageSize) this.#emit(batch)
  }

  #emit(batch: Batch): void {
    if (batch.upserts.length === 0 && batch.removals.length === 0) return
    const change: EndpointChange = { reason: batch.reason, upserts: batch.upserts, removals: batch.removals }
    batch.total.upserts += batch.upserts.length
    batch.total.removals += batch.removals.length
    batch.upserts = []
    batch.removals = []
    for (const listener of this.#listeners) {
      try {
        const result = listener(change) as unknown
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#logger.error({ err: error }, 'an endpoint-change listener failed'))
        }
      } catch (error) {
        this.#logger.error({ err: error }, 'an endpoint-change listener failed')
      }
    }
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => {})
    return run
  }
}

interface Batch {
  reason: EndpointChangeReason
  upserts: EndpointConfig[]
  removals: bigint[]
  total: { upserts: number; removals: number }
}

/** The part of the mysql2 pool behind the drizzle handle that {@link EndpointSource} reads pages with. */
interface RawClient {
  query(options: { sql: string; rowsAsArray: true }, params: unknown[]): Promise<[unknown[][], unknown]>
}

/** Each selected column's decoder, in select order (what the query builder applies per row). */
const ENDPOINT_DECODERS: readonly ((value: unknown) => unknown)[] = Object.values(endpointColumns).map((field) => {
  type Decoder = { mapFromDriverValue(value: unknown): unknown }
  const decoder: Decoder = 'mapFromDriverValue' in field ? field : (field as unknown as { decoder: Decoder }).decoder
  return (value: unknown) => decoder.mapFromDriverValue(value)
})
const ENDPOINT_KEYS = Object.keys(endpointColumns) as (keyof EndpointRow)[]

function decodeEndpointRow(raw: unknown[]): EndpointRow {
  const row: Record<string, unknown> = {}
  for (let i = 0; i < ENDPOINT_KEYS.length; i++) {
    const value = raw[i]
    row[ENDPOINT_KEYS[i]!] = value === null || value === undefined ? null : ENDPOINT_DECODERS[i]!(value)
  }
  return row as unknown as EndpointRow
}

function keyOf(endpointId: bigint): number | bigint {
  return endpointId <= MAX_SAFE ? Number(endpointId) : endpointId
}

function parseId(text: string | null): bigint | null {
  if (text === null || !/^\d{1,20}$/.test(text)) return null
  const id = BigInt(text)
  return id <= 18_446_744_073_709_551_615n ? id : null
}

/** The runs of set buckets, as ascending ranges. */
function rangesOfBitmap(bitmap: Uint8Array, total: number): BucketRange[] {
  const ranges: BucketRange[] = []
  let start = -1
  for (let bucket = 0; bucket <= total; bucket++) {
    const set = bucket < total && bitmap[bucket] === 1
    if (set && start < 0) start = bucket
    else if (!set && start >= 0) {
      ranges.push({ min: start, max: bucket - 1 })
      start = -1
    }
  }
  return ranges
}
