import { auditLog, type DbOrTx } from '@jetmon/db'
import { and, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm'

/** One `jetmon_audit_log` row: who did what, about which blog and event, when. */
export type AuditLogRow = typeof auditLog.$inferSelect

/** Which entries to list; every field narrows, none given lists them all. */
export interface AuditLogFilter {
  /** Only entries about this blog. */
  blogId?: bigint
  /** Only entries of these event types (`key_created`, `api_access`…); an empty list matches none. */
  eventTypes?: readonly string[]
  /** From this time, inclusive. */
  since?: Date
  /** Up to this time, exclusive: a window and the next one that starts at its end never share an entry. */
  until?: Date
}

/**
 * The newest `limit` audit entries that match `filter`, newest first (ties on the millisecond in
 * id order, so the same query lists the same rows in the same order). This is the operator's view
 * of the record (`jetmon2 audit`); it reads the table as it is, with no tenant scoping, so it is
 * for callers that already speak for the whole fleet.
 */
export async function listAuditLog({
  ctx,
  filter = {},
  limit,
}: {
  ctx: { db: DbOrTx }
  filter?: AuditLogFilter
  limit: number
}): Promise<AuditLogRow[]> {
  if (filter.eventTypes?.length === 0) return []
  const conditions: SQL[] = []
  if (filter.blogId !== undefined) conditions.push(eq(auditLog.blogId, filter.blogId))
  if (filter.eventTypes !== undefined) conditions.push(inArray(auditLog.eventType, [...filter.eventTypes]))
  if (filter.since !== undefined) conditions.push(gte(auditLog.createdAt, filter.since))
  if (filter.until !== undefined) conditions.push(lt(auditLog.createdAt, filter.until))
  return ctx.db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit)
}
