import { endpointConfig, hosts, monitorSites, rolloutLocks } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { BucketLeases, type BucketLeasesOptions, EndpointSource, type LeaseChange, Scheduler } from '../src/index.js'
import { manualSchedulerClock } from './_clock.js'

const database = useTestDatabase()

function leases(hostId: string, options: Partial<BucketLeasesOptions> = {}) {
  return new BucketLeases({ db: database().db, hostId, version: 'test-1.0', ...options })
}

async function hostRow(hostId: string) {
  const [row] = await database().db.select().from(hosts).where(eq(hosts.hostId, hostId))
  return row
}

async function lockRow(id: bigint) {
  const [row] = await database().db.select().from(rolloutLocks).where(eq(rolloutLocks.id, id))
  return row!
}

async function insertLock(hostId: string, min: number, max: number, state: 'active' | 'releasing' | 'released') {
  const [result] = await database()
    .db.insert(rolloutLocks)
    .values({ hostId, bucketMin: min, bucketMax: max, state, activatedAt: sql`NOW(3)`, createdBy: 'test' })
  return BigInt(result.insertId)
}

async function setLockState(id: bigint, state: 'releasing') {
  await database()
    .db.update(rolloutLocks)
    .set({ state, releaseRequestedAt: sql`NOW(3)` })
    .where(eq(rolloutLocks.id, id))
}

