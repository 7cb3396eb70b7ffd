/**
 * Daily snapshots and streaks. Once a UTC day is over, each active objective gets one row for it in
 * `jetmon_slo_daily_snapshots` (its status at the day's last instant) and its streak in
 * `jetmon_slo_streaks` moves on by that day:
 *
 * - a day is **met** when, at its end (00:00 UTC of the next day), the objective's SLI over its
 *   window (the window ending then) is at or above the target — or nothing of the window was
 *   eligible — and no downtime of its scope is open then;
 * - a met day adds one to the current streak (and the best one follows); a day not met resets the
 *   current streak to 0 and, when it was above 0, records when it broke (logged).
 *
 * Days are written in order, from the day after the streak's last day (for a new objective: the
 * day it was created) to yesterday, so days missed while no evaluator ran are filled in on the next
 * run, once each. Each day is one transaction that locks the streak row and skips a day already
 * counted: running twice, or two writers at once, changes nothing.
 */
import { type DbOrTx, events, sloDailySnapshots, sloStreaks, withTransaction } from '@jetmon/db'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { and, count, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import { type ObjectiveStatus, objectiveStatuses } from './status.js'
import { listObjectives, type Objective } from './store.js'

const DAY_MS = 86_400_000
/** Objectives read per page. */
const PAGE = 500
/** At most this many missed days per objective per run; the next run goes on from there. */
export const MAX_CATCH_UP_DAYS = 31

/** `YYYY-MM-DD` of the UTC day `at` falls in. */
export const utcDay = (at: Date | number): string => new Date(at).toISOString().slice(0, 10)
const dayStart = (day: string): number => Date.parse(`${day}T00:00:00.000Z`)

/** What a snapshot pass did. */
export interface SnapshotReport {
  /** Snapshot rows written (objective-days). */
  written: number
  /** Streaks that broke (a day not met after at least one met day). */
  streaksBroken: number
  /** Objectives whose days could not be written (logged; tried again on the next run). */
  failed: number
  /** Every active objective is counted up to yesterday: no further pass is needed before the next UTC day. */
  complete: boolean
}

/** Whether the objective was met at the end of a day (see the module's description). */
export function dayMet(status: Pick<ObjectiveStatus, 'sliPercent' | 'hasOpenDowntime'>, target: number): boolean {
  return (status.sliPercent === null || status.sliPercent >= target) && !status.hasOpenDowntime
}

/**
 * Downtime incidents (events that reached Down: a closed event keeps its last state) that began
 * during `[from, to)`, per blog and endpoint, for these blogs, in one query.
 */
async function incidentsBetween(
  db: DbOrTx,
  blogIds: readonly bigint[],
  from: Date,
  to: Date,
): Promise<(objective: Objective) => number> {
  const rows = await db
    .select({ blogId: events.blogId, endpointId: events.endpointId, n: count() })
    .from(events)
    .where(
      and(
        inArray(events.blogId, [...new Set(blogIds)]),
        gte(events.startedAt, from),
        lt(events.startedAt, to),
        eq(events.state, 'Down'),
      ),
    )
    .groupBy(events.blogId, events.endpointId)
  return (objective) =>
    rows
      .filter(
        (row) =>
          row.blogId === objective.blogId && (objective.endpointId === null || row.endpointId === objective.endpointId),
      )
      .reduce((sum, row) => sum + Number(row.n), 0)
}

/**
 * Writes the snapshot and the streak of every active objective for each UTC day that has ended
 * before `now` and is not counted yet, oldest first (at most {@link MAX_CATCH_UP_DAYS} per
 * objective per run). Idempotent.
 */
export async function snapshotFinishedDays(input: {
  ctx: { db: DbOrTx; clock?: () => Date; logger?: Logger }
  now?: Date
}): Promise<SnapshotReport> {
  const { ctx } = input
  const now = input.now ?? (ctx.clock ?? (() => new Date()))()
  const logger = ctx.logger ?? noopLogger
  const lastDay = utcDay(now.getTime() - DAY_MS)
  const report: SnapshotReport = { written: 0, streaksBroken: 0, failed: 0, complete: true }

  let after: bigint | null = null
  do {
    const page = await listObjectives({ ctx: { db: ctx.db }, tenantId: null, active: true, after, limit: PAGE })
    after = page.nextAfter
    if (page.objectives.length === 0) break
    const streaks = await ctx.db
      .select({ objectiveId: sloStreaks.objectiveId, lastDay: sloStreaks.lastDay })
      .from(sloStreaks)
      .where(
        inArray(
          sloStreaks.objectiveId,
          page.objectives.map((o) => o.id),
        ),
      )
    const counted = new Map(streaks.map((row) => [row.objectiveId, row.lastDay]))
    // Each objective's days still to write, oldest first.
    const pending = new Map<bigint, string[]>()
    for (const objective of page.objectives) {
      const last = counted.get(objective.id)
      let next = last ? dayStart(last) + DAY_MS : dayStart(utcDay(objective.createdAt))
      const days: string[] = []
      while (utcDay(next) <= lastDay && days.length < MAX_CATCH_UP_DAYS) {
        days.push(utcDay(next))
        next += DAY_MS
      }
      if (days.length > 0) pending.set(objective.id, days)
      if (utcDay(next) <= lastDay) report.complete = false // more than a run's worth of days behind
    }
    const failed = new Set<bigint>()
    // Round k writes each objective's k-th pending day: an objective's days go in order, and the
    // objectives that need the same day are measured together.
    for (let k = 0; k < MAX_CATCH_UP_DAYS; k++) {
      const groups = new Map<string, Objective[]>()
      for (const objective of page.objectives) {
        const day = pending.get(objective.id)?.[k]
        if (day === undefined || failed.has(objective.id)) continue
        const group = groups.get(day)
        if (group) group.push(objective)
        else groups.set(day, [objective])
      }
      if (groups.size === 0) break
      for (const [day, objectives] of groups) {
        const end = new Date(dayStart(day) + DAY_MS)
        try {
          const statuses = await objectiveStatuses({ ctx: { db: ctx.db }, objectives, now: end })
          const incidents = await incidentsBetween(
            ctx.db,
            objectives.map((o) => o.blogId),
            new Date(dayStart(day)),
            end,
          )
          for (const [index, objective] of objectives.entries()) {
            const status = statuses[index] as ObjectiveStatus
            const outcome = await writeDay(ctx.db, objective, day, status, incidents(objective), now)
            if (outcome === 'skipped') continue
            report.written++
            if (outcome.brokenAfter > 0) {
              report.streaksBroken++
              logger.info(
                { objectiveId: objective.id.toString(), day, streakDays: outcome.brokenAfter },
                `objective "${objective.name}": streak broken at ${outcome.brokenAfter} days`,
              )
            }
          }
        } catch (error) {
          for (const objective of objectives) failed.add(objective.id)
          report.failed += objectives.length
          report.complete = false
          logger.warn(
            { err: error, day, objectives: objectives.map((o) => o.id.toString()) },
            'could not write the daily snapshot of some objectives; their days are written on the next run, in order',
          )
        }
      }
    }
  } while (after !== null)
  return report
}

/**
 * One objective-day: locks the streak row (creating it at zero first), skips a day already
 * counted, writes the snapshot and moves the streak on, in one transaction.
 */
async function writeDay(
  db: DbOrTx,
  objective: Objective,
  day: string,
  status: ObjectiveStatus,
  incidents: number,
  now: Date,
): Promise<'skipped' | { brokenAfter: number }> {
  return withTransaction(db, async (tx) => {
    await tx.insert(sloStreaks).ignore().values({ objectiveId: objective.id, updatedAt: now })
    const [streak] = await tx.select().from(sloStreaks).where(eq(sloStreaks.objectiveId, objective.id)).for('update')
    if (!streak) return 'skipped'
    if (streak.lastDay !== null && streak.lastDay >= day) return 'skipped'
    const met = dayMet(status, objective.target)
    const current = met ? streak.currentDays + 1 : 0
    const brokenAfter = met ? 0 : streak.currentDays
    const end = new Date(dayStart(day) + DAY_MS)
    await tx
      .insert(sloDailySnapshots)
      .values({
        objectiveId: objective.id,
        day,
        sli: status.sliPercent,
        budgetConsumedSeconds: status.budgetConsumed,
        budgetRemainingPercent: status.eligible > 0 ? status.budgetRemainingPercent : null,
        burnRate24h: status.burnRates['24h'],
        streakDays: current,
        incidents,
        createdAt: now,
      })
      // A row of this day written before the streak (by hand, or an older version) is replaced.
      .onDuplicateKeyUpdate({
        set: {
          sli: sql`VALUES(sli)`,
          budgetConsumedSeconds: sql`VALUES(budget_consumed_seconds)`,
          budgetRemainingPercent: sql`VALUES(budget_remaining_percent)`,
          burnRate24h: sql`VALUES(burn_rate_24h)`,
          streakDays: sql`VALUES(streak_days)`,
          incidents: sql`VALUES(incidents)`,
        },
      })
    await tx
      .update(sloStreaks)
      .set({
        currentDays: current,
        bestDays: Math.max(streak.bestDays, current),
        brokenAt: brokenAfter > 0 ? end : streak.brokenAt,
        lastDay: day,
        updatedAt: now,
      })
      .where(eq(sloStreaks.objectiveId, objective.id))
    return { brokenAfter }
  })
}
