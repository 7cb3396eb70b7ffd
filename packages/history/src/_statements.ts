// The three write statements of the recorder, each one multi-row INSERT, in SQL that MariaDB 10.6+
// and MySQL 8 both accept (VALUES() in ON DUPLICATE KEY UPDATE is deprecated in MySQL 8.0.20+ in
// favour of row aliases, which MariaDB lacks, so VALUES() is the common form).
//
// The text is built here rather than by drizzle's query builder: profiled at 1 000-row statements,
// the builder cost ~100 µs of CPU per check (entity checks and a Param object per value), more than
// a check itself is allowed. Safety does not rest on escaping: every value is a validated integer,
// bigint or Date (formatted from toISOString), and every string is written as a hex literal, which
// no SQL mode (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) can reinterpret.
import type { Db } from '@jetmon/db'
import { sql } from 'drizzle-orm'
import { RTT_BUCKETS } from './histogram.js'

/** One `jetmon_check_history` row, normalized by `record()`. */
export interface HistoryRow {
  endpointId: bigint
  blogId: bigint
  checkedAt: Date
  vantage: string
  method: string
  httpCode: number | null
  errorCode: number
  rttMs: number | null
  dnsMs: number | null
  tcpMs: number | null
  tlsMs: number | null
  ttfbMs: number | null
}

/**
 * What a flush adds to an (endpoint, hour) rollup row. Held in memory for up to an hour per
 * endpoint, so it is kept small: the histogram is sparse, one packed number per bucket hit.
 */
export interface RollupDelta {
  endpointId: bigint
  blogId: bigint
  checks: number
  failures: number
  rttSumMs: number
  /** Sparse histogram: `bucket + count × 64` per non-empty bucket (RTT_BUCKETS ≤ 64). */
  hist: number[]
}

/** One rollup row to upsert: a delta and the start of its UTC hour (epoch ms). */
export interface RollupWrite {
  hourStart: number
  delta: RollupDelta
}

const PACK = 64

/** Adds `count` samples of bucket `bucket` to a sparse histogram. */
export function addToSparse(hist: number[], bucket: number, count = 1): void {
  for (let i = 0; i < hist.length; i++) {
    if (hist[i]! % PACK === bucket) {
      hist[i]! += count * PACK
      return
    }
  }
  hist.push(bucket + count * PACK)
}

/** The dense histogram (RTT_BUCKETS counts) of a sparse one. */
export function denseOf(hist: readonly number[]): number[] {
  const dense = new Array<number>(RTT_BUCKETS).fill(0)
  for (const packed of hist) dense[packed % PACK]! += Math.floor(packed / PACK)
  return dense
}

/** The latest local sample of an endpoint since the last state flush (times as epoch ms: smaller than Dates). */
export interface StateEntry {
  endpointId: bigint
  lastCheckedAt: number
  lastHttpCode: number | null
  lastErrorCode: number
  sslExpiresAt: number | null
  tlsVersion: string | null
}

const hexLiterals = new Map<string, string>()

/** A string as a hex literal (`X'…'`); the few distinct vantages, methods and TLS versions are cached. */
function text(value: string): string {
  let literal = hexLiterals.get(value)
  if (literal === undefined) {
    literal = `X'${Buffer.from(value, 'utf8').toString('hex')}'`
    if (hexLiterals.size < 1_000) hexLiterals.set(value, literal)
  }
  return literal
}

const nullableText = (value: string | null): string => (value === null ? 'NULL' : text(value))
const nullableInt = (value: number | null): string => (value === null ? 'NULL' : String(value))

