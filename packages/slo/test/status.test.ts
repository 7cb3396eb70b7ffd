/**
 * The status arithmetic against hand-computed cases on the real database. Every case has a site of
 * its own; `NOW` is fixed, and each expected figure is worked out next to the data producing it.
 */

import * as schema from '@jetmon/db'
import {
  auditLog,
  checkHistory,
  checkRollups,
  createDatabase,
  maintenanceWindows,
  monitorSites,
  siteTenants,
} from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent, promoteEvent } from '@jetmon/eventstore'
import { RTT_BUCKET_EDGES_MS, RTT_BUCKETS } from '@jetmon/history'
import { loadStatsScopes, loadUptimeInputs } from '@jetmon/read-models'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/mysql2'
import { describe, expect, it } from 'vitest'
import {
  createObjective,
  DEFAULT_ALERT_POLICY,
  getObjectiveWithStreak,
  type ObjectiveInput,
  ObjectiveNotFoundError,
  objectiveStatus,
  objectiveStatuses,
} from '../src/index.js'

const database = useTestDatabase()

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const NOW = Date.parse('2026-05-20T12:00:00Z')
const ago = (ms: number) => new Date(NOW - ms)

let nextBlog = 910_000n
async function site(): Promise<{ blogId: bigint; endpointId: bigint }> {
  const blogId = nextBlog++
  const [row] = await database()
    .db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/` })
    .$returningId()
  return { blogId, endpointId: BigInt(row!.endpointId) }
}

const store = (when: Date): EventStoreContext => ({ db: database().db, source: 'monitor:test', clock: () => when })

/** An http incident: first failure at `start`, confirmed Down a minute later, closed at `end` (or open). */
async function outage(blogId: bigint, endpointId: bigint, start: Date, end: Date | null): Promise<bigint> {
  const { event } = await openEvent({
    ctx: store(start),
    input: { blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: start },
  })
  const confirmed = new Date(start.getTime() + MINUTE)
  await promoteEvent({
    ctx: store(confirmed),
    input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
  })
  if (end) await closeEvent({ ctx: store(end), input: { eventId: event.id, reason: 'verifier_cleared' } })
  return event.id
}

function objective(scope: { blogId: bigint; endpointId: bigint | null }, fields: Partial<ObjectiveInput> = {}) {
  return {
    id: 1,
    blogId: scope.blogId,
    endpointId: scope.endpointId,
    sli: 'availability',
    latencyThresholdMs: null,
    target: 99.9,
    window: '30d',
    ...fields,
  } satisfies ObjectiveInput
}

const status = (input: ObjectiveInput, now = NOW) =>
  objectiveStatus({ ctx: { db: database().db }, objective: input, now: new Date(now) })

describe('availability', () => {
  it('a 30-day window with one 2 h outage at 99.9 %: 7 200 s bad of 2 592 000 s, the budget exhausted', async () => {
    const s = await site()
    // Down from its first failure ten days ago, for two hours.
    await outage(s.blogId, s.endpointId, ago(10 * DAY), ago(10 * DAY - 2 * HOUR))
    const result = await status(objective(s))
    expect(result.unit).toBe('seconds')
    expect(result.period).toEqual({ from: ago(30 * DAY), to: new Date(NOW) })
    expect(result.eligible).toBe(2_592_000) // 30 × 86 400
    expect(result.budgetConsumed).toBe(7_200)
    expect(result.budgetTotal).toBeCloseTo(2_592, 9) // 0.1 % of 2 592 000
    expect(result.sliPercent).toBeCloseTo(100 * (1 - 7_200 / 2_592_000), 12) // 99.7222…
    expect(result.budgetRemainingPercent).toBeCloseTo(100 * (1 - 7_200 / 2_592), 9) // −177.78
    expect(result.budgetRemainingPercent).toBeLessThan(0)
    expect(result.exhausted).toBe(true)
    expect(result.isBreaching).toBe(true)
    expect(result.budgetExhaustedAt).toEqual(new Date(NOW))
    // Nothing bad in the last three days.
    expect(result.burnRates).toEqual({ '5m': 0, '30m': 0, '1h': 0, '6h': 0, '24h': 0, '3d': 0 })
    expect(result.firing).toEqual([])
    expect(result.hasOpenDowntime).toBe(false)
  })

  it('the same outage at 99 % leaves 72.2 % of the budget', async () => {
    const s = await site()
    await outage(s.blogId, s.endpointId, ago(10 * DAY), ago(10 * DAY - 2 * HOUR))
    const result = await status(objective(s, { target: 99 }))
    expect(result.budgetTotal).toBeCloseTo(25_920, 9)
    expect(result.budgetRemainingPercent).toBeCloseTo(100 * (1 - 7_200 / 25_920), 9)
    expect(result.exhausted).toBe(false)
    expect(result.isBreaching).toBe(false)
    expect(result.budgetExhaustedAt).toBeNull() // no burn in the last hour
  })

  it('leaves maintenance out of both the bad and the eligible time', async () => {
    const s = await site()
    const db = database().db
    // Outage 5 days ago 10:00–12:00; maintenance 11:00–13:00 covers its second hour and one more.
    const start = ago(5 * DAY)
    await outage(s.blogId, s.endpointId, start, new Date(start.getTime() + 2 * HOUR))
    await db.insert(maintenanceWindows).values({
      blogId: s.blogId,
      startsAt: new Date(start.getTime() + HOUR),
      endsAt: new Date(start.getTime() + 3 * HOUR),
      createdBy: 'test',
    })
    const result = await status(objective(s))
    expect(result.eligible).toBe(2_592_000 - 7_200)
    expect(result.budgetConsumed).toBe(3_600)
    expect(result.budgetTotal).toBeCloseTo(0.001 * (2_592_000 - 7_200), 9)
  })

  it('leaves Unknown time out of the eligible time', async () => {
    const s = await site()
    const db = database().db
    // First failure at T; verifliers inconclusive at T+1m (no quorum); Down at T+11m; closed T+71m.
    const t0 = ago(2 * DAY)
    const { event } = await openEvent({
      ctx: store(t0),
      input: { blogId: s.blogId, endpointId: s.endpointId, checkType: 'http', state: 'Seems Down', startedAt: t0 },
    })
    await db.insert(auditLog).values({
      blogId: s.blogId,
      eventId: event.id,
      eventType: 'veriflier_request',
      source: 'monitor:test',
      metadata: { outcome: 'inconclusive' },
      createdAt: new Date(t0.getTime() + MINUTE),
    })
    await promoteEvent({
      ctx: store(new Date(t0.getTime() + 11 * MINUTE)),
      input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
    })
    await closeEvent({
      ctx: store(new Date(t0.getTime() + 71 * MINUTE)),
      input: { eventId: event.id, reason: 'verifier_cleared' },
    })
    const result = await status(objective(s))
    // Unknown T+1m → T+11m = 600 s; down T → T+1m and T+11m → T+71m = 3 660 s.
    expect(result.eligible).toBe(2_592_000 - 600)
    expect(result.budgetConsumed).toBe(3_660)
    // Burn over 3 days: 3 660 / (259 200 − 600) / 0.001.
    expect(result.burnRates['3d']).toBeCloseTo(3_660 / (259_200 - 600) / 0.001, 9)
  })

  it('counts an endpoint added mid-window from its creation', async () => {
    const s = await site()
    await database()
      .db.insert(auditLog)
      .values({
        blogId: s.blogId,
        eventType: 'endpoint_changed',
        source: 'api:test',
        detail: `endpoint ${s.endpointId} created`,
        metadata: { endpoint_id: s.endpointId.toString(), monitor_active: true },
        createdAt: ago(5 * DAY),
      })
    await outage(s.blogId, s.endpointId, ago(DAY + HOUR), ago(DAY))
    const result = await status(objective(s, { endpointId: s.endpointId }))
    expect(result.eligible).toBe(5 * 86_400)
    expect(result.budgetConsumed).toBe(3_600)
    expect(result.sliPercent).toBeCloseTo(100 * (1 - 3_600 / 432_000), 12)
    expect(result.budgetRemainingPercent).toBeCloseTo(100 * (1 - 3_600 / 432), 9) // −733 %: far below zero
    expect(result.exhausted).toBe(true)
  })

  it('measures a calendar month from its first instant in UTC', async () => {
    const s = await site()
    // 30 April 22:00–23:00 is before May: outside the month, inside the 30-day rolling window.
    await outage(s.blogId, s.endpointId, new Date('2026-04-30T22:00:00Z'), new Date('2026-04-30T23:00:00Z'))
    // 10 May 00:00–00:30 is inside.
    await outage(s.blogId, s.endpointId, new Date('2026-05-10T00:00:00Z'), new Date('2026-05-10T00:30:00Z'))
    const month = await status(objective(s, { window: 'month', target: 99.5 }))
    expect(month.period.from).toEqual(new Date('2026-05-01T00:00:00Z'))
    expect(month.eligible).toBe(19.5 * 86_400) // 1 May 00:00 → 20 May 12:00
    expect(month.budgetConsumed).toBe(1_800)
    expect(month.budgetTotal).toBeCloseTo(0.005 * 1_684_800, 9)
    expect(month.budgetRemainingPercent).toBeCloseTo(100 * (1 - 1_800 / 8_424), 9)
    const rolling = await status(objective(s, { window: '30d', target: 99.5 }))
    expect(rolling.budgetConsumed).toBe(5_400)
  })

  it('a 10-minute outage still open fires the 1 h / 5 m page rule alone', async () => {
    const s = await site()
    await outage(s.blogId, s.endpointId, ago(10 * MINUTE), null)
    const result = await status(objective(s, { target: 99 }))
    // Allowed error ratio 1 %: 1 h → 600/3 600/0.01 = 16.7; 5 m → 300/300/0.01 = 100;
    // 6 h → 600/21 600/0.01 = 2.78 (below 6); 3 d → 600/259 200/0.01 = 0.23 (below 1).
    expect(result.burnRates['1h']).toBeCloseTo(600 / 3_600 / 0.01, 9)
    expect(result.burnRates['5m']).toBeCloseTo(100, 9)
    expect(result.burnRates['30m']).toBeCloseTo(600 / 1_800 / 0.01, 9)
    expect(result.burnRates['6h']).toBeCloseTo(600 / 21_600 / 0.01, 9)
    expect(result.burnRates['3d']).toBeCloseTo(600 / 259_200 / 0.01, 9)
    expect(result.firing).toEqual([DEFAULT_ALERT_POLICY[0]])
    expect(result.hasOpenDowntime).toBe(true)
    // 25 920 − 600 = 25 320 s of budget left, spent at 16.67 × 0.01 per second: 151 920 s from now.
    expect(result.budgetExhaustedAt!.getTime()).toBeCloseTo(
      NOW + ((25_920 - 600) / ((600 / 3_600 / 0.01) * 0.01)) * SECOND,
      -3,
    )
  })

  it('a 4-minute spike over the 5 m threshold but not the 1 h one fires nothing', async () => {
    const s = await site()
    await outage(s.blogId, s.endpointId, ago(5 * MINUTE), ago(MINUTE))
    const result = await status(objective(s, { target: 99 }))
    // 5 m → 240/300/0.01 = 80 (above 14.4), 1 h → 240/3 600/0.01 = 6.67 (below 14.4);
    // 30 m → 13.3 (above 6), 6 h → 1.11 (below 6); 3 d → 0.09.
    expect(result.burnRates['5m']).toBeCloseTo(80, 9)
    expect(result.burnRates['1h']).toBeCloseTo(240 / 3_600 / 0.01, 9)
    expect(result.firing).toEqual([])
    expect(result.hasOpenDowntime).toBe(false)
  })

  it('measures a whole site: overlapping outages count once, one endpoint in maintenance is not the site', async () => {
    const s = await site()
    const [second] = await database()
      .db.insert(monitorSites)
      .values({ blogId: s.blogId, monitorUrl: `https://${s.blogId}.example/second` })
      .$returningId()
    const e2 = BigInt(second!.endpointId)
    const t0 = ago(3 * DAY)
    // E1 down T → T+1h, E2 down T+30m → T+90m: the site is down T → T+90m (5 400 s).
    await outage(s.blogId, s.endpointId, t0, new Date(t0.getTime() + HOUR))
    await outage(s.blogId, e2, new Date(t0.getTime() + 30 * MINUTE), new Date(t0.getTime() + 90 * MINUTE))
    // E1 alone in maintenance T+2h → T+3h: E2 is still monitored, so the site's time stays eligible.
    await database()
      .db.insert(maintenanceWindows)
      .values({
        blogId: s.blogId,
        endpointId: s.endpointId,
        startsAt: new Date(t0.getTime() + 2 * HOUR),
        endsAt: new Date(t0.getTime() + 3 * HOUR),
        createdBy: 'test',
      })
    const result = await status(objective({ blogId: s.blogId, endpointId: null }))
    expect(result.eligible).toBe(2_592_000)
    expect(result.budgetConsumed).toBe(5_400)
    const one = await status(objective(s))
    expect(one.eligible).toBe(2_592_000 - 3_600)
    expect(one.budgetConsumed).toBe(3_600)
  })

  it('measures several objectives of a site, and of other sites, together exactly as it measures each alone', async () => {
    const s = await site()
    const db = database().db
    const [second] = await db
      .insert(monitorSites)
      .values({ blogId: s.blogId, monitorUrl: `https://${s.blogId}.example/second` })
      .$returningId()
    const e2 = BigInt(second!.endpointId)
    // The second endpoint exists for 5 days; each endpoint has its own outage, one of them still open.
    await db.insert(auditLog).values({
      blogId: s.blogId,
      eventType: 'endpoint_changed',
      source: 'api:test',
      detail: `endpoint ${e2} created`,
      metadata: { endpoint_id: e2.toString(), monitor_active: true },
      createdAt: ago(5 * DAY),
    })
    await outage(s.blogId, s.endpointId, ago(2 * DAY), ago(2 * DAY - HOUR))
    await outage(s.blogId, e2, ago(20 * MINUTE), null)
    // Another site, measured in the same reads.
    const other = await site()
    await outage(other.blogId, other.endpointId, ago(3 * DAY), ago(3 * DAY - 10 * MINUTE))
    const objectives = [
      objective({ blogId: s.blogId, endpointId: null }),
      objective(s, { window: '7d', target: 99.5 }),
      objective({ blogId: s.blogId, endpointId: e2 }, { window: 'month' }),
      objective({ blogId: s.blogId, endpointId: e2 }, { sli: 'latency', latencyThresholdMs: 500 }),
      objective(other),
    ]
    const together = await objectiveStatuses({ ctx: { db }, objectives, now: new Date(NOW) })
    const alone = []
    for (const one of objectives) alone.push(await status(one))
    expect(together).toEqual(alone)
    expect(together.map((t) => [t.budgetConsumed, t.hasOpenDowntime])).toEqual([
      [3_600 + 20 * 60, true],
      [3_600, false],
      [20 * 60, true],
      [0, false],
      [600, false],
    ])
    expect(together[2]!.eligible).toBe(5 * 86_400)
  })

  it('reads the endpoints’ flags with the scope and the transitions with the events, giving the inputs of separate reads', async () => {
    const s = await site()
    const db = database().db
    const [second] = await db
      .insert(monitorSites)
      .values({ blogId: s.blogId, monitorUrl: `https://${s.blogId}.example/second` })
      .$returningId()
    const e2 = BigInt(second!.endpointId)
    await db.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, e2))
    const closed = await outage(s.blogId, s.endpointId, ago(2 * DAY), ago(2 * DAY - HOUR))
    const open = await outage(s.blogId, e2, ago(10 * MINUTE), null)
    const period = { from: ago(30 * DAY), to: new Date(NOW) }
    const now = new Date(NOW)
    const scopes = (await loadStatsScopes({ ctx: { db }, scopes: [{ blogId: s.blogId, endpointId: null }, s] })).map(
      (scope) => scope!,
    )
    expect(scopes[0]!.endpointFlags?.get(e2)).toEqual({ activeNow: false, lastCheckedAt: null })
    const joined = await loadUptimeInputs({ ctx: { db }, scopes, period, now })
    const apart = await loadUptimeInputs({
      ctx: { db },
      scopes: scopes.map(({ endpointFlags: _, ...scope }) => scope),
      period,
      now,
    })
    expect(joined).toEqual(apart)
    expect(joined[0]!.events.map((event) => event.id)).toEqual([closed, open])
    expect(joined[0]!.changes.map((change) => [change.eventId, change.stateAfter])).toEqual([
      [closed, 'Seems Down'],
      [closed, 'Down'],
      [closed, 'Resolved'],
      [open, 'Seems Down'],
      [open, 'Down'],
    ])
    expect(joined[1]!.events.map((event) => event.id)).toEqual([closed])
  })

  it('gives null figures for a window with no eligible time', async () => {
    const s = await site()
    await database()
      .db.insert(maintenanceWindows)
      .values({ blogId: s.blogId, startsAt: ago(40 * DAY), endsAt: ago(-DAY), createdBy: 'test' })
    const result = await status(objective(s, { window: '7d' }))
    expect(result.eligible).toBe(0)
    expect(result.sliPercent).toBeNull()
    expect(result.budgetRemainingPercent).toBe(100)
    expect(result.exhausted).toBe(false)
    expect(Object.values(result.burnRates).every((rate) => rate === null)).toBe(true)
    expect(result.budgetExhaustedAt).toBeNull()
  })
})

