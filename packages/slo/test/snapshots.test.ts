/**
 * Daily snapshots and streaks: days written once each, in order, missed days caught up, on the real
 * database (this file's own, so no other objective is snapshotted alongside).
 */
import { monitorSites, sloDailySnapshots, sloStreaks } from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent } from '@jetmon/eventstore'
import { recordingLogger, useTestDatabase } from '@jetmon/testkit'
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createObjective, type ObjectiveFieldsInput, snapshotFinishedDays } from '../src/index.js'

const database = useTestDatabase()

const SECOND = 1000
const t = (iso: string) => new Date(iso)

let nextBlog = 950_000n
async function site(): Promise<{ blogId: bigint; endpointId: bigint }> {
  const blogId = nextBlog++
  const [row] = await database()
    .db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/` })
    .$returningId()
  return { blogId, endpointId: BigInt(row!.endpointId) }
}

const store = (when: Date): EventStoreContext => ({ db: database().db, source: 'monitor:test', clock: () => when })

/** Confirmed downtime from `start`, closed after `seconds` (or left open). */
async function downtime(s: { blogId: bigint; endpointId: bigint }, start: Date, seconds: number | null) {
  const { event } = await openEvent({
    ctx: store(start),
    input: { blogId: s.blogId, endpointId: s.endpointId, checkType: 'http', state: 'Down', startedAt: start },
  })
  if (seconds !== null) {
    await closeEvent({
      ctx: store(new Date(start.getTime() + seconds * SECOND)),
      input: { eventId: event.id, reason: 'verifier_cleared' },
    })
  }
}

async function objective(blogId: bigint, createdAt: Date, fields: Partial<ObjectiveFieldsInput> = {}) {
  return createObjective({
    ctx: { db: database().db, clock: () => createdAt },
    tenantId: null,
    createdBy: 'test',
    fields: { name: `o-${blogId}`, blog_id: blogId, sli: 'availability', target: 99.9, window: '7d', ...fields },
  })
}

async function snapshotsOf(objectiveId: bigint) {
  return database()
    .db.select()
    .from(sloDailySnapshots)
    .where(eq(sloDailySnapshots.objectiveId, objectiveId))
    .orderBy(asc(sloDailySnapshots.day))
}

async function streakOf(objectiveId: bigint) {
  const [row] = await database().db.select().from(sloStreaks).where(eq(sloStreaks.objectiveId, objectiveId))
  return row
}

describe('daily snapshots and streaks', () => {
  it('counts met days, breaks the streak on a breach, and catches up missed days in order, once', async () => {
    const s = await site()
    const o = await objective(s.blogId, t('2026-05-01T10:00:00Z'))
    // 700 s down on 3 May: over a 7-day window at 99.9 % (604.8 s of budget) a breach from then on.
    await downtime(s, t('2026-05-03T08:00:00Z'), 700)
    const logger = recordingLogger()
    const run = (now: string) => snapshotFinishedDays({ ctx: { db: database().db, logger }, now: t(now) })

    // Five minutes into 3 May: 1 and 2 May are over, both met.
    expect(await run('2026-05-03T00:05:00Z')).toEqual({ written: 2, streaksBroken: 0, failed: 0, complete: true })
    expect(await streakOf(o.id)).toMatchObject({ currentDays: 2, bestDays: 2, lastDay: '2026-05-02', brokenAt: null })

    // No run for three days: 3, 4 and 5 May are written on the next one, in order.
    expect(await run('2026-05-06T00:05:00Z')).toEqual({ written: 3, streaksBroken: 1, failed: 0, complete: true })
    const rows = await snapshotsOf(o.id)
    expect(rows.map((row) => [row.day, row.streakDays, row.incidents])).toEqual([
      ['2026-05-01', 1, 0],
      ['2026-05-02', 2, 0],
      ['2026-05-03', 0, 1],
      ['2026-05-04', 0, 0],
      ['2026-05-05', 0, 0],
    ])
    const may3 = rows[2]!
    expect(may3.sli).toBeCloseTo(100 * (1 - 700 / 604_800), 9)
    expect(may3.budgetConsumedSeconds).toBe(700)
    expect(may3.budgetRemainingPercent).toBeCloseTo(100 * (1 - 700 / 604.8), 9)
    expect(may3.burnRate24h).toBeCloseTo(700 / 86_400 / 0.001, 9)
    expect(rows[0]).toMatchObject({ sli: 100, budgetConsumedSeconds: 0, budgetRemainingPercent: 100, burnRate24h: 0 })
    expect(await streakOf(o.id)).toMatchObject({
      currentDays: 0,
      bestDays: 2,
      lastDay: '2026-05-05',
      brokenAt: t('2026-05-04T00:00:00Z'),
    })
    expect(logger.messages('info')).toContain(`objective "${o.name}": streak broken at 2 days`)

    // Running again (later the same day) writes nothing and changes nothing.
    expect(await run('2026-05-06T09:00:00Z')).toEqual({ written: 0, streaksBroken: 0, failed: 0, complete: true })
    expect(await snapshotsOf(o.id)).toEqual(rows)

    // Once the downtime has left the 7-day window (at the end of 10 May) the days are met again.
    await run('2026-05-11T00:05:00Z')
    expect((await snapshotsOf(o.id)).slice(5).map((row) => [row.day, row.streakDays])).toEqual([
      ['2026-05-06', 0],
      ['2026-05-07', 0],
      ['2026-05-08', 0],
      ['2026-05-09', 0],
      ['2026-05-10', 1],
    ])
    expect(await streakOf(o.id)).toMatchObject({ currentDays: 1, bestDays: 2, lastDay: '2026-05-10' })
  })

  it('does not count a day that ends with downtime open, however small', async () => {
    const s = await site()
    const o = await objective(s.blogId, t('2026-06-01T10:00:00Z'), { target: 90 })
    // Down from 23:59 on 2 June to 00:01 on 3 June: far within 90 %, but open at the end of 2 June.
    await downtime(s, t('2026-06-02T23:59:00Z'), 120)
    await snapshotFinishedDays({ ctx: { db: database().db }, now: t('2026-06-04T01:00:00Z') })
    expect((await snapshotsOf(o.id)).map((row) => [row.day, row.streakDays, row.incidents])).toEqual([
      ['2026-06-01', 1, 0],
      ['2026-06-02', 0, 1],
      ['2026-06-03', 1, 0],
    ])
  })

  it('catches up at most a month of days per run, oldest first', async () => {
    const s = await site()
    const o = await objective(s.blogId, t('2026-01-01T00:00:00Z'), { window: '28d', target: 99 })
    const first = await snapshotFinishedDays({ ctx: { db: database().db }, now: t('2026-03-01T12:00:00Z') })
    expect(first.written).toBeGreaterThanOrEqual(31)
    expect(first.complete).toBe(false) // February is still to write
    let rows = await snapshotsOf(o.id)
    expect(rows).toHaveLength(31)
    expect([rows[0]!.day, rows[30]!.day]).toEqual(['2026-01-01', '2026-01-31'])
    const second = await snapshotFinishedDays({ ctx: { db: database().db }, now: t('2026-03-01T12:01:00Z') })
    expect(second.complete).toBe(true)
    rows = await snapshotsOf(o.id)
    expect(rows.at(-1)!.day).toBe('2026-02-28')
    expect(rows).toHaveLength(59)
    expect(await streakOf(o.id)).toMatchObject({ currentDays: 59, bestDays: 59 })
  })
})
