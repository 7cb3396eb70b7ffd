import type { SiteSummary } from '@jetmon/api-client'
import { auditLog, endpointState, maintenanceWindows, monitorSites } from '@jetmon/db'
import { type Event, type EventState, openEvent } from '@jetmon/eventstore'
import { beforeAll, describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

// The request clock is fixed at 2026-05-01T12:00:00Z: windows below are placed around it.
const harness = useTestApi({ manualClock: true })
const NOW = Date.parse('2026-05-01T12:00:00.000Z')
const MIN = 60_000
const at = (minutes: number) => new Date(NOW + minutes * MIN)
const db = () => harness().database.db
const MARK = 'list-fixture'

async function addEndpoint(blogId: bigint, path = '', active = true): Promise<bigint> {
  const [row] = await db()
    .insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${MARK}-${blogId}.example/${path}`, monitorActive: active ? 1 : 0 })
    .$returningId()
  return BigInt(row!.endpointId)
}

async function open(
  blogId: bigint,
  endpointId: bigint | null,
  state: EventState,
  checkType = 'http',
  startedMinutesAgo = 10,
): Promise<Event> {
  const result = await openEvent({
    ctx: { db: db(), source: 'monitor:test', clock: () => at(-startedMinutesAgo) },
    input: { blogId, endpointId, checkType, state, startedAt: at(-startedMinutesAgo) },
  })
  return result.event
}

async function window(blogId: bigint, from: number, to: number, endpointId: bigint | null = null) {
  await db()
    .insert(maintenanceWindows)
    .values({ blogId, endpointId, startsAt: at(from), endsAt: at(to), createdBy: 'test' })
}

/**
 * One site per derived state (docs/events.md, "Site state"), all with URLs containing MARK:
 * up, down, seemsDown (a Seems Down http event and an older Warning: the worst is Seems Down),
 * paused (every endpoint inactive, with a leftover open event), maintenance (a site-wide window
 * now, over an open Warning), partial (a window covering only one of two active endpoints: not
 * Maintenance), mixed (one paused and one active endpoint: Up), degraded (a Degraded latency
 * event), endpointWindows (per-endpoint windows covering every active endpoint: Maintenance).
 */
const fx = {
  up: 0n,
  down: 0n,
  seemsDown: 0n,
  paused: 0n,
  maintenance: 0n,
  partial: 0n,
  mixed: 0n,
  degraded: 0n,
  endpointWindows: 0n,
  downEvent: null as unknown as Event,
  seemsDownEvent: null as unknown as Event,
  upEndpoints: [] as bigint[],
}

beforeAll(async () => {
  fx.up = newBlogId()
  const upFirst = await addEndpoint(fx.up)
  const upSecond = await addEndpoint(fx.up, 'api')
  fx.upEndpoints = [upFirst, upSecond]
  await db()
    .insert(endpointState)
    .values([
      { endpointId: upFirst, lastCheckedAt: at(-3), lastHttpCode: 200, lastErrorCode: 0 },
      { endpointId: upSecond, lastCheckedAt: at(-1), lastHttpCode: 200, lastErrorCode: 0 },
    ])

  fx.down = newBlogId()
  fx.downEvent = await open(fx.down, await addEndpoint(fx.down), 'Down')

  fx.seemsDown = newBlogId()
  const seemsDownEndpoint = await addEndpoint(fx.seemsDown)
  await open(fx.seemsDown, seemsDownEndpoint, 'Warning', 'tls_expiry', 60)
  fx.seemsDownEvent = await open(fx.seemsDown, await addEndpoint(fx.seemsDown, 'shop'), 'Seems Down')

  fx.paused = newBlogId()
  await open(fx.paused, await addEndpoint(fx.paused, '', false), 'Warning', 'tls_expiry')

  fx.maintenance = newBlogId()
  await open(fx.maintenance, await addEndpoint(fx.maintenance), 'Warning', 'tls_expiry')
  await window(fx.maintenance, -30, 30)
  await window(fx.maintenance, -300, -200)

  fx.partial = newBlogId()
  const partialFirst = await addEndpoint(fx.partial)
  await addEndpoint(fx.partial, 'two')
  await window(fx.partial, -30, 30, partialFirst)

  fx.mixed = newBlogId()
  await addEndpoint(fx.mixed, '', false)
  await addEndpoint(fx.mixed, 'live')

  fx.degraded = newBlogId()
  await open(fx.degraded, await addEndpoint(fx.degraded), 'Degraded', 'latency')

  fx.endpointWindows = newBlogId()
  const covered = [await addEndpoint(fx.endpointWindows), await addEndpoint(fx.endpointWindows, 'b')]
  await addEndpoint(fx.endpointWindows, 'inactive', false)
  await window(fx.endpointWindows, -10, 10, covered[0])
  await window(fx.endpointWindows, -5, 60, covered[1])
  // Other sites of the database (without MARK) must not disturb the filters below.
  for (let i = 0; i < 5; i++) {
    const blogId = newBlogId()
    const [other] = await db()
      .insert(monitorSites)
      .values({ blogId, monitorUrl: `https://other-${blogId}.example/` })
      .$returningId()
    await open(blogId, BigInt(other!.endpointId), 'Down')
  }
})