describe('a stored objective', () => {
  it('is measured as stored, with its own alert policy', async () => {
    const s = await site()
    await outage(s.blogId, s.endpointId, ago(10 * MINUTE), null)
    const stored = await createObjective({
      ctx: { db: database().db, clock: () => new Date(NOW) },
      tenantId: null,
      createdBy: 'test',
      fields: {
        name: `status ${s.blogId}`,
        blog_id: Number(s.blogId),
        sli: 'availability',
        target: 99,
        window: '7d',
        alert_policy: [{ long: '1h', short: '5m', burn_rate: 20, severity: 'page' }],
      },
    })
    const result = await objectiveStatus({ ctx: { db: database().db, clock: () => new Date(NOW) }, objective: stored })
    expect(result.eligible).toBe(7 * 86_400)
    expect(result.budgetConsumed).toBe(600)
    // 1 h burns at 16.7: above the default page rule's 14.4, below this policy's 20.
    expect(result.burnRates['1h']).toBeCloseTo(600 / 3_600 / 0.01, 9)
    expect(result.firing).toEqual([])
  })
})

describe('the status route’s reads', () => {
  it('read an objective with its streak and scope in one statement, then measure it in one more (availability) or two (latency), with the figures of separate reads', async () => {
    const s = await site()
    const db = database().db
    const [second] = await db
      .insert(monitorSites)
      .values({ blogId: s.blogId, monitorUrl: `https://${s.blogId}.example/second` })
      .$returningId()
    const e2 = BigInt(second!.endpointId)
    await outage(s.blogId, s.endpointId, ago(2 * DAY), ago(2 * DAY - HOUR))
    await outage(s.blogId, e2, ago(20 * MINUTE), null)
    await db.insert(maintenanceWindows).values({
      blogId: s.blogId,
      startsAt: ago(3 * DAY),
      endsAt: ago(3 * DAY - 2 * HOUR),
      createdBy: 'test',
    })
    // The second endpoint was added 10 days ago: the site's time before that counts for the first only.
    await db.insert(auditLog).values({
      blogId: s.blogId,
      eventType: 'endpoint_changed',
      source: 'test',
      detail: `endpoint ${e2} created`,
      metadata: { endpoint_id: String(e2), monitor_active: true },
      createdAt: ago(10 * DAY),
    })
    await db.insert(checkRollups).values({
      endpointId: s.endpointId,
      blogId: s.blogId,
      hourStart: ago(5 * HOUR),
      checks: 10,
      failures: 0,
      rttHist: [10, ...new Array<number>(RTT_BUCKETS - 1).fill(0)],
    })
    await db.insert(checkHistory).values({
      endpointId: s.endpointId,
      blogId: s.blogId,
      checkedAt: new Date(NOW + 10 * MINUTE),
      vantage: 'local',
      method: 'GET',
      httpCode: 200,
      errorCode: 0,
      rttMs: 900,
    })
    const ctx = { db, clock: () => new Date(NOW) }
    const create = (fields: Record<string, unknown>) =>
      createObjective({
        ctx,
        tenantId: null,
        createdBy: 'test',
        fields: {
          name: `reads ${s.blogId} ${fields.sli}`,
          blog_id: Number(s.blogId),
          target: 99,
          window: '7d',
          ...fields,
        },
      })
    const availability = await create({ sli: 'availability' })
    const latency = await create({
      sli: 'latency',
      endpoint_id: Number(s.endpointId),
      latency_threshold_ms: 500,
    })

    // 12:30: the latency objective reads the rollups and the current hour's raw checks.
    const at = new Date(NOW + 30 * MINUTE)
    const statements: string[] = []
    const logged = createDatabase(database().url, { connectionLimit: 1 })
    try {
      const loggedDb = drizzle(logged.pool, {
        schema,
        mode: 'default',
        logger: { logQuery: (query) => statements.push(query) },
      })
      for (const [stored, expected] of [
        [availability, 2],
        [latency, 3],
      ] as const) {
        statements.length = 0
        const read = await getObjectiveWithStreak({ ctx: { db: loggedDb }, tenantId: null, id: stored.id })
        expect(statements).toHaveLength(1)
        expect(read.objective).toEqual(stored)
        const [measured] = await objectiveStatuses({
          ctx: { db: loggedDb },
          objectives: [read.objective],
          scopes: [read.scope],
          now: at,
        })
        expect(statements, stored.sli).toHaveLength(expected)
        expect(measured).toEqual(await objectiveStatus({ ctx, objective: stored, now: at }))
      }
    } finally {
      await logged.close()
    }

    // A tenant reads its own objective with its scope, and not another owner's.
    await db.insert(siteTenants).values({ tenantId: 'tenant-r', blogId: s.blogId })
    const owned = await createObjective({
      ctx,
      tenantId: 'tenant-r',
      createdBy: 'test',
      fields: { name: 'owned', blog_id: Number(s.blogId), sli: 'availability', target: 99, window: '7d' },
    })
    const read = await getObjectiveWithStreak({ ctx, tenantId: 'tenant-r', id: owned.id })
    expect(read.objective).toEqual(owned)
    expect(read.scope?.siteEndpointIds).toEqual([s.endpointId, e2])
    await expect(getObjectiveWithStreak({ ctx, tenantId: 'tenant-s', id: owned.id })).rejects.toBeInstanceOf(
      ObjectiveNotFoundError,
    )
    await expect(getObjectiveWithStreak({ ctx, tenantId: 'tenant-r', id: availability.id })).rejects.toBeInstanceOf(
      ObjectiveNotFoundError,
    )
  })
})

