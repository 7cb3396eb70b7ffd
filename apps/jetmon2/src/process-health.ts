import { type DbOrTx, processHealth } from '@jetmon/db'

export type ProcessHealthRow = typeof processHealth.$inferInsert & {
  processId: string
  startedAt: Date
  updatedAt: Date
}

/** Writes this process's `jetmon_process_health` row (one per `<host>:<role>`), creating it the first time. */
export async function writeProcessHealth(db: DbOrTx, row: ProcessHealthRow): Promise<void> {
  await db
    .insert(processHealth)
    .values(row)
    .onDuplicateKeyUpdate({
      set: {
        pid: row.pid,
        version: row.version,
        state: row.state,
        health: row.health,
        stats: row.stats,
        startedAt: row.startedAt,
        updatedAt: row.updatedAt,
      },
    })
}
