import { JetmonApiError, jsonId, type SiteDetail } from '@jetmon/api-client'
import { auditLog, endpointConfig, events, eventTransitions, monitorSites, siteTenants } from '@jetmon/db'
import { type Event, openEvent } from '@jetmon/eventstore'
import { bucketForEndpoint, type EndpointChange, EndpointSource } from '@jetmon/scheduler'
import { createObjective, getObjective } from '@jetmon/slo'
import { and, asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { EndpointProbe, ProbeResult } from '../src/index.js'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

/** Every trigger-now call the API makes, in order. */
const probeCalls: { endpoints: { endpointId: bigint; blogId: bigint }[]; source: string }[] = []
const probe: EndpointProbe = {
  async probe(endpoints, source) {
    probeCalls.push({ endpoints: endpoints.map((endpoint) => ({ ...endpoint })), source })
    return endpoints.map(
      (endpoint): ProbeResult => ({
        endpoint_id: jsonId(endpoint.endpointId),
        monitor_url: `probed:${endpoint.endpointId}`,
        success: true,
        http_code: 200,
        error_code: 0,
        error: null,
        error_detail: null,
        rtt_ms: 12,
        checked_at: '2026-05-01T12:00:00.000Z',
        outcome: 'ok',
      }),
    )
  },
}

// The request clock starts at 2026-05-01T12:00:00Z and only moves when a test moves it.
const harness = useTestApi({ manualClock: true, deps: { probe } })
const db = () => harness().database.db
const url = (blogId: bigint, path = '') => `https://site-${blogId}.example/${path}`

async function createSite(blogId: bigint, body: Record<string, unknown> = {}): Promise<SiteDetail> {
  const { status, data } = await harness().client.write.call('sites.create', {
    body: { blog_id: blogId.toString(), monitor_url: url(blogId), ...body },
  })
  expect(status).toBe(201)
  return data
}

async function openOn(blogId: bigint, endpointId: bigint | null, checkType = 'http', state = 'Seems Down') {
  const result = await openEvent({
    ctx: { db: db(), source: 'monitor:test' },
    input: { blogId, endpointId, checkType, state: state as Event['state'] },
  })
  return result.event
}

/** The `endpoint_changed` audit rows naming this endpoint, oldest first. */
async function changeRows(endpointId: bigint) {
  const rows = await db()
    .select()
    .from(auditLog)
    .where(eq(auditLog.eventType, 'endpoint_changed'))
    .orderBy(asc(auditLog.id))
  return rows.filter((row) => (row.metadata as { endpoint_id?: unknown } | null)?.endpoint_id === endpointId.toString())
}

async function configRow(endpointId: bigint) {
  const [row] = await db().select().from(endpointConfig).where(eq(endpointConfig.endpointId, endpointId))
  return row
}

async function siteRows(blogId: bigint) {
  return db().select().from(monitorSites).where(eq(monitorSites.blogId, blogId)).orderBy(asc(monitorSites.endpointId))
}

async function expectError(promise: Promise<unknown>, status: number, code: string): Promise<JetmonApiError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${status} ${code}, got a success`)
    },
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(JetmonApiError)
  expect(error).toMatchObject({ status, code })
  return error as JetmonApiError
}

const endpointIdOf = (site: SiteDetail, index = 0) => BigInt(site.endpoints[index]!.endpoint_id)

describe('POST /sites', () => {
  it('creates the site with its first endpoint, effective defaults, and announces it to the monitor', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId, {
      check_keyword: 'Welcome',
      custom_headers: { Authorization: 'Bearer top-secret-value', 'X-Trace': 'on' },
      forbidden_keywords: ['Fatal error'],
    })
    const endpointId = endpointIdOf(site)
    expect(site).toMatchObject({
      blog_id: Number(blogId),
      monitor_url: url(blogId),
      endpoint_count: 1,
      active_endpoint_count: 1,
      monitor_active: true,
      current_state: 'Up',
      current_severity: 0,
      active_event_id: null,
      last_checked_at: null,
      active_events: [],
      maintenance: null,
      confirmation: null,
    })
    expect(site.endpoints[0]).toEqual({
      endpoint_id: Number(endpointId),
      blog_id: Number(blogId),
      monitor_url: url(blogId),
      monitor_active: true,
      // New endpoints get the monitor's hash of their id (docs/operations.md).
      bucket_no: bucketForEndpoint(endpointId),
      check_interval_sec: 300,
      timeout_ms: 10_000,
      request_method: 'GET',
      detection_profile: 'full',
      redirect_policy: 'follow',
      max_redirects: 10,
      check_keyword: 'Welcome',
      forbidden_keywords: ['Fatal error'],
      keyword_case_sensitive: true,
      custom_header_names: ['Authorization', 'X-Trace'],
      latency_threshold_ms: null,
      tls_expiry_warn_days: 30,
      alert_cooldown_minutes: 30,
      current_state: 'Up',
      current_severity: 0,
      active_event_id: null,
      runtime: {
        last_checked_at: null,
        last_http_code: null,
        last_error_code: null,
        ssl_expires_at: null,
        tls_version: null,
      },
      config_updated_at: '2026-05-01T12:00:00.000Z',
    })
    // Header values are write-only: stored for the checker, never answered.
    expect(JSON.stringify(site)).not.toContain('top-secret-value')
    const config = await configRow(endpointId)
    expect(config?.customHeaders).toEqual({ Authorization: 'Bearer top-secret-value', 'X-Trace': 'on' })
    expect(config?.updatedAt.toISOString()).toBe('2026-05-01T12:00:00.000Z')
    const [row] = await siteRows(blogId)
    expect(row).toMatchObject({ monitorActive: 1, checkInterval: 5, bucketNo: bucketForEndpoint(endpointId) })

    const changes = await changeRows(endpointId)
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({
      blogId,
      eventType: 'endpoint_changed',
      source: 'api:test-write',
      metadata: { endpoint_id: endpointId.toString() },
    })
  })

  it('answers 409 site_exists for a URL the blog already monitors, and adds a different URL as another endpoint', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const error = await expectError(
      harness().client.write.call('sites.create', { body: { blog_id: Number(blogId), monitor_url: url(blogId) } }),
      409,
      'site_exists',
    )
    expect(error.message).toContain(String(endpointIdOf(site)))
    // Another URL of the same blog: the site gains an endpoint. URL comparison is byte-exact.
    const second = await createSite(blogId, { monitor_url: url(blogId, 'Login') })
    expect(second.endpoint_count).toBe(2)
    expect(second.monitor_url).toBe(url(blogId))
    const third = await createSite(blogId, { monitor_url: url(blogId, 'login') })
    expect(third.endpoints.map((endpoint) => endpoint.monitor_url)).toEqual([
      url(blogId),
      url(blogId, 'Login'),
      url(blogId, 'login'),
    ])
  })

  it('monitors a deleted URL again (same endpoint, configuration from the request) instead of adding a twin', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId, { timeout_ms: 5000, bucket_no: 17 })
    const endpointId = endpointIdOf(site)
    await harness().client.write.call('sites.delete', { params: { blog_id: blogId } })
    const again = await createSite(blogId, { check_interval_sec: 60 })
    expect(again.endpoints).toHaveLength(1)
    expect(again.endpoints[0]).toMatchObject({
      endpoint_id: Number(endpointId),
      monitor_active: true,
      timeout_ms: 10_000,
      check_interval_sec: 60,
      bucket_no: 17,
    })
    expect(await changeRows(endpointId)).toHaveLength(3)
  })

  it('admits one of several concurrent creates of the same URL; the others get 409 site_exists', async () => {
    const blogId = newBlogId()
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        harness().client.write.call('sites.create', { body: { blog_id: Number(blogId), monitor_url: url(blogId) } }),
      ),
    )
    const statuses = attempts.map((attempt) =>
      attempt.status === 'fulfilled' ? attempt.value.status : (attempt.reason as JetmonApiError).code,
    )
    expect(statuses.filter((status) => status === 201)).toHaveLength(1)
    expect(statuses.filter((status) => status === 'site_exists')).toHaveLength(5)
    expect(await siteRows(blogId)).toHaveLength(1)
  })

  it('round-trips blog ids above 2^53 exactly', async () => {
    const big = 2n ** 53n + 1n
    const max = 2n ** 64n - 1n
    for (const blogId of [big, max]) {
      const site = await createSite(blogId)
      expect(site.blog_id).toBe(blogId.toString())
      expect(site.endpoints[0]!.blog_id).toBe(blogId.toString())
      const got = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
      expect(got.data.blog_id).toBe(blogId.toString())
      const [row] = await siteRows(blogId)
      expect(row?.blogId).toBe(blogId)
    }
    const listed = await harness().client.read.call('sites.list', {
      query: { cursor: Buffer.from(JSON.stringify([(big - 1n).toString()])).toString('base64url'), limit: 5 },
    })
    expect(listed.data.data.map((item) => item.blog_id)).toEqual([big.toString(), max.toString()])
  })

  it('rejects unsupported values with 400 invalid_request naming each field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ monitor_url: 'ftp://example.com/' }, 'monitor_url'],
      [{ monitor_url: 'https://' }, 'monitor_url'],
      [{ monitor_url: 'example.com' }, 'monitor_url'],
      [{ monitor_url: 'https://user:pw@example.com/' }, 'monitor_url'],
      [{ timeout_ms: 0 }, 'timeout_ms'],
      [{ timeout_ms: 300_001 }, 'timeout_ms'],
      [{ check_interval_sec: 1.5 }, 'check_interval_sec'],
      [{ request_method: 'POST' }, 'request_method'],
      [{ detection_profile: 'strict' }, 'detection_profile'],
      [{ redirect_policy: 'never' }, 'redirect_policy'],
      [{ max_redirects: 51 }, 'max_redirects'],
      [{ forbidden_keywords: ['ok', 7] }, 'forbidden_keywords.1'],
      [{ forbidden_keywords: 'Fatal' }, 'forbidden_keywords'],
      [{ keyword_case_sensitive: 'yes' }, 'keyword_case_sensitive'],
      [{ custom_headers: { 'Bad Header': 'x' } }, 'custom_headers.Bad Header'],
      [{ custom_headers: { 'X-A': 'line\r\nbreak' } }, 'custom_headers.X-A'],
      [{ custom_headers: { 'Content-Length': '5' } }, 'custom_headers.Content-Length'],
      [{ custom_headers: { 'X-A': '1', 'x-a': '2' } }, 'custom_headers'],
      [{ custom_headers: ['X-A'] }, 'custom_headers.0'],
      [{ custom_headers: 'X-A: 1' }, 'custom_headers'],
      [{ latency_threshold_ms: -1 }, 'latency_threshold_ms'],
      [{ tls_expiry_warn_days: 65_536 }, 'tls_expiry_warn_days'],
      [{ alert_cooldown_minutes: 'soon' }, 'alert_cooldown_minutes'],
      [{ bucket_no: 65_536 }, 'bucket_no'],
      [{ check_keyword: 'x'.repeat(501) }, 'check_keyword'],
      [{ nonsense: true }, 'nonsense'],
      [{ blog_id: 0 }, 'blog_id'],
      [{ blog_id: '18446744073709551616' }, 'blog_id'],
    ]
    for (const [fields, path] of cases) {
      const response = await harness().fetch('/sites', {
        method: 'POST',
        token: harness().tokens.write,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ blog_id: 77, monitor_url: 'https://ok.example/', ...fields }),
      })
      expect(response.status, JSON.stringify(fields)).toBe(400)
      const error = await envelopeOf(response)
      expect(error.code).toBe('invalid_request')
      expect(
        error.details?.map((detail) => detail.path),
        JSON.stringify(fields),
      ).toContain(path)
    }
    // Nothing was created.
    expect(await siteRows(77n)).toEqual([])
  })
})

describe('GET /sites/{blog_id}', () => {
  it('answers 404 site_not_found for a blog without endpoints', async () => {
    await expectError(
      harness().client.read.call('sites.get', { params: { blog_id: newBlogId() } }),
      404,
      'site_not_found',
    )
  })
})

describe('PATCH /sites/{blog_id}', () => {
  it('applies configuration fields to every endpoint, bumps their config updated_at and announces each', async () => {
    const blogId = newBlogId()
    await createSite(blogId, { timeout_ms: 2000 })
    const site = await createSite(blogId, { monitor_url: url(blogId, 'api') })
    const [first, second] = [endpointIdOf(site, 0), endpointIdOf(site, 1)]
    harness().clock.advance(60_000)
    const { data } = await harness().client.write.call('sites.update', {
      params: { blog_id: blogId },
      body: {
        check_interval_sec: 30,
        redirect_policy: 'fail',
        custom_headers: { 'X-Token': 'hidden' },
        latency_threshold_ms: 1500,
        keyword_case_sensitive: false,
        timeout_ms: null,
      },
    })
    for (const endpoint of data.endpoints) {
      expect(endpoint).toMatchObject({
        check_interval_sec: 30,
        redirect_policy: 'fail',
        custom_header_names: ['X-Token'],
        latency_threshold_ms: 1500,
        keyword_case_sensitive: false,
        // null = back to the default
        timeout_ms: 10_000,
        config_updated_at: '2026-05-01T12:01:00.000Z',
      })
    }
    for (const endpointId of [first, second]) {
      expect((await configRow(endpointId))?.updatedAt.toISOString()).toBe('2026-05-01T12:01:00.000Z')
      const changes = await changeRows(endpointId)
      expect(changes.at(-1)).toMatchObject({ blogId, source: 'api:test-write' })
    }
    expect(await changeRows(first)).toHaveLength(2)
    expect(await changeRows(second)).toHaveLength(2)

    // An empty PATCH changes nothing and announces nothing.
    const unchanged = await harness().client.write.call('sites.update', { params: { blog_id: blogId }, body: {} })
    expect(unchanged.data.endpoints[0]!.check_interval_sec).toBe(30)
    expect(await changeRows(first)).toHaveLength(2)
  })

  it('monitor_active: false pauses the whole site and closes its open events', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const event = await openOn(blogId, endpointIdOf(site))
    const { data } = await harness().client.write.call('sites.update', {
      params: { blog_id: blogId },
      body: { monitor_active: false },
    })
    expect(data).toMatchObject({ current_state: 'Paused', monitor_active: false, active_events: [] })
    const [closed] = await db().select().from(events).where(eq(events.id, event.id))
    expect(closed?.resolutionReason).toBe('manual_override')
  })

  it('schedules, moves and ends maintenance with maintenance_start / maintenance_end', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = endpointIdOf(site)
    const before = (await changeRows(endpointId)).length
    const write = harness().client.write
    const now = harness().clock.now().getTime()
    const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString()

    const scheduled = await write.call('sites.update', {
      params: { blog_id: blogId },
      body: { maintenance_start: iso(-60_000), maintenance_end: iso(3_600_000) },
    })
    expect(scheduled.data.current_state).toBe('Maintenance')
    expect(scheduled.data.endpoints[0]!.current_state).toBe('Maintenance')
    expect(scheduled.data.maintenance).toMatchObject({
      endpoint_id: null,
      starts_at: iso(-60_000),
      ends_at: iso(3_600_000),
      created_by: 'test-write',
      status: 'current',
    })

    const moved = await write.call('sites.update', {
      params: { blog_id: blogId },
      body: { maintenance_end: iso(7_200_000) },
    })
    expect(moved.data.maintenance?.ends_at).toBe(iso(7_200_000))

    const ended = await write.call('sites.update', { params: { blog_id: blogId }, body: { maintenance_end: null } })
    expect(ended.data).toMatchObject({ current_state: 'Up', maintenance: null })
    const windows = await write.call('maintenance.list', { params: { blog_id: blogId } })
    expect(windows.data.data).toHaveLength(1)
    expect(windows.data.data[0]).toMatchObject({ ends_at: iso(0), status: 'past' })
    // Windows are not endpoint configuration: the monitor re-reads them on its own.
    expect(await changeRows(endpointId)).toHaveLength(before)

    // Nothing covers the site now: moving an end is impossible; ending is a no-op.
    await expectError(
      write.call('sites.update', { params: { blog_id: blogId }, body: { maintenance_end: iso(60_000) } }),
      422,
      'invalid_window',
    )
    await write.call('sites.update', { params: { blog_id: blogId }, body: { maintenance_end: null } })
  })

  it('answers 422 invalid_window, 400 invalid_request and 404 site_not_found', async () => {
    const blogId = newBlogId()
    await createSite(blogId)
    const write = harness().client.write
    const now = harness().clock.now().getTime()
    const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString()
    const backwards = await expectError(
      write.call('sites.update', {
        params: { blog_id: blogId },
        body: { maintenance_start: iso(3_600_000), maintenance_end: iso(60_000) },
      }),
      422,
      'invalid_window',
    )
    expect(backwards.details?.[0]?.path).toBe('maintenance_end')
    await expectError(
      write.call('sites.update', {
        params: { blog_id: blogId },
        body: { maintenance_start: iso(-7_200_000), maintenance_end: iso(-3_600_000) },
      }),
      422,
      'invalid_window',
    )
    const missingEnd = await expectError(
      write.call('sites.update', { params: { blog_id: blogId }, body: { maintenance_start: iso(0) } }),
      400,
      'invalid_request',
    )
    expect(missingEnd.details?.[0]?.path).toBe('maintenance_end')
    const badField = await expectError(
      write.call('sites.update', { params: { blog_id: blogId }, body: { monitor_url: url(blogId) } as never }),
      400,
      'invalid_request',
    )
    expect(badField.details?.[0]).toEqual({ path: 'monitor_url', message: 'is not a known field' })
    await expectError(
      write.call('sites.update', { params: { blog_id: newBlogId() }, body: { timeout_ms: 100 } }),
      404,
      'site_not_found',
    )
  })
})

describe('DELETE /sites/{blog_id}, pause and resume', () => {
  it("DELETE deactivates the site's service level objectives, and only that site's", async () => {
    const blogId = newBlogId()
    const other = newBlogId()
    await createSite(blogId)
    await createSite(other)
    const ctx = { ctx: { db: db() }, tenantId: null, createdBy: 'test' }
    const fields = { sli: 'availability', target: 99.9, window: '30d' }
    const mine = await createObjective({
      ...ctx,
      fields: { ...fields, name: `uptime-${blogId}`, blog_id: Number(blogId) },
    })
    const theirs = await createObjective({
      ...ctx,
      fields: { ...fields, name: `uptime-${other}`, blog_id: Number(other) },
    })
    expect((await harness().client.write.call('sites.delete', { params: { blog_id: blogId } })).status).toBe(204)
    expect(await getObjective({ ctx: { db: db() }, tenantId: null, id: mine.id })).toMatchObject({ active: false })
    expect(await getObjective({ ctx: { db: db() }, tenantId: null, id: theirs.id })).toMatchObject({ active: true })
  })

  it('DELETE closes every open event with manual_override, deactivates every endpoint and answers 204', async () => {
    const blogId = newBlogId()
    await createSite(blogId)
    const site = await createSite(blogId, { monitor_url: url(blogId, 'shop') })
    const endpointEvent = await openOn(blogId, endpointIdOf(site, 1))
    const siteEvent = await openOn(blogId, null, 'tls_expiry', 'Warning')
    harness().clock.advance(1_000)
    const response = await harness().client.write.call('sites.delete', { params: { blog_id: blogId } })
    expect(response.status).toBe(204)
    expect(response.data).toBeUndefined()

    for (const event of [endpointEvent, siteEvent]) {
      const [row] = await db().select().from(events).where(eq(events.id, event.id))
      expect(row?.endedAt).not.toBeNull()
      expect(row?.resolutionReason).toBe('manual_override')
      const transitions = await db()
        .select()
        .from(eventTransitions)
        .where(eq(eventTransitions.eventId, event.id))
        .orderBy(asc(eventTransitions.id))
      expect(transitions.at(-1)).toMatchObject({
        reason: 'manual_override',
        stateAfter: 'Resolved',
        source: 'api:test-write',
        changedAt: harness().clock.now(),
      })
    }
    expect((await siteRows(blogId)).map((row) => row.monitorActive)).toEqual([0, 0])
    for (const endpoint of site.endpoints) {
      const endpointId = BigInt(endpoint.endpoint_id)
      expect((await configRow(endpointId))?.updatedAt).toEqual(harness().clock.now())
      expect((await changeRows(endpointId)).at(-1)?.detail).toContain('deleted')
    }
    const after = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
    expect(after.data).toMatchObject({ current_state: 'Paused', monitor_active: false, active_events: [] })
    // Deleting again is harmless; an unknown blog is 404.
    expect((await harness().client.write.call('sites.delete', { params: { blog_id: blogId } })).status).toBe(204)
    await expectError(
      harness().client.write.call('sites.delete', { params: { blog_id: newBlogId() } }),
      404,
      'site_not_found',
    )
  })

  it('pause closes open events (manual_override); resume reactivates and reopens nothing', async () => {
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = endpointIdOf(site)
    const event = await openOn(blogId, endpointId, 'http', 'Down')
    const before = await harness().client.read.call('sites.get', { params: { blog_id: blogId } })
    expect(before.data).toMatchObject({ current_state: 'Down', current_severity: 4, active_event_id: Number(event.id) })

    harness().clock.advance(5_000)
    const paused = await harness().client.write.call('sites.pause', { params: { blog_id: blogId } })
    expect(paused.data).toMatchObject({ current_state: 'Paused', current_severity: 0, active_event_id: null })
    expect(paused.data.endpoints[0]).toMatchObject({ monitor_active: false, current_state: 'Paused' })
    const [closed] = await db().select().from(events).where(eq(events.id, event.id))
    expect(closed).toMatchObject({ resolutionReason: 'manual_override', endedAt: harness().clock.now() })
    // The legacy projection went back to "up" with the close.
    expect((await siteRows(blogId))[0]).toMatchObject({ monitorActive: 0, siteStatus: 1 })
    expect((await configRow(endpointId))?.updatedAt).toEqual(harness().clock.now())

    harness().clock.advance(5_000)
    const resumed = await harness().client.write.call('sites.resume', { params: { blog_id: blogId } })
    expect(resumed.data).toMatchObject({ current_state: 'Up', monitor_active: true, active_events: [] })
    expect((await siteRows(blogId))[0]?.monitorActive).toBe(1)
    expect(
      await db()
        .select()
        .from(events)
        .where(and(eq(events.blogId, blogId))),
    ).toHaveLength(1)
    expect((await configRow(endpointId))?.updatedAt).toEqual(harness().clock.now())
    expect((await changeRows(endpointId)).map((row) => row.detail)).toEqual([
      expect.stringContaining('created'),
      expect.stringContaining('paused'),
      expect.stringContaining('resumed'),
    ])

    for (const route of ['sites.pause', 'sites.resume'] as const) {
      await expectError(harness().client.write.call(route, { params: { blog_id: newBlogId() } }), 404, 'site_not_found')
    }
  })
})

describe('POST /sites/{blog_id}/trigger-now', () => {
  it('probes every active endpoint with the caller as source and returns the results', async () => {
    const blogId = newBlogId()
    await createSite(blogId)
    await createSite(blogId, { monitor_url: url(blogId, 'paused'), monitor_active: false })
    const site = await createSite(blogId, { monitor_url: url(blogId, 'api') })
    expect(site.endpoints.map((endpoint) => endpoint.monitor_active)).toEqual([true, false, true])
    const [first, , third] = site.endpoints.map((endpoint) => BigInt(endpoint.endpoint_id))
    const calls = probeCalls.length
    const { data } = await harness().client.write.call('sites.triggerNow', { params: { blog_id: blogId } })
    // Inactive endpoints are not checked.
    expect(probeCalls.slice(calls)).toEqual([
      {
        endpoints: [
          { endpointId: first, blogId },
          { endpointId: third, blogId },
        ],
        source: 'api:test-write',
      },
    ])
    expect(data.results.map((result) => result.outcome)).toEqual(['ok', 'ok'])
    expect(data.results[0]).toMatchObject({ endpoint_id: Number(first), success: true, http_code: 200 })
  })

  it('answers 409 site_paused when no endpoint is active and 404 for an unknown site', async () => {
    const blogId = newBlogId()
    await createSite(blogId)
    await harness().client.write.call('sites.pause', { params: { blog_id: blogId } })
    const calls = probeCalls.length
    await expectError(
      harness().client.write.call('sites.triggerNow', { params: { blog_id: blogId } }),
      409,
      'site_paused',
    )
    await expectError(
      harness().client.write.call('sites.triggerNow', { params: { blog_id: newBlogId() } }),
      404,
      'site_not_found',
    )
    expect(probeCalls).toHaveLength(calls)
  })
})

describe('the monitor picks API changes up incrementally', () => {
  it('EndpointSource.refresh sees creations, configuration changes and pauses made through the API', async () => {
    const source = new EndpointSource({ db: db(), lookbackMs: 0 })
    const changes: EndpointChange[] = []
    source.onChange((change) => changes.push(change))
    await source.setRanges([{ min: 0, max: source.bucketTotal - 1 }])
    const blogId = newBlogId()
    const site = await createSite(blogId)
    const endpointId = endpointIdOf(site)

    await source.refresh()
    expect(source.get(endpointId)).toMatchObject({ blogId, url: url(blogId), timeoutMs: 10_000 })

    await harness().client.write.call('sites.update', {
      params: { blog_id: blogId },
      body: { timeout_ms: 2500, custom_headers: { 'X-Key': 'k' } },
    })
    changes.length = 0
    await source.refresh()
    expect(
      changes.flatMap((change) => change.upserts).find((config) => config.endpointId === endpointId),
    ).toMatchObject({ timeoutMs: 2500, customHeaders: { 'X-Key': 'k' } })

    await harness().client.write.call('endpoints.pause', { params: { endpoint_id: endpointId } })
    changes.length = 0
    await source.refresh()
    expect(changes.flatMap((change) => change.removals)).toContain(endpointId)
    expect(source.get(endpointId)).toBeUndefined()

    await harness().client.write.call('sites.resume', { params: { blog_id: blogId } })
    await source.refresh()
    expect(source.get(endpointId)).toMatchObject({ timeoutMs: 2500 })
  })
})

describe('gateway tenancy', () => {
  const tenant = (id: string) => ({ headers: { 'X-Jetmon-Tenant-ID': id } })

  it('maps a site the gateway creates to its tenant in the same transaction, and hides it from other tenants', async () => {
    const gateway = harness().client.gateway
    const blogId = newBlogId()
    const created = await gateway.call(
      'sites.create',
      { body: { blog_id: blogId.toString(), monitor_url: url(blogId) } },
      tenant('tenant-a'),
    )
    expect(created.status).toBe(201)
    expect(await db().select().from(siteTenants).where(eq(siteTenants.blogId, blogId))).toMatchObject([
      { tenantId: 'tenant-a', blogId, source: 'gateway' },
    ])
    const mine = await gateway.call('sites.get', { params: { blog_id: blogId } }, tenant('tenant-a'))
    expect(mine.data.blog_id).toBe(Number(blogId))

    // Another tenant: 404 everywhere, and absent from its list.
    const other = tenant('tenant-b')
    await expectError(gateway.call('sites.get', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    await expectError(
      gateway.call('sites.update', { params: { blog_id: blogId }, body: { timeout_ms: 100 } }, other),
      404,
      'site_not_found',
    )
    await expectError(gateway.call('sites.delete', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    await expectError(gateway.call('sites.pause', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    await expectError(gateway.call('sites.resume', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    await expectError(gateway.call('sites.triggerNow', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    await expectError(
      gateway.call('sites.endpoints.list', { params: { blog_id: blogId } }, other),
      404,
      'site_not_found',
    )
    await expectError(
      gateway.call('endpoints.get', { params: { endpoint_id: created.data.endpoints[0]!.endpoint_id } }, other),
      404,
      'endpoint_not_found',
    )
    await expectError(gateway.call('maintenance.list', { params: { blog_id: blogId } }, other), 404, 'site_not_found')
    const otherList = await gateway.call('sites.list', {}, other)
    expect(otherList.data.data).toEqual([])
    const ownList = await gateway.call('sites.list', { query: { limit: 200 } }, tenant('tenant-a'))
    expect(ownList.data.data.map((item) => item.blog_id)).toEqual([Number(blogId)])
    // Another tenant cannot create on this blog (it is not told the URL exists), and no mapping is left behind.
    await expectError(
      gateway.call('sites.create', { body: { blog_id: Number(blogId), monitor_url: url(blogId) } }, other),
      404,
      'site_not_found',
    )
    expect(await db().select().from(siteTenants).where(eq(siteTenants.blogId, blogId))).toHaveLength(1)
  })
})
