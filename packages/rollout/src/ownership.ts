/**
 * Who checks which buckets: v1, a Jetmon 2 host (dynamic, pinned, or through a rollout lock), or a
 * lock in transition; and how fresh each range's checks are. Read-only.
 */
import { type DbOrTx, endpointState, hosts, monitorSites, rolloutLocks } from '@jetmon/db'
import { projectionDrift } from '@jetmon/eventstore'
import { and, asc, between, eq, inArray, sql } from 'drizzle-orm'
import type { RolloutContext } from './jobs.js'

/** Default `BUCKET_TOTAL`. */
export const DEFAULT_BUCKET_TOTAL = 1000
/** How far back a check counts as fresh in the status. */
export const FRESHNESS_WINDOW_MS = 15 * 60_000
/** Drift rows counted at most per status or gate (the count says when it stopped). */
export const DRIFT_COUNT_CAP = 10_000

export type RolloutMode = 'active' | 'standby' | 'api-controlled'

/** A row of `jetmon_hosts`, with whether its lease is live now. */
export interface HostInfo {
  hostId: string
  mode: RolloutMode
  pinned: boolean
  bucketMin: number | null
  bucketMax: number | null
  status: 'active' | 'draining'
  heartbeatAt: Date
  leaseExpiresAt: Date
  version: string | null
  /** Status `active` with an unexpired lease. */
  live: boolean
}

/** A lock that still covers its buckets (`active` or `releasing`). */
export interface LockInfo {
  id: bigint
  bucketMin: number
  bucketMax: number
  hostId: string
  state: 'active' | 'releasing' | 'released'
  sessionId: bigint | null
  activatedAt: Date
  acknowledgedAt: Date | null
  releaseRequestedAt: Date | null
  releasedAt: Date | null
}

/**
 * Where a lock stands: `activating` (active, the host has not acknowledged it yet), `active`
 * (acknowledged: the host checks the range), `releasing` (the host drains it), `released`.
 */
export type LockPhase = 'activating' | 'active' | 'releasing' | 'released'

export function lockPhase(lock: Pick<LockInfo, 'state' | 'acknowledgedAt'>): LockPhase {
  if (lock.state === 'active') return lock.acknowledgedAt === null ? 'activating' : 'active'
  return lock.state
}

/** Every registered host, live or not, by id. */
export async function listHosts(ctx: { db: DbOrTx }, now: Date): Promise<HostInfo[]> {
  const rows = await ctx.db.select().from(hosts).orderBy(asc(hosts.hostId))
  return rows.map((row) => ({
    hostId: row.hostId,
    mode: row.rolloutMode,
    pinned: row.pinned,
    bucketMin: row.bucketMin,
    bucketMax: row.bucketMax,
    status: row.status,
    heartbeatAt: row.heartbeatAt,
    leaseExpiresAt: row.leaseExpiresAt,
    version: row.version,
    live: row.status === 'active' && row.leaseExpiresAt.getTime() > now.getTime(),
  }))
}

/** Locks in `active` or `releasing`, by first bucket. */
export async function coveringLocks(ctx: { db: DbOrTx }): Promise<LockInfo[]> {
  const rows = await ctx.db
    .select()
    .from(rolloutLocks)
    .where(inArray(rolloutLocks.state, ['active', 'releasing']))
    .orderBy(asc(rolloutLocks.bucketMin), asc(rolloutLocks.id))
  return rows.map(lockOf)
}

export function lockOf(row: typeof rolloutLocks.$inferSelect): LockInfo {
  return {
    id: row.id,
    bucketMin: row.bucketMin,
    bucketMax: row.bucketMax,
    hostId: row.hostId,
    state: row.state,
    sessionId: row.sessionId,
    activatedAt: row.activatedAt,
    acknowledgedAt: row.acknowledgedAt,
    releaseRequestedAt: row.releaseRequestedAt,
    releasedAt: row.releasedAt,
  }
}

/** Whether two inclusive ranges share a bucket. */
export function overlaps(a: { min: number; max: number }, b: { min: number; max: number }): boolean {
  return a.min <= b.max && b.min <= a.max
}

/** Who owns a bucket. */
export type Owner =
  | { kind: 'v1' }
  | { kind: 'lock'; lockId: bigint; hostId: string; phase: LockPhase }
  | { kind: 'pinned'; hostId: string }
  | { kind: 'dynamic'; hostIds: string[] }

export interface OwnedRange {
  bucketMin: number
  bucketMax: number
  owner: Owner
  /** A lock not yet acknowledged, or releasing: two owners may be handing over. */
  inTransition: boolean
  /** Active endpoints of the range, and how many were checked in the last 15 minutes. */
  endpoints: number
  checkedRecently: number
  /** `checkedRecently / endpoints`, or null for a range without active endpoints. */
  freshness: number | null
}

export interface RolloutStatus {
  generatedAt: Date
  bucketTotal: number
  ranges: OwnedRange[]
  hosts: HostInfo[]
  locks: (LockInfo & { phase: LockPhase })[]
  /** Active endpoints whose legacy `site_status` disagrees with their open events (`capped`: counting stopped). */
  drift: { count: number; capped: boolean }
}

/**
 * The ownership map of buckets 0 … BUCKET_TOTAL − 1: each contiguous range with one owner — a
 * lock (and its host), a live pinned host, the live dynamic hosts, or `v1` when no Jetmon 2 host
 * or lock covers it — with the freshness of its checks; every registered host with its mode and
 * heartbeat; the covering locks; and the projection drift count.
 */
