import type { EventResource, TransitionResource } from '@jetmon/api-client'
import { eventTransitions, monitorSites, siteTenants } from '@jetmon/db'
import {
  closeEvent,
  type Event,
  type EventStoreContext,
  type OpenEventInput,
  openEvent,
  promoteEvent,
} from '@jetmon/eventstore'
import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

// The request clock is fixed at 2026-05-01T12:00:00Z, so open events' durations are exact.
const harness = useTestApi({ manualClock: true })
const NOW = Date.parse('2026-05-01T12:00:00.000Z')
const MIN = 60_000
const at = (minutesBeforeNow: number) => new Date(NOW - minutesBeforeNow * MIN)

function store(when: Date): EventStoreContext {
  return { db: harness().database.db, source: 'monitor:test', clock: () => when }
}

async function addEndpoint(blogId: bigint, url = `https://${blogId}.example/`): Promise<bigint> {
  const [row] = await harness().database.db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
  return BigInt(row!.endpointId)
}

async function open(input: OpenEventInput): Promise<Event> {
  const result = await openEvent({ ctx: store(input.startedAt ?? new Date(NOW)), input })
  expect(result.opened).toBe(true)
  return result.event
}

const idOf = (event: Event) => Number(event.id)
const ids = (items: readonly { id: number | string }[]) => items.map((item) => Number(item.id))

/**
 * One site with two endpoints and a little of everything:
 * - confirmed: http on endpoint 1, Seems Down 300 min ago → Down 295 → closed verifier_cleared 240;
 * - falseAlarm: http on endpoint 1, Seems Down 200 min ago → closed false_alarm 190;
 * - certificate: tls_expiry Warning on endpoint 1, open since 100 min ago;
 * - slow: latency Degraded on endpoint 2, open since 50 min ago;
 * - down: http on endpoint 2, Seems Down 30 min ago → Down 29, open.
 */
const site = {
  blogId: 0n,
  endpoint1: 0n,
  endpoint2: 0n,
  confirmed: null as unknown as Event,
  falseAlarm: null as unknown as Event,
  certificate: null as unknown as Event,
  slow: null as unknown as Event,
  down: null as unknown as Event,
}

beforeAll(async () => {
  site.blogId = newBlogId()
  site.endpoint1 = await addEndpoint(site.blogId)
  site.endpoint2 = await addEndpoint(site.blogId, `https://${site.blogId}.example/login`)
  const { blogId, endpoint1, endpoint2 } = site

  site.confirmed = await open({
    blogId,
    endpointId: endpoint1,
    checkType: 'http',
    state: 'Seems Down',
    startedAt: at(300),
  })
  await promoteEvent({
    ctx: store(at(295)),
    input: { eventId: site.confirmed.id, state: 'Down', reason: 'verifier_confirmed' },
  })
  site.confirmed = (
    await closeEvent({ ctx: store(at(240)), input: { eventId: site.confirmed.id, reason: 'verifier_cleared' } })
  ).event

  site.falseAlarm = await open({
    blogId,
    endpointId: endpoint1,
    checkType: 'http',
    state: 'Seems Down',
    startedAt: at(200),
  })
  site.falseAlarm = (
    await closeEvent({ ctx: store(at(190)), input: { eventId: site.falseAlarm.id, reason: 'false_alarm' } })
  ).event

  site.certificate = await open({
    blogId,
    endpointId: endpoint1,
    checkType: 'tls_expiry',
    state: 'Warning',
    startedAt: at(100),
    eventMetadata: { days_left: 21 },
  })
  site.slow = await open({ blogId, endpointId: endpoint2, checkType: 'latency', state: 'Degraded', startedAt: at(50) })
  site.down = await open({ blogId, endpointId: endpoint2, checkType: 'http', state: 'Seems Down', startedAt: at(30) })
  site.down = (
    await promoteEvent({
      ctx: store(at(29)),
      input: { eventId: site.down.id, state: 'Down', reason: 'verifier_confirmed' },
    })
  ).event
})

async function siteEvents(query: Record<string, string | number | boolean | string[]> = {}) {
  const { data } = await harness().client.read.call('events.listForSite', { params: { blog_id: site.blogId }, query })
  return data
}