/** `'YYYY-MM-DD HH:MM:SS.mmm'` in UTC (the connection's time zone). */
function datetime3(value: Date): string {
  const iso = value.toISOString()
  return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`
}

/** `'YYYY-MM-DD HH:MM:SS'`, truncated (MySQL would round fractions into the next second). */
function datetime(value: Date | null): string {
  if (value === null) return 'NULL'
  const iso = value.toISOString()
  return `'${iso.slice(0, 10)} ${iso.slice(11, 19)}'`
}

async function run(db: Db, statement: string): Promise<void> {
  await db.execute(sql.raw(statement))
}

const HISTORY_INSERT =
  'INSERT INTO jetmon_check_history (endpoint_id, blog_id, checked_at, vantage, method, http_code, error_code, ' +
  'rtt_ms, dns_ms, tcp_ms, tls_ms, ttfb_ms) VALUES '

export function historyInsertSql(rows: readonly HistoryRow[]): string {
  const values = new Array<string>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    values[i] =
      `(${r.endpointId},${r.blogId},${datetime3(r.checkedAt)},${text(r.vantage)},${text(r.method)},` +
      `${nullableInt(r.httpCode)},${r.errorCode},${nullableInt(r.rttMs)},${nullableInt(r.dnsMs)},` +
      `${nullableInt(r.tcpMs)},${nullableInt(r.tlsMs)},${nullableInt(r.ttfbMs)})`
  }
  return HISTORY_INSERT + values.join(',')
}

export function insertHistory(db: Db, rows: readonly HistoryRow[]): Promise<void> {
  return run(db, historyInsertSql(rows))
}

/**
 * Histograms are merged bucket by bucket in SQL: JSON_ARRAY of the sums of the two arrays' elements.
 * JSON_EXTRACT yields JSON on MySQL and text on MariaDB; CAST(… AS UNSIGNED) reads both, and
 * COALESCE treats a missing element or a NULL histogram (a row written by another tool) as zero.
 */
const HIST_MERGE = `JSON_ARRAY(${Array.from(
  { length: RTT_BUCKETS },
  (_, i) =>
    `COALESCE(CAST(JSON_EXTRACT(rtt_hist, '$[${i}]') AS UNSIGNED), 0) + ` +
    `COALESCE(CAST(JSON_EXTRACT(VALUES(rtt_hist), '$[${i}]') AS UNSIGNED), 0)`,
).join(', ')})`

const ROLLUP_UPSERT_HEAD =
  'INSERT INTO jetmon_check_rollups (endpoint_id, hour_start, blog_id, checks, failures, rtt_sum_ms, rtt_hist) VALUES '
const ROLLUP_UPSERT_TAIL =
  ' ON DUPLICATE KEY UPDATE checks = checks + VALUES(checks), failures = failures + VALUES(failures), ' +
  `rtt_sum_ms = rtt_sum_ms + VALUES(rtt_sum_ms), rtt_hist = ${HIST_MERGE}`

export function rollupUpsertSql(rows: readonly RollupWrite[]): string {
  const values = new Array<string>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const { hourStart, delta: d } = rows[i]!
    values[i] =
      `(${d.endpointId},${datetime(new Date(hourStart))},${d.blogId},${d.checks},${d.failures},${d.rttSumMs},` +
      `'[${denseOf(d.hist).join(',')}]')`
  }
  return ROLLUP_UPSERT_HEAD + values.join(',') + ROLLUP_UPSERT_TAIL
}

/** Adds the deltas to their rows (creating them): additive, so concurrent writers never lose counts. */
export function upsertRollups(db: Db, rows: readonly RollupWrite[]): Promise<void> {
  return run(db, rollupUpsertSql(rows))
}

// True when the incoming row is at least as recent as the stored one. MySQL and MariaDB evaluate
// the SET list left to right, so last_checked_at (assigned first) may already hold
// GREATEST(old, new) here; `new >= GREATEST(old, new)` is the same test as `new >= old`, so the
// result does not depend on evaluation order (nor on MariaDB's SIMULTANEOUS_ASSIGNMENT mode).
const NEWER = 'VALUES(last_checked_at) >= COALESCE(last_checked_at, VALUES(last_checked_at))'

const STATE_UPSERT_HEAD =
  'INSERT INTO jetmon_endpoint_state (endpoint_id, last_checked_at, last_http_code, last_error_code, ' +
  'ssl_expires_at, tls_version, updated_at) VALUES '
const STATE_UPSERT_TAIL =
  ' ON DUPLICATE KEY UPDATE ' +
  'last_checked_at = GREATEST(COALESCE(last_checked_at, VALUES(last_checked_at)), VALUES(last_checked_at)), ' +
  `last_http_code = IF(${NEWER}, VALUES(last_http_code), last_http_code), ` +
  `last_error_code = IF(${NEWER}, VALUES(last_error_code), last_error_code), ` +
  `ssl_expires_at = IF(${NEWER} AND VALUES(ssl_expires_at) IS NOT NULL, VALUES(ssl_expires_at), ssl_expires_at), ` +
  `tls_version = IF(${NEWER} AND VALUES(tls_version) IS NOT NULL, VALUES(tls_version), tls_version), ` +
  'updated_at = VALUES(updated_at)'

export function stateUpsertSql(entries: readonly StateEntry[], now: Date): string {
  const updatedAt = datetime3(now)
  const values = new Array<string>(entries.length)
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    values[i] =
      `(${e.endpointId},${datetime3(new Date(e.lastCheckedAt))},${nullableInt(e.lastHttpCode)},${e.lastErrorCode},` +
      `${datetime(e.sslExpiresAt === null ? null : new Date(e.sslExpiresAt))},${nullableText(e.tlsVersion)},${updatedAt})`
  }
  return STATE_UPSERT_HEAD + values.join(',') + STATE_UPSERT_TAIL
}

/**
 * Newest-wins upsert of endpoint state: a host that flushes late (a lease handover) never rolls
 * the state back. A NULL TLS fact means "not observed", so the stored one is kept.
 */
export function upsertState(db: Db, entries: readonly StateEntry[], now: Date): Promise<void> {
  return run(db, stateUpsertSql(entries, now))
}
