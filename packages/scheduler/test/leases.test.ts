import { type Db, hosts } from '@jetmon/db'
import { recordingLogger, useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { BucketLeases, type BucketLeasesOptions, type LeaseChange } from '../src/index.js'
import { manualSchedulerClock } from './_clock.js'
import { sleep } from './_helpers.js'

const database = useTestDatabase()

function leases(hostId: string, options: Partial<BucketLeasesOptions> = {}) {
  return new BucketLeases({ db: database().db, hostId, version: 'test-1.0', ...options })
}

async function rowOf(hostId: string) {
  const [row] = await database().db.select().from(hosts).where(eq(hosts.hostId, hostId))
  return row
}

/** Changes seen by a listener, and a way to wait for the next one matching a predicate. */
function watch(host: BucketLeases) {
  const changes: (LeaseChange & { at: number })[] = []
  host.onChange((change) => changes.push({ ...change, at: Date.now() }))
  return changes
}

beforeEach(async () => {
  await database().db.delete(hosts)
})

describe('BucketLeases', () => {
  it('register writes its own row only: active, leased by the database clock, with its ranges and version', async () => {
    const { db } = database()
    await db.insert(hosts).values({
      hostId: 'other',
      status: 'active',
      leaseExpiresAt: sql`NOW(3) + INTERVAL 10 SECOND`,
      heartbeatAt: new Date('2026-01-01T00:00:00.000Z'),
      pinned: false,
      version: 'old',
    })
    const before = await rowOf('other')
    const a = leases('mon-a', { leaseMs: 30_000 })
    const changes = watch(a)
    const ranges = await a.register()

    // 'mon-a' < 'other': with the other host live, mon-a takes the first half.
    expect(ranges).toEqual([{ min: 0, max: 499 }])
    expect(a.state).toBe('active')
    expect(changes).toMatchObject([{ reason: 'assignment', ranges: [{ min: 0, max: 499 }], previous: [] }])
    const row = await rowOf('mon-a')
    expect(row).toMatchObject({ status: 'active', pinned: false, version: 'test-1.0', bucketMin: 0, bucketMax: 499 })
    // Lease and heartbeat come from the same NOW(3): the lease is exactly 30 s past the heartbeat.
    expect(row!.leaseExpiresAt.getTime() - row!.heartbeatAt.getTime()).toBe(30_000)
    const [[{ ageUs }]] = (await db.execute(
      sql`SELECT TIMESTAMPDIFF(MICROSECOND, heartbeat_at, NOW(3)) AS ageUs FROM jetmon_hosts WHERE host_id = 'mon-a'`,
    )) as unknown as [[{ ageUs: number }]]
    expect(Number(ageUs)).toBeGreaterThanOrEqual(0)
    expect(Number(ageUs)).toBeLessThan(2_000_000)
    expect(await rowOf('other')).toEqual(before)
  })

  it('renew extends its own lease and heartbeat only', async () => {
    const a = leases('mon-a', { leaseMs: 5_000 })
    const b = leases('mon-b', { leaseMs: 5_000 })
    await a.register()
    await b.register()
    const aBefore = await rowOf('mon-a')
    const bBefore = await rowOf('mon-b')
    await sleep(20)
    await a.renew()
    const aAfter = await rowOf('mon-a')
    expect(aAfter!.heartbeatAt.getTime()).toBeGreaterThan(aBefore!.heartbeatAt.getTime())
    expect(aAfter!.leaseExpiresAt.getTime() - aAfter!.heartbeatAt.getTime()).toBe(5_000)
    expect(aAfter!.startedAt).toEqual(aBefore!.startedAt)
    expect(await rowOf('mon-b')).toEqual(bBefore)
  })

  it('splits the space deterministically: every host computes the same split', async () => {
    const a = leases('mon-a')
    const b = leases('mon-b')
    const c = leases('mon-c')
    const aChanges = watch(a)
    await a.register()
    await b.register()
    await c.register()
    await Promise.all([a.renew(), b.renew(), c.renew()])
    expect(a.ranges).toEqual([{ min: 0, max: 333 }])
    expect(b.ranges).toEqual([{ min: 334, max: 666 }])
    expect(c.ranges).toEqual([{ min: 667, max: 999 }])
    expect(a.split).toEqual(b.split)
    expect(b.split).toEqual(c.split)
    expect(await b.assignment()).toEqual(b.ranges)
    expect(aChanges.map((ch) => ch.ranges)).toEqual([[{ min: 0, max: 999 }], [{ min: 0, max: 333 }]])
    expect((await a.liveHosts()).map((h) => [h.hostId, h.bucketMin, h.bucketMax])).toEqual([
      ['mon-a', 0, 333],
      ['mon-b', 334, 666],
      ['mon-c', 667, 999],
    ])
  })

  it('counts as live only active rows with an unexpired lease, by the database clock', async () => {
    const { db } = database()
    const row = (hostId: string, lease: ReturnType<typeof sql>, status: 'active' | 'draining' = 'active') => ({
      hostId,
      status,
      leaseExpiresAt: lease,
      heartbeatAt: sql`NOW(3)`,
      pinned: false,
    })
    await db
      .insert(hosts)
      .values([
        row('expired', sql`NOW(3) - INTERVAL 1 SECOND`),
        row('live', sql`NOW(3) + INTERVAL 1 MINUTE`),
        row('draining', sql`NOW(3) + INTERVAL 1 MINUTE`, 'draining'),
      ])
    const a = leases('mon-a')
    expect((await a.liveHosts()).map((h) => h.hostId)).toEqual(['live'])
    expect(await a.assignment()).toEqual([]) // not registered: not part of the split
    await a.register()
    expect(a.ranges).toEqual([{ min: 500, max: 999 }]) // 'live' sorts before 'mon-a'
    expect((await a.liveHosts()).map((h) => h.hostId)).toEqual(['live', 'mon-a'])
  })

  it('a crashed host’s buckets are taken over within two lease periods, not before its lease runs out', async () => {
    const leaseMs = 600
    const a = leases('mon-a', { leaseMs })
    const b = leases('mon-b', { leaseMs })
    await a.start()
    await b.start()
    await vi.waitFor(() => expect(a.ranges).toEqual([{ min: 0, max: 499 }]), { timeout: 2_000, interval: 10 })
    expect(b.ranges).toEqual([{ min: 500, max: 999 }])
    const bChanges = watch(b)

    a.stop() // crash: no more renewals, the row stays 'active'
    const crashedAt = Date.now()
    await sleep(leaseMs / 6)
    // a renewed at most L/3 before the crash, so its lease is still valid: b keeps to its half.
    expect(b.ranges).toEqual([{ min: 500, max: 999 }])

    await vi.waitFor(() => expect(b.ranges).toEqual([{ min: 0, max: 999 }]), { timeout: 3 * leaseMs, interval: 5 })
    const takeover = bChanges.find((ch) => ch.ranges[0]?.min === 0)!
    expect(takeover.at - crashedAt).toBeLessThan(2 * leaseMs)
    expect((await b.liveHosts()).map((h) => h.hostId)).toEqual(['mon-b'])
    expect(await rowOf('mon-a')).toMatchObject({ status: 'active' }) // b never touched a's row
    b.stop()
  })

  it('drain releases the buckets at once: the others take them at their next renewal', async () => {
    const a = leases('mon-a') // 30 s leases: expiry cannot explain what happens here
    const b = leases('mon-b')
    const aChanges = watch(a)
    await a.register()
    await b.register()
    await a.renew()
    expect(a.ranges).toEqual([{ min: 0, max: 499 }])

    await a.drain()
    expect(a.ranges).toEqual([])
    expect(a.state).toBe('draining')
    expect(aChanges.at(-1)).toMatchObject({ reason: 'drain', ranges: [], previous: [{ min: 0, max: 499 }] })
    const row = await rowOf('mon-a')
    expect(row).toMatchObject({ status: 'draining', bucketMin: null, bucketMax: null })
    expect(row!.leaseExpiresAt.getTime()).toBeLessThanOrEqual(row!.heartbeatAt.getTime())

    expect(await b.renew()).toEqual([{ min: 0, max: 999 }])
    expect(await a.renew()).toEqual([]) // a drained host stays out
    expect(await rowOf('mon-a')).toMatchObject({ status: 'draining' })
    await a.register() // until it registers again
    expect(a.ranges).toEqual([{ min: 0, max: 499 }])
  })

  it('pinned hosts own exactly their range; dynamic hosts split the rest and never take it', async () => {
    const pinned = leases('old-1', { pinned: { min: 0, max: 99 } })
    const d1 = leases('mon-a')
    const d2 = leases('mon-b')
    await pinned.register()
    await d1.register()
    await d2.register()
    await Promise.all([pinned.renew(), d1.renew(), d2.renew()])
    expect(pinned.ranges).toEqual([{ min: 0, max: 99 }])
    expect(d1.ranges).toEqual([{ min: 100, max: 549 }])
    expect(d2.ranges).toEqual([{ min: 550, max: 999 }])
    for (let bucket = 0; bucket <= 99; bucket++) {
      expect(d1.owns(bucket) || d2.owns(bucket)).toBe(false)
    }
    expect(await rowOf('old-1')).toMatchObject({ pinned: true, bucketMin: 0, bucketMax: 99 })
    expect((await d1.liveHosts()).find((h) => h.hostId === 'old-1')?.pinned).toEqual({ min: 0, max: 99 })

    // A pinned host alone: its range only, the rest unowned (the split says so).
    await d1.drain()
    await d2.drain()
    await pinned.renew()
    expect(pinned.ranges).toEqual([{ min: 0, max: 99 }])
    expect(pinned.split?.unowned).toEqual([{ min: 100, max: 999 }])
  })

  it('leaves a pinned row without a usable range out of the split, with a warning', async () => {
    const { db } = database()
    await db.insert(hosts).values({
      hostId: 'broken',
      status: 'active',
      leaseExpiresAt: sql`NOW(3) + INTERVAL 1 MINUTE`,
      heartbeatAt: sql`NOW(3)`,
      pinned: true,
      bucketMin: 900,
      bucketMax: 1500,
    })
    const logger = recordingLogger()
    const a = leases('mon-a', { logger })
    expect(await a.register()).toEqual([{ min: 0, max: 999 }])
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.msg)).toEqual([
      expect.stringContaining('no valid range'),
    ])
  })

  it('registers again when its row disappears, and lets go when someone else sets it draining', async () => {
    const { db } = database()
    const logger = recordingLogger()
    const a = leases('mon-a', { logger })
    const changes = watch(a)
    await a.register()
    await db.delete(hosts).where(eq(hosts.hostId, 'mon-a'))
    expect(await a.renew()).toEqual([{ min: 0, max: 999 }])
    expect(await rowOf('mon-a')).toMatchObject({ status: 'active' })

    await db.update(hosts).set({ status: 'draining' }).where(eq(hosts.hostId, 'mon-a'))
    expect(await a.renew()).toEqual([])
    expect(a.state).toBe('draining')
    expect(changes.at(-1)).toMatchObject({ reason: 'drain', ranges: [] })
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(2)
  })

  it('stops owning buckets when renewals fail for a lease period, and takes them back after', async () => {
    const { db } = database()
    let down = false
    // The database "goes away": every query the leases start fails until it comes back.
    const flaky = new Proxy(db, {
      get(target, prop, receiver) {
        if (down && (prop === 'select' || prop === 'update' || prop === 'insert')) {
          return () => {
            throw new Error('connect ECONNREFUSED (test)')
          }
        }
        return Reflect.get(target, prop, receiver)
      },
    }) as Db
    const clock = manualSchedulerClock(Date.now())
    const logger = recordingLogger()
    const a = new BucketLeases({ db: flaky, hostId: 'mon-a', version: 't', leaseMs: 30_000, ...clock.options, logger })
    const changes = watch(a)
    await a.start()
    expect(a.ranges).toEqual([{ min: 0, max: 999 }])

    down = true
    for (let elapsed = 0; elapsed < 29_000; elapsed += 1_000) {
      await clock.advance(1_000)
      expect(a.state).toBe('active')
    }
    expect(logger.entries.filter((e) => e.level === 'error').length).toBeGreaterThan(10)
    await clock.advance(1_000) // 30 s since the last renewal was sent
    expect(a.state).toBe('lease-lost')
    expect(a.ranges).toEqual([])
    expect(changes.at(-1)).toMatchObject({ reason: 'lease-lost', ranges: [] })

    down = false
    await clock.advance(1_000)
    await vi.waitFor(() => expect(a.state).toBe('active'), { timeout: 2_000, interval: 10 })
    expect(a.ranges).toEqual([{ min: 0, max: 999 }])
    expect(changes.at(-1)).toMatchObject({ reason: 'assignment', ranges: [{ min: 0, max: 999 }] })
    a.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('renews every third of the lease with one timer', async () => {
    const clock = manualSchedulerClock(Date.now())
    const a = leases('mon-a', { leaseMs: 30_000, ...clock.options })
    await a.start()
    const first = await rowOf('mon-a')
    expect(clock.pendingTimers).toBe(1)
    await clock.advance(9_999)
    await sleep(20)
    expect((await rowOf('mon-a'))!.heartbeatAt).toEqual(first!.heartbeatAt)
    await clock.advance(1)
    await vi.waitFor(
      async () => expect((await rowOf('mon-a'))!.heartbeatAt.getTime()).toBeGreaterThan(first!.heartbeatAt.getTime()),
      { timeout: 2_000, interval: 10 },
    )
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1), { timeout: 2_000, interval: 5 })
    a.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('rejects bad options', () => {
    expect(() => leases('')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
    expect(() => leases('a', { leaseMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
    expect(() => leases('a', { pinned: { min: 5, max: 1000 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_BUCKET_RANGE' }),
    )
  })
})
