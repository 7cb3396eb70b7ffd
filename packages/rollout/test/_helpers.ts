import { type DbOrTx, endpointConfig, endpointState, hosts, monitorSites } from '@jetmon/db'
import type { RolloutContext } from '../src/index.js'

/** Registers a monitor host as the monitor would, with a lease running `leaseMs` past `now`. */
export async function registerHost(
  db: DbOrTx,
  now: Date,
  host: {
    hostId: string
    mode?: 'active' | 'standby' | 'api-controlled'
    leaseMs?: number
    pinned?: { min: number; max: number }
  },
): Promise<void> {
  const values = {
    hostId: host.hostId,
    rolloutMode: host.mode ?? 'api-controlled',
    pinned: host.pinned !== undefined,
    bucketMin: host.pinned?.min ?? null,
    bucketMax: host.pinned?.max ?? null,
    status: 'active' as const,
    heartbeatAt: now,
    leaseExpiresAt: new Date(now.getTime() + (host.leaseMs ?? 30_000)),
    startedAt: now,
  }
  await db.insert(hosts).values(values).onDuplicateKeyUpdate({ set: values })
}

let nextBlog = 7_000_000n

/** Inserts active v1 rows, one per bucket given, and returns their endpoint ids in order. */
export async function insertEndpoints(
  db: DbOrTx,
  buckets: number[],
  extra: { siteStatus?: number; lastStatusChange?: Date | null } = {},
): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const bucketNo of buckets) {
    const blogId = ++nextBlog
    const [header] = await db.insert(monitorSites).values({
      blogId,
      monitorUrl: `https://site-${blogId}.example.test/`,
      bucketNo,
      monitorActive: 1,
      siteStatus: extra.siteStatus ?? 1,
      lastStatusChange: extra.lastStatusChange ?? null,
    })
    ids.push(BigInt(header.insertId))
  }
  return ids
}

/** Records a check of each endpoint at `at`, as the monitor's state writer does. */
export async function markChecked(db: DbOrTx, endpointIds: bigint[], at: Date): Promise<void> {
  for (const endpointId of endpointIds) {
    await db
      .insert(endpointState)
      .values({ endpointId, lastCheckedAt: at })
      .onDuplicateKeyUpdate({ set: { lastCheckedAt: at } })
  }
}

/** Sets an endpoint's own check policy columns (null: the fleet default). */
export async function setPolicy(
  db: DbOrTx,
  endpointIds: bigint[],
  method: 'GET' | 'HEAD' | null,
  profile: 'legacy' | 'simple_http' | 'full' | null,
  at: Date,
): Promise<void> {
  for (const endpointId of endpointIds) {
    await db
      .insert(endpointConfig)
      .values({ endpointId, requestMethod: method, detectionProfile: profile, updatedAt: at })
      .onDuplicateKeyUpdate({ set: { requestMethod: method, detectionProfile: profile, updatedAt: at } })
  }
}

/** A context acting as `api:<name>` bound to key `principal`. */
export function contextOf(
  db: RolloutContext['db'],
  clock: () => Date,
  principal = 'key:1',
  extra: Partial<RolloutContext> = {},
): RolloutContext {
  return { db, clock, actor: 'api:test-admin', principal, ...extra }
}
