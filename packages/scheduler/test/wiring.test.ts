import { endpointConfig, hosts, monitorSites } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { expect, it, vi } from 'vitest'
import { BucketLeases, EndpointSource, Scheduler } from '../src/index.js'

const database = useTestDatabase()

// The composition in the README, against a real database and the real clock.
it('leases → endpoint source → scheduler: owned endpoints run at their intervals, and shut down cleanly', async () => {
  const { db } = database()
  const ids: bigint[] = []
  for (const bucketNo of [3, 400, 999]) {
    const [header] = await db
      .insert(monitorSites)
      .values({ blogId: 42n, bucketNo, monitorUrl: `https://b${bucketNo}.example/` })
    const endpointId = BigInt(header.insertId)
    await db.insert(endpointConfig).values({ endpointId, checkIntervalSec: 1 })
    ids.push(endpointId)
  }

  const runs = new Map<bigint, number>()
  const leases = new BucketLeases({ db, hostId: 'mon-1', version: '2.0.0-test' })
  const source = new EndpointSource({ db })
  const scheduler = new Scheduler({
    maxInFlight: 10,
    run: async (endpointId) => {
      const endpoint = source.get(endpointId)
      if (!endpoint) return
      runs.set(endpointId, (runs.get(endpointId) ?? 0) + 1)
      return undefined // next phase slot (a failed check would return e.g. 20_000)
    },
  })
  source.onChange(({ upserts, removals }) => {
    for (const endpoint of upserts) scheduler.upsert(endpoint.endpointId, endpoint.intervalMs)
    for (const endpointId of removals) scheduler.remove(endpointId)
  })
  leases.onChange(({ ranges }) => source.setRanges(ranges))

  await leases.start()
  source.start({ refreshMs: 30_000 })
  scheduler.start()
  await vi.waitFor(() => expect(scheduler.size).toBe(3), { timeout: 2_000, interval: 10 })
  await vi.waitFor(() => expect(ids.every((id) => (runs.get(id) ?? 0) >= 2)).toBe(true), {
    timeout: 5_000,
    interval: 50,
  })
  expect(scheduler.stats()).toMatchObject({ overruns: 0, missed: 0, failed: 0 })

  // SIGTERM: stop dispatching and let checks finish, stop refreshing, release the lease.
  await expect(scheduler.stop({ drain: true, timeoutMs: 5_000 })).resolves.toEqual({ drained: true, inFlight: 0 })
  await source.stop()
  await leases.drain()
  const [row] = await db.select().from(hosts).where(eq(hosts.hostId, 'mon-1'))
  expect(row).toMatchObject({ status: 'draining', bucketMin: null })
  await vi.waitFor(() => expect(scheduler.size).toBe(0), { timeout: 2_000, interval: 10 })
})
