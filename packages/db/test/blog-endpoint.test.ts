import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { endpointConfig, monitorSites, type ScratchDatabase, upsertBlogEndpoint } from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t.drop()
})

describe('upsertBlogEndpoint', () => {
  it('adds the blog’s endpoint with its settings, then points the same endpoint at a new URL', async () => {
    const blogId = 4_242n
    const first = await upsertBlogEndpoint({
      ctx: { db: t.db },
      blogId,
      monitorUrl: 'http://one.example/',
      settings: { checkIntervalSec: 15, timeoutMs: 5_000, latencyThresholdMs: 800, forbiddenKeywords: ['casino'] },
    })
    await t.db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, first))

    const again = await upsertBlogEndpoint({
      ctx: { db: t.db },
      blogId,
      monitorUrl: 'http://two.example/',
      settings: { checkIntervalSec: 30, timeoutMs: 5_000, latencyThresholdMs: null, forbiddenKeywords: null },
    })
    expect(again).toBe(first)
    const sites = await t.db.select().from(monitorSites).where(eq(monitorSites.blogId, blogId))
    expect(sites).toHaveLength(1)
    expect(sites[0]).toMatchObject({ monitorUrl: 'http://two.example/', monitorActive: 1, bucketNo: 0 })
    const [config] = await t.db.select().from(endpointConfig).where(eq(endpointConfig.endpointId, first))
    expect(config).toMatchObject({
      checkIntervalSec: 30,
      timeoutMs: 5_000,
      latencyThresholdMs: null,
      forbiddenKeywords: null,
    })
  })
  it('places an endpoint in a bucket and gives one added now its v1 status, leaving a known one’s', async () => {
    const blogId = 4_243n
    const changed = new Date('2026-05-01T10:00:00Z')
    const settings = { checkIntervalSec: 15, timeoutMs: 5_000 }
    const id = await upsertBlogEndpoint({
      ctx: { db: t.db },
      blogId,
      monitorUrl: 'http://v1.example/',
      settings,
      bucketNo: 500,
      legacyStatusWhenAdded: { siteStatus: 2, lastStatusChange: changed },
    })
    const read = async () => (await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, id)))[0]
    expect(await read()).toMatchObject({ bucketNo: 500, siteStatus: 2, lastStatusChange: changed })

    await t.db.update(monitorSites).set({ siteStatus: 1 }).where(eq(monitorSites.endpointId, id))
    await upsertBlogEndpoint({
      ctx: { db: t.db },
      blogId,
      monitorUrl: 'http://v1.example/',
      settings,
      bucketNo: 999,
      legacyStatusWhenAdded: { siteStatus: 2, lastStatusChange: changed },
    })
    expect(await read()).toMatchObject({ bucketNo: 999, siteStatus: 1 })
  })
})
