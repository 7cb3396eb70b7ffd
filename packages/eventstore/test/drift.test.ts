/** The read-only projection drift report. This file's database holds only the rows made here. */
import { monitorSites } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { type EventStoreContext, openEvent, type ProjectionDrift, projectionDrift } from '../src/index.js'
import { contextFor, insertEndpoint, newBlogId, siteStatusOf } from './_helpers.js'

const database = useTestDatabase()
const ctx = (overrides: Partial<EventStoreContext> = {}) => contextFor(database().db, overrides)

async function allPages(limit: number): Promise<{ pages: number; items: ProjectionDrift[] }> {
  const items: ProjectionDrift[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page = await projectionDrift({ ctx: ctx(), limit, cursor })
    items.push(...page.items)
    cursor = page.next
    pages++
  } while (cursor)
  return { pages, items }
}

it('lists the endpoints whose site_status disagrees with their open http events, and changes nothing', async () => {
  const blogId = newBlogId()
  const setStatus = (endpointId: bigint, siteStatus: number) =>
    database().db.update(monitorSites).set({ siteStatus }).where(eq(monitorSites.endpointId, endpointId))

  // In agreement: a projected Seems Down, a projected Down, and a healthy endpoint.
  const seemsDown = await insertEndpoint(database().db, blogId, 'https://a.example')
  await openEvent({ ctx: ctx(), input: { blogId, endpointId: seemsDown, checkType: 'http', state: 'Seems Down' } })
  const down = await insertEndpoint(database().db, blogId, 'https://b.example')
  await openEvent({ ctx: ctx(), input: { blogId, endpointId: down, checkType: 'http', state: 'Down' } })
  await insertEndpoint(database().db, blogId, 'https://c.example')
  // Drifted: an old writer reset a Down endpoint, left a healthy one at 0, wrote an unknown value.
  const resetDown = await insertEndpoint(database().db, blogId, 'https://d.example')
  await openEvent({ ctx: ctx(), input: { blogId, endpointId: resetDown, checkType: 'http', state: 'Down' } })
  await setStatus(resetDown, 1)
  const staleZero = await insertEndpoint(database().db, blogId, 'https://e.example')
  await setStatus(staleZero, 0)
  const oddValue = await insertEndpoint(database().db, blogId, 'https://f.example')
  await setStatus(oddValue, 7)
  // Drifted: events written with the projection switched off.
  const unprojected = await insertEndpoint(database().db, blogId, 'https://g.example')
  await openEvent({
    ctx: ctx({ projection: false }),
    input: { blogId, endpointId: unprojected, checkType: 'http', state: 'Seems Down' },
  })
  // Advisories never count: an open tls_expiry event on a healthy endpoint is no drift.
  const advisory = await insertEndpoint(database().db, blogId, 'https://h.example')
  await openEvent({ ctx: ctx(), input: { blogId, endpointId: advisory, checkType: 'tls_expiry', state: 'Warning' } })

  const expected = [
    {
      endpointId: resetDown,
      siteStatus: 1,
      expectedStatus: 2,
      openHttpState: 'Down',
      lastStatusChange: expect.any(Date),
    },
    { endpointId: staleZero, siteStatus: 0, expectedStatus: 1, openHttpState: null, lastStatusChange: null },
    { endpointId: oddValue, siteStatus: 7, expectedStatus: 1, openHttpState: null, lastStatusChange: null },
    { endpointId: unprojected, siteStatus: 1, expectedStatus: 0, openHttpState: 'Seems Down', lastStatusChange: null },
  ]
  const onePage = await projectionDrift({ ctx: ctx(), limit: 50 })
  expect(onePage.next).toBeNull()
  expect(onePage.items).toEqual(expected.map((item) => ({ ...item, blogId, monitorActive: true })))

  // Paged, the report is the same list without repeats or gaps.
  const paged = await allPages(3)
  expect(paged.pages).toBe(2)
  expect(paged.items).toEqual(onePage.items)

  // Read-only: the drifted rows are as they were.
  expect((await siteStatusOf(database().db, resetDown)).siteStatus).toBe(1)
  expect((await siteStatusOf(database().db, unprojected)).siteStatus).toBe(1)
})

it('rejects a cursor from another list', async () => {
  await expect(projectionDrift({ ctx: ctx(), cursor: 'bm90IGEgY3Vyc29y' })).rejects.toMatchObject({
    code: 'INVALID_CURSOR',
  })
})

it('keeps to a bucket range when given one', async () => {
  const blogId = newBlogId()
  const inBucket = (bucketNo: number, url: string) =>
    database()
      .db.insert(monitorSites)
      .values({ blogId, monitorUrl: url, bucketNo, siteStatus: 2 })
      .then(([header]) => BigInt(header.insertId))
  const low = await inBucket(700, 'https://low.example')
  const high = await inBucket(720, 'https://high.example')
  const page = await projectionDrift({ ctx: ctx(), limit: 50, buckets: { min: 700, max: 710 } })
  expect(page.items.map((drift) => drift.endpointId)).toEqual([low])
  const wide = await projectionDrift({ ctx: ctx(), limit: 50, buckets: { min: 700, max: 720 } })
  expect(wide.items.map((drift) => drift.endpointId)).toEqual([low, high])
  await expect(projectionDrift({ ctx: ctx(), buckets: { min: 9, max: 3 } })).rejects.toMatchObject({
    code: 'INVALID_INPUT',
  })
})
