import { asc } from 'drizzle-orm'
import { processHealth } from './schema.js'
import type { DbOrTx } from './transaction.js'

/** One `jetmon_process_health` row: a running (or stopped) jetmon process as it last reported. */
export type ProcessHealth = typeof processHealth.$inferSelect

/** What a process reports about itself; `processId` is `<host>:<role>`, one row per process. */
export type ProcessHealthReport = typeof processHealth.$inferInsert & {
  processId: string
  startedAt: Date
  updatedAt: Date
}

/**
 * Writes this process's health row, creating it the first time. Every column but the process id,
 * host and role is replaced: a process restarted under the same id (a new pid and start time)
 * takes its row over, which is what lets `jetmon2 drain` tell a live monitor from a stale row.
 * `updatedAt` is the reporter's clock, so readers judge staleness against the time it claims.
 */
export async function writeProcessHealth({ ctx, report }: { ctx: { db: DbOrTx }; report: ProcessHealthReport }) {
  await ctx.db
    .insert(processHealth)
    .values(report)
    .onDuplicateKeyUpdate({
      set: {
        pid: report.pid,
        version: report.version,
        state: report.state,
        health: report.health,
        stats: report.stats,
        startedAt: report.startedAt,
        updatedAt: report.updatedAt,
      },
    })
}

/**
 * Every process that has reported to this database, in process-id order (so one host's roles sit
 * together), stopped ones included: a process that stopped cleanly says so in its row, and an
 * operator looking for one that vanished needs to see its last word.
 */
export async function listProcessHealth({ ctx }: { ctx: { db: DbOrTx } }): Promise<ProcessHealth[]> {
  return ctx.db.select().from(processHealth).orderBy(asc(processHealth.processId))
}