describe('GET /sites/{blog_id}/events', () => {
  it('lists the site’s events newest first, in wire form', async () => {
    const page = await siteEvents()
    expect(ids(page.data)).toEqual([site.down, site.slow, site.certificate, site.falseAlarm, site.confirmed].map(idOf))
    expect(page.page).toEqual({ next: null, limit: 50 })

    const confirmed = page.data.find((event) => Number(event.id) === idOf(site.confirmed))
    expect(confirmed).toEqual({
      id: idOf(site.confirmed),
      blog_id: Number(site.blogId),
      endpoint_id: Number(site.endpoint1),
      check_type: 'http',
      discriminator: null,
      severity: 4,
      severity_name: 'Down',
      state: 'Down',
      started_at: at(300).toISOString(),
      ended_at: at(240).toISOString(),
      resolution_reason: 'verifier_cleared',
      cause_event_id: null,
      metadata: null,
      duration_ms: 60 * MIN,
    } satisfies EventResource)

    // Open events last up to the request time.
    const certificate = page.data.find((event) => Number(event.id) === idOf(site.certificate))
    expect(certificate).toMatchObject({
      severity: 1,
      severity_name: 'Warning',
      ended_at: null,
      resolution_reason: null,
      metadata: { days_left: 21 },
      duration_ms: 100 * MIN,
    })
  })

  it('applies every filter', async () => {
    const { confirmed, falseAlarm, certificate, slow, down, endpoint2 } = site
    expect(ids((await siteEvents({ state: 'Down' })).data)).toEqual([down, confirmed].map(idOf))
    expect(ids((await siteEvents({ state: 'Seems Down' })).data)).toEqual([falseAlarm].map(idOf))
    expect(ids((await siteEvents({ state__in: ['Warning', 'Degraded'] })).data)).toEqual([slow, certificate].map(idOf))
    expect(ids((await siteEvents({ check_type: 'http' })).data)).toEqual([down, falseAlarm, confirmed].map(idOf))
    expect(ids((await siteEvents({ check_type__in: ['tls_expiry', 'latency'] })).data)).toEqual(
      [slow, certificate].map(idOf),
    )
    expect(ids((await siteEvents({ check_type: 'dns' })).data)).toEqual([])
    expect(ids((await siteEvents({ endpoint_id: Number(endpoint2) })).data)).toEqual([down, slow].map(idOf))
    expect(ids((await siteEvents({ active: true })).data)).toEqual([down, slow, certificate].map(idOf))
    expect(ids((await siteEvents({ active: false })).data)).toEqual([falseAlarm, confirmed].map(idOf))
    // started_at__gte is inclusive, started_at__lt exclusive.
    expect(ids((await siteEvents({ started_at__gte: at(100).toISOString() })).data)).toEqual(
      [down, slow, certificate].map(idOf),
    )
    expect(ids((await siteEvents({ started_at__lt: at(100).toISOString() })).data)).toEqual(
      [falseAlarm, confirmed].map(idOf),
    )
    expect(
      ids(
        (
          await siteEvents({
            started_at__gte: at(200).toISOString(),
            started_at__lt: at(30).toISOString(),
            check_type: 'http',
            active: false,
          })
        ).data,
      ),
    ).toEqual([falseAlarm].map(idOf))
  })

  it('rejects bad filters with the field path', async () => {
    const h = harness()
    const base = `/sites/${site.blogId}/events`
    const cases: [string, string][] = [
      ['state=Up', 'query.state'],
      ['state=Down&state__in=Down', 'query.state__in'],
      ['state__in=Down,Paused', 'query.state__in.1'],
      ['check_type=HTTP', 'query.check_type'],
      ['check_type=http&check_type__in=http', 'query.check_type__in'],
      ['active=maybe', 'query.active'],
      ['started_at__gte=yesterday', 'query.started_at__gte'],
      ['endpoint_id=abc', 'query.endpoint_id'],
      ['limit=500', 'query.limit'],
      ['colour=red', 'query.colour'],
      ['cursor=bm9wZQ', 'query.cursor'],
    ]
    for (const [query, path] of cases) {
      const response = await h.fetch(`${base}?${query}`, { token: h.tokens.read })
      expect(response.status, query).toBe(400)
      const envelope = await envelopeOf(response)
      expect(envelope.code).toBe('invalid_request')
      expect(envelope.details?.map((detail) => detail.path)).toContain(path)
    }
  })

  it('answers 404 site_not_found for a blog with neither endpoints nor events', async () => {
    await expect(
      harness().client.read.call('events.listForSite', { params: { blog_id: newBlogId() } }),
    ).rejects.toMatchObject({ status: 404, code: 'site_not_found' })
  })

  it('lists a site with endpoints but no events (empty), and one with events but no endpoints left', async () => {
    const quiet = newBlogId()
    await addEndpoint(quiet)
    expect((await harness().client.read.call('events.listForSite', { params: { blog_id: quiet } })).data.data).toEqual(
      [],
    )

    const orphan = newBlogId()
    const event = await open({ blogId: orphan, checkType: 'tls_expiry', state: 'Warning', startedAt: at(10) })
    const { data } = await harness().client.read.call('events.listForSite', { params: { blog_id: orphan } })
    expect(ids(data.data)).toEqual([idOf(event)])
    // Filtered down to nothing, it still exists.
    const none = await harness().client.read.call('events.listForSite', {
      params: { blog_id: orphan },
      query: { state: 'Down' },
    })
    expect(none.data.data).toEqual([])
  })
})

