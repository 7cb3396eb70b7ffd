import { type Db, eventTransitions, type Logger, noopLogger } from '@jetmon/db'
import { asc, gt, inArray, max, or } from 'drizzle-orm'

/** One transition as the follower reports it. */
export interface FollowedTransition {
  id: bigint
  eventId: bigint
  endpointId: bigint | null
  source: string
}

export interface TransitionFollowerOptions {
  db: Db
  /** Called for every transition written after the follower started, in id order (late commits later). */
  onTransition: (transition: FollowedTransition) => void
  /** A poll is due when the last one finished at least this long ago. */
  everyMs: number
  logger?: Logger
}

const BATCH = 1_000
/** How long an id skipped by the cursor is looked for again (a transaction that commits late). */
const GAP_TTL_MS = 60_000
const MAX_GAPS = 5_000

/**
 * Reads `jetmon_event_transitions` forward from the newest id at start: how a monitor host learns
 * that someone else (an operator through the API, a pause, trigger-now on another host, another
 * host during a bucket handover) changed an event of an endpoint it holds in memory.
 *
 * Ids are assigned at insert but become visible at commit, in any order: an id the cursor skips is
 * remembered as a gap and looked up again on later polls for a minute, so a late commit is still
 * reported. A poll is one indexed range read; concurrent callers share the one in flight.
 */
export class TransitionFollower {
  private cursor: bigint | null = null
  private readonly gaps = new Map<bigint, number>()
  private lastPollAt = Number.NEGATIVE_INFINITY
  private running: Promise<void> | null = null
  private readonly logger: Logger

  constructor(private readonly options: TransitionFollowerOptions) {
    this.logger = options.logger ?? noopLogger
  }

  /** Places the cursor at the newest transition: what came before is already in the caller's snapshot. */
  async start(): Promise<void> {
    if (this.cursor !== null) return
    const [row] = await this.options.db.select({ id: max(eventTransitions.id) }).from(eventTransitions)
    this.cursor ??= row?.id === null || row?.id === undefined ? 0n : BigInt(row.id)
  }

  /**
   * Reports what was written since the last poll, when a poll is due (or already running: then it
   * waits for that one). Never throws: a failed read is logged and tried again on the next call.
   */
  poll(): Promise<void> {
    if (this.running) return this.running
    if (performance.now() - this.lastPollAt < this.options.everyMs) return Promise.resolve()
    this.running = this.read()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'could not read new event transitions; reading again at the next check'),
      )
      .finally(() => {
        this.lastPollAt = performance.now()
        this.running = null
      })
    return this.running
  }

  private async read(): Promise<void> {
    if (this.cursor === null) {
      await this.start()
      return
    }
    for (let batch = 0; batch < 10; batch++) {
      const cursor: bigint = this.cursor ?? 0n
      const gaps = [...this.gaps.keys()]
      const rows = await this.options.db
        .select({
          id: eventTransitions.id,
          eventId: eventTransitions.eventId,
          endpointId: eventTransitions.endpointId,
          source: eventTransitions.source,
        })
        .from(eventTransitions)
        .where(
          gaps.length
            ? or(gt(eventTransitions.id, cursor), inArray(eventTransitions.id, gaps))
            : gt(eventTransitions.id, cursor),
        )
        .orderBy(asc(eventTransitions.id))
        .limit(BATCH + gaps.length)
      const now = performance.now()
      let newest = cursor
      for (const row of rows) {
        const id = BigInt(row.id)
        if (id <= cursor) {
          this.gaps.delete(id)
        } else {
          for (let skipped = newest + 1n; skipped < id && this.gaps.size < MAX_GAPS; skipped++)
            this.gaps.set(skipped, now)
          newest = id
        }
        this.options.onTransition({
          id,
          eventId: BigInt(row.eventId),
          endpointId: row.endpointId === null ? null : BigInt(row.endpointId),
          source: row.source,
        })
      }
      this.cursor = newest
      for (const [id, since] of this.gaps) if (now - since > GAP_TTL_MS) this.gaps.delete(id)
      if (rows.length - gaps.length < BATCH) return
    }
  }
}
