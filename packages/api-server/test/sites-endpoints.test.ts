import { type JetmonApiError, jsonId, type SiteDetail } from '@jetmon/api-client'
import { auditLog, endpointConfig, events, eventTransitions, maintenanceWindows, monitorSites } from '@jetmon/db'
import { openEvent } from '@jetmon/eventstore'
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { EndpointProbe } from '../src/index.js'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

const probeCalls: { endpointIds: bigint[]; source: string }[] = []
const probe: EndpointProbe = {
  async probe(endpoints, source) {
    probeCalls.push({ endpointIds: endpoints.map((endpoint) => endpoint.endpointId), source })
    return endpoints.map((endpoint) => ({
      endpoint_id: jsonId(endpoint.endpointId),
      monitor_url: 'https://probed.example/',
      success: false,
      http_code: 503,
      error_code: 10,
      error: 'http_status',
      error_detail: 'HTTP 503',
      rtt_ms: 40,
      checked_at: '2026-05-01T12:00:00.000Z',
      outcome: 'confirmation_started' as const,
    }))
  },
}

// The request clock starts at 2026-05-01T12:00:00Z and only moves when a test moves it.
const harness = useTestApi({ manualClock: true, deps: { probe } })
const db = () => harness().database.db
const url = (blogId: bigint, path = '') => `https://ep-${blogId}.example/${path}`
const iso = (offsetMinutes: number) => new Date(harness().clock.now().getTime() + offsetMinutes * 60_000).toISOString()

async function createSite(blogId: bigint): Promise<SiteDetail> {
  const { data } = await harness().client.write.call('sites.create', {
    body: { blog_id: Number(blogId), monitor_url: url(blogId) },
  })
  return data
}