export async function rolloutStatus(ctx: RolloutContext): Promise<RolloutStatus> {
  const now = (ctx.clock ?? (() => new Date()))()
  const bucketTotal = ctx.bucketTotal ?? DEFAULT_BUCKET_TOTAL
  const [hostList, locks, tallies, drift] = await Promise.all([
    listHosts(ctx, now),
    coveringLocks(ctx),
    freshnessByBucket(ctx, new Date(now.getTime() - FRESHNESS_WINDOW_MS)),
    countDrift(ctx),
  ])
  const live = hostList.filter((host) => host.live)
  const dynamic = live.filter((host) => host.mode === 'active' && !host.pinned).map((host) => host.hostId)
  const pinned = live.filter((host) => host.mode === 'active' && host.pinned)

  const ownerOf = (bucket: number): Owner => {
    const lock = locks.find((l) => l.bucketMin <= bucket && bucket <= l.bucketMax)
    if (lock) return { kind: 'lock', lockId: lock.id, hostId: lock.hostId, phase: lockPhase(lock) }
    const pin = pinned.find(
      (host) =>
        host.bucketMin !== null && host.bucketMax !== null && host.bucketMin <= bucket && bucket <= host.bucketMax,
    )
    if (pin) return { kind: 'pinned', hostId: pin.hostId }
    if (dynamic.length > 0) return { kind: 'dynamic', hostIds: dynamic }
    return { kind: 'v1' }
  }

  const ranges: OwnedRange[] = []
  let current: { min: number; max: number; owner: Owner; key: string } | null = null
  const close = () => {
    if (!current) return
    let endpoints = 0
    let fresh = 0
    for (let bucket = current.min; bucket <= current.max; bucket++) {
      const tally = tallies.get(bucket)
      if (tally) {
        endpoints += tally.endpoints
        fresh += tally.fresh
      }
    }
    const phase = current.owner.kind === 'lock' ? current.owner.phase : null
    ranges.push({
      bucketMin: current.min,
      bucketMax: current.max,
      owner: current.owner,
      inTransition: phase === 'activating' || phase === 'releasing',
      endpoints,
      checkedRecently: fresh,
      freshness: endpoints === 0 ? null : fresh / endpoints,
    })
  }
  for (let bucket = 0; bucket < bucketTotal; bucket++) {
    const owner = ownerOf(bucket)
    const key = JSON.stringify(owner, (_k, value) => (typeof value === 'bigint' ? value.toString() : value))
    if (current && current.key === key) {
      current.max = bucket
      continue
    }
    close()
    current = { min: bucket, max: bucket, owner, key }
  }
  close()
  return {
    generatedAt: now,
    bucketTotal,
    ranges,
    hosts: hostList,
    locks: locks.map((lock) => ({ ...lock, phase: lockPhase(lock) })),
    drift,
  }
}

/** Active endpoints per bucket, and how many were checked at or after `since`. */
export async function freshnessByBucket(
  ctx: { db: DbOrTx },
  since: Date,
  range?: { min: number; max: number },
): Promise<Map<number, { endpoints: number; fresh: number }>> {
  const rows = await ctx.db
    .select({
      bucket: monitorSites.bucketNo,
      endpoints: sql<number>`COUNT(*)`.mapWith(Number),
      fresh: sql<number>`COALESCE(SUM(${endpointState.lastCheckedAt} >= ${since}), 0)`.mapWith(Number),
    })
    .from(monitorSites)
    .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
    .where(
      and(eq(monitorSites.monitorActive, 1), range ? between(monitorSites.bucketNo, range.min, range.max) : undefined),
    )
    .groupBy(monitorSites.bucketNo)
  return new Map(rows.map((row) => [row.bucket, { endpoints: row.endpoints, fresh: row.fresh }]))
}

/**
 * Active endpoints whose legacy `site_status` disagrees with their open http events, from the event
 * store's drift report (in the range when given), counted up to {@link DRIFT_COUNT_CAP}; `examples`
 * keeps the first ones.
 */
export async function countDrift(
  ctx: { db: DbOrTx },
  range?: { min: number; max: number },
  examples = 0,
): Promise<{
  count: number
  capped: boolean
  examples: { endpointId: bigint; siteStatus: number; expectedStatus: number; openHttpState: string | null }[]
}> {
  let count = 0
  let scanned = 0
  const kept: { endpointId: bigint; siteStatus: number; expectedStatus: number; openHttpState: string | null }[] = []
  let cursor: string | null = null
  do {
    const page: Awaited<ReturnType<typeof projectionDrift>> = await projectionDrift({
      ctx: { db: ctx.db },
      limit: 1000,
      cursor,
      ...(range ? { buckets: range } : {}),
    })
    for (const item of page.items) {
      scanned++
      if (!item.monitorActive) continue
      count++
      if (kept.length < examples) {
        kept.push({
          endpointId: item.endpointId,
          siteStatus: item.siteStatus,
          expectedStatus: item.expectedStatus,
          openHttpState: item.openHttpState,
        })
      }
    }
    cursor = page.next
    if (scanned >= DRIFT_COUNT_CAP && cursor !== null) return { count, capped: true, examples: kept }
  } while (cursor !== null)
  return { count, capped: false, examples: kept }
}