/** Every item of the list with these filters, following the cursors (`limit` per page). */
async function listAll(query: Record<string, string | number | boolean | string[]>, limit = 3) {
  const items: SiteSummary[] = []
  let cursor: string | null = null
  for (let page = 0; page < 100; page++) {
    const { data }: { data: { data: SiteSummary[]; page: { next: string | null; limit: number } } } =
      await harness().client.read.call('sites.list', { query: { ...query, limit, ...(cursor ? { cursor } : {}) } })
    expect(data.page.limit).toBe(limit)
    expect(data.data.length).toBeLessThanOrEqual(limit)
    items.push(...data.data)
    cursor = data.page.next
    if (cursor === null) return items
    // A page with a next cursor is full: filters run in SQL, not on a fetched page.
    expect(data.data).toHaveLength(limit)
  }
  throw new Error('too many pages')
}

const blogsOf = (items: readonly SiteSummary[]) => items.map((item) => BigInt(item.blog_id))
const ours = (items: readonly SiteSummary[]) => items.filter((item) => item.monitor_url.includes(MARK))

describe('GET /sites', () => {
  it('lists every site in blog_id order with its derived state, endpoint count, primary URL and last check', async () => {
    const items = ours(await listAll({}, 2))
    const all = [
      fx.up,
      fx.down,
      fx.seemsDown,
      fx.paused,
      fx.maintenance,
      fx.partial,
      fx.mixed,
      fx.degraded,
      fx.endpointWindows,
    ]
    expect(blogsOf(items)).toEqual(all)
    const byBlog = new Map(items.map((item) => [BigInt(item.blog_id), item]))
    expect(byBlog.get(fx.up)).toEqual({
      blog_id: Number(fx.up),
      monitor_url: `https://${MARK}-${fx.up}.example/`,
      endpoint_count: 2,
      active_endpoint_count: 2,
      monitor_active: true,
      current_state: 'Up',
      current_severity: 0,
      active_event_id: null,
      last_checked_at: at(-1).toISOString(),
    })
    expect(byBlog.get(fx.down)).toMatchObject({
      current_state: 'Down',
      current_severity: 4,
      active_event_id: Number(fx.downEvent.id),
    })
    expect(byBlog.get(fx.seemsDown)).toMatchObject({
      current_state: 'Seems Down',
      current_severity: 3,
      active_event_id: Number(fx.seemsDownEvent.id),
      endpoint_count: 2,
    })
    expect(byBlog.get(fx.paused)).toMatchObject({
      current_state: 'Paused',
      current_severity: 0,
      monitor_active: false,
      active_endpoint_count: 0,
    })
    expect(byBlog.get(fx.maintenance)).toMatchObject({ current_state: 'Maintenance', current_severity: 0 })
    expect(byBlog.get(fx.maintenance)?.active_event_id).not.toBeNull()
    expect(byBlog.get(fx.partial)).toMatchObject({ current_state: 'Up' })
    expect(byBlog.get(fx.mixed)).toMatchObject({
      current_state: 'Up',
      monitor_active: true,
      endpoint_count: 2,
      active_endpoint_count: 1,
    })
    expect(byBlog.get(fx.degraded)).toMatchObject({ current_state: 'Degraded', current_severity: 2 })
    expect(byBlog.get(fx.endpointWindows)).toMatchObject({ current_state: 'Maintenance' })

    // The list and the site detail derive the same state.
    for (const item of items) {
      const { data } = await harness().client.read.call('sites.get', { params: { blog_id: item.blog_id } })
      expect({
        ...data,
        endpoints: undefined,
        active_events: undefined,
        maintenance: undefined,
        confirmation: undefined,
      }).toEqual({
        ...item,
        endpoints: undefined,
        active_events: undefined,
        maintenance: undefined,
        confirmation: undefined,
      })
    }
  })

  it('reports the last check in UTC whatever the time zone of the process', async () => {
    // The database returns the time as UTC text; read as local time it would move by the offset.
    const zone = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      const items = ours(await listAll({}, 2))
      expect(items.find((item) => BigInt(item.blog_id) === fx.up)?.last_checked_at).toBe(at(-1).toISOString())
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })

  it('filters on the derived state in SQL: state, state__in, severity__gte, monitor_active, q', async () => {
    const cases: [Record<string, string | number | boolean | string[]>, bigint[]][] = [
      [{ state: 'Down' }, [fx.down]],
      [{ state__in: ['Down', 'Seems Down'] }, [fx.down, fx.seemsDown]],
      [{ state: 'Paused' }, [fx.paused]],
      [{ state: 'Maintenance' }, [fx.maintenance, fx.endpointWindows]],
      [{ state: 'Up' }, [fx.up, fx.partial, fx.mixed]],
      [{ state__in: ['Up', 'Degraded'] }, [fx.up, fx.partial, fx.mixed, fx.degraded]],
      [{ state__in: ['Maintenance', 'Warning'] }, [fx.maintenance, fx.endpointWindows]],
      [{ state: 'Unknown' }, []],
      [{ severity__gte: 2 }, [fx.down, fx.seemsDown, fx.degraded]],
      [{ severity__gte: 4 }, [fx.down]],
      [
        { severity__gte: 0 },
        [
          fx.up,
          fx.down,
          fx.seemsDown,
          fx.paused,
          fx.maintenance,
          fx.partial,
          fx.mixed,
          fx.degraded,
          fx.endpointWindows,
        ],
      ],
      [{ state: 'Down', severity__gte: 4 }, [fx.down]],
      [{ monitor_active: false }, [fx.paused]],
      [{ monitor_active: true, state: 'Up' }, [fx.up, fx.partial, fx.mixed]],
      [{ q: `${MARK}-${fx.mixed}.example/live` }, [fx.mixed]],
      [{ q: '/API' }, [fx.up]],
    ]
    for (const [query, expected] of cases) {
      expect(blogsOf(ours(await listAll(query, 1))), JSON.stringify(query)).toEqual(expected)
    }
    // Other sites' open events count too (those are Down without MARK).
    expect((await listAll({ state: 'Down' }, 50)).length).toBeGreaterThanOrEqual(6)
    // q matches literally: % and _ are not wildcards.
    expect(await listAll({ q: '%' })).toEqual([])
    expect(await listAll({ q: `${MARK}_` })).toEqual([])
  })

  it('rejects state with state__in, unknown states, bad severities and foreign cursors', async () => {
    const cases: [string, string][] = [
      ['state=Down&state__in=Up', 'query.state__in'],
      ['state=Sideways', 'query.state'],
      ['state__in=Up,Sideways', 'query.state__in.1'],
      ['severity__gte=5', 'query.severity__gte'],
      ['monitor_active=maybe', 'query.monitor_active'],
      ['limit=201', 'query.limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['sort=blog_id', 'query.sort'],
    ]
    for (const [query, path] of cases) {
      const response = await harness().fetch(`/sites?${query}`, { token: harness().tokens.read })
      expect(response.status, query).toBe(400)
      const error = await envelopeOf(response)
      expect(error.code).toBe('invalid_request')
      expect(error.details?.map((detail) => detail.path)).toContain(path)
    }
  })
})

describe('GET /sites/{blog_id}', () => {
  it('returns endpoints with runtime state, open events worst first and the current window', async () => {
    const { data } = await harness().client.read.call('sites.get', { params: { blog_id: fx.seemsDown } })
    expect(data.active_events.map((event) => [event.state, event.check_type])).toEqual([
      ['Seems Down', 'http'],
      ['Warning', 'tls_expiry'],
    ])
    expect(data.endpoints.map((endpoint) => endpoint.current_state)).toEqual(['Warning', 'Seems Down'])
    expect(data.active_events[0]).toMatchObject({
      id: Number(fx.seemsDownEvent.id),
      severity: 3,
      discriminator: null,
      started_at: at(-10).toISOString(),
    })

    const up = await harness().client.read.call('sites.get', { params: { blog_id: fx.up } })
    expect(up.data.endpoints[0]!.runtime).toEqual({
      last_checked_at: at(-3).toISOString(),
      last_http_code: 200,
      last_error_code: 0,
      ssl_expires_at: null,
      tls_version: null,
    })
    // A row without a configuration sidecar has every default.
    expect(up.data.endpoints[0]).toMatchObject({
      config_updated_at: null,
      check_interval_sec: 300,
      custom_header_names: [],
    })

    const maintenance = await harness().client.read.call('sites.get', { params: { blog_id: fx.maintenance } })
    expect(maintenance.data.maintenance).toMatchObject({
      endpoint_id: null,
      starts_at: at(-30).toISOString(),
      ends_at: at(30).toISOString(),
      status: 'current',
    })
    const partial = await harness().client.read.call('sites.get', { params: { blog_id: fx.partial } })
    expect(partial.data.current_state).toBe('Up')
    expect(partial.data.endpoints.map((endpoint) => endpoint.current_state)).toEqual(['Maintenance', 'Up'])
    expect(partial.data.maintenance?.endpoint_id).toBe(partial.data.endpoints[0]!.endpoint_id)
  })

  it('reports confirmation "unavailable" while the latest veriflier request of an open Seems Down event is inconclusive', async () => {
    const blogId = newBlogId()
    const event = await open(blogId, await addEndpoint(blogId), 'Seems Down')
    const get = async () => (await harness().client.read.call('sites.get', { params: { blog_id: blogId } })).data
    expect((await get()).confirmation).toBeNull()

    // What the monitor writes when fewer than a quorum of verifliers answered (pipeline.ts).
    const inconclusive = {
      blogId,
      eventId: event.id,
      eventType: 'veriflier_request',
      source: 'monitor:test',
      detail: 'confirmation unavailable: fewer than 2 usable veriflier answers',
      metadata: { outcome: 'inconclusive', confirmation: 'unavailable', votes: [], quorum: 2 },
    }
    await db().insert(auditLog).values(inconclusive)
    expect(await get()).toMatchObject({ current_state: 'Seems Down', confirmation: 'unavailable' })

    // A later answer that was not inconclusive clears the flag; another inconclusive one sets it again.
    await db()
      .insert(auditLog)
      .values({ ...inconclusive, metadata: { outcome: 'answered' } })
    expect((await get()).confirmation).toBeNull()
    await db().insert(auditLog).values(inconclusive)
    expect((await get()).confirmation).toBe('unavailable')

    // Only open Seems Down http events count: once the event is closed, the flag is gone.
    await harness().client.write.call('sites.pause', { params: { blog_id: blogId } })
    expect((await get()).confirmation).toBeNull()
  })
})
