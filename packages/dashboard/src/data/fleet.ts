/**
 * The fleet page's data: monitor hosts and their bucket leases, process health, verifliers and
 * the WPCOM circuit (from the running monitor, through `fleetInfo`), delivery queue depths, the
 * dispatch cursors' lag and the legacy projection's drift. Only counts, states and names are
 * read: no secret column (webhook secrets, alert destinations, tokens) is ever selected.
 */
import {
  alertDeliveries,
  type DbOrTx,
  dispatchCursors,
  eventTransitions,
  hosts,
  processHealth,
  webhookDeliveries,
} from '@jetmon/db'
import { type ProjectionDrift, projectionDrift } from '@jetmon/eventstore'
import { type CheckPolicyDefaults, countCheckPolicyCohorts } from '@jetmon/read-models'
import { asc, inArray, max, sql } from 'drizzle-orm'
import { redactText, redactUrl } from './_evidence.js'
import { toBigint, toDate, toNumber } from './_sql.js'
import { type PolicyCohortRow, resolveCohorts } from './check-policy.js'

/** One configured veriflier as the monitor last saw it. */
export interface VeriflierStatus {
  id: string
  region: string
  /** Its base URL (credentials are removed before display). */
  url?: string | null
  reachable: boolean
  /** Round trip of the last health probe. */
  latencyMs: number | null
  version?: string | null
  inFlight?: number | null
  /** When it was last probed. */
  checkedAt?: Date | null
  /** Why it is unreachable, for a person. */
  error?: string | null
}

/** The WordPress.com notification path of the running monitor (its `WpcomNotifier.stats()`). */
export interface WpcomStatus {
  enabled: boolean
  breaker: 'closed' | 'open' | 'half_open'
  queued: number
  inFlight: number
  sent: number
  failed: number
  permanent?: number
  suppressed?: number
  dropped: number
  retries?: number
  lastError?: string | null
}

/** What only the running monitor knows; every field optional. */
export interface FleetInfo {
  verifliers?: readonly VeriflierStatus[]
  wpcom?: WpcomStatus | null
}

export interface HostRow {
  hostId: string
  status: string
  bucketMin: number | null
  bucketMax: number | null
  pinned: boolean
  /** `ROLLOUT_MODE`: `active` (dynamic or pinned), `standby` (owns nothing) or `api-controlled`. */
  rolloutMode: 'active' | 'standby' | 'api-controlled'
  version: string | null
  leaseExpiresAt: Date
  heartbeatAt: Date
  startedAt: Date
  live: boolean
}

export interface ProcessRow {
  processId: string
  hostId: string
  role: string
  pid: number
  version: string | null
  state: string
  health: string
  startedAt: Date
  updatedAt: Date
  stale: boolean
  /**
   * A monitor under pressure (amber): the signals that hold it (`dispatch_lag`, `event_loop_delay`,
   * `in_flight`); its timeouts and connect failures give no verdict meanwhile. Empty otherwise.
   */
  pressure: string[]
  stats: {
    checksPerSec: number | null
    inFlight: number | null
    maxInFlight: number | null
    lagP95Ms: number | null
    rss: number | null
    endpoints: number | null
    dueBacklog: number | null
    /** Failures given no verdict because of the monitor's pressure, since it started. */
    pressureSuppressed: number | null
  }
}

export interface QueueDepth {
  pending: number
  /** Pending deliveries whose next attempt is due now. */
  due: number
  delivering: number
  abandoned: number
  oldestPendingAt: Date | null
}

export interface Fleet {
  hosts: HostRow[]
  /** Bucket ranges no live host holds (empty when the space is covered or no host is live). */
  uncovered: [number, number][]
  bucketTotal: number
  processes: ProcessRow[]
  verifliers: VeriflierStatus[] | null
  wpcom: WpcomStatus | null
  /** `fleetInfo` failed or timed out. */
  infoError: string | null
  queues: { webhooks: QueueDepth; alerts: QueueDepth }
  cursors: { consumer: string; lastTransitionId: bigint; behind: bigint; updatedAt: Date }[]
  drift: { items: ProjectionDrift[]; more: boolean }
  /** Active endpoints by request method × detection profile (the cohorts of a policy rollout). */
  checkPolicy: { cohorts: PolicyCohortRow[]; defaults: CheckPolicyDefaults | null }
}

