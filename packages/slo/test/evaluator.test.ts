/**
 * The evaluator on a test clock: which statuses open, escalate and close which alerts, on the real
 * database. Each case has a site of its own; the figures are worked out next to the data.
 */
import { events, eventTransitions, monitorSites } from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent } from '@jetmon/eventstore'
import { computeUptime, loadStatsScope, loadUptimeInput } from '@jetmon/read-models'
import { useTestDatabase } from '@jetmon/testkit'
import { and, asc, eq, inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  createObjective,
  deactivateObjective,
  evaluateObjectives,
  type ObjectiveFieldsInput,
  objectiveStatus,
  SLO_BUDGET,
  SLO_BURN,
  updateObjective,
} from '../src/index.js'

const database = useTestDatabase()

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const NOW = Date.parse('2026-05-20T12:00:00Z')
const at = (ms: number) => new Date(NOW + ms)

let nextBlog = 930_000n
async function site(): Promise<{ blogId: bigint; endpointId: bigint }> {
  const blogId = nextBlog++
  const [row] = await database()
    .db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/` })
    .$returningId()
  return { blogId, endpointId: BigInt(row!.endpointId) }
}

const store = (when: Date): EventStoreContext => ({ db: database().db, source: 'monitor:test', clock: () => when })

/** Confirmed downtime of `seconds` from `start` (an http event opened Down and closed). */
async function downtime(s: { blogId: bigint; endpointId: bigint }, start: Date, seconds: number): Promise<void> {
  const { event } = await openEvent({
    ctx: store(start),
    input: { blogId: s.blogId, endpointId: s.endpointId, checkType: 'http', state: 'Down', startedAt: start },
  })
  await closeEvent({
    ctx: store(new Date(start.getTime() + seconds * SECOND)),
    input: { eventId: event.id, reason: 'verifier_cleared' },
  })
}

async function objective(blogId: bigint, fields: Partial<ObjectiveFieldsInput> = {}) {
  return createObjective({
    ctx: { db: database().db, clock: () => at(-40 * DAY) },
    tenantId: null,
    createdBy: 'test',
    fields: {
      name: `o-${blogId}-${Math.random()}`,
      blog_id: blogId,
      sli: 'availability',
      target: 99.9,
      window: '30d',
      ...fields,
    },
  })
}

const evaluate = (when: Date) => evaluateObjectives({ ctx: { db: database().db, source: 'slo:test' }, now: when })

/** The SLO alerts of a site, oldest first, with their transitions. */
async function alertsOf(blogId: bigint) {
  const db = database().db
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.blogId, blogId), inArray(events.checkType, [SLO_BURN, SLO_BUDGET])))
    .orderBy(asc(events.id))
  const out = []
  for (const row of rows) {
    const transitions = await db
      .select()
      .from(eventTransitions)
      .where(eq(eventTransitions.eventId, row.id))
      .orderBy(asc(eventTransitions.id))
    out.push({ ...row, transitions })
  }
  return out
}

describe('burn-rate alerts (the default policy, 99.9 % over 30 days)', () => {
  it('a 2 % burn sustained over an hour pages, and the alert closes when the burn subsides', async () => {
    const s = await site()
    const o = await objective(s.blogId)
    // 12 outages of 5 s, one every 5 minutes over the last hour, the last 4 minutes ago: 60 s in the
    // hour (2.3 % of a 2 592 s budget); burn 60/3600/0.001 = 16.7 over 1 h, 5/300/0.001 = 16.7 over 5 min.
    for (let i = 0; i < 12; i++) await downtime(s, at(-HOUR + MINUTE + i * 5 * MINUTE), 5)

    const report = await evaluate(at(0))
    expect(report.opened).toBeGreaterThanOrEqual(1)
    let [burn, ...others] = await alertsOf(s.blogId)
    expect(others).toEqual([]) // 97.7 % of the budget left: no budget alert
    expect(burn).toMatchObject({
      checkType: SLO_BURN,
      discriminator: o.id.toString(),
      endpointId: null,
      state: 'Degraded',
      severity: 2,
      endedAt: null,
    })
    expect(burn!.metadata).toMatchObject({
      objective_id: o.id.toString(),
      firing: [{ severity: 'page', long: '1h', short: '5m', burn_rate: 14.4 }],
    })
    expect(burn!.transitions.map((t) => [t.reason, t.stateAfter, t.source])).toEqual([
      ['opened', 'Degraded', 'slo:test'],
    ])
    expect(burn!.transitions[0]!.metadata).toMatchObject({ error: 'burn_rate' })

    // A minute later it still fires: nothing changes.
    await evaluate(at(MINUTE))
    expect((await alertsOf(s.blogId))[0]!.transitions).toHaveLength(1)

    // Six minutes on, the last 5 minutes are clean: the 1 h/5 m rule no longer fires, nor any other.
    await evaluate(at(6 * MINUTE))
    ;[burn] = await alertsOf(s.blogId)
    expect(burn).toMatchObject({ endedAt: at(6 * MINUTE), resolutionReason: 'burn_rate_subsided', state: 'Degraded' })
    expect(burn!.transitions.map((t) => [t.reason, t.stateAfter])).toEqual([
      ['opened', 'Degraded'],
      ['burn_rate_subsided', 'Resolved'],
    ])
  })

  it('a short spike over the 5-minute threshold but under the 1-hour one opens nothing', async () => {
    const s = await site()
    await objective(s.blogId)
    // 45 s down 3 minutes ago: 150× over 5 min, but 45/3600/0.001 = 12.5 < 14.4 over 1 h; 25× over
    // 30 min but 2.1 < 6 over 6 h; 0.17 < 1 over 3 days.
    await downtime(s, at(-3 * MINUTE), 45)
    await evaluate(at(0))
    expect(await alertsOf(s.blogId)).toEqual([])
  })

  it('a ticket rule opens Warning, a page rule escalates it to Degraded, and it steps back down', async () => {
    const s = await site()
    await objective(s.blogId)
    // 300 s two days ago and 30 s three hours ago: 330/259200/0.001 = 1.27 > 1 over 3 days and
    // 30/21600/0.001 = 1.39 > 1 over 6 h: the ticket rule; nothing in the last hour.
    await downtime(s, at(-2 * DAY), 300)
    await downtime(s, at(-3 * HOUR), 30)
    await evaluate(at(0))
    let [burn] = await alertsOf(s.blogId)
    expect(burn).toMatchObject({ checkType: SLO_BURN, state: 'Warning', severity: 1 })

    // 60 s down from 2 minutes ago: 1 h burn 16.7, 5 min burn 200: a page rule fires too.
    await downtime(s, at(-2 * MINUTE), 60)
    await evaluate(at(MINUTE))
    ;[burn] = await alertsOf(s.blogId)
    expect(burn).toMatchObject({ state: 'Degraded', severity: 2, endedAt: null })

    // Ten minutes on the page rule stops (nothing over the last 5 minutes); the ticket rule goes on.
    await evaluate(at(10 * MINUTE))
    ;[burn] = await alertsOf(s.blogId)
    expect(burn).toMatchObject({ state: 'Warning', severity: 1, endedAt: null })
    expect(burn!.transitions.map((t) => [t.reason, t.stateBefore, t.stateAfter])).toEqual([
      ['opened', null, 'Warning'],
      ['state_change', 'Warning', 'Degraded'],
      ['state_change', 'Degraded', 'Warning'],
    ])
  })
})

describe('error-budget alerts', () => {
  it('opens Warning below the warning threshold, escalates below the critical one, closes once the window leaves the downtime behind', async () => {
    const s = await site()
    const o = await objective(s.blogId, { window: '7d' })
    // 7 days at 99.9 %: a budget of 604.8 s. 500 s down six days ago leaves 17.3 % (< 25 %, ≥ 10 %).
    await downtime(s, at(-6 * DAY), 500)
    await evaluate(at(0))
    let [budget, ...others] = await alertsOf(s.blogId)
    expect(others).toEqual([])
    expect(budget).toMatchObject({
      checkType: SLO_BUDGET,
      discriminator: o.id.toString(),
      state: 'Warning',
      severity: 1,
    })
    expect(budget!.metadata!.budget_remaining_percent).toBeCloseTo(100 * (1 - 500 / 604.8), 6)

    // 60 s more four days ago: 560 s spent, 7.4 % left (< 10 %): Degraded.
    await downtime(s, at(-4 * DAY), 60)
    await evaluate(at(MINUTE))
    ;[budget] = await alertsOf(s.blogId)
    expect(budget).toMatchObject({ state: 'Degraded', severity: 2, endedAt: null })

    // A day and an hour later the 500 s have left the window: 60 s spent, 90 % left.
    const later = at(DAY + HOUR)
    await evaluate(later)
    ;[budget] = await alertsOf(s.blogId)
    expect(budget).toMatchObject({ endedAt: later, resolutionReason: 'budget_recovered' })
    expect(budget!.transitions.map((t) => [t.reason, t.stateAfter])).toEqual([
      ['opened', 'Warning'],
      ['state_change', 'Degraded'],
      ['budget_recovered', 'Resolved'],
    ])
  })

  it('opens Degraded at once when the budget is exhausted, whatever the critical threshold', async () => {
    const s = await site()
    await objective(s.blogId, { window: '7d', budget_warn_percent: 50, budget_critical_percent: 0 })
    // 700 s of a 604.8 s budget: −15.7 % left.
    await downtime(s, at(-5 * DAY), 700)
    await evaluate(at(0))
    const [budget] = await alertsOf(s.blogId)
    expect(budget).toMatchObject({ checkType: SLO_BUDGET, state: 'Degraded', severity: 2 })
    expect(budget!.metadata).toMatchObject({ exhausted: true })
  })

  it('puts an endpoint’s objective’s alerts on that endpoint', async () => {
    const s = await site()
    const o = await objective(s.blogId, { window: '7d', endpoint_id: s.endpointId })
    await downtime(s, at(-6 * DAY), 500)
    await evaluate(at(0))
    const [budget] = await alertsOf(s.blogId)
    expect(budget).toMatchObject({ endpointId: s.endpointId, discriminator: o.id.toString(), state: 'Warning' })
  })
})

describe('objectives that stop or move', () => {
  it('closes the alerts of a deactivated objective, and moves those of an objective moved to an endpoint', async () => {
    const s = await site()
    const gone = await objective(s.blogId, { window: '7d' })
    const moved = await objective(s.blogId, { window: '7d', target: 99.5 })
    // 500 s of 604.8 s (99.9 %) and of 3 024 s (99.5 %: 83.5 % left, no alert at 99.5 %)...
    await downtime(s, at(-6 * DAY), 500)
    // ...so make the second one strict enough to alert: 99.9 % too, after the first evaluation.
    await evaluate(at(0))
    await updateObjective({ ctx: { db: database().db }, tenantId: null, id: moved.id, changes: { target: 99.9 } })
    await evaluate(at(MINUTE))
    expect((await alertsOf(s.blogId)).map((a) => [a.discriminator, a.endpointId, a.endedAt])).toEqual([
      [gone.id.toString(), null, null],
      [moved.id.toString(), null, null],
    ])

    await deactivateObjective({ ctx: { db: database().db }, tenantId: null, id: gone.id })
    await updateObjective({
      ctx: { db: database().db },
      tenantId: null,
      id: moved.id,
      changes: { endpoint_id: s.endpointId },
    })
    await evaluate(at(2 * MINUTE))
    const alerts = await alertsOf(s.blogId)
    expect(alerts.map((a) => [a.discriminator, a.endpointId, a.endedAt, a.resolutionReason])).toEqual([
      [gone.id.toString(), null, at(2 * MINUTE), 'manual_override'],
      [moved.id.toString(), null, at(2 * MINUTE), 'manual_override'],
      [moved.id.toString(), s.endpointId, null, null],
    ])
  })
})

describe('never downtime', () => {
  it('open alerts change neither the uptime figures nor any objective’s budget', async () => {
    const s = await site()
    const o = await objective(s.blogId)
    for (let i = 0; i < 12; i++) await downtime(s, at(-HOUR + MINUTE + i * 5 * MINUTE), 5)
    const db = database().db
    const uptime = async () => {
      const scope = (await loadStatsScope({ ctx: { db }, blogId: s.blogId, endpointId: null }))!
      const period = { from: at(-DAY), to: at(0) }
      const input = await loadUptimeInput({ ctx: { db }, scope, period, now: at(0) })
      return computeUptime(input)
    }
    const status = () => objectiveStatus({ ctx: { db }, objective: o, now: at(0) })
    const before = { uptime: await uptime(), status: await status() }

    await evaluate(at(0))
    // The burn alert is open (Degraded), and a budget alert held open by hand (the evaluator would
    // close it: 97.7 % left) — both over the whole last day.
    const budget = await openEvent({
      ctx: store(at(-DAY)),
      input: { blogId: s.blogId, checkType: SLO_BUDGET, discriminator: 'held', state: 'Degraded', startedAt: at(-DAY) },
    })
    expect(budget.opened).toBe(true)
    expect((await alertsOf(s.blogId)).filter((a) => a.endedAt === null)).toHaveLength(2)

    const after = { uptime: await uptime(), status: await status() }
    expect(after.uptime.downMs).toBe(60_000)
    expect(after.uptime.downMs).toBe(before.uptime.downMs)
    expect(after.uptime.incidentCount).toBe(12)
    expect(after.uptime.uptimePercent).toBe(before.uptime.uptimePercent)
    expect(after.status.budgetConsumed).toBe(60)
    expect(after.status).toEqual(before.status)
  })
})