describe('pagination', () => {
  it('never repeats or skips an event, even with equal start times and events added meanwhile', async () => {
    const blogId = newBlogId()
    const endpointId = await addEndpoint(blogId)
    const same = at(5)
    const created: Event[] = []
    for (let i = 0; i < 7; i++) {
      created.push(
        await open({
          blogId,
          endpointId,
          checkType: 'http',
          discriminator: `d${i}`,
          state: 'Seems Down',
          startedAt: same,
        }),
      )
    }
    for (let i = 0; i < 3; i++) {
      created.push(
        await open({
          blogId,
          endpointId,
          checkType: 'latency',
          discriminator: `e${i}`,
          state: 'Degraded',
          startedAt: at(60 + i),
        }),
      )
    }
    // started_at desc, then id desc.
    const expected = [...created]
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || Number(b.id - a.id))
      .map(idOf)

    const client = harness().client.read
    const seen: number[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: Record<string, string | number> = { limit: 3 }
      if (cursor) query.cursor = cursor
      const { data } = await client.call('events.listForSite', { params: { blog_id: blogId }, query })
      expect(data.page.limit).toBe(3)
      seen.push(...ids(data.data))
      cursor = data.page.next
      pages++
      // A newer event arriving mid-way lands before the cursor and does not shift later pages.
      if (pages === 1) await open({ blogId, endpointId, checkType: 'tls_expiry', state: 'Warning', startedAt: at(1) })
    } while (cursor !== null)
    expect(seen).toEqual(expected)
    expect(pages).toBe(4)
  })
})

describe('GET /events (fleet-wide)', () => {
  it('lists every site’s events with the same filters, plus blog_id', async () => {
    const client = harness().client.read
    const all = await client.call('events.list', { query: { limit: 200 } })
    expect(ids(all.data.data)).toEqual(expect.arrayContaining([site.confirmed, site.down].map(idOf)))
    const starts = all.data.data.map((event) => Date.parse(event.started_at))
    expect(starts).toEqual([...starts].sort((a, b) => b - a))

    const mine = await client.call('events.list', { query: { blog_id: Number(site.blogId), state: 'Down' } })
    expect(ids(mine.data.data)).toEqual([site.down, site.confirmed].map(idOf))
    const open = await client.call('events.list', {
      query: { blog_id: Number(site.blogId), active: true, check_type__in: ['http', 'latency'] },
    })
    expect(ids(open.data.data)).toEqual([site.down, site.slow].map(idOf))
    // An unknown blog is just an empty list here.
    expect((await client.call('events.list', { query: { blog_id: Number(newBlogId()) } })).data.data).toEqual([])
  })
})

