import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { endpointConfig, events, monitorSites, type ScratchDatabase, withTransaction } from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t.drop()
})

const now = new Date('2026-11-22T10:00:00.123Z')
const openEvent = (blogId: bigint, endpointId: bigint | null = 1n) => ({
  blogId,
  endpointId,
  checkType: 'http',
  severity: 3,
  state: 'Seems Down',
  startedAt: now,
  updatedAt: now,
})

describe('the data model on a real server', () => {
  it('keeps ids beyond 2^53 exact', async () => {
    const blogId = 9_007_199_254_740_993n // 2^53 + 1: a Number would round it
    const [inserted] = await t.db
      .insert(monitorSites)
      .values({ blogId, monitorUrl: 'https://big.example' })
      .$returningId()
    const [row] = await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, inserted!.endpointId))
    expect(row?.blogId).toBe(blogId)
    expect(typeof row?.endpointId).toBe('bigint')
  })

  it('allows one open event per identity, and a new one once the first is closed', async () => {
    await t.db.insert(events).values(openEvent(42n))
    await expect(t.db.insert(events).values(openEvent(42n))).rejects.toMatchObject({ cause: { code: 'ER_DUP_ENTRY' } })
    // A different identity (another endpoint, or the site level) may be open at the same time.
    await t.db.insert(events).values(openEvent(42n, 2n))
    await t.db.insert(events).values(openEvent(42n, null))
    await t.db
      .update(events)
      .set({ endedAt: now, resolutionReason: 'probe_cleared' })
      .where(sql`${events.blogId} = 42 AND ${events.endpointId} = 1`)
    await t.db.insert(events).values(openEvent(42n))
    const rows = await t.db
      .select({ key: events.dedupKey, ended: events.endedAt })
      .from(events)
      .where(eq(events.blogId, 42n))
    expect(
      rows
        .filter((r) => r.ended === null)
        .map((r) => r.key)
        .sort(),
    ).toEqual(['42:0:http:', '42:1:http:', '42:2:http:'])
    expect(rows.filter((r) => r.ended !== null).map((r) => r.key)).toEqual([null])
  })

  it('round-trips JSON, enums and millisecond UTC times', async () => {
    await t.db.insert(endpointConfig).values({
      endpointId: 7n,
      forbiddenKeywords: ['hacked', 'casino'],
      customHeaders: { 'X-Token': 'abc' },
      redirectPolicy: 'fail',
    })
    const [row] = await t.db.select().from(endpointConfig).where(eq(endpointConfig.endpointId, 7n))
    expect(row).toMatchObject({
      forbiddenKeywords: ['hacked', 'casino'],
      customHeaders: { 'X-Token': 'abc' },
      redirectPolicy: 'fail',
    })
    // created_at defaults to the server's current UTC time
    expect(Math.abs(row!.createdAt.getTime() - Date.now())).toBeLessThan(60_000)
    const [event] = await t.db.select().from(events).where(eq(events.blogId, 42n)).limit(1)
    expect(event?.startedAt.toISOString()).toBe('2026-11-22T10:00:00.123Z')
  })

  it('rolls a transaction back as a whole, and nests into an outer one', async () => {
    await expect(
      withTransaction(t.db, async (tx) => {
        await tx.insert(monitorSites).values({ blogId: 555n, monitorUrl: 'https://a.example' })
        await withTransaction(tx, async (inner) => {
          await inner.insert(monitorSites).values({ blogId: 555n, monitorUrl: 'https://b.example' })
        })
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await t.db.select().from(monitorSites).where(eq(monitorSites.blogId, 555n))).toEqual([])
  })

  it('rejects a maintenance window that ends before it starts', async () => {
    await expect(
      t.pool.query(
        "INSERT INTO jetmon_maintenance_windows (blog_id, starts_at, ends_at, created_by) VALUES (1, '2026-01-02', '2026-01-01', 'test')",
      ),
    ).rejects.toThrow(/chk_maintenance_order/)
  })
})
