/**
 * Reading an objective's history: its daily snapshots (newest first, a page at a time) and its
 * streak, as the snapshot pass wrote them.
 */
import { type DbOrTx, preparedPerDatabase, sloDailySnapshots, sloStreaks } from '@jetmon/db'
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import { InvalidInputError } from './errors.js'

/** One UTC day of an objective, at the day's end. */
export interface DailySnapshot {
  /** `YYYY-MM-DD` (UTC). */
  day: string
  /** Percent over the window ending with the day; null when nothing of it was eligible. */
  sli: number | null
  budgetConsumedSeconds: number
  budgetRemainingPercent: number | null
  burnRate24h: number | null
  /** The streak after the day. */
  streakDays: number
  incidents: number
}

/** An objective's run of days met. */
export interface ObjectiveStreak {
  currentDays: number
  bestDays: number
  /** When the last streak broke (the end of the day not met); null if never. */
  brokenAt: Date | null
  /** The last day counted (`YYYY-MM-DD`), null before the first. */
  lastDay: string | null
}

const dayText = (value: unknown): string =>
  value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10)

/**
 * A page of an objective's snapshots, newest first: the days before `before` (`YYYY-MM-DD`, the
 * last day of the previous page), at most `limit` (1–1000).
 */
export async function listSnapshots({
  ctx,
  objectiveId,
  before = null,
  limit = 50,
}: {
  ctx: { db: DbOrTx }
  objectiveId: bigint
  before?: string | null
  limit?: number
}): Promise<{ snapshots: DailySnapshot[]; nextBefore: string | null }> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidInputError('limit', `must be a whole number from 1 to 1000, got ${limit}`)
  }
  if (before !== null && !/^\d{4}-\d{2}-\d{2}$/.test(before)) {
    throw new InvalidInputError('before', `must be a day, YYYY-MM-DD, got ${before}`)
  }
  const rows = await ctx.db
    .select()
    .from(sloDailySnapshots)
    .where(
      and(
        eq(sloDailySnapshots.objectiveId, objectiveId),
        before === null ? undefined : lt(sloDailySnapshots.day, before as never),
      ),
    )
    .orderBy(desc(sloDailySnapshots.day))
    .limit(limit + 1)
  const page = rows.slice(0, limit).map(
    (row): DailySnapshot => ({
      day: dayText(row.day),
      sli: row.sli,
      budgetConsumedSeconds: row.budgetConsumedSeconds,
      budgetRemainingPercent: row.budgetRemainingPercent,
      burnRate24h: row.burnRate24h,
      streakDays: row.streakDays,
      incidents: row.incidents,
    }),
  )
  return { snapshots: page, nextBefore: rows.length > limit ? (page.at(-1)?.day ?? null) : null }
}

export const NO_STREAK: ObjectiveStreak = Object.freeze({ currentDays: 0, bestDays: 0, brokenAt: null, lastDay: null })

/** A streak from its row. */
export function streakOf(row: typeof sloStreaks.$inferSelect): ObjectiveStreak {
  return {
    currentDays: row.currentDays,
    bestDays: row.bestDays,
    brokenAt: row.brokenAt,
    lastDay: row.lastDay === null ? null : dayText(row.lastDay),
  }
}

/** The streaks of these objectives (zero for one without a row yet), in one query. */
export async function objectiveStreaks({
  ctx,
  objectiveIds,
}: {
  ctx: { db: DbOrTx }
  objectiveIds: readonly bigint[]
}): Promise<Map<bigint, ObjectiveStreak>> {
  const out = new Map<bigint, ObjectiveStreak>()
  if (objectiveIds.length === 0) return out
  const ids = [...new Set(objectiveIds)]
  // A page of objectives (the API's) binds a query kept per count; a long list (the evaluator's) is built once.
  const rows =
    ids.length <= PREPARED_STREAKS_MAX
      ? await streaksOf(ctx.db, ids.length).execute(Object.fromEntries(ids.map((id, i) => [`id${i}`, id])))
      : await ctx.db.select().from(sloStreaks).where(inArray(sloStreaks.objectiveId, ids))
  for (const id of objectiveIds) out.set(id, NO_STREAK)
  for (const row of rows) out.set(row.objectiveId, streakOf(row))
  return out
}

/** Lists of objectives up to this long read their streaks through a query kept per length. */
const PREPARED_STREAKS_MAX = 100

/** The streaks of `n` objectives: built once per `n`, then bound. */
const streaksOf = preparedPerDatabase((db: DbOrTx, n: number) =>
  db
    .select()
    .from(sloStreaks)
    .where(
      inArray(
        sloStreaks.objectiveId,
        Array.from({ length: n }, (_, i) => sql.placeholder(`id${i}`)),
      ),
    )
    .prepare(),
)