describe('gateway tenancy', () => {
  it('limits lists to the tenant’s blogs in SQL and hides other tenants’ events as 404', async () => {
    const h = harness()
    const ours = newBlogId()
    const theirs = newBlogId()
    await addEndpoint(ours)
    await addEndpoint(theirs)
    await h.database.db.insert(siteTenants).values([
      { tenantId: 'tenant-a', blogId: ours },
      { tenantId: 'tenant-b', blogId: theirs },
    ])
    const ourEvents: Event[] = []
    for (let i = 0; i < 3; i++) {
      ourEvents.push(
        await open({ blogId: ours, checkType: 'latency', discriminator: `o${i}`, state: 'Degraded', startedAt: at(2) }),
      )
    }
    const theirEvent = await open({ blogId: theirs, checkType: 'latency', state: 'Degraded', startedAt: at(2) })
    const tenant = { headers: { 'x-jetmon-tenant-id': 'tenant-a' } }
    const gateway = h.client.gateway

    // Pages are full: other tenants' rows are filtered by the query, not after it.
    const first = await gateway.call('events.list', { query: { limit: 2 } }, tenant)
    expect(ids(first.data.data)).toEqual([ourEvents[2]!, ourEvents[1]!].map(idOf))
    const second = await gateway.call('events.list', { query: { limit: 2, cursor: first.data.page.next! } }, tenant)
    expect(ids(second.data.data)).toEqual([idOf(ourEvents[0]!)])
    expect(second.data.page.next).toBeNull()
    const filtered = await gateway.call('events.list', { query: { blog_id: Number(theirs) } }, tenant)
    expect(filtered.data.data).toEqual([])

    await expect(gateway.call('events.listForSite', { params: { blog_id: theirs } }, tenant)).rejects.toMatchObject({
      status: 404,
      code: 'site_not_found',
    })
    for (const id of ['events.get', 'events.transitions'] as const) {
      await expect(gateway.call(id, { params: { event_id: idOf(theirEvent) } }, tenant)).rejects.toMatchObject({
        status: 404,
        code: 'event_not_found',
      })
    }
    await expect(
      gateway.call('events.close', { params: { event_id: idOf(theirEvent) } }, tenant),
    ).rejects.toMatchObject({ status: 404, code: 'event_not_found' })
    // Still open: the refused close wrote nothing.
    expect(
      (await h.client.read.call('events.get', { params: { event_id: idOf(theirEvent) } })).data.ended_at,
    ).toBeNull()

    const visible = await gateway.call('events.get', { params: { event_id: idOf(ourEvents[0]!) } }, tenant)
    expect(visible.data.blog_id).toBe(Number(ours))
  })
})

describe('GET /events/{event_id} and /transitions', () => {
  it('returns the event with every transition, oldest first', async () => {
    const { data } = await harness().client.read.call('events.get', { params: { event_id: idOf(site.confirmed) } })
    expect(data).toMatchObject({ id: idOf(site.confirmed), state: 'Down', duration_ms: 60 * MIN })
    expect(data.transitions.map((t) => [t.reason, t.state_before, t.state_after, t.severity_after])).toEqual([
      ['opened', null, 'Seems Down', 3],
      ['verifier_confirmed', 'Seems Down', 'Down', 4],
      ['verifier_cleared', 'Down', 'Resolved', null],
    ])
    expect(data.transitions[0]).toEqual({
      id: expect.any(Number),
      event_id: idOf(site.confirmed),
      blog_id: Number(site.blogId),
      endpoint_id: Number(site.endpoint1),
      severity_before: null,
      severity_after: 3,
      state_before: null,
      state_after: 'Seems Down',
      reason: 'opened',
      source: 'monitor:test',
      metadata: null,
      changed_at: at(300).toISOString(),
    } satisfies TransitionResource)
    expect(data.transitions.map((t) => t.changed_at)).toEqual([at(300), at(295), at(240)].map((d) => d.toISOString()))
  })

  it('pages transitions oldest first', async () => {
    const client = harness().client.read
    const first = await client.call('events.transitions', {
      params: { event_id: idOf(site.confirmed) },
      query: { limit: 2 },
    })
    expect(first.data.data.map((t) => t.reason)).toEqual(['opened', 'verifier_confirmed'])
    expect(first.data.page).toMatchObject({ limit: 2, next: expect.any(String) })
    const second = await client.call('events.transitions', {
      params: { event_id: idOf(site.confirmed) },
      query: { limit: 2, cursor: first.data.page.next! },
    })
    expect(second.data.data.map((t) => t.reason)).toEqual(['verifier_cleared'])
    expect(second.data.page.next).toBeNull()
    const ascending = [...first.data.data, ...second.data.data].map((t) => Number(t.id))
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b))
  })

  it('answers 404 event_not_found and 400 for bad ids and cursors', async () => {
    const h = harness()
    for (const id of ['events.get', 'events.transitions'] as const) {
      await expect(h.client.read.call(id, { params: { event_id: 987_654_321 } })).rejects.toMatchObject({
        status: 404,
        code: 'event_not_found',
      })
    }
    const badId = await h.fetch('/events/abc', { token: h.tokens.read })
    expect(badId.status).toBe(400)
    expect((await envelopeOf(badId)).details?.[0]?.path).toBe('params.event_id')
    const badCursor = await h.fetch(`/events/${site.confirmed.id}/transitions?cursor=bm9wZQ`, { token: h.tokens.read })
    expect(badCursor.status).toBe(400)
    expect((await envelopeOf(badCursor)).details).toEqual([
      { path: 'query.cursor', message: 'is not a cursor this API issued for this list' },
    ])
  })
})