export interface FleetDeps {
  db: DbOrTx
  now: Date
  bucketTotal: number
  fleetInfo?: (() => FleetInfo | Promise<FleetInfo>) | undefined
  /** The fleet's default method and profile; null or absent: unknown, shown as "default". */
  checkPolicyDefaults?: CheckPolicyDefaults | null | undefined
}

/** A process row older than this is shown as stale (processes refresh theirs every few seconds). */
const STALE_MS = 30_000
const FLEET_INFO_TIMEOUT_MS = 1_500

const num = (stats: Record<string, unknown> | null, ...keys: string[]) => {
  for (const key of keys) {
    const value = stats?.[key]
    if (typeof value === 'number' && Number.isFinite(value)) return value
  }
  return null
}

/** The pressure signals a monitor's health row names (`stats.pressure`): signal names only. */
function pressureSignals(stats: Record<string, unknown> | null): string[] {
  const value = stats?.pressure
  if (!Array.isArray(value)) return []
  return value.filter((signal): signal is string => typeof signal === 'string' && /^[a-z_]{1,40}$/.test(signal))
}

async function queueDepth(db: DbOrTx, table: typeof webhookDeliveries | typeof alertDeliveries, now: Date) {
  // Only the non-terminal statuses (and abandoned): a range on the (status, next_attempt_at) index,
  // never a count of every delivery ever made.
  const rows = await db
    .select({
      status: table.status,
      n: sql<unknown>`COUNT(*)`,
      due: sql<unknown>`SUM(${table.nextAttemptAt} IS NULL OR ${table.nextAttemptAt} <= ${now})`,
      oldest: sql<unknown>`MIN(${table.createdAt})`,
    })
    .from(table)
    .where(inArray(table.status, ['pending', 'delivering', 'abandoned']))
    .groupBy(table.status)
  const depth: QueueDepth = { pending: 0, due: 0, delivering: 0, abandoned: 0, oldestPendingAt: null }
  for (const row of rows) {
    const n = toNumber(row.n) ?? 0
    if (row.status === 'pending') {
      depth.pending = n
      depth.due = toNumber(row.due) ?? 0
      depth.oldestPendingAt = toDate(row.oldest)
    } else if (row.status === 'delivering') depth.delivering = n
    else if (row.status === 'abandoned') depth.abandoned = n
  }
  return depth
}

/** Bucket ranges in `[0, total)` that none of `ranges` covers. */
export function uncoveredBuckets(ranges: readonly [number, number][], total: number): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const gaps: [number, number][] = []
  let next = 0
  for (const [min, max] of sorted) {
    if (min > next) gaps.push([next, Math.min(min - 1, total - 1)])
    next = Math.max(next, max + 1)
  }
  if (next < total) gaps.push([next, total - 1])
  return gaps.filter(([a, b]) => a <= b)
}

async function readFleetInfo(deps: FleetDeps): Promise<{ info: FleetInfo; error: string | null }> {
  if (!deps.fleetInfo) return { info: {}, error: null }
  let timer: NodeJS.Timeout | undefined
  try {
    const info = await Promise.race([
      Promise.resolve().then(() => deps.fleetInfo!()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 1.5 s')), FLEET_INFO_TIMEOUT_MS)
      }),
    ])
    return { info, error: null }
  } catch (error) {
    return { info: {}, error: redactText((error as Error).message ?? String(error)) }
  } finally {
    if (timer) clearTimeout(timer)
  }
}