async function expectError(promise: Promise<unknown>, status: number, code: string): Promise<JetmonApiError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${status} ${code}, got a success`)
    },
    (caught: unknown) => caught,
  )
  expect(error).toMatchObject({ status, code })
  return error as JetmonApiError
}

async function changeCount(endpointId: bigint): Promise<number> {
  const rows = await db().select().from(auditLog).where(eq(auditLog.eventType, 'endpoint_changed'))
  return rows.filter((row) => (row.metadata as { endpoint_id?: string }).endpoint_id === endpointId.toString()).length
}

describe('endpoints of a site', () => {
  it('adds endpoints (409 endpoint_exists for a duplicate URL) and lists them by id with cursors', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const write = harness().client.write
    const added = await write.call('sites.endpoints.create', {
      params: { blog_id: blogId },
      body: { monitor_url: url(blogId, 'login'), request_method: 'HEAD', max_redirects: 0, bucket_no: 7 },
    })
    expect(added.status).toBe(201)
    expect(added.data).toMatchObject({
      blog_id: Number(blogId),
      monitor_url: url(blogId, 'login'),
      request_method: 'HEAD',
      max_redirects: 0,
      bucket_no: 7,
      current_state: 'Up',
      config_updated_at: '2026-05-01T12:00:00.000Z',
    })
    expect(await changeCount(BigInt(added.data.endpoint_id))).toBe(1)
    await write.call('sites.endpoints.create', { params: { blog_id: blogId }, body: { monitor_url: url(blogId, 'c') } })

    await expectError(
      write.call('sites.endpoints.create', {
        params: { blog_id: blogId },
        body: { monitor_url: url(blogId, 'login') },
      }),
      409,
      'endpoint_exists',
    )
    await expectError(
      write.call('sites.endpoints.create', { params: { blog_id: newBlogId() }, body: { monitor_url: url(1n) } }),
      404,
      'site_not_found',
    )

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { data: { data: { monitor_url: string }[]; page: { next: string | null } } } =
        await harness().client.read.call('sites.endpoints.list', {
          params: { blog_id: blogId },
          query: { limit: 2, ...(cursor ? { cursor } : {}) },
        })
      seen.push(...page.data.data.map((endpoint) => endpoint.monitor_url))
      cursor = page.data.page.next
    } while (cursor)
    expect(seen).toEqual([site.monitor_url, url(blogId, 'login'), url(blogId, 'c')])
    await expectError(
      harness().client.read.call('sites.endpoints.list', { params: { blog_id: newBlogId() } }),
      404,
      'site_not_found',
    )
  })

  it('GET and PATCH one endpoint: effective values, write-only headers, URL changes and conflicts', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = BigInt(site.endpoints[0]!.endpoint_id)
    const write = harness().client.write
    await write.call('sites.endpoints.create', { params: { blog_id: blogId }, body: { monitor_url: url(blogId, 'b') } })

    harness().clock.advance(30_000)
    const patched = await write.call('endpoints.update', {
      params: { endpoint_id: endpointId },
      body: {
        monitor_url: url(blogId, 'home'),
        custom_headers: { Cookie: 'session=very-secret' },
        check_keyword: '',
        forbidden_keywords: [],
        tls_expiry_warn_days: 14,
        alert_cooldown_minutes: 0,
      },
    })
    expect(patched.data).toMatchObject({
      endpoint_id: Number(endpointId),
      monitor_url: url(blogId, 'home'),
      custom_header_names: ['Cookie'],
      check_keyword: null,
      forbidden_keywords: [],
      tls_expiry_warn_days: 14,
      alert_cooldown_minutes: 0,
      config_updated_at: '2026-05-01T12:00:30.000Z',
    })
    expect(JSON.stringify(patched.data)).not.toContain('very-secret')
    const [config] = await db().select().from(endpointConfig).where(eq(endpointConfig.endpointId, endpointId))
    expect(config).toMatchObject({ customHeaders: { Cookie: 'session=very-secret' }, forbiddenKeywords: null })
    expect(config?.updatedAt.toISOString()).toBe('2026-05-01T12:00:30.000Z')
    expect(await changeCount(endpointId)).toBe(2)

    const got = await harness().client.read.call('endpoints.get', { params: { endpoint_id: endpointId } })
    expect(got.data).toEqual(patched.data)

    await expectError(
      write.call('endpoints.update', { params: { endpoint_id: endpointId }, body: { monitor_url: url(blogId, 'b') } }),
      409,
      'endpoint_exists',
    )
    await expectError(
      harness().client.read.call('endpoints.get', { params: { endpoint_id: 999_999_999 } }),
      404,
      'endpoint_not_found',
    )
    await expectError(
      write.call('endpoints.update', { params: { endpoint_id: 999_999_999 }, body: { timeout_ms: 100 } }),
      404,
      'endpoint_not_found',
    )
    const invalid = await harness().fetch(`/endpoints/${endpointId}`, {
      method: 'PATCH',
      token: harness().tokens.write,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ monitor_url: 'mailto:someone@example.com', redirect_policy: 'sometimes' }),
    })
    expect(invalid.status).toBe(400)
    expect((await envelopeOf(invalid)).details?.map((detail) => detail.path).sort()).toEqual([
      'monitor_url',
      'redirect_policy',
    ])
  })

  it('pause / resume / delete one endpoint close only its own open events', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const first = BigInt(site.endpoints[0]!.endpoint_id)
    const second = BigInt(
      (
        await harness().client.write.call('sites.endpoints.create', {
          params: { blog_id: blogId },
          body: { monitor_url: url(blogId, 'two') },
        })
      ).data.endpoint_id,
    )
    const ctx = { db: db(), source: 'monitor:test' }
    const own = (await openEvent({ ctx, input: { blogId, endpointId: first, checkType: 'http', state: 'Seems Down' } }))
      .event
    const sibling = (await openEvent({ ctx, input: { blogId, endpointId: second, checkType: 'http', state: 'Down' } }))
      .event

    harness().clock.advance(1_000)
    const paused = await harness().client.write.call('endpoints.pause', { params: { endpoint_id: first } })
    expect(paused.data).toMatchObject({ monitor_active: false, current_state: 'Paused', active_event_id: null })
    const [ownRow] = await db().select().from(events).where(eq(events.id, own.id))
    expect(ownRow).toMatchObject({ resolutionReason: 'manual_override', endedAt: harness().clock.now() })
    const [transition] = await db()
      .select()
      .from(eventTransitions)
      .where(eq(eventTransitions.eventId, own.id))
      .orderBy(asc(eventTransitions.id))
      .limit(1)
      .offset(1)
    expect(transition).toMatchObject({ reason: 'manual_override', stateAfter: 'Resolved', source: 'api:test-write' })
    const [siblingRow] = await db().select().from(events).where(eq(events.id, sibling.id))
    expect(siblingRow?.endedAt).toBeNull()
    const detail = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
    expect(detail.data).toMatchObject({ current_state: 'Down', active_endpoint_count: 1 })

    const resumed = await harness().client.write.call('endpoints.resume', { params: { endpoint_id: first } })
    expect(resumed.data).toMatchObject({ monitor_active: true, current_state: 'Up' })

    expect((await harness().client.write.call('endpoints.delete', { params: { endpoint_id: second } })).status).toBe(
      204,
    )
    const [deleted] = await db().select().from(monitorSites).where(eq(monitorSites.endpointId, second))
    expect(deleted?.monitorActive).toBe(0)
    const [siblingClosed] = await db().select().from(events).where(eq(events.id, sibling.id))
    expect(siblingClosed?.resolutionReason).toBe('manual_override')
    // created, paused, resumed / created, deleted
    expect(await changeCount(first)).toBe(3)
    expect(await changeCount(second)).toBe(2)

    for (const route of ['endpoints.pause', 'endpoints.resume', 'endpoints.delete'] as const) {
      await expectError(
        harness().client.write.call(route, { params: { endpoint_id: 999_999_998 } }),
        404,
        'endpoint_not_found',
      )
    }
  })

  it('trigger-now on one endpoint probes it; 409 endpoint_paused when it is paused', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = BigInt(site.endpoints[0]!.endpoint_id)
    const calls = probeCalls.length
    const { data } = await harness().client.write.call('endpoints.triggerNow', { params: { endpoint_id: endpointId } })
    expect(probeCalls.slice(calls)).toEqual([{ endpointIds: [endpointId], source: 'api:test-write' }])
    expect(data.results).toEqual([
      {
        endpoint_id: Number(endpointId),
        monitor_url: 'https://probed.example/',
        success: false,
        http_code: 503,
        error_code: 10,
        error: 'http_status',
        error_detail: 'HTTP 503',
        rtt_ms: 40,
        checked_at: '2026-05-01T12:00:00.000Z',
        outcome: 'confirmation_started',
      },
    ])
    await harness().client.write.call('endpoints.pause', { params: { endpoint_id: endpointId } })
    await expectError(
      harness().client.write.call('endpoints.triggerNow', { params: { endpoint_id: endpointId } }),
      409,
      'endpoint_paused',
    )
    await expectError(
      harness().client.write.call('endpoints.triggerNow', { params: { endpoint_id: 999_999_997 } }),
      404,
      'endpoint_not_found',
    )
    expect(probeCalls).toHaveLength(calls + 1)
  })
})

describe('maintenance windows', () => {
  it('creates site-wide and endpoint windows, lists past/current/future latest start first, deletes them', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = BigInt(site.endpoints[0]!.endpoint_id)
    const changesBefore = await changeCount(endpointId)
    const write = harness().client.write

    const current = await write.call('maintenance.create', {
      params: { blog_id: blogId },
      body: { starts_at: iso(-10), ends_at: iso(50), reason: ' database upgrade ' },
    })
    expect(current.status).toBe(201)
    expect(current.data).toMatchObject({
      blog_id: Number(blogId),
      endpoint_id: null,
      starts_at: iso(-10),
      ends_at: iso(50),
      reason: 'database upgrade',
      created_by: 'test-write',
      status: 'current',
    })
    const future = await write.call('maintenance.create', {
      params: { blog_id: blogId },
      body: { starts_at: iso(60), ends_at: iso(120), endpoint_id: endpointId.toString() },
    })
    expect(future.data).toMatchObject({ endpoint_id: Number(endpointId), status: 'future', reason: null })
    // A window that is over by now (kept from before): listed as past.
    await db()
      .insert(maintenanceWindows)
      .values({ blogId, startsAt: new Date(iso(-120)), endsAt: new Date(iso(-60)), createdBy: 'ops' })

    const listed: { status: string; starts_at: string }[] = []
    let cursor: string | null = null
    do {
      const page: { data: { data: { status: string; starts_at: string }[]; page: { next: string | null } } } =
        await harness().client.read.call('maintenance.list', {
          params: { blog_id: blogId },
          query: { limit: 1, ...(cursor ? { cursor } : {}) },
        })
      listed.push(...page.data.data)
      cursor = page.data.page.next
    } while (cursor)
    expect(listed.map((window) => window.status)).toEqual(['future', 'current', 'past'])

    const detail = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
    expect(detail.data).toMatchObject({ current_state: 'Maintenance', maintenance: { id: current.data.id } })
    // The monitor re-reads windows itself: no endpoint_changed rows for them.
    expect(await changeCount(endpointId)).toBe(changesBefore)

    expect((await write.call('maintenance.delete', { params: { id: current.data.id } })).status).toBe(204)
    const after = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
    expect(after.data).toMatchObject({ current_state: 'Up', maintenance: null })
    await expectError(
      write.call('maintenance.delete', { params: { id: current.data.id } }),
      404,
      'maintenance_window_not_found',
    )
  })

  it('answers 422 invalid_window, 404 endpoint_not_found and 404 site_not_found', async () => {
    const blogId = newBlogId()
    await createSite(blogId)
    const otherSite = await createSite(newBlogId())
    const write = harness().client.write
    const create = (body: { starts_at: string; ends_at: string; endpoint_id?: number | string }, blog = blogId) =>
      write.call('maintenance.create', { params: { blog_id: blog }, body })

    const equal = await expectError(create({ starts_at: iso(10), ends_at: iso(10) }), 422, 'invalid_window')
    expect(equal.details).toEqual([{ path: 'ends_at', message: 'starts_at must be before ends_at' }])
    await expectError(create({ starts_at: iso(30), ends_at: iso(10) }), 422, 'invalid_window')
    await expectError(create({ starts_at: iso(-30), ends_at: iso(-10) }), 422, 'invalid_window')
    // The endpoint must belong to the site.
    await expectError(
      create({ starts_at: iso(0), ends_at: iso(10), endpoint_id: otherSite.endpoints[0]!.endpoint_id }),
      404,
      'endpoint_not_found',
    )
    await expectError(create({ starts_at: iso(0), ends_at: iso(10) }, newBlogId()), 404, 'site_not_found')
    await expectError(
      harness().client.read.call('maintenance.list', { params: { blog_id: newBlogId() } }),
      404,
      'site_not_found',
    )
    const malformed = await harness().fetch(`/sites/${blogId}/maintenance-windows`, {
      method: 'POST',
      token: harness().tokens.write,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ starts_at: 'tomorrow', ends_at: iso(10), reason: 'x'.repeat(256) }),
    })
    expect(malformed.status).toBe(400)
    expect((await envelopeOf(malformed)).details?.map((detail) => detail.path).sort()).toEqual(['reason', 'starts_at'])
    expect(await db().select().from(maintenanceWindows).where(eq(maintenanceWindows.blogId, blogId))).toEqual([])
  })

  it('hides other tenants’ windows (404) and keeps each tenant to its own endpoints', async () => {
    const gateway = harness().client.gateway
    const mine = { headers: { 'X-Jetmon-Tenant-ID': 'tenant-m' } }
    const theirs = { headers: { 'X-Jetmon-Tenant-ID': 'tenant-t' } }
    const blogId = newBlogId()
    const site = await gateway.call(
      'sites.create',
      { body: { blog_id: Number(blogId), monitor_url: url(blogId) } },
      mine,
    )
    const window = await gateway.call(
      'maintenance.create',
      { params: { blog_id: blogId }, body: { starts_at: iso(0), ends_at: iso(10) } },
      mine,
    )
    const endpointId = site.data.endpoints[0]!.endpoint_id
    await expectError(
      gateway.call('maintenance.delete', { params: { id: window.data.id } }, theirs),
      404,
      'maintenance_window_not_found',
    )
    await expectError(
      gateway.call(
        'maintenance.create',
        { params: { blog_id: blogId }, body: { starts_at: iso(0), ends_at: iso(10) } },
        theirs,
      ),
      404,
      'site_not_found',
    )
    await expectError(
      gateway.call('endpoints.update', { params: { endpoint_id: endpointId }, body: { timeout_ms: 100 } }, theirs),
      404,
      'endpoint_not_found',
    )
    for (const route of ['endpoints.delete', 'endpoints.pause', 'endpoints.resume', 'endpoints.triggerNow'] as const) {
      await expectError(gateway.call(route, { params: { endpoint_id: endpointId } }, theirs), 404, 'endpoint_not_found')
    }
    await expectError(
      gateway.call(
        'sites.endpoints.create',
        { params: { blog_id: blogId }, body: { monitor_url: url(blogId, 'x') } },
        theirs,
      ),
      404,
      'site_not_found',
    )
    expect((await gateway.call('endpoints.get', { params: { endpoint_id: endpointId } }, mine)).status).toBe(200)
    expect((await gateway.call('maintenance.delete', { params: { id: window.data.id } }, mine)).status).toBe(204)
  })
})
