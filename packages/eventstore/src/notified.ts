import { events } from '@jetmon/db'
import { and, eq, isNull } from 'drizzle-orm'
import { requireId } from './_validate.js'
import type { ReadContext } from './types.js'

/**
 * Records that the WordPress.com Down notice of an incident went out at `at` (the notifier, once
 * WordPress.com accepted it; or an adoption, for an incident whose Down an older monitor already
 * sent). Only then does the incident's recovery notice go out. The first time is kept; no
 * transition is written (the incident's state does not change). Closed events can be marked.
 * Returns whether this call set it. Pass a transaction as `ctx.db` to join a larger unit of work.
 */
export async function markDownNotified({
  ctx,
  eventId,
  at,
}: {
  ctx: ReadContext
  eventId: bigint
  at: Date
}): Promise<boolean> {
  const [header] = await ctx.db
    .update(events)
    .set({ downNotifiedAt: at })
    .where(and(eq(events.id, requireId('eventId', eventId)), isNull(events.downNotifiedAt)))
  return header.affectedRows > 0
}

/** When the incident's WordPress.com Down notice went out; null when it did not (or the event is unknown). */
export async function downNotifiedAt({ ctx, eventId }: { ctx: ReadContext; eventId: bigint }): Promise<Date | null> {
  const [row] = await ctx.db
    .select({ at: events.downNotifiedAt })
    .from(events)
    .where(eq(events.id, requireId('eventId', eventId)))
  return row?.at ?? null
}