/** A promise the test settles by hand: a drain that is still under way. */
function deferred() {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

beforeEach(async () => {
  await database().db.delete(hosts)
  await database().db.delete(rolloutLocks)
  await database().db.delete(endpointConfig)
  await database().db.delete(monitorSites)
})

describe('rollout modes', () => {
  it('dynamic hosts skip buckets of active and releasing locks and pinned ranges; released locks free them', async () => {
    await insertLock('api-host', 100, 199, 'active')
    await insertLock('api-host', 300, 349, 'releasing')
    await insertLock('api-host', 500, 599, 'released')
    const pinned = leases('pin', { pinned: { min: 900, max: 999 } })
    await pinned.register()
    const a = leases('mon-a')
    const b = leases('mon-b')
    await a.register()
    await b.register()
    await a.renew()
    // Free: 0–99, 200–299, 350–899 = 100 + 100 + 550 = 750 buckets, 375 each.
    expect(a.ranges).toEqual([
      { min: 0, max: 99 },
      { min: 200, max: 299 },
      { min: 350, max: 524 },
    ])
    expect(b.ranges).toEqual([{ min: 525, max: 899 }])
    expect(a.split!.unowned).toEqual([])

    // A lock inserted later is given up at the next renewal.
    await insertLock('api-host', 0, 49, 'active')
    await a.renew()
    expect(a.ranges[0]).toEqual({ min: 50, max: 99 })
  })

  it('a pinned host leaves the locked part of its range to the lock’s host', async () => {
    await insertLock('api-host', 950, 979, 'active')
    const pinned = leases('pin', { pinned: { min: 900, max: 999 } })
    await pinned.register()
    expect(pinned.ranges).toEqual([
      { min: 900, max: 949 },
      { min: 980, max: 999 },
    ])
    // The row still shows the configured range (the others read it).
    expect(await hostRow('pin')).toMatchObject({ pinned: true, bucketMin: 900, bucketMax: 999 })
  })

  it('standby and api-controlled hosts register with their mode and are not members of the split', async () => {
    const standby = leases('a-standby', { mode: 'standby' })
    const controlled = leases('a-controlled', { mode: 'api-controlled' })
    const changes: LeaseChange[] = []
    standby.onChange((change) => changes.push(change))
    expect(await standby.start()).toEqual([])
    await controlled.start()
    const dynamic = leases('z-dynamic')
    await dynamic.register()
    expect(dynamic.ranges).toEqual([{ min: 0, max: 999 }])

    await standby.renew()
    expect(standby.state).toBe('active')
    expect(standby.ranges).toEqual([])
    expect(changes).toEqual([])
    expect(await standby.assignment()).toEqual([])
    expect(await hostRow('a-standby')).toMatchObject({
      status: 'active',
      rolloutMode: 'standby',
      bucketMin: null,
      bucketMax: null,
      pinned: false,
    })
    expect(await hostRow('a-controlled')).toMatchObject({ rolloutMode: 'api-controlled', bucketMin: null })
    expect(await hostRow('z-dynamic')).toMatchObject({ rolloutMode: 'active' })
    expect((await dynamic.liveHosts()).map((h) => [h.hostId, h.mode])).toEqual([
      ['a-controlled', 'api-controlled'],
      ['a-standby', 'standby'],
      ['z-dynamic', 'active'],
    ])
    // A lock of another host is nothing to a standby host.
    await insertLock('a-standby', 0, 9, 'active')
    expect((await standby.pollLocks()).ranges).toEqual([])
    standby.stop()
    controlled.stop()
  })

  it('refuses a pinned range outside active mode', () => {
    expect(() => leases('x', { mode: 'standby', pinned: { min: 0, max: 9 } })).toThrow(/needs mode active/)
  })

  it('api-controlled: owns exactly its active locks, picks an activation up within one poll and acknowledges it', async () => {
    const clock = manualSchedulerClock(Date.now())
    const other = await insertLock('someone-else', 0, 9, 'active')
    const earlier = await insertLock('ctl', 20, 29, 'active')
    const host = leases('ctl', { mode: 'api-controlled', rolloutPollMs: 5_000, leaseMs: 600_000, ...clock.options })
    const changes: LeaseChange[] = []
    host.onChange((change) => {
      changes.push(change)
    })
    // A lock activated before the host started is its range from the start, acknowledged at once.
    expect(await host.start()).toEqual([{ min: 20, max: 29 }])
    expect((await lockRow(earlier)).acknowledgedAt).not.toBeNull()
    expect((await lockRow(other)).acknowledgedAt).toBeNull()
    expect(await hostRow('ctl')).toMatchObject({ rolloutMode: 'api-controlled', bucketMin: 20, bucketMax: 29 })

    const lock = await insertLock('ctl', 40, 59, 'active')
    await clock.advance(4_999)
    expect(host.ranges).toEqual([{ min: 20, max: 29 }]) // no poll yet: nothing read
    await clock.advance(1)
    await vi.waitFor(async () => expect((await lockRow(lock)).acknowledgedAt).not.toBeNull(), {
      timeout: 2_000,
      interval: 10,
    })
    expect(host.ranges).toEqual([
      { min: 20, max: 29 },
      { min: 40, max: 59 },
    ])
    expect(changes.at(-1)).toMatchObject({ reason: 'rollout', previous: [{ min: 20, max: 29 }] })
    host.stop()
  })

  it('api-controlled: on release it stops owning the range, waits for the drain, then acknowledges released', async () => {
    const clock = manualSchedulerClock(Date.now())
    const keep = await insertLock('ctl', 0, 9, 'active')
    const lock = await insertLock('ctl', 10, 19, 'active')
    const host = leases('ctl', { mode: 'api-controlled', rolloutPollMs: 1_000, leaseMs: 600_000, ...clock.options })
    await host.start()
    expect(host.ranges).toEqual([{ min: 0, max: 19 }])

    // The listener stands for the monitor: it drops the endpoints and waits for their in-flight
    // checks and the writers (here: until the test says the drain is done).
    let drain = deferred()
    const seen: LeaseChange[] = []
    host.onChange((change) => {
      seen.push(change)
      return drain.promise
    })
    await setLockState(lock, 'releasing')
    await clock.advance(1_000)
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 2_000, interval: 10 })
    expect(seen[0]).toMatchObject({ reason: 'rollout', ranges: [{ min: 0, max: 9 }], previous: [{ min: 0, max: 19 }] })
    expect(host.ranges).toEqual([{ min: 0, max: 9 }]) // no new checks of 10–19 from here on
    // Polls meanwhile share the one still waiting: the lock stays releasing while the drain runs.
    await clock.advance(3_000)
    expect((await lockRow(lock)).state).toBe('releasing')

    // The drain fails (a writer could not flush): no acknowledgment; a later poll offers it again.
    const failed = drain
    drain = deferred()
    failed.reject(new Error('history flush failed'))
    await vi.waitFor(
      async () => {
        await clock.advance(1_000)
        expect(seen).toHaveLength(2)
      },
      { timeout: 2_000, interval: 10 },
    )
    expect(seen[1]).toMatchObject({ ranges: [{ min: 0, max: 9 }], previous: [{ min: 0, max: 9 }] })
    expect((await lockRow(lock)).state).toBe('releasing')
    drain.resolve()
    await vi.waitFor(async () => expect((await lockRow(lock)).state).toBe('released'), {
      timeout: 2_000,
      interval: 10,
    })
    const released = await lockRow(lock)
    expect(released.releasedAt).not.toBeNull()
    expect((await lockRow(keep)).state).toBe('active')
    host.stop()
  })

  it('api-controlled with the scheduler: a release stops new checks, waits for the one in flight and the writer, then acknowledges', async () => {
    const { db } = database()
    const endpoint = async (bucketNo: number) => {
      const [header] = await db
        .insert(monitorSites)
        .values({ blogId: 77n, bucketNo, monitorUrl: `https://b${bucketNo}.example/` })
      const endpointId = BigInt(header.insertId)
      await db.insert(endpointConfig).values({ endpointId, checkIntervalSec: 60 })
      return endpointId
    }
    const inLock = await endpoint(5)
    const outside = await endpoint(50)
    const lock = await insertLock('ctl', 0, 9, 'active')

    const clock = manualSchedulerClock(Date.now())
    const runs: { endpointId: bigint; at: number; done: () => void }[] = []
    // The history writer: results wait in its buffer until a flush writes them.
    const buffer: bigint[] = []
    const written: bigint[] = []
    const source = new EndpointSource({ db })
    const scheduler = new Scheduler({
      maxInFlight: 10,
      ...clock.options,
      run: (endpointId) =>
        new Promise<undefined>((resolve) => {
          runs.push({
            endpointId,
            at: clock.now(),
            done: () => {
              buffer.push(endpointId)
              resolve(undefined)
            },
          })
        }),
    })
    source.onChange(({ upserts, removals }) => {
      for (const e of upserts) scheduler.upsert(e.endpointId, e.intervalMs)
      for (const id of removals) scheduler.remove(id)
    })
    const host = leases('ctl', { mode: 'api-controlled', rolloutPollMs: 1_000, leaseMs: 600_000, ...clock.options })
    host.onChange(async ({ ranges }) => {
      await source.setRanges(ranges)
      await scheduler.removedRunsSettled()
      written.push(...buffer.splice(0))
    })
    await host.start()
    expect(source.get(inLock)).toBeDefined()
    expect(source.get(outside)).toBeUndefined()
    expect((await lockRow(lock)).acknowledgedAt).not.toBeNull()
    scheduler.start()
    await clock.advance(60_000) // every phase slot passes once: the endpoint's check starts, and hangs
    expect(runs.map((r) => r.endpointId)).toEqual([inLock])

    await setLockState(lock, 'releasing')
    await clock.advance(1_000)
    await vi.waitFor(() => expect(scheduler.has(inLock)).toBe(false), { timeout: 2_000, interval: 10 })
    // No new check of the range, however long the check in flight takes; no acknowledgment yet.
    await clock.advance(180_000)
    expect(runs).toHaveLength(1)
    expect((await lockRow(lock)).state).toBe('releasing')

    runs[0]!.done()
    await vi.waitFor(async () => expect((await lockRow(lock)).state).toBe('released'), {
      timeout: 2_000,
      interval: 10,
    })
    // The check's result was written before the release was acknowledged.
    expect(written).toEqual([inLock])
    expect(buffer).toEqual([])
    await clock.advance(120_000)
    expect(runs).toHaveLength(1)
    host.stop()
    await scheduler.stop({ drain: false })
  })
})
