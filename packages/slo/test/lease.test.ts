/**
 * Once per fleet: of several evaluators only one evaluates each minute, a dead holder's minute is
 * taken over once its lease expires, and the loop runs a few seconds into each minute.
 */
import { events, eventTransitions, monitorSites } from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent } from '@jetmon/eventstore'
import { manualClock, manualTimers, useTestDatabase, waitFor } from '@jetmon/testkit'
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  claimLease,
  createObjective,
  deactivateObjectivesOfSite,
  type EvaluationRun,
  ObjectiveEvaluator,
  releaseLease,
  runEvaluation,
} from '../src/index.js'

const database = useTestDatabase()

const MINUTE = 60_000
const HOUR = 60 * MINUTE

const store = (when: Date): EventStoreContext => ({ db: database().db, source: 'monitor:test', clock: () => when })

describe('the evaluator lease', () => {
  it('two evaluators at once: one evaluates the minute, the other does nothing; the next minute is claimed again', async () => {
    const db = database().db
    const now = new Date('2026-05-20T12:00:07Z')
    const [row] = await db
      .insert(monitorSites)
      .values({ blogId: 970_001n, monitorUrl: 'https://a.example/' })
      .$returningId()
    const endpointId = BigInt(row!.endpointId)
    await createObjective({
      ctx: { db, clock: () => new Date(now.getTime() - 40 * 86_400_000) },
      tenantId: null,
      createdBy: 'test',
      fields: { name: 'a', blog_id: 970_001n, sli: 'availability', target: 99.9, window: '30d' },
    })
    // Down for the last two minutes: a page.
    const start = new Date(now.getTime() - 2 * MINUTE)
    const { event } = await openEvent({
      ctx: store(start),
      input: { blogId: 970_001n, endpointId, checkType: 'http', state: 'Down', startedAt: start },
    })
    await closeEvent({ ctx: store(now), input: { eventId: event.id, reason: 'verifier_cleared' } })

    const ctx = (holder: string) => ({ db, source: `slo:${holder}`, clock: () => now })
    const runs = await Promise.all(['a', 'b', 'c'].map((holder) => runEvaluation({ ctx: ctx(holder), holder })))
    expect(runs.filter((run) => run.claimed)).toHaveLength(1)
    expect(runs.every((run) => run.minute.toISOString() === '2026-05-20T12:00:00.000Z')).toBe(true)
    const alerts = await db.select().from(events).where(eq(events.checkType, 'slo_burn'))
    expect(alerts).toHaveLength(1)
    const transitions = await db
      .select()
      .from(eventTransitions)
      .where(eq(eventTransitions.eventId, alerts[0]!.id))
      .orderBy(asc(eventTransitions.id))
    expect(transitions.map((t) => t.reason)).toEqual(['opened'])

    // The same minute again, after the winner finished: already done.
    expect((await runEvaluation({ ctx: ctx('b'), holder: 'b' })).claimed).toBe(false)
    // The next minute: claimed by whoever asks first.
    const later = new Date(now.getTime() + MINUTE)
    const next = await runEvaluation({ ctx: { ...ctx('b'), clock: () => later }, holder: 'b' })
    expect(next).toMatchObject({ claimed: true, evaluation: { objectives: 1 } })
  })

  it('a holder that died keeps its minute until its lease expires; then another claims a later minute', async () => {
    const db = database().db
    const name = 'test-lease'
    const m = new Date('2026-07-01T00:00:00Z')
    const plus = (ms: number) => new Date(m.getTime() + ms)
    const claim = (holder: string, period: Date, now: Date) =>
      claimLease({ ctx: { db }, name, holder, period, now, leaseMs: 5 * MINUTE })
    expect(await claim('a', m, plus(1_000))).toBe(true)
    expect(await claim('b', m, plus(2_000))).toBe(false) // taken
    // 'a' never finishes: the next minutes wait for its lease (5 minutes from its claim).
    expect(await claim('b', plus(MINUTE), plus(MINUTE + 1_000))).toBe(false)
    expect(await claim('b', plus(5 * MINUTE), plus(5 * MINUTE + 1_000))).toBe(true)
    // 'a' comes back and finishes late: it no longer holds anything, and releases nothing of 'b's.
    await releaseLease({ ctx: { db }, name, holder: 'a', period: m, now: plus(5 * MINUTE + 2_000) })
    expect(await claim('c', plus(6 * MINUTE), plus(6 * MINUTE + 1_000))).toBe(false)
    await releaseLease({ ctx: { db }, name, holder: 'b', period: plus(5 * MINUTE), now: plus(5 * MINUTE + 3_000) })
    expect(await claim('c', plus(6 * MINUTE), plus(6 * MINUTE + 1_000))).toBe(true)
    // An earlier minute is never claimed after a later one.
    await releaseLease({ ctx: { db }, name, holder: 'c', period: plus(6 * MINUTE), now: plus(6 * MINUTE + 2_000) })
    expect(await claim('d', plus(5 * MINUTE), plus(6 * MINUTE + 3_000))).toBe(false)
  })
})

describe('ObjectiveEvaluator', () => {
  it('runs a few seconds into each minute, writes the snapshots once a day, and stops cleanly', async () => {
    // The objective above would have its days snapshotted on each run: not this test's subject.
    await deactivateObjectivesOfSite({ ctx: { db: database().db }, blogId: 970_001n })
    const clock = manualClock(new Date('2027-01-01T00:00:30Z'))
    const timers = manualTimers(clock)
    const runs: EvaluationRun[] = []
    const evaluator = new ObjectiveEvaluator({
      ctx: { db: database().db, source: 'slo:loop', clock: clock.now },
      holder: 'loop',
      timers,
      onRun: (run) => runs.push(run),
    })
    evaluator.start()
    await timers.advanceSettling(30_000) // 00:01:00: not yet
    expect(runs).toHaveLength(0)
    await timers.advanceSettling(5_000) // 00:01:05
    await waitForRuns(runs, 1)
    expect(runs[0]).toMatchObject({ claimed: true, minute: new Date('2027-01-01T00:01:00Z') })
    await timers.advanceSettling(HOUR / 60) // 00:02:05
    await waitForRuns(runs, 2)
    expect(runs[1]).toMatchObject({ claimed: true, minute: new Date('2027-01-01T00:02:00Z') })
    // Every objective was counted up to yesterday by the first run: no snapshot pass until tomorrow.
    expect(runs[0]).toMatchObject({ snapshots: { complete: true } })
    expect(runs[1]).toMatchObject({ snapshots: null })
    await evaluator.stop()
    expect(timers.pending).toBe(0)
  })
})

/** The run a timer started talks to the database: wait for it by asking, not for time. */
async function waitForRuns(runs: EvaluationRun[], count: number): Promise<void> {
  await waitFor(`${count} evaluator runs`, () => runs.length >= count)
}