describe('latency', () => {
  const hist = (counts: Record<number, number>) => {
    const out = new Array<number>(RTT_BUCKETS).fill(0)
    for (const [edge, count] of Object.entries(counts)) out[RTT_BUCKET_EDGES_MS.indexOf(Number(edge))] = count
    return out
  }

  it('counts good checks from the hourly histograms and the current hour raw, outside maintenance', async () => {
    const s = await site()
    const db = database().db
    const now = NOW + 30 * MINUTE // 12:30: the current hour 12:00–13:00 is read raw
    const hourA = Date.parse('2026-05-19T08:00:00Z')
    const hourB = Date.parse('2026-05-20T08:00:00Z')
    await db.insert(checkRollups).values([
      // 100 checks, 10 failed; 60 within 200 ms, 20 in (200, 250], 10 in (250, 300].
      {
        endpointId: s.endpointId,
        blogId: s.blogId,
        hourStart: new Date(hourA),
        checks: 100,
        failures: 10,
        rttHist: hist({ 200: 60, 250: 20, 300: 10 }),
      },
      // 50 checks within 100 ms; maintenance covers the second half of this hour, so 25 count.
      {
        endpointId: s.endpointId,
        blogId: s.blogId,
        hourStart: new Date(hourB),
        checks: 50,
        rttHist: hist({ 100: 50 }),
      },
    ])
    await db.insert(maintenanceWindows).values([
      { blogId: s.blogId, startsAt: new Date(hourB + 30 * MINUTE), endsAt: new Date(hourB + HOUR), createdBy: 'test' },
      // A raw check at 12:22 falls in this one.
      {
        blogId: s.blogId,
        startsAt: new Date(NOW + 20 * MINUTE),
        endsAt: new Date(NOW + 25 * MINUTE),
        createdBy: 'test',
      },
    ])
    const raw = (minute: number, errorCode: number, rttMs: number | null) => ({
      endpointId: s.endpointId,
      blogId: s.blogId,
      checkedAt: new Date(NOW + minute * MINUTE),
      vantage: 'local',
      method: 'GET',
      httpCode: errorCode === 0 ? 200 : null,
      errorCode,
      rttMs,
    })
    await db.insert(checkHistory).values([raw(5, 0, 240), raw(10, 0, 255), raw(15, 2, null), raw(22, 0, 10)])

    // Threshold 250 ms (a bucket edge): good 80 + 25 + 1, eligible 100 + 25 + 3.
    const at250 = await status(objective(s, { sli: 'latency', latencyThresholdMs: 250, window: '7d', target: 90 }), now)
    expect(at250.unit).toBe('checks')
    expect(at250.eligible).toBeCloseTo(128, 9)
    expect(at250.budgetConsumed).toBeCloseTo(22, 9)
    expect(at250.sliPercent).toBeCloseTo(100 * (106 / 128), 9)
    expect(at250.budgetTotal).toBeCloseTo(12.8, 9)
    // The last 5 minutes hold no check; the last 30 minutes hold the raw ones: 2 bad of 3.
    expect(at250.burnRates['5m']).toBeNull()
    expect(at250.burnRates['30m']).toBeCloseTo(2 / 3 / 0.1, 9)

    // Threshold 260 ms, between the edges 250 and 300: the (250, 300] bucket is not counted good,
    // the raw 255 ms check is.
    const at260 = await status(objective(s, { sli: 'latency', latencyThresholdMs: 260, window: '7d', target: 90 }), now)
    expect(at260.eligible).toBeCloseTo(128, 9)
    expect(at260.budgetConsumed).toBeCloseTo(21, 9)
  })

  it('requires a threshold', async () => {
    const s = await site()
    await expect(status(objective(s, { sli: 'latency', latencyThresholdMs: null }))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })
})