/** Everything the fleet page shows. */
export async function loadFleet(deps: FleetDeps): Promise<Fleet> {
  const { db, now } = deps
  const [hostRows, processRows, webhooks, alerts, cursorRows, [latest], drift, fleetInfo, cohorts] = await Promise.all([
    db.select().from(hosts).orderBy(asc(hosts.bucketMin), asc(hosts.hostId)),
    db
      .select({
        processId: processHealth.processId,
        hostId: processHealth.hostId,
        role: processHealth.role,
        pid: processHealth.pid,
        version: processHealth.version,
        state: processHealth.state,
        health: processHealth.health,
        stats: processHealth.stats,
        startedAt: processHealth.startedAt,
        updatedAt: processHealth.updatedAt,
      })
      .from(processHealth)
      .orderBy(asc(processHealth.role), asc(processHealth.processId))
      .limit(500),
    queueDepth(db, webhookDeliveries, now),
    queueDepth(db, alertDeliveries, now),
    db.select().from(dispatchCursors).orderBy(asc(dispatchCursors.consumer)),
    db.select({ id: max(eventTransitions.id) }).from(eventTransitions),
    projectionDrift({ ctx: { db }, limit: 20 }),
    readFleetInfo(deps),
    countCheckPolicyCohorts({ ctx: { db } }),
  ])
  const nowMs = now.getTime()
  const hostList: HostRow[] = hostRows.map((row) => ({
    hostId: row.hostId,
    status: row.status,
    bucketMin: row.bucketMin,
    bucketMax: row.bucketMax,
    pinned: row.pinned,
    rolloutMode: row.rolloutMode,
    version: row.version,
    leaseExpiresAt: row.leaseExpiresAt,
    heartbeatAt: row.heartbeatAt,
    startedAt: row.startedAt,
    live: row.leaseExpiresAt.getTime() > nowMs,
  }))
  const liveRanges = hostList
    .filter((host) => host.live && host.bucketMin !== null && host.bucketMax !== null)
    .map((host): [number, number] => [host.bucketMin!, host.bucketMax!])
  const latestId = latest?.id === null || latest?.id === undefined ? 0n : toBigint(latest.id)
  return {
    hosts: hostList,
    uncovered: hostList.some((host) => host.live) ? uncoveredBuckets(liveRanges, deps.bucketTotal) : [],
    bucketTotal: deps.bucketTotal,
    processes: processRows.map((row) => {
      const stats = row.stats ?? null
      return {
        processId: row.processId,
        hostId: row.hostId,
        role: row.role,
        pid: row.pid,
        version: row.version,
        state: row.state,
        health: row.health,
        startedAt: row.startedAt,
        updatedAt: row.updatedAt,
        stale: row.state !== 'stopped' && nowMs - row.updatedAt.getTime() > STALE_MS,
        pressure: pressureSignals(stats),
        stats: {
          checksPerSec: num(stats, 'checks_per_sec', 'checks_per_second', 'checksPerSec'),
          inFlight: num(stats, 'in_flight', 'inFlight'),
          maxInFlight: num(stats, 'max_in_flight', 'maxInFlight'),
          lagP95Ms: num(stats, 'lag_p95_ms', 'lag_ms', 'lagMs'),
          rss: num(stats, 'rss', 'rss_bytes'),
          endpoints: num(stats, 'endpoints'),
          dueBacklog: num(stats, 'due_backlog', 'queue_depth'),
          pressureSuppressed: num(stats, 'pressure_suppressed'),
        },
      }
    }),
    verifliers: fleetInfo.info.verifliers
      ? fleetInfo.info.verifliers.map((veriflier) => ({
          ...veriflier,
          url: veriflier.url ? redactUrl(veriflier.url) : null,
          error: veriflier.error ? redactText(veriflier.error) : null,
        }))
      : null,
    wpcom: fleetInfo.info.wpcom
      ? {
          ...fleetInfo.info.wpcom,
          lastError: fleetInfo.info.wpcom.lastError ? redactText(fleetInfo.info.wpcom.lastError) : null,
        }
      : null,
    infoError: fleetInfo.error,
    queues: { webhooks, alerts },
    cursors: cursorRows.map((row) => ({
      consumer: row.consumer,
      lastTransitionId: row.lastTransitionId,
      behind: latestId > row.lastTransitionId ? latestId - row.lastTransitionId : 0n,
      updatedAt: row.updatedAt,
    })),
    drift: { items: drift.items, more: drift.next !== null },
    checkPolicy: {
      cohorts: resolveCohorts(cohorts, deps.checkPolicyDefaults ?? null),
      defaults: deps.checkPolicyDefaults ?? null,
    },
  }
}
