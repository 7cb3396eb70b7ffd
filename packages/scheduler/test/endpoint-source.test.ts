import { auditLog, endpointConfig, monitorSites } from '@jetmon/db'
import { recordingLogger, useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { type EndpointChange, EndpointSource, type EndpointSourceOptions } from '../src/index.js'
import { manualSchedulerClock } from './_clock.js'

const database = useTestDatabase()

let nextBlogId = 5_000_000n

async function insertEndpoint(
  values: Partial<typeof monitorSites.$inferInsert> & { bucketNo: number },
): Promise<bigint> {
  const blogId = values.blogId ?? ++nextBlogId
  const [header] = await database()
    .db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/`, ...values })
  // insertId comes back signed: ids past 2^63 would look negative.
  return values.endpointId ?? BigInt.asUintN(64, BigInt(header.insertId))
}

/** Several endpoints per bucket; every third one paused. Returns the active ones by bucket. */
async function fillBuckets(buckets: number[], perBucket: number): Promise<Map<number, bigint[]>> {
  const active = new Map<number, bigint[]>()
  let n = 0
  for (const bucketNo of buckets) {
    for (let i = 0; i < perBucket; i++) {
      const monitorActive = n++ % 3 === 2 ? 0 : 1
      const id = await insertEndpoint({ bucketNo, monitorActive })
      if (monitorActive) active.set(bucketNo, [...(active.get(bucketNo) ?? []), id])
    }
  }
  return active
}

async function auditEndpointChanged(endpointId: bigint | string): Promise<void> {
  await database()
    .db.insert(auditLog)
    .values({ eventType: 'endpoint_changed', source: 'api:test', metadata: { endpoint_id: String(endpointId) } })
}

function source(options: Partial<EndpointSourceOptions> = {}) {
  const s = new EndpointSource({ db: database().db, ...options })
  const changes: EndpointChange[] = []
  s.onChange((change) => changes.push(change))
  return { source: s, changes }
}

const ids = (changes: EndpointChange[], kind: 'upserts' | 'removals') =>
  changes.flatMap((c) => (kind === 'upserts' ? c.upserts.map((u) => u.endpointId) : [...c.removals]))

beforeEach(async () => {
  const { db } = database()
  // TRUNCATE also resets AUTO_INCREMENT (the 2^63 test would push every later id past it).
  await db.execute(sql`TRUNCATE TABLE jetpack_monitor_sites`)
  await db.execute(sql`TRUNCATE TABLE jetmon_endpoint_config`)
  await db.execute(sql`TRUNCATE TABLE jetmon_audit_log`)
})

describe('EndpointSource', () => {
  it('loads the active endpoints of the owned buckets, in pages', async () => {
    const active = await fillBuckets([0, 1, 2, 3, 4, 5, 6, 7], 4)
    const { source: s, changes } = source({ pageSize: 2 })
    const summary = await s.setRanges([
      { min: 2, max: 4 },
      { min: 7, max: 7 },
    ])
    const expected = [2, 3, 4, 7].flatMap((b) => active.get(b) ?? [])
    expect(new Set(ids(changes, 'upserts'))).toEqual(new Set(expected))
    expect(ids(changes, 'upserts')).toHaveLength(expected.length)
    expect(changes.every((c) => c.reason === 'load' && c.upserts.length <= 2)).toBe(true)
    expect(summary).toMatchObject({ upserts: expected.length, removals: 0 })
    expect(s.size).toBe(expected.length)
    expect(s.ranges).toEqual([
      { min: 2, max: 4 },
      { min: 7, max: 7 },
    ])
    for (const id of active.get(0)!) expect(s.get(id)).toBeUndefined()
  })

  it('gives up and takes over buckets as the ranges change', async () => {
    const active = await fillBuckets([10, 11, 12, 13], 3)
    const { source: s, changes } = source()
    await s.setRanges([{ min: 10, max: 11 }])
    changes.length = 0
    await s.setRanges([{ min: 11, max: 12 }])
    expect(changes.map((c) => c.reason)).toEqual(['unload', 'load'])
    expect(new Set(ids(changes, 'removals'))).toEqual(new Set(active.get(10)))
    expect(new Set(ids(changes, 'upserts'))).toEqual(new Set(active.get(12))) // 11 was already held
    expect(s.size).toBe(active.get(11)!.length + active.get(12)!.length)
    changes.length = 0
    await s.setRanges([])
    expect(s.size).toBe(0)
    await expect(s.setRanges([{ min: 0, max: 1000 }])).rejects.toMatchObject({ code: 'INVALID_BUCKET_RANGE' })
  })

  it('a load that fails part-way is completed by the next setRanges', async () => {
    const { db } = database()
    const active = await fillBuckets([0, 1, 2, 3], 3)
    let selectsLeft = Number.POSITIVE_INFINITY
    const flaky = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'select' && selectsLeft-- <= 0) {
          return () => {
            throw new Error('Connection lost (test)')
          }
        }
        return Reflect.get(target, prop, receiver)
      },
    }) as typeof db
    const s = new EndpointSource({ db: flaky, pageSize: 1 })
    await s.setRanges([{ min: 0, max: 0 }])
    selectsLeft = 2
    await expect(s.setRanges([{ min: 0, max: 3 }])).rejects.toThrow('Connection lost')
    expect(s.size).toBeLessThan([0, 1, 2, 3].reduce((n, b) => n + (active.get(b)?.length ?? 0), 0))
    selectsLeft = Number.POSITIVE_INFINITY
    await s.setRanges([{ min: 0, max: 3 }])
    expect(new Set([...s.values()].map((e) => e.endpointId))).toEqual(
      new Set([0, 1, 2, 3].flatMap((b) => active.get(b)!)),
    )
  })

  it('fills NULL configuration with the documented defaults', async () => {
    const { db } = database()
    const bare = await insertEndpoint({ bucketNo: 1, checkInterval: 5 }) // no config row
    const nulls = await insertEndpoint({ bucketNo: 1, checkInterval: 0 }) // a config row of NULLs
    await db.insert(endpointConfig).values({ endpointId: nulls })
    const set = await insertEndpoint({
      bucketNo: 1,
      monitorUrl: 'https://set.example/login',
      blogId: 9_007_199_254_740_993n,
    })
    await db.insert(endpointConfig).values({
      endpointId: set,
      checkIntervalSec: 30,
      timeoutMs: 4_000,
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
      redirectPolicy: 'fail',
      maxRedirects: 0,
      checkKeyword: 'Welcome',
      forbiddenKeywords: ['casino', 'Hacked'],
      keywordCaseSensitive: 0,
      customHeaders: { Authorization: 'Bearer secret', 'X-Check': '1' },
      latencyThresholdMs: 1_500,
      tlsExpiryWarnDays: 14,
      alertCooldownMinutes: 5,
    })
    const broken = await insertEndpoint({ bucketNo: 1 })
    await db.execute(
      sql`INSERT INTO jetmon_endpoint_config (endpoint_id, forbidden_keywords, custom_headers, check_keyword) VALUES (${broken}, '["ok", 3]', '{"X": 1}', '')`,
    )
    const logger = recordingLogger()
    const { source: s } = source({ logger, defaults: { timeoutMs: 8_000 } })
    await s.setRanges([{ min: 1, max: 1 }])

    const defaults = {
      timeoutMs: 8_000, // CHECK_TIMEOUT_MS as configured
      method: 'GET',
      profile: 'full',
      redirectPolicy: 'follow',
      maxRedirects: 10,
      keyword: null,
      forbiddenKeywords: [],
      keywordCaseSensitive: true,
      customHeaders: {},
      latencyThresholdMs: null,
      tlsExpiryWarnDays: 30,
      alertCooldownMinutes: 30,
      tenantOwned: false,
    }
    expect(s.get(bare)).toEqual({
      endpointId: bare,
      blogId: expect.any(BigInt),
      bucketNo: 1,
      url: expect.stringMatching(/^https:\/\/\d+\.example\/$/),
      intervalMs: 300_000,
      ...defaults,
    })
    expect(s.get(nulls)).toMatchObject({ intervalMs: 60_000, ...defaults }) // 0 minutes counts as 1
    expect(s.get(set)).toEqual({
      endpointId: set,
      blogId: 9_007_199_254_740_993n,
      bucketNo: 1,
      url: 'https://set.example/login',
      intervalMs: 30_000,
      timeoutMs: 4_000,
      method: 'HEAD',
      profile: 'legacy',
      redirectPolicy: 'fail',
      maxRedirects: 0,
      keyword: 'Welcome',
      forbiddenKeywords: ['casino', 'Hacked'],
      keywordCaseSensitive: false,
      customHeaders: { Authorization: 'Bearer secret', 'X-Check': '1' },
      latencyThresholdMs: 1_500,
      tlsExpiryWarnDays: 14,
      alertCooldownMinutes: 5,
      tenantOwned: false,
    })
    expect(s.get(broken)).toMatchObject({ forbiddenKeywords: [], customHeaders: {}, keyword: null })
    const warning = logger.entries.find((e) => e.level === 'warn')
    expect(warning?.obj).toEqual({ endpointId: String(broken), columns: ['forbidden_keywords', 'custom_headers'] })
    expect(JSON.stringify(logger.entries)).not.toContain('secret')
    expect(Object.isFrozen(s.get(set))).toBe(true)
  })

  it('picks up new, changed, paused and deleted endpoints within one refresh', async () => {
    const { db } = database()
    const [kept, toChange, toPause, toDelete, toMove] = await Promise.all(
      [1, 2, 3, 4, 5].map(() => insertEndpoint({ bucketNo: 20 })),
    )
    const { source: s, changes } = source()
    await s.setRanges([{ min: 20, max: 29 }])
    expect(s.size).toBe(5)
    changes.length = 0

    const added = await insertEndpoint({ bucketNo: 25 })
    const elsewhere = await insertEndpoint({ bucketNo: 99 }) // another host's bucket
    await db.insert(endpointConfig).values({ endpointId: toChange!, checkIntervalSec: 45, updatedAt: sql`NOW(3)` })
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, toPause!))
    await auditEndpointChanged(toPause!)
    await db.delete(monitorSites).where(eq(monitorSites.endpointId, toDelete!))
    await auditEndpointChanged(toDelete!)
    await db.update(monitorSites).set({ bucketNo: 99 }).where(eq(monitorSites.endpointId, toMove!))
    await auditEndpointChanged(toMove!)

    const summary = await s.refresh()
    expect(changes.every((c) => c.reason === 'refresh')).toBe(true)
    expect(new Set(ids(changes, 'upserts'))).toEqual(new Set([added, toChange]))
    expect(new Set(ids(changes, 'removals'))).toEqual(new Set([toPause, toDelete, toMove]))
    expect(summary).toMatchObject({ upserts: 2, removals: 3 })
    expect(s.get(toChange!)?.intervalMs).toBe(45_000)
    expect(s.get(kept!)).toBeDefined()
    expect(s.get(elsewhere)).toBeUndefined()
    expect(s.size).toBe(3)

    // The windows overlap, so the next refresh reads some rows again — and emits nothing for them.
    changes.length = 0
    await s.refresh()
    expect(changes).toEqual([])

    // A paused endpoint that is resumed comes back with the API's audit row.
    await db.update(monitorSites).set({ monitorActive: 1 }).where(eq(monitorSites.endpointId, toPause!))
    await auditEndpointChanged(toPause!)
    await s.refresh()
    expect(ids(changes, 'upserts')).toEqual([toPause])
  })

  it('sees a URL change announced in the audit log, and not before', async () => {
    const { db } = database()
    const id = await insertEndpoint({ bucketNo: 3 })
    const { source: s, changes } = source()
    await s.setRanges([{ min: 0, max: 9 }])
    changes.length = 0
    await db.update(monitorSites).set({ monitorUrl: 'https://moved.example/' }).where(eq(monitorSites.endpointId, id))
    await s.refresh()
    expect(changes).toEqual([]) // nothing announced it
    await auditEndpointChanged(id)
    await s.refresh()
    expect(changes.flatMap((c) => c.upserts).map((u) => u.url)).toEqual(['https://moved.example/'])
  })

  it('finds audit rows by id even when stamped by a slow clock, and late commits of lower ids by the window', async () => {
    const { db } = database()
    const [a, b, other] = await Promise.all([1, 2, 3].map(() => insertEndpoint({ bucketNo: 7 })))
    const { source: s, changes } = source()
    await s.setRanges([{ min: 7, max: 7 }])
    await db
      .insert(auditLog)
      .values({ id: 100n, eventType: 'endpoint_changed', source: 'api:test', metadata: { endpoint_id: String(other) } })
    await s.refresh()
    changes.length = 0

    // Above the last id seen, created "an hour ago" by a writer with a wrong clock.
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, a!))
    await db.insert(auditLog).values({
      id: 101n,
      eventType: 'endpoint_changed',
      source: 'api:test',
      metadata: { endpoint_id: Number(a) },
      createdAt: sql`NOW(3) - INTERVAL 1 HOUR`,
    })
    // Below the last id seen (its transaction committed late), inside the window.
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, b!))
    await db
      .insert(auditLog)
      .values({ id: 50n, eventType: 'endpoint_changed', source: 'api:test', metadata: { endpoint_id: String(b) } })
    await s.refresh()
    expect(new Set(ids(changes, 'removals'))).toEqual(new Set([a, b]))
  })

  it('full reconciliation finds what no refresh was told about', async () => {
    const { db } = database()
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => insertEndpoint({ bucketNo: 40 })))
    const { source: s, changes } = source({ pageSize: 1 })
    await s.setRanges([{ min: 40, max: 41 }])
    changes.length = 0
    // An operator's SQL: no audit rows, no config timestamps.
    await db.update(monitorSites).set({ checkInterval: 1 }).where(eq(monitorSites.endpointId, a!))
    await db.delete(monitorSites).where(eq(monitorSites.endpointId, b!))
    const moved = await insertEndpoint({ bucketNo: 77 })
    await db.update(monitorSites).set({ bucketNo: 41 }).where(eq(monitorSites.endpointId, moved))
    await s.refresh() // the new id is found by the id scan even though it moved into our bucket
    expect(ids(changes, 'upserts')).toEqual([moved])
    changes.length = 0

    const summary = await s.fullReconcile()
    expect(changes.every((ch) => ch.reason === 'reconcile')).toBe(true)
    expect(ids(changes, 'upserts')).toEqual([a])
    expect(s.get(a!)?.intervalMs).toBe(60_000)
    expect(ids(changes, 'removals')).toEqual([b])
    expect(summary).toMatchObject({ upserts: 1, removals: 1, rowsRead: 3 })
    expect(s.get(c!)).toBeDefined()

    changes.length = 0
    s.setDefaults({ timeoutMs: 2_000 })
    await s.fullReconcile()
    expect(new Set(ids(changes, 'upserts'))).toEqual(new Set([a, c, moved]))
    expect(s.get(c!)?.timeoutMs).toBe(2_000)

    // A new fleet default check policy reaches the endpoints that store none at the next reconcile.
    changes.length = 0
    s.setDefaults({ timeoutMs: 2_000, requestMethod: 'HEAD', detectionProfile: 'legacy' })
    await s.fullReconcile()
    expect(new Set(ids(changes, 'upserts'))).toEqual(new Set([a, c, moved]))
    expect(s.get(c!)).toMatchObject({ method: 'HEAD', profile: 'legacy' })
  })

  it('keeps ids beyond 2^53 exact, in rows and in audit metadata', async () => {
    const { db } = database()
    const big = 2n ** 63n + 5n
    await insertEndpoint({ endpointId: big, bucketNo: 5 })
    const { source: s } = source()
    await s.setRanges([{ min: 5, max: 5 }])
    expect(s.get(big)?.endpointId).toBe(big)
    expect(s.get(big + 1n)).toBeUndefined()

    const changes: EndpointChange[] = []
    s.onChange((c) => changes.push(c))
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, big))
    // A JSON number, not a string: read as text in SQL, never through a double.
    await db.execute(
      sql`INSERT INTO jetmon_audit_log (event_type, source, metadata) VALUES ('endpoint_changed', 'api:test', ${`{"endpoint_id": ${big}}`})`,
    )
    await s.refresh()
    expect(ids(changes, 'removals')).toEqual([big])
  })

  it('refreshes on a loop, reconciling every few minutes, with one timer', async () => {
    const { db } = database()
    const clock = manualSchedulerClock(Date.now())
    const { source: s, changes } = source({ ...clock.options })
    await s.setRanges([{ min: 0, max: 999 }])
    s.start({ refreshMs: 30_000, reconcileMs: 120_000 })
    expect(clock.pendingTimers).toBe(1)
    const id = await insertEndpoint({ bucketNo: 500 })
    await clock.advance(30_000)
    await vi.waitFor(() => expect(ids(changes, 'upserts')).toEqual([id]), { timeout: 2_000, interval: 10 })
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1), { timeout: 2_000, interval: 5 })

    await db.delete(monitorSites).where(eq(monitorSites.endpointId, id)) // silently
    for (let step = 0; step < 2; step++) {
      await clock.advance(30_000) // 60 s, 90 s: refreshes, which a silent delete escapes
      await vi.waitFor(() => expect(clock.pendingTimers).toBe(1), { timeout: 2_000, interval: 5 })
    }
    expect(ids(changes, 'removals')).toEqual([])
    await clock.advance(30_000) // 120 s: the reconciliation
    await vi.waitFor(() => expect(ids(changes, 'removals')).toEqual([id]), { timeout: 2_000, interval: 10 })
    await s.stop()
    expect(clock.pendingTimers).toBe(0)
  })
})
