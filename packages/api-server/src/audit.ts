import { auditLog, type Db, type Logger, poolOf } from '@jetmon/db'
import { getTableName } from 'drizzle-orm'

export interface AccessRecord {
  consumer: string
  keyId: bigint
  method: string
  path: string
  status: number
  durationMs: number
  requestId: string
  blogId: bigint | null
  at: Date
}

/**
 * The batch insert, written once: the rows are bound to its one `?` by the driver (a list of
 * rows), which costs a fraction of building the statement column by column on every flush.
 */
const INSERT = `INSERT INTO \`${getTableName(auditLog)}\` (${[
  auditLog.blogId,
  auditLog.eventType,
  auditLog.source,
  auditLog.detail,
  auditLog.metadata,
  auditLog.createdAt,
]
  .map((column) => `\`${column.name}\``)
  .join(', ')}) VALUES ?`

const FLUSH_EVERY_MS = 500
const BATCH = 500
const MAX_QUEUE = 20_000

/**
 * Writes `api_access` audit rows off the response path: requests enqueue, a timer flushes in
 * multi-row inserts. When the database falls behind, the queue is bounded and drops (and counts)
 * the overflow rather than growing without limit.
 */
export class AccessAuditWriter {
  #queue: AccessRecord[] = []
  #timer: NodeJS.Timeout | null = null
  #flushing: Promise<void> | null = null
  dropped = 0
  written = 0

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  record(entry: AccessRecord): void {
    if (this.#queue.length >= MAX_QUEUE) {
      this.dropped++
      return
    }
    this.#queue.push(entry)
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = null
        void this.flush()
      }, FLUSH_EVERY_MS)
      this.#timer.unref()
    }
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
    if (this.#queue.length === 0) return
    this.#flushing = this.#drain().finally(() => {
      this.#flushing = null
    })
    await this.#flushing
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, BATCH)
      try {
        const rows = batch.map((entry) => [
          entry.blogId,
          'api_access',
          `api:${entry.consumer}`,
          `${entry.method} ${entry.path} ${entry.status}`.slice(0, 1024),
          JSON.stringify({
            consumer: entry.consumer,
            key_id: entry.keyId.toString(),
            method: entry.method,
            path: entry.path,
            status: entry.status,
            duration_ms: entry.durationMs,
            request_id: entry.requestId,
          }),
          entry.at,
        ])
        await poolOf(this.db).query(INSERT, [rows])
        this.written += batch.length
      } catch (error) {
        this.dropped += batch.length
        this.logger.warn({ err: error, rows: batch.length }, 'api_access audit rows could not be written')
      }
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.flush()
  }
}
