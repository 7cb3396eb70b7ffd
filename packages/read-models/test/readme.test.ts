/**
 * The README's example against a real database: a site added a minute ago and down since is listed
 * as Down, its detail names the open event, and its uptime over seven days is 0 % (only the minute
 * it was monitored counts).
 */
import { auditLog, monitorSites } from '@jetmon/db'
import { openEvent, promoteEvent } from '@jetmon/eventstore'
import { useTestDatabase } from '@jetmon/testkit'
import { expect, it } from 'vitest'
import { computeUptime, listSitePage, loadSiteDetail, loadUptimeInput } from '../src/index.js'

const database = useTestDatabase()

it('lists, details and measures a site the way the README shows', async () => {
  const { db } = database()
  const blogId = 4242n
  const addedAt = new Date(Date.now() - 60_000)
  const [row] = await db.insert(monitorSites).values({ blogId, monitorUrl: 'https://down.example.com/' }).$returningId()
  const endpointId = BigInt(row!.endpointId)
  await db.insert(auditLog).values({
    blogId,
    eventType: 'endpoint_changed',
    source: 'api:test',
    detail: `endpoint ${endpointId} created`,
    metadata: { endpoint_id: endpointId.toString(), monitor_active: true },
    createdAt: addedAt,
  })
  const ctx = { db, source: 'monitor:test', clock: () => addedAt }
  const { event } = await openEvent({
    ctx,
    input: { blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: addedAt },
  })
  await promoteEvent({ ctx, input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' } })

  const now = new Date()
  const page = await listSitePage({
    ctx: { db },
    now,
    tenantId: null,
    after: null,
    limit: 50,
    states: new Set(['Down', 'Seems Down']),
    minSeverity: null,
    monitorActive: null,
    q: null,
  })
  expect(page.map((site) => [site.blogId, site.item.current_state])).toEqual([[blogId, 'Down']])

  const detail = await loadSiteDetail({ ctx: { db }, blogId: page[0]!.blogId, now })
  expect(detail?.active_events.map((open) => BigInt(open.id))).toEqual([event.id])

  const endpointIds = detail!.endpoints.map((endpoint) => BigInt(endpoint.endpoint_id))
  const input = await loadUptimeInput({
    ctx: { db },
    scope: { blogId, endpointId: null, siteEndpointIds: endpointIds, endpointIds },
    period: { from: new Date(now.getTime() - 7 * 86_400_000), to: now },
    now,
  })
  const figures = computeUptime(input)
  expect(figures.uptimePercent).toBe(0)
  expect(figures.totalMs).toBe(now.getTime() - addedAt.getTime())
})
