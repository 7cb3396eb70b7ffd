/**
 * Maintenance windows written through the API. The monitor needs no announcement for them: its
 * `MaintenanceCache` (packages/monitor/src/maintenance.ts) re-reads every window that has not
 * ended yet every `TARGET_RELOAD_SEC`, so a new, moved or deleted window takes effect on its own
 * within that period.
 */
import { maintenanceWindows, type Tx } from '@jetmon/db'
import { and, eq, gt, inArray, lte } from 'drizzle-orm'
import { ApiError, invalidRequest } from '../errors.js'

/** What a site PATCH asks of its maintenance (`maintenance_start` / `maintenance_end`). */
export type MaintenancePlan =
  | { kind: 'none' }
  /** Both given: a new site-wide window [startsAt, endsAt). */
  | { kind: 'schedule'; startsAt: Date; endsAt: Date }
  /** `maintenance_end: null`: the windows covering the site now end now. */
  | { kind: 'end' }
  /** `maintenance_end` alone: the windows covering the site now end at `endsAt` instead. */
  | { kind: 'move'; endsAt: Date }

function invalidWindow(message: string, path: string): ApiError {
  return new ApiError(422, 'invalid_window', message, { details: [{ path, message }] })
}

/**
 * Checks a window to create: `starts_at < ends_at` (a window covers `starts_at <= t < ends_at`),
 * and `ends_at` in the future (a window entirely in the past would only rewrite history).
 */
export function checkWindow(startsAt: Date, endsAt: Date, now: Date, paths: { start: string; end: string }): void {
  if (startsAt.getTime() >= endsAt.getTime()) {
    throw invalidWindow(`${paths.start} must be before ${paths.end}`, paths.end)
  }
  if (endsAt.getTime() <= now.getTime()) {
    throw invalidWindow(`${paths.end} must be in the future (it is ${now.toISOString()} now)`, paths.end)
  }
}

/** Reads `maintenance_start` / `maintenance_end` of a site PATCH; malformed combinations are 400 or 422. */
export function maintenancePlanOf(
  body: { maintenance_start?: Date | null | undefined; maintenance_end?: Date | null | undefined },
  now: Date,
): MaintenancePlan {
  const start = body.maintenance_start
  const end = body.maintenance_end
  if (start === undefined && end === undefined) return { kind: 'none' }
  if (start instanceof Date) {
    if (!(end instanceof Date)) {
      throw invalidRequest([
        {
          path: 'maintenance_end',
          message: 'is required with maintenance_start (the window is [maintenance_start, maintenance_end))',
        },
      ])
    }
    checkWindow(start, end, now, { start: 'maintenance_start', end: 'maintenance_end' })
    return { kind: 'schedule', startsAt: start, endsAt: end }
  }
  if (end instanceof Date) {
    if (end.getTime() <= now.getTime()) {
      throw invalidWindow(
        `maintenance_end must be in the future (it is ${now.toISOString()} now); send null to end maintenance now`,
        'maintenance_end',
      )
    }
    return { kind: 'move', endsAt: end }
  }
  return { kind: 'end' }
}

/** Carries out a {@link MaintenancePlan} for a site, in the request's transaction. */
export async function applyMaintenancePlan(
  tx: Tx,
  plan: MaintenancePlan,
  site: { blogId: bigint; now: Date; createdBy: string },
): Promise<void> {
  if (plan.kind === 'none') return
  const { blogId, now } = site
  if (plan.kind === 'schedule') {
    await tx.insert(maintenanceWindows).values({
      blogId,
      endpointId: null,
      startsAt: plan.startsAt,
      endsAt: plan.endsAt,
      createdBy: site.createdBy,
    })
    return
  }
  const current = await tx
    .select({ id: maintenanceWindows.id, startsAt: maintenanceWindows.startsAt })
    .from(maintenanceWindows)
    .where(
      and(
        eq(maintenanceWindows.blogId, blogId),
        gt(maintenanceWindows.endsAt, now),
        lte(maintenanceWindows.startsAt, now),
      ),
    )
    .for('update')
  if (plan.kind === 'move') {
    if (current.length === 0) {
      throw invalidWindow(
        'no maintenance window covers the site now; send maintenance_start with maintenance_end to schedule one',
        'maintenance_end',
      )
    }
    await tx
      .update(maintenanceWindows)
      .set({ endsAt: plan.endsAt })
      .where(
        inArray(
          maintenanceWindows.id,
          current.map((window) => window.id),
        ),
      )
    return
  }
  // End now: the part that already happened stays on record; a window that starts this very
  // millisecond would become empty (starts_at < ends_at), so it goes.
  const empty = current.filter((window) => window.startsAt.getTime() >= now.getTime()).map((window) => window.id)
  const shortened = current.filter((window) => window.startsAt.getTime() < now.getTime()).map((window) => window.id)
  if (empty.length > 0) await tx.delete(maintenanceWindows).where(inArray(maintenanceWindows.id, empty))
  if (shortened.length > 0) {
    await tx.update(maintenanceWindows).set({ endsAt: now }).where(inArray(maintenanceWindows.id, shortened))
  }
}
