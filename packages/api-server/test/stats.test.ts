import { auditLog, checkHistory, endpointState, maintenanceWindows, monitorSites, siteTenants } from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent, promoteEvent } from '@jetmon/eventstore'
import { timingBreakdown } from '@jetmon/history'
import { computeUptime, monitoredTime } from '@jetmon/read-models'
import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

// The request clock is fixed at 2026-05-01T12:00:00Z.
const harness = useTestApi({ manualClock: true })
const NOW = Date.parse('2026-05-01T12:00:00.000Z')
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

/** A time on 2026-04-30 (the measured day) as `hh:mm`; `-` before the day, `+` after it. */
function t(clock: string, dayOffset = 0): Date {
  const [h, m] = clock.split(':').map(Number)
  return new Date(Date.parse('2026-04-30T00:00:00.000Z') + dayOffset * DAY + h! * HOUR + m! * MIN)
}

function store(when: Date): EventStoreContext {
  return { db: harness().database.db, source: 'monitor:test', clock: () => when }
}

async function addEndpoint(blogId: bigint): Promise<bigint> {
  const [row] = await harness()
    .database.db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/${Math.random()}` })
    .$returningId()
  return BigInt(row!.endpointId)
}

/** An http incident: Seems Down at `start`, Down at `confirmed` (if given), closed at `end` (if given). */
async function httpIncident(
  blogId: bigint,
  endpointId: bigint,
  start: Date,
  confirmed: Date | null,
  end: Date | null,
  reason: 'verifier_cleared' | 'false_alarm' = 'verifier_cleared',
): Promise<bigint> {
  const { event } = await openEvent({
    ctx: store(start),
    input: { blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: start },
  })
  if (confirmed) {
    await promoteEvent({
      ctx: store(confirmed),
      input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
    })
  }
  if (end) await closeEvent({ ctx: store(end), input: { eventId: event.id, reason } })
  return event.id
}

async function veriflierRound(blogId: bigint, eventId: bigint, when: Date, outcome: string) {
  await harness().database.db.insert(auditLog).values({
    blogId,
    eventId,
    eventType: 'veriflier_request',
    source: 'monitor:test',
    metadata: { outcome },
    createdAt: when,
  })
}

/**
 * The measured day is 2026-04-30 00:00 → 2026-05-01 00:00 (86 400 s). Site `blogId` has endpoints
 * E1 and E2; every figure the test expects is worked out next to the event that produces it.
 */
const timeline = { blogId: 0n, e1: 0n, e2: 0n }

beforeAll(async () => {
  const blogId = newBlogId()
  const e1 = await addEndpoint(blogId)
  const e2 = await addEndpoint(blogId)
  Object.assign(timeline, { blogId, e1, e2 })
  const db = harness().database.db

  // (a) E1 down across the start of the day: 23:00 (day before) → Down 23:05 → closed 01:00.
  //     Down inside the day: 00:00–01:00 = 3 600 s. Incident length 7 200 s.
  await httpIncident(blogId, e1, t('23:00', -1), t('23:05', -1), t('01:00'))
  // (b) E1 false alarm 03:00 → 03:10: never confirmed, not downtime, not an incident.
  await httpIncident(blogId, e1, t('03:00'), null, t('03:10'), 'false_alarm')
  // (c) E2 05:00 Seems Down; verifliers inconclusive at 05:02 and 05:07; confirmed Down 05:20;
  //     closed 06:00. Unknown 05:02–05:20 (1 080 s); down 05:00–05:02 + 05:20–06:00 = 2 520 s.
  //     Incident length 3 600 s.
  const c = await httpIncident(blogId, e2, t('05:00'), t('05:20'), t('06:00'))
  await veriflierRound(blogId, c, t('05:02'), 'inconclusive')
  await veriflierRound(blogId, c, t('05:07'), 'inconclusive')
  // (e) E1 down 05:10 → 05:15 while (c) was unknown: the site is known to be down then.
  //     Down +300 s, unknown −300 s. Incident length 300 s.
  await httpIncident(blogId, e1, t('05:10'), t('05:11'), t('05:15'))
  // (d) E1 down 05:30 → 05:50, inside (c)'s downtime: counted once, so no extra down.
  //     Incident length 1 200 s.
  await httpIncident(blogId, e1, t('05:30'), t('05:31'), t('05:50'))
  // (h) E2 08:00 Seems Down, inconclusive 08:01, conclusive round 08:04, false alarm 08:05.
  //     Unknown 08:01–08:04 = 180 s; no downtime.
  const h = await httpIncident(blogId, e2, t('08:00'), null, t('08:05'), 'false_alarm')
  await veriflierRound(blogId, h, t('08:01'), 'inconclusive')
  await veriflierRound(blogId, h, t('08:04'), 'false_alarm')
  // (f) Site-wide maintenance 10:00–12:00 (7 200 s); E2 down 11:30 → Down 11:35 → 12:30:
  //     only 12:00–12:30 is downtime (1 800 s). Incident length 3 600 s.
  await db.insert(maintenanceWindows).values({ blogId, startsAt: t('10:00'), endsAt: t('12:00'), createdBy: 'test' })
  await httpIncident(blogId, e2, t('11:30'), t('11:35'), t('12:30'))
  // (g) Maintenance of E1 alone 14:00–15:00: not site maintenance (E2 is not covered). E1 down
  //     14:30 → 15:30: only 15:00–15:30 is downtime (1 800 s). Incident length 3 600 s.
  await db
    .insert(maintenanceWindows)
    .values({ blogId, endpointId: e1, startsAt: t('14:00'), endsAt: t('15:00'), createdBy: 'test' })
  await httpIncident(blogId, e1, t('14:30'), t('14:31'), t('15:30'))
  // (i) E2 latency Degraded 20:00–22:00: 7 200 s degraded.
  const slow = await openEvent({
    ctx: store(t('20:00')),
    input: { blogId, endpointId: e2, checkType: 'latency', state: 'Degraded', startedAt: t('20:00') },
  })
  await closeEvent({ ctx: store(t('22:00')), input: { eventId: slow.event.id, reason: 'probe_cleared' } })
  // (j) E2 down from 23:30, still open at the request time (12:00 next day): 1 800 s inside the day.
  //     Its length so far, 12.5 h = 45 000 s, is the longest incident.
  await httpIncident(blogId, e2, t('23:30'), t('23:31'), null)
  // (k) E1 certificate Warning since the day before, still open: warning whenever nothing worse.
  await openEvent({
    ctx: store(t('12:00', -1)),
    input: { blogId, endpointId: e1, checkType: 'tls_expiry', state: 'Warning', startedAt: t('12:00', -1) },
  })
})

const DAY_QUERY = { from: t('00:00').toISOString(), to: t('00:00', 1).toISOString() }

describe('GET /sites/{blog_id}/uptime', () => {
  it('computes the site’s figures on a hand-built day', async () => {
    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: timeline.blogId },
      query: DAY_QUERY,
    })
    const total = 86_400
    const maintenance = 7_200 // (f)
    const down = 3_600 + 2_520 + 300 + 0 + 1_800 + 1_800 + 1_800 // a c e d f g j
    const unknown = 1_080 - 300 + 180 // c − e, h
    const degraded = 7_200 // i
    // (k), wherever nothing worse happens — except 14:00–15:00, when E1 (the certificate's endpoint)
    // was in its own maintenance and the site was up.
    const warning = total - maintenance - down - unknown - degraded - 3_600
    const incidents = [7_200, 3_600, 300, 1_200, 3_600, 3_600] // a c e d f g (ended); j is open
    expect(data).toEqual({
      window: { from: DAY_QUERY.from, to: DAY_QUERY.to },
      endpoint_id: null,
      uptime_percent: expect.closeTo(100 * (1 - down / (total - maintenance - unknown)), 5),
      total_seconds: total,
      down_seconds: down,
      degraded_seconds: degraded,
      warning_seconds: warning,
      maintenance_seconds: maintenance,
      unknown_seconds: unknown,
      incident_count: 7,
      mttr_seconds: incidents.reduce((a, b) => a + b) / incidents.length,
      mtbf_seconds: expect.closeTo((total - down) / 7, 2),
      longest_incident_seconds: 45_000,
    })
    expect(down).toBe(11_820)
    expect(warning).toBe(55_620)
  })

  it('computes one endpoint’s figures with its own maintenance windows', async () => {
    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: timeline.blogId },
      query: { ...DAY_QUERY, endpoint_id: Number(timeline.e1) },
    })
    const total = 86_400
    const maintenance = 7_200 + 3_600 // site-wide (f) and E1's own (g)
    const down = 3_600 + 300 + 1_200 + 1_800 // a e d g: (d) no longer overlaps E2's (c)
    expect(data).toMatchObject({
      endpoint_id: Number(timeline.e1),
      total_seconds: total,
      maintenance_seconds: maintenance,
      down_seconds: down,
      unknown_seconds: 0,
      degraded_seconds: 0,
      warning_seconds: total - maintenance - down,
      incident_count: 4,
      mttr_seconds: (7_200 + 300 + 1_200 + 3_600) / 4,
      longest_incident_seconds: 7_200,
    })
    expect(data.uptime_percent).toBeCloseTo(100 * (1 - down / (total - maintenance)), 5)
    expect(data.mtbf_seconds).toBeCloseTo((total - down) / 4, 2)
  })

  it('measures a window ending now, and a quiet site as fully up', async () => {
    const h = harness()
    const { data } = await h.client.read.call('stats.uptime', {
      params: { blog_id: timeline.blogId },
      query: { window: '1h' },
    })
    // 11:00–12:00 on May 1st: (j) has been down all along, and (k)'s Warning is outranked.
    expect(data).toMatchObject({
      window: { from: new Date(NOW - HOUR).toISOString(), to: new Date(NOW).toISOString() },
      total_seconds: 3_600,
      down_seconds: 3_600,
      warning_seconds: 0,
      uptime_percent: 0,
      incident_count: 1,
      mttr_seconds: null,
    })

    const quiet = newBlogId()
    await addEndpoint(quiet)
    const calm = await h.client.read.call('stats.uptime', { params: { blog_id: quiet }, query: { window: '30d' } })
    expect(calm.data).toMatchObject({
      total_seconds: 30 * 86_400,
      down_seconds: 0,
      uptime_percent: 100,
      incident_count: 0,
      mttr_seconds: null,
      mtbf_seconds: null,
      longest_incident_seconds: null,
    })
  })

  it('reports no percentage when maintenance covers the whole period', async () => {
    const blogId = newBlogId()
    await addEndpoint(blogId)
    await harness()
      .database.db.insert(maintenanceWindows)
      .values({ blogId, startsAt: t('00:00'), endsAt: t('00:00', 1), createdBy: 'test' })
    const { data } = await harness().client.read.call('stats.uptime', { params: { blog_id: blogId }, query: DAY_QUERY })
    expect(data).toMatchObject({ maintenance_seconds: 86_400, uptime_percent: null })
  })
})

describe('computeUptime', () => {
  it('keeps the precedence maintenance > down > unknown > degraded > warning on overlapping spans', () => {
    const figures = computeUptime({
      from: 0,
      to: 100,
      now: 1_000,
      endpointId: null,
      siteEndpointIds: [1n, 2n],
      events: [
        { id: 1n, endpointId: 1n, state: 'Down', startedAt: 10, endedAt: 40 },
        { id: 2n, endpointId: 2n, state: 'Warning', startedAt: 0, endedAt: null },
        { id: 3n, endpointId: 2n, state: 'Degraded', startedAt: 30, endedAt: 60 },
        { id: 4n, endpointId: 2n, state: 'Seems Down', startedAt: 35, endedAt: 70 },
      ],
      changes: [
        { eventId: 1n, stateAfter: 'Seems Down', changedAt: 10 },
        { eventId: 1n, stateAfter: 'Down', changedAt: 12 },
        { eventId: 1n, stateAfter: 'Resolved', changedAt: 40 },
        { eventId: 2n, stateAfter: 'Warning', changedAt: 0 },
        { eventId: 3n, stateAfter: 'Degraded', changedAt: 30 },
        { eventId: 3n, stateAfter: 'Resolved', changedAt: 60 },
        { eventId: 4n, stateAfter: 'Seems Down', changedAt: 35 },
        { eventId: 4n, stateAfter: 'Resolved', changedAt: 70 },
      ],
      rounds: [{ eventId: 4n, at: 36, inconclusive: true }],
      windows: [
        { endpointId: null, startsAt: 90, endsAt: 95 },
        { endpointId: 1n, startsAt: 0, endsAt: 15 },
        { endpointId: 2n, startsAt: 5, endsAt: 12 },
      ],
    })
    // Maintenance: 90–95 site-wide, plus 5–12 when both endpoints' windows overlap.
    expect(figures.maintenanceMs).toBe(5 + 7)
    // Down: event 1 from 15 (after E1's window) to 40.
    expect(figures.downMs).toBe(25)
    // Unknown: event 4 from 36 to its close at 70, less the down time 36–40.
    expect(figures.unknownMs).toBe(30)
    // Degraded: 30–60, less down (to 40) and unknown (from 40): nothing left.
    expect(figures.degradedMs).toBe(0)
    // Warning: the rest of 0–100 except E2's own window 5–12: 0–5, 12–15 (E1 in maintenance alone), 70–90, 95–100.
    expect(figures.warningMs).toBe(5 + 3 + 20 + 5)
    // Eligible (an availability objective's denominator): total less maintenance and unknown.
    expect(figures.eligibleMs).toBe(100 - 12 - 30)
    expect(figures.uptimePercent).toBeCloseTo(100 * (1 - 25 / (100 - 12 - 30)), 10)
    expect(figures.incidentCount).toBe(1)
    expect(figures.mttrMs).toBe(30)
  })
})

/** Nearest rank, as docs/statistics.md defines it: the value at rank ceil(p/100 · n) of the sorted values. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!
}

describe('GET /sites/{blog_id}/response-time and /timing-breakdown', () => {
  const history = { blogId: 0n, e1: 0n, e2: 0n }
  interface Row {
    endpointId: bigint
    checkedAt: Date
    vantage: string
    errorCode: number
    rttMs: number | null
    dnsMs: number | null
    tcpMs: number | null
    tlsMs: number | null
    ttfbMs: number | null
  }
  const rows: Row[] = []

  beforeAll(async () => {
    history.blogId = newBlogId()
    history.e1 = await addEndpoint(history.blogId)
    history.e2 = await addEndpoint(history.blogId)
    // Two days of checks every 10 minutes per endpoint, inside retention, with some failures, some
    // plain-http checks (no TLS time), and veriflier checks that must not count.
    for (let i = 0; i < 288; i++) {
      for (const endpointId of [history.e1, history.e2]) {
        const n = i * 2 + Number(endpointId % 2n)
        const failed = n % 17 === 0
        const rtt = 40 + ((n * 7919) % 613)
        rows.push({
          endpointId,
          checkedAt: new Date(NOW - 2 * DAY + i * 10 * MIN),
          vantage: n % 23 === 0 ? 'veriflier-eu' : 'local',
          errorCode: failed ? 2 : n % 29 === 0 ? 7 : 0,
          rttMs: failed ? null : rtt,
          dnsMs: failed ? null : 1 + (n % 9),
          tcpMs: failed ? null : 3 + ((n * 31) % 40),
          tlsMs: failed || endpointId === history.e2 ? null : 10 + ((n * 13) % 70),
          ttfbMs: failed ? null : Math.floor(rtt / 2),
        })
      }
    }
    await harness()
      .database.db.insert(checkHistory)
      .values(
        rows.map((row) => ({
          ...row,
          blogId: history.blogId,
          method: 'GET',
          httpCode: row.errorCode === 2 ? null : 200,
        })),
      )
  })

  const inWindow = (from: number, to: number, endpointId?: bigint) =>
    rows.filter(
      (row) =>
        row.vantage === 'local' &&
        row.errorCode !== 2 &&
        +row.checkedAt >= from &&
        +row.checkedAt < to &&
        (endpointId === undefined || row.endpointId === endpointId),
    )
  const values = (list: Row[], column: keyof Row) =>
    list.map((row) => row[column]).filter((value): value is number => typeof value === 'number')

  it('answers nearest-rank percentiles of the successful local checks', async () => {
    const { data } = await harness().client.read.call('stats.responseTime', {
      params: { blog_id: history.blogId },
      query: { window: '24h' },
    })
    const rtts = values(inWindow(NOW - DAY, NOW), 'rttMs')
    expect(rtts.length).toBeGreaterThan(200)
    expect(data).toEqual({
      window: { from: new Date(NOW - DAY).toISOString(), to: new Date(NOW).toISOString() },
      endpoint_id: null,
      vantage: 'local',
      samples: rtts.length,
      p50_ms: nearestRank(rtts, 50),
      p90_ms: nearestRank(rtts, 90),
      p95_ms: nearestRank(rtts, 95),
      p99_ms: nearestRank(rtts, 99),
      max_ms: Math.max(...rtts),
      mean_ms: Math.round((rtts.reduce((a, b) => a + b) / rtts.length) * 100) / 100,
      source: 'raw',
    })

    const one = await harness().client.read.call('stats.responseTime', {
      params: { blog_id: history.blogId },
      query: {
        from: new Date(NOW - 2 * DAY).toISOString(),
        to: new Date(NOW).toISOString(),
        endpoint_id: Number(history.e2),
      },
    })
    const e2 = values(inWindow(NOW - 2 * DAY, NOW, history.e2), 'rttMs')
    expect(one.data).toMatchObject({ endpoint_id: Number(history.e2), samples: e2.length, p95_ms: nearestRank(e2, 95) })

    // Beyond the 30-day retention the rollups take over (there are none here, but the source says so).
    const long = await harness().client.read.call('stats.responseTime', {
      params: { blog_id: history.blogId },
      query: { window: '90d' },
    })
    expect(long.data.source).toBe('rollup')
  })

  it('breaks timings down per phase, each over the checks that completed it', async () => {
    const { data } = await harness().client.read.call('stats.timingBreakdown', {
      params: { blog_id: history.blogId },
      query: { window: '24h' },
    })
    const checks = inWindow(NOW - DAY, NOW)
    const phase = (column: keyof Row) => {
      const list = values(checks, column)
      return {
        samples: list.length,
        p50_ms: nearestRank(list, 50),
        p95_ms: nearestRank(list, 95),
        p99_ms: nearestRank(list, 99),
        max_ms: list.length ? Math.max(...list) : null,
      }
    }
    expect(data).toEqual({
      window: { from: new Date(NOW - DAY).toISOString(), to: new Date(NOW).toISOString() },
      endpoint_id: null,
      vantage: 'local',
      samples: checks.length,
      truncated: false,
      raw_from: new Date(NOW - DAY).toISOString(),
      dns: phase('dnsMs'),
      connect: phase('tcpMs'),
      tls: phase('tlsMs'),
      ttfb: phase('ttfbMs'),
      total: phase('rttMs'),
    })
    // Plain-http checks have no TLS time.
    expect(data.tls.samples).toBeLessThan(data.dns.samples)

    const plain = await harness().client.read.call('stats.timingBreakdown', {
      params: { blog_id: history.blogId },
      query: { window: '24h', endpoint_id: Number(history.e2) },
    })
    expect(plain.data.tls).toEqual({ samples: 0, p50_ms: null, p95_ms: null, p99_ms: null, max_ms: null })
    expect(plain.data.total.samples).toBe(values(inWindow(NOW - DAY, NOW, history.e2), 'rttMs').length)
  })

  it('answers nulls without samples, and reads only the retained part of a long window', async () => {
    const quiet = newBlogId()
    await addEndpoint(quiet)
    const { data } = await harness().client.read.call('stats.timingBreakdown', {
      params: { blog_id: quiet },
      query: { window: '90d' },
    })
    const empty = { samples: 0, p50_ms: null, p95_ms: null, p99_ms: null, max_ms: null }
    expect(data).toMatchObject({ samples: 0, truncated: false, dns: empty, total: empty })
    // Retention is 30 days, rounded up to the hour.
    expect(data.raw_from).toBe(new Date(Math.ceil((NOW - 30 * DAY) / HOUR) * HOUR).toISOString())
    const response = await harness().client.read.call('stats.responseTime', {
      params: { blog_id: quiet },
      query: { window: '1h' },
    })
    expect(response.data).toMatchObject({ samples: 0, p50_ms: null, max_ms: null, mean_ms: null, source: 'raw' })
  })

  it('reads at most maxSamples checks, the newest, and nothing in failures-only history mode', async () => {
    const db = harness().database.db
    const common = {
      ctx: { db },
      scope: { endpointId: history.e1 },
      from: new Date(NOW - DAY),
      to: new Date(NOW),
      now: new Date(NOW),
      retentionDays: 30,
    }
    const newest = inWindow(NOW - DAY, NOW, history.e1)
      .sort((a, b) => +b.checkedAt - +a.checkedAt)
      .slice(0, 5)
    const cut = await timingBreakdown({ ...common, maxSamples: 5 })
    expect(cut).toMatchObject({ checks: 5, truncated: true })
    expect(cut.phases.total.maxMs).toBe(Math.max(...values(newest, 'rttMs')))
    expect((await timingBreakdown({ ...common, historyMode: 'failures' })).checks).toBe(0)
  })
})

describe('vantages: the monitor and each veriflier', () => {
  const site = { blogId: 0n, endpointId: 0n }
  interface Check {
    vantage: string
    checkedAt: Date
    errorCode: number
    rttMs: number | null
  }
  const checks: Check[] = []

  beforeAll(async () => {
    site.blogId = newBlogId()
    site.endpointId = await addEndpoint(site.blogId)
    // The last day: the monitor every 10 minutes, v-eu every 30 minutes in confirmation rounds,
    // v-us five times and failing each time (no response time). One check of each veriflier
    // two days ago lies outside a 24 h window.
    for (let i = 0; i < 144; i++) {
      const failed = i % 13 === 0
      checks.push({
        vantage: 'local',
        checkedAt: new Date(NOW - DAY + 5 * MIN + i * 10 * MIN),
        errorCode: failed ? 2 : 0,
        rttMs: failed ? null : 100 + ((i * 37) % 200),
      })
    }
    for (let i = 0; i < 48; i++) {
      const failed = i % 7 === 0
      checks.push({
        vantage: 'v-eu',
        checkedAt: new Date(NOW - DAY + 7 * MIN + i * 30 * MIN),
        errorCode: failed ? 2 : 0,
        rttMs: failed ? null : 300 + ((i * 53) % 400),
      })
    }
    for (let i = 0; i < 5; i++) {
      checks.push({ vantage: 'v-us', checkedAt: new Date(NOW - 3 * HOUR + i * MIN), errorCode: 4, rttMs: null })
    }
    for (const vantage of ['v-eu', 'v-us']) {
      checks.push({ vantage, checkedAt: new Date(NOW - 2 * DAY), errorCode: 0, rttMs: 9_999 })
    }
    await harness()
      .database.db.insert(checkHistory)
      .values(
        checks.map((check) => ({
          ...check,
          endpointId: site.endpointId,
          blogId: site.blogId,
          method: 'GET',
          httpCode: check.errorCode === 0 ? 200 : null,
          ttfbMs: check.vantage === 'local' && check.rttMs !== null ? Math.floor(check.rttMs / 2) : null,
        })),
      )
  })

  const lastDay = (vantage: string) =>
    checks.filter((check) => check.vantage === vantage && +check.checkedAt >= NOW - DAY && +check.checkedAt < NOW)
  const rttsOf = (list: Check[]) => list.flatMap((check) => (check.rttMs === null ? [] : [check.rttMs]))

  it('lists every vantage that checked the site, local first, with its checks, failures, last check and percentiles', async () => {
    const { data } = await harness().client.read.call('stats.vantages', {
      params: { blog_id: site.blogId },
      query: { window: '24h' },
    })
    const figures = (vantage: string) => {
      const list = lastDay(vantage)
      const rtts = rttsOf(list)
      return {
        vantage,
        checks: list.length,
        failures: list.filter((check) => check.errorCode !== 0).length,
        last_checked_at: new Date(Math.max(...list.map((check) => +check.checkedAt))).toISOString(),
        samples: rtts.length,
        truncated: false,
        p50_ms: nearestRank(rtts, 50),
        p95_ms: nearestRank(rtts, 95),
      }
    }
    expect(data).toEqual({
      window: { from: new Date(NOW - DAY).toISOString(), to: new Date(NOW).toISOString() },
      endpoint_id: null,
      raw_from: new Date(NOW - DAY).toISOString(),
      vantages: [figures('local'), figures('v-eu'), figures('v-us')],
    })
    expect(data.vantages.map((v) => [v.vantage, v.checks, v.failures])).toEqual([
      ['local', 144, 12],
      ['v-eu', 48, 7],
      ['v-us', 5, 5],
    ])
    expect(data.vantages[2]).toMatchObject({ samples: 0, p50_ms: null, p95_ms: null })

    // Two days hold the older veriflier checks too; one endpoint of the site gives the same answer.
    const two = await harness().client.read.call('stats.vantages', {
      params: { blog_id: site.blogId },
      query: { from: new Date(NOW - 2 * DAY).toISOString(), to: new Date(NOW).toISOString() },
    })
    expect(two.data.vantages.map((v) => [v.vantage, v.checks])).toEqual([
      ['local', 144],
      ['v-eu', 49],
      ['v-us', 6],
    ])
    const one = await harness().client.read.call('stats.vantages', {
      params: { blog_id: site.blogId },
      query: { window: '24h', endpoint_id: Number(site.endpointId) },
    })
    expect(one.data.vantages).toEqual(data.vantages)

    // A site nobody checked lists no vantage; a period beyond retention reads nothing.
    const quiet = newBlogId()
    await addEndpoint(quiet)
    const none = await harness().client.read.call('stats.vantages', {
      params: { blog_id: quiet },
      query: { window: '1h' },
    })
    expect(none.data).toMatchObject({ raw_from: new Date(NOW - HOUR).toISOString(), vantages: [] })
    const old = await harness().client.read.call('stats.vantages', {
      params: { blog_id: site.blogId },
      query: { from: new Date(NOW - 60 * DAY).toISOString(), to: new Date(NOW - 40 * DAY).toISOString() },
    })
    expect(old.data).toMatchObject({ raw_from: null, vantages: [] })
  })

  it('answers response time and timing of one veriflier from its own checks only', async () => {
    const h = harness()
    const eu = rttsOf(lastDay('v-eu'))
    const { data } = await h.client.read.call('stats.responseTime', {
      params: { blog_id: site.blogId },
      query: { window: '24h', vantage: 'v-eu' },
    })
    expect(data).toEqual({
      window: { from: new Date(NOW - DAY).toISOString(), to: new Date(NOW).toISOString() },
      endpoint_id: null,
      vantage: 'v-eu',
      samples: eu.length,
      p50_ms: nearestRank(eu, 50),
      p90_ms: nearestRank(eu, 90),
      p95_ms: nearestRank(eu, 95),
      p99_ms: nearestRank(eu, 99),
      max_ms: Math.max(...eu),
      mean_ms: Math.round((eu.reduce((a, b) => a + b) / eu.length) * 100) / 100,
      source: 'raw',
    })
    // The default is the monitor's own checks, and says so.
    const local = rttsOf(lastDay('local'))
    const own = await h.client.read.call('stats.responseTime', {
      params: { blog_id: site.blogId },
      query: { window: '24h' },
    })
    expect(own.data).toMatchObject({ vantage: 'local', samples: local.length, p95_ms: nearestRank(local, 95) })
    // A veriflier has no rollups: a long window reads its retained raw checks, still `raw`.
    const long = await h.client.read.call('stats.responseTime', {
      params: { blog_id: site.blogId },
      query: { window: '90d', vantage: 'v-eu' },
    })
    expect(long.data).toMatchObject({ vantage: 'v-eu', samples: eu.length + 1, max_ms: 9_999, source: 'raw' })
    const us = await h.client.read.call('stats.responseTime', {
      params: { blog_id: site.blogId },
      query: { window: '24h', vantage: 'v-us' },
    })
    expect(us.data).toMatchObject({ vantage: 'v-us', samples: 0, p50_ms: null })

    const timing = await h.client.read.call('stats.timingBreakdown', {
      params: { blog_id: site.blogId },
      query: { window: '24h', vantage: 'v-eu' },
    })
    expect(timing.data).toMatchObject({
      vantage: 'v-eu',
      samples: eu.length,
      total: { samples: eu.length, p95_ms: nearestRank(eu, 95), max_ms: Math.max(...eu) },
      ttfb: { samples: 0, p50_ms: null },
    })
  })

  it('refuses a malformed vantage with its field path', async () => {
    const h = harness()
    const bad = ['', '%20%20', 'v'.repeat(65), 'v-eu%0A', 'v%01eu']
    for (const route of ['response-time', 'timing-breakdown']) {
      for (const value of bad) {
        const response = await h.fetch(`/sites/${site.blogId}/${route}?window=24h&vantage=${value}`, {
          token: h.tokens.read,
        })
        expect(response.status, `${route} vantage=${value}`).toBe(400)
        const envelope = await envelopeOf(response)
        expect(envelope.details?.map((detail) => detail.path)).toEqual(['query.vantage'])
      }
    }
    // Uptime and the vantage list take no vantage.
    for (const route of ['uptime', 'vantages']) {
      const response = await h.fetch(`/sites/${site.blogId}/${route}?window=24h&vantage=v-eu`, { token: h.tokens.read })
      expect(response.status).toBe(400)
      expect((await envelopeOf(response)).details?.map((detail) => detail.path)).toEqual(['query.vantage'])
    }
  })
})

describe('statistics errors', () => {
  it('validates the period with field paths', async () => {
    const h = harness()
    const base = `/sites/${timeline.blogId}/uptime`
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString())
    const cases: [string, string[]][] = [
      ['', ['query.window']],
      ['window=2h', ['query.window']],
      [`window=24h&from=${iso(NOW - DAY)}`, ['query.from']],
      [`window=24h&from=${iso(NOW - DAY)}&to=${iso(NOW)}`, ['query.from', 'query.to']],
      [`from=${iso(NOW - DAY)}`, ['query.to']],
      [`to=${iso(NOW)}`, ['query.from']],
      [`from=${iso(NOW - HOUR)}&to=${iso(NOW - DAY)}`, ['query.to']],
      [`from=${iso(NOW - DAY)}&to=${iso(NOW - DAY)}`, ['query.to']],
      [`from=${iso(NOW - DAY)}&to=${iso(NOW + 10 * MIN)}`, ['query.to']],
      [`from=${iso(NOW - 367 * DAY - 1)}&to=${iso(NOW - DAY)}`, ['query.from']],
      [`from=${iso(NOW + MIN)}&to=${iso(NOW + 2 * MIN)}`, ['query.from']],
      ['from=yesterday&to=today', ['query.from', 'query.to']],
      ['window=1h&endpoint_id=0', ['query.endpoint_id']],
      ['window=1h&granularity=hour', ['query.granularity']],
    ]
    for (const route of ['uptime', 'response-time', 'timing-breakdown', 'vantages']) {
      for (const [query, paths] of cases) {
        const response = await h.fetch(`${base.replace('uptime', route)}?${query}`, { token: h.tokens.read })
        expect(response.status, `${route}?${query}`).toBe(400)
        const envelope = await envelopeOf(response)
        expect(envelope.code).toBe('invalid_request')
        expect(envelope.details?.map((detail) => detail.path).sort(), `${route}?${query}`).toEqual(paths)
      }
    }
  })

  it('accepts a to slightly ahead of the clock and measures up to now', async () => {
    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: timeline.blogId },
      query: { from: new Date(NOW - HOUR).toISOString(), to: new Date(NOW + 2 * MIN).toISOString() },
    })
    expect(data.window.to).toBe(new Date(NOW).toISOString())
    expect(data.total_seconds).toBe(3_600)
  })

  it('answers 404 for unknown sites, other blogs’ endpoints and other tenants’ sites', async () => {
    const h = harness()
    const other = newBlogId()
    const foreign = await addEndpoint(other)
    await h.database.db.insert(siteTenants).values({ tenantId: 'tenant-x', blogId: other })
    for (const id of ['stats.uptime', 'stats.responseTime', 'stats.timingBreakdown', 'stats.vantages'] as const) {
      await expect(
        h.client.read.call(id, { params: { blog_id: newBlogId() }, query: { window: '24h' } }),
      ).rejects.toMatchObject({ status: 404, code: 'site_not_found' })
      await expect(
        h.client.read.call(id, {
          params: { blog_id: timeline.blogId },
          query: { window: '24h', endpoint_id: Number(foreign) },
        }),
      ).rejects.toMatchObject({ status: 404, code: 'endpoint_not_found' })
      await expect(
        h.client.gateway.call(
          id,
          { params: { blog_id: timeline.blogId }, query: { window: '24h' } },
          { headers: { 'x-jetmon-tenant-id': 'tenant-x' } },
        ),
      ).rejects.toMatchObject({ status: 404, code: 'site_not_found' })
      const own = await h.client.gateway.call(
        id,
        { params: { blog_id: other }, query: { window: '24h' } },
        { headers: { 'x-jetmon-tenant-id': 'tenant-x' } },
      )
      expect(own.status).toBe(200)
    }
  })
})

describe('only monitored time counts', () => {
  /** Runs `fn` with the request clock at `when`, then puts it back at NOW for the other tests. */
  async function at<T>(when: number, fn: () => Promise<T>): Promise<T> {
    harness().clock.set(new Date(when))
    try {
      return await fn()
    } finally {
      harness().clock.set(new Date(NOW))
    }
  }

  async function createSite(blogId: bigint, when: number): Promise<bigint> {
    const { data } = await at(when, () =>
      harness().client.write.call('sites.create', {
        body: { blog_id: Number(blogId), monitor_url: `https://added-${blogId}.example/` },
      }),
    )
    return BigInt(data.endpoints[0]!.endpoint_id)
  }

  it('a site added a minute ago and down since is 0 % up over 24 h, not 99.93 %', async () => {
    const blogId = newBlogId()
    const endpointId = await createSite(blogId, NOW - MIN)
    await httpIncident(blogId, endpointId, new Date(NOW - MIN), new Date(NOW - MIN + 1_000), null)

    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: blogId },
      query: { window: '24h' },
    })
    expect(data).toMatchObject({
      total_seconds: 60,
      down_seconds: 60,
      uptime_percent: 0,
      incident_count: 1,
      mtbf_seconds: 0,
      longest_incident_seconds: 60,
    })
    const one = await harness().client.read.call('stats.uptime', {
      params: { blog_id: blogId },
      query: { window: '24h', endpoint_id: Number(endpointId) },
    })
    expect(one.data).toMatchObject({ total_seconds: 60, uptime_percent: 0 })
  })

  it('leaves out the time a site was paused or deleted', async () => {
    const blogId = newBlogId()
    // Added 10 h ago, down 9 h → 8 h ago, paused 6 h → 2 h ago: 6 h monitored, 1 h of it down.
    const endpointId = await createSite(blogId, NOW - 10 * HOUR)
    await httpIncident(blogId, endpointId, new Date(NOW - 9 * HOUR), new Date(NOW - 9 * HOUR), new Date(NOW - 8 * HOUR))
    await at(NOW - 6 * HOUR, () => harness().client.write.call('sites.pause', { params: { blog_id: blogId } }))
    await at(NOW - 2 * HOUR, () => harness().client.write.call('sites.resume', { params: { blog_id: blogId } }))

    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: blogId },
      query: { window: '24h' },
    })
    expect(data).toMatchObject({ total_seconds: 6 * 3_600, down_seconds: 3_600, incident_count: 1 })
    expect(data.uptime_percent).toBeCloseTo(100 * (5 / 6), 6)
    expect(data.mtbf_seconds).toBe(5 * 3_600)

    // Deleted an hour ago: the last hour is not monitored either.
    await at(NOW - HOUR, () => harness().client.write.call('sites.delete', { params: { blog_id: blogId } }))
    const after = await harness().client.read.call('stats.uptime', {
      params: { blog_id: blogId },
      query: { window: '24h' },
    })
    expect(after.data).toMatchObject({ total_seconds: 5 * 3_600, down_seconds: 3_600 })
  })

  it('takes a pause nobody recorded as starting at the last check', async () => {
    const blogId = newBlogId()
    const endpointId = await createSite(blogId, NOW - 4 * HOUR)
    const db = harness().database.db
    // Another writer (v1, SQL by hand) turned it off; the last check was 3 h ago.
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, endpointId))
    await db.insert(endpointState).values({ endpointId, lastCheckedAt: new Date(NOW - 3 * HOUR) })
    const { data } = await harness().client.read.call('stats.uptime', {
      params: { blog_id: blogId },
      query: { window: '24h' },
    })
    expect(data).toMatchObject({ total_seconds: 3_600, uptime_percent: 100 })
  })

  it('monitoredTime: creation, recorded changes and unrecorded ones', () => {
    const base = { endpointId: 1n, lastCheckedAt: null }
    // No record at all: monitored all along while active, never while inactive and never checked.
    expect(monitoredTime({ ...base, changes: [], activeNow: true }, 100)).toEqual([[Number.NEGATIVE_INFINITY, 100]])
    expect(monitoredTime({ ...base, changes: [], activeNow: false }, 100)).toEqual([])
    // Created at 10 (active), paused at 20, resumed at 50.
    const recorded = [
      { at: 10, created: true, active: true },
      { at: 20, created: false, active: false },
      { at: 30, created: false, active: null },
      { at: 50, created: false, active: true },
    ]
    expect(monitoredTime({ ...base, changes: recorded, activeNow: true }, 100)).toEqual([
      [10, 20],
      [50, 100],
    ])
    // Found inactive although the last record says active: paused at the last check after it.
    expect(monitoredTime({ ...base, changes: recorded, activeNow: false, lastCheckedAt: 70 }, 100)).toEqual([
      [10, 20],
      [50, 70],
    ])
    expect(monitoredTime({ ...base, changes: recorded, activeNow: false, lastCheckedAt: 40 }, 100)).toEqual([[10, 20]])
    // Rows of older versions say nothing about the flag: only the creation counts.
    expect(
      monitoredTime({ ...base, changes: [{ at: 10, created: true, active: null }], activeNow: true }, 100),
    ).toEqual([[10, 100]])
  })
})
