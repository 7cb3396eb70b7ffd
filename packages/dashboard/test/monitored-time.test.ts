/**
 * The site page's uptime figures count only monitored time, with the API's own code: a site that
 * was added a minute ago and has been down since is 0 % up, whatever the figure's window.
 */
import { auditLog, monitorSites } from '@jetmon/db'
import { openEvent, promoteEvent } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

let database: TestDatabase
let served: ServedDashboard

beforeAll(async () => {
  database = await createTestDatabase()
  served = await serveDashboard({ db: database.db, bind: '127.0.0.1' })
})

afterAll(async () => {
  await served?.close()
  await database?.drop()
})

it('shows a site added a minute ago and down since as 0 % up over 24 h, 7 d and 30 d', async () => {
  const blogId = 1777n
  const addedAt = new Date(Date.now() - 60_000)
  const [row] = await database.db
    .insert(monitorSites)
    .values({ blogId, monitorUrl: 'https://new.example.com/' })
    .$returningId()
  const endpointId = BigInt(row!.endpointId)
  // What the API records when it adds an endpoint.
  await database.db.insert(auditLog).values({
    blogId,
    eventType: 'endpoint_changed',
    source: 'api:test',
    detail: `endpoint ${endpointId} created`,
    metadata: { endpoint_id: endpointId.toString(), monitor_active: true },
    createdAt: addedAt,
  })
  const ctx = { db: database.db, source: 'monitor:test', clock: () => addedAt }
  const { event } = await openEvent({
    ctx,
    input: { blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: addedAt },
  })
  await promoteEvent({ ctx, input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' } })

  const response = await fetch(`${served.url}/sites/${blogId}`)
  expect(response.status).toBe(200)
  const body = await response.text()
  for (const label of ['24 h', '7 d', '30 d']) {
    const figure = new RegExp(
      `data-figure="${label}">\\s*<span class="figure-label">Uptime ${label}</span>\\s*<span class="figure-value num">([^<]*)</span>\\s*<span class="figure-sub">([^<]*)<`,
    ).exec(body)
    expect(figure?.[1], label).toBe('0.00 %')
    expect(figure?.[2], label).toMatch(/^1 incident · down 1 min$/)
  }
})
