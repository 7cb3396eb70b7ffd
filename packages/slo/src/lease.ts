/**
 * The once-per-fleet claim of periodic objective work (`jetmon_slo_leases`): of any number of
 * processes asking for the same period, exactly one gets it, and no one gets a later period while a
 * holder is still working, unless its lease has expired (it died).
 */
import { type DbOrTx, sloLeases } from '@jetmon/db'
import { and, eq, isNull, lt, lte, or } from 'drizzle-orm'

/** The row the minute-by-minute evaluation of objectives is claimed through. */
export const EVALUATOR_LEASE = 'evaluator'

const MINUTE_MS = 60_000

/** The first instant of the UTC minute `now` falls in: the period an evaluation at `now` claims. */
export function evaluationMinute(now: Date): Date {
  return new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS)
}

function affectedRows(result: unknown): number {
  const header = Array.isArray(result) ? result[0] : result
  return Number((header as { affectedRows?: number } | undefined)?.affectedRows ?? 0)
}

/**
 * Claims `period` of the lease `name` for `holder`: succeeds when no one has claimed this period or
 * a later one, and no holder is still working (its lease is released or expired). The claim holds
 * until {@link releaseLease} or until `leaseMs` has passed. One conditional UPDATE: concurrent
 * claimants are serialized by the row lock, and every one but the first finds the period taken.
 */
export async function claimLease(input: {
  ctx: { db: DbOrTx }
  name: string
  holder: string
  period: Date
  now: Date
  leaseMs: number
}): Promise<boolean> {
  const { ctx, name, holder, period, now } = input
  await ctx.db.insert(sloLeases).ignore().values({ name, updatedAt: now })
  const result = await ctx.db
    .update(sloLeases)
    .set({
      holder,
      periodStart: period,
      leaseExpiresAt: new Date(now.getTime() + input.leaseMs),
      updatedAt: now,
    })
    .where(
      and(
        eq(sloLeases.name, name),
        or(isNull(sloLeases.periodStart), lt(sloLeases.periodStart, period)),
        or(isNull(sloLeases.leaseExpiresAt), lte(sloLeases.leaseExpiresAt, now)),
      ),
    )
  return affectedRows(result) === 1
}

/** Ends `holder`'s claim of `period` (the work is done): the next period can be claimed at once. */
export async function releaseLease(input: {
  ctx: { db: DbOrTx }
  name: string
  holder: string
  period: Date
  now: Date
}): Promise<void> {
  const { ctx, name, holder, period, now } = input
  await ctx.db
    .update(sloLeases)
    .set({ leaseExpiresAt: null, finishedAt: now, updatedAt: now })
    .where(and(eq(sloLeases.name, name), eq(sloLeases.holder, holder), eq(sloLeases.periodStart, period)))
}
