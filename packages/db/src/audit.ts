import { auditLog } from './schema.js'
import type { DbOrTx } from './transaction.js'

/** One row of the operational record (`jetmon_audit_log`): who did what, and to which blog or event. */
export interface AuditEntry {
  /** What happened, snake_case: `config_reload`, `key_created`, … */
  eventType: string
  /** Who did it: `monitor:<host>`, `api:<consumer>`, `cli:<user>`, `system`. */
  source: string
  detail?: string | null
  blogId?: bigint | null
  eventId?: bigint | null
  metadata?: Record<string, unknown> | null
}

/**
 * Appends `entry` to the audit log. Pass a transaction as `ctx.db` to make the row part of the
 * change it records; `created_at` is the server's time of the insert.
 */
export async function recordAudit(input: { ctx: { db: DbOrTx }; entry: AuditEntry }): Promise<void> {
  await input.ctx.db.insert(auditLog).values(input.entry)
}