describe('POST /events/{event_id}/close', () => {
  it('closes with manual_override by default, keeps the note, and is a no-op on a closed event', async () => {
    const h = harness()
    const blogId = newBlogId()
    const endpointId = await addEndpoint(blogId)
    const event = await open({ blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: at(20) })

    const closed = await h.client.write.call('events.close', {
      params: { event_id: idOf(event) },
      body: { note: '  restored by hand  ' },
    })
    expect(closed.status).toBe(200)
    expect(closed.data).toMatchObject({
      id: idOf(event),
      state: 'Seems Down',
      severity: 3,
      ended_at: new Date(NOW).toISOString(),
      resolution_reason: 'manual_override',
      duration_ms: 20 * MIN,
    })
    const last = closed.data.transitions.at(-1)
    expect(last).toMatchObject({
      reason: 'manual_override',
      state_before: 'Seems Down',
      state_after: 'Resolved',
      severity_after: null,
      source: 'api:test-write',
      metadata: { note: 'restored by hand' },
      changed_at: new Date(NOW).toISOString(),
    })
    // The legacy projection followed the close in the same transaction.
    const [endpoint] = await h.database.db.select().from(monitorSites).where(eq(monitorSites.endpointId, endpointId))
    expect(endpoint?.siteStatus).toBe(1)

    // Closing again returns it unchanged and writes nothing.
    h.clock.advance(60_000)
    const again = await h.client.write.call('events.close', {
      params: { event_id: idOf(event) },
      body: { reason: 'false_alarm', note: 'twice' },
    })
    expect(again.status).toBe(200)
    expect(again.data).toEqual(closed.data)
    const rows = await h.database.db.select().from(eventTransitions).where(eq(eventTransitions.eventId, event.id))
    expect(rows).toHaveLength(2)
  })

  it('takes any closing reason, without a body too', async () => {
    const h = harness()
    const blogId = newBlogId()
    const first = await open({ blogId, checkType: 'latency', state: 'Degraded', startedAt: at(3) })
    const { data } = await h.client.write.call('events.close', {
      params: { event_id: idOf(first) },
      body: { reason: 'false_alarm' },
    })
    expect(data.resolution_reason).toBe('false_alarm')
    expect(data.transitions.at(-1)?.metadata).toBeNull()

    const second = await open({ blogId, checkType: 'tls_expiry', state: 'Warning', startedAt: at(3) })
    const bare = await h.fetch(`/events/${second.id}/close`, { method: 'POST', token: h.tokens.write })
    expect(bare.status).toBe(200)
    expect(((await bare.json()) as EventResource).resolution_reason).toBe('manual_override')
  })

  it('refuses non-closing reasons, unknown fields, the read scope and unknown events', async () => {
    const h = harness()
    const event = await open({ blogId: newBlogId(), checkType: 'latency', state: 'Degraded', startedAt: at(3) })
    const post = (body: unknown, token = h.tokens.write) =>
      h.fetch(`/events/${event.id}/close`, {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })

    for (const reason of ['opened', 'state_change', 'fixed']) {
      const response = await post({ reason })
      expect(response.status).toBe(400)
      const envelope = await envelopeOf(response)
      expect(envelope.code).toBe('invalid_request')
      expect(envelope.details).toEqual([{ path: 'reason', message: expect.stringContaining('closing reason') }])
    }
    const unknown = await post({ reason: 'manual_override', by: 'me' })
    expect(unknown.status).toBe(400)
    expect((await envelopeOf(unknown)).details).toEqual([{ path: 'by', message: 'is not a known field' }])
    const tooLong = await post({ note: 'x'.repeat(1001) })
    expect((await envelopeOf(tooLong)).details?.[0]?.path).toBe('note')

    const readOnly = await post({}, h.tokens.read)
    expect(readOnly.status).toBe(403)
    expect((await envelopeOf(readOnly)).code).toBe('insufficient_scope')

    await expect(h.client.write.call('events.close', { params: { event_id: 987_654_321 } })).rejects.toMatchObject({
      status: 404,
      code: 'event_not_found',
    })
    // None of the refusals touched the event.
    expect(
      (await h.client.read.call('events.get', { params: { event_id: idOf(event) } })).data.transitions,
    ).toHaveLength(1)
  })
})
