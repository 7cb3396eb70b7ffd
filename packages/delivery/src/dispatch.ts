import {
  type Db,
  dispatchCursors,
  eventTransitions,
  type Logger,
  noopLogger,
  type Tx,
  withTransaction,
} from '@jetmon/db'
import { listTransitionsAfter } from '@jetmon/eventstore'
import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import { type EnqueueResult, enqueueAlertDeliveries, enqueueWebhookDeliveries } from './_enqueue.js'
import type { TransitionRow } from './_snapshot.js'
import {
  type DeliveryConsumer,
  type DeliveryContext,
  Nap,
  nonNegativeInteger,
  pauseAfter,
  positiveInteger,
  systemClock,
} from './context.js'
import type { DeliveryMetrics } from './metrics.js'

/** Transitions read past the cursor per pass (delivery.md). */
export const DISPATCH_BATCH_SIZE = 500
/** How many ids behind the cursor each pass looks at again for late commits (see {@link dispatchTransitions}). */
export const DEFAULT_TAIL_IDS = 5_000
/** Gaps looked up by id in one pass; beyond that the window's ids are read instead. */
const MAX_GAP_LOOKUP = 500

/** Ids of the transitions visible to `tx` in (from, to]. */
async function visibleIdsBetween(tx: Tx, from: bigint, to: bigint): Promise<bigint[]> {
  if (to <= from) return []
  const rows = await tx
    .select({ id: eventTransitions.id })
    .from(eventTransitions)
    .where(and(gt(eventTransitions.id, from), lte(eventTransitions.id, to)))
  return rows.map((row) => row.id)
}

// Math.min and Math.max do not take bigints.
const smaller = (a: bigint, b: bigint): bigint => (a < b ? a : b)
const larger = (a: bigint, b: bigint): bigint => (a > b ? a : b)

/** What a dispatcher process remembers between passes, to recognise late-committed transitions. */
export interface TailMemory {
  /** Whether this process has already seen (and so dispatched, or knowingly skipped) this transition id. */
  seen(id: bigint): boolean
  /** The highest transition id this process has seen: only ids below it can be late commits it must pick up. */
  highestSeen: bigint
}

export interface DispatchInput {
  /** `ctx.db` may be an open transaction: the pass then commits or rolls back with it. */
  ctx: DeliveryContext
  consumer: DeliveryConsumer
  /** Default {@link DISPATCH_BATCH_SIZE}; at most 1 000. */
  batchSize?: number
  /** Default {@link DEFAULT_TAIL_IDS}; 0 turns the tail re-read off. */
  tailIds?: number
  /**
   * This process's memory of earlier passes; `null` (or absent) on its first pass, when the tail is
   * only noted, never dispatched — a new process never replays history.
   */
  tail?: TailMemory | null
}

/**
 * One dispatch pass. `busy`: another process holds the cursor (nothing done). `cursor_created`:
 * there was no cursor, one was created at the newest transition (nothing dispatched).
 * `dispatched`: the batch was matched and the cursor moved.
 */
export type DispatchResult =
  | { outcome: 'busy' }
  | {
      outcome: 'cursor_created'
      cursor: bigint
      /** Transition ids this pass saw (the tail), for the process's {@link TailMemory}. */
      observed: bigint[]
    }
  | {
      outcome: 'dispatched'
      cursorBefore: bigint
      cursorAfter: bigint
      /** Transitions read past the cursor. */
      transitions: number
      /** Late-committed transitions found behind the cursor and dispatched. */
      late: number
      /** Rows inserted as `pending`, and as `suppressed` (alert hourly caps). */
      enqueued: EnqueueResult
      /** The batch was full: more transitions are probably waiting. */
      full: boolean
      observed: bigint[]
    }

/**
 * One pass of a consumer's dispatcher (delivery.md, "Dispatch"), in one transaction: lock the
 * consumer's row of `jetmon_dispatch_cursors` (`FOR UPDATE SKIP LOCKED`: when another process holds
 * it, this pass is `busy` and does nothing), read up to `batchSize` transitions after the cursor,
 * insert a delivery row per matching subscriber (`INSERT IGNORE` on `(subscriber, transition_id)`),
 * move the cursor to the last transition read, commit. A crash before the commit undoes all of it,
 * so the next pass does the same batch again.
 *
 * When the cursor row does not exist it is created at the newest transition id: a new deployment
 * never replays history.
 *
 * **Late commits.** Transition ids are assigned when the row is inserted but become visible when
 * the writer commits, in any order: id 41 can appear after 42 was dispatched and the cursor moved
 * past it. So each process remembers which ids of the last `tailIds` behind the cursor it has seen
 * ({@link TailMemory}), and every pass looks up the ids it saw a higher neighbour of but not
 * themselves — its gaps: invisible then, so uncommitted (or rolled back) — and dispatches those
 * that have become visible. The unique key makes a second dispatch of a transition harmless
 * (alert caps skip rows that already exist). Ids the cursor was moved over by another process are
 * only noted: that process re-checks its own gaps the same way. On a process's first pass the
 * whole window is noted, never dispatched. The rule covers a writer that commits at most `tailIds`
 * transitions late (at 20 transitions/s the default is over 4 minutes); a gap that never fills (a
 * rollback) is looked up by primary key each pass until it leaves the window.
 */
export async function dispatchTransitions(input: DispatchInput): Promise<DispatchResult> {
  const { ctx, consumer } = input
  const batchSize = positiveInteger('batchSize', input.batchSize, DISPATCH_BATCH_SIZE, 1_000)
  const tailIds = BigInt(nonNegativeInteger('tailIds', input.tailIds, DEFAULT_TAIL_IDS))
  const now = (ctx.clock ?? systemClock)()
  const logger = ctx.logger ?? noopLogger
  const tail = input.tail ?? null

  const pass = await withTransaction(ctx.db, async (tx): Promise<DispatchResult | { outcome: 'missing' }> => {
    const [cursorRow] = await tx
      .select({ last: dispatchCursors.lastTransitionId })
      .from(dispatchCursors)
      .where(eq(dispatchCursors.consumer, consumer))
      .for('update', { skipLocked: true })

    const idsBetween = (from: bigint, to: bigint) => visibleIdsBetween(tx, from, to)
    const floorOf = (cursor: bigint) => (cursor > tailIds ? cursor - tailIds : 0n)

    /**
     * The tail behind the cursor: late commits to dispatch, and ids to remember as seen. On a first
     * pass every visible id of the window is only noted. Afterwards, ids other processes moved the
     * cursor over since this one's last pass are noted, and the ids this process saw a higher
     * neighbour of but not themselves — its gaps, usually none — are looked up; those now
     * visible are the late commits.
     */
    const readTail = async (cursor: bigint): Promise<{ late: TransitionRow[]; observed: bigint[] }> => {
      if (tailIds === 0n || cursor === 0n) return { late: [], observed: [] }
      const floor = floorOf(cursor)
      if (!tail) return { late: [], observed: await idsBetween(floor, cursor) }
      const highest = smaller(tail.highestSeen, cursor)
      const observed = await idsBetween(larger(highest, floor), cursor)
      const gaps: bigint[] = []
      for (let id = floor + 1n; id < highest && gaps.length <= MAX_GAP_LOOKUP; id++) if (!tail.seen(id)) gaps.push(id)
      let late: TransitionRow[]
      if (gaps.length === 0) late = []
      else if (gaps.length <= MAX_GAP_LOOKUP) {
        late = await tx.select().from(eventTransitions).where(inArray(eventTransitions.id, gaps))
      } else {
        // Ids that are not contiguous (auto_increment_increment > 1, a long outage of this
        // process): read the window's ids instead of looking gaps up one by one.
        const unseen = (await idsBetween(floor, highest - 1n)).filter((id) => !tail.seen(id))
        late =
          unseen.length > 0 ? await tx.select().from(eventTransitions).where(inArray(eventTransitions.id, unseen)) : []
      }
      return { late, observed: [...observed, ...late.map((t) => t.id)] }
    }

    if (!cursorRow) {
      const [exists] = await tx
        .select({ consumer: dispatchCursors.consumer })
        .from(dispatchCursors)
        .where(eq(dispatchCursors.consumer, consumer))
      return { outcome: exists ? 'busy' : 'missing' }
    }

    const cursorBefore = cursorRow.last
    const batch: TransitionRow[] = await listTransitionsAfter({
      ctx: { db: tx },
      afterId: cursorBefore,
      limit: batchSize,
    })
    const { late, observed } = await readTail(cursorBefore)
    if (late.length > 0) {
      logger.info(
        { consumer, transitionIds: late.map((t) => String(t.id)) },
        'dispatching transitions that were committed after later ones had been dispatched',
      )
    }
    const work = [...late, ...batch]
    const enqueued =
      work.length === 0
        ? { pending: 0, suppressed: 0 }
        : consumer === 'webhooks'
          ? await enqueueWebhookDeliveries(tx, work, now, logger)
          : await enqueueAlertDeliveries(tx, work, now, logger)
    const cursorAfter = batch.at(-1)?.id ?? cursorBefore
    if (cursorAfter !== cursorBefore) {
      await tx
        .update(dispatchCursors)
        .set({ lastTransitionId: cursorAfter, updatedAt: now })
        .where(eq(dispatchCursors.consumer, consumer))
    }
    return {
      outcome: 'dispatched',
      cursorBefore,
      cursorAfter,
      transitions: batch.length,
      late: late.length,
      enqueued,
      full: batch.length === batchSize,
      observed: [...observed, ...batch.map((t) => t.id)],
    }
  })
  if (pass.outcome !== 'missing') return pass

  // Created in a transaction of its own, after the one above has released the gap lock its locking
  // read of the missing row took: two consumers' first passes, each holding such a lock and then
  // inserting into the same gap, would deadlock.
  const created = await withTransaction(ctx.db, async (tx) => {
    const [newest] = await tx
      .select({ id: sql<string | number | null>`MAX(${eventTransitions.id})` })
      .from(eventTransitions)
    const start = BigInt(newest?.id ?? 0)
    const [header] = await tx
      .insert(dispatchCursors)
      .ignore()
      .values({ consumer, lastTransitionId: start, updatedAt: now })
    if (header.affectedRows === 0) return null // another process created it a moment ago
    const floor = start > tailIds ? start - tailIds : 0n
    return { start, observed: tailIds === 0n ? [] : await visibleIdsBetween(tx, floor, start) }
  })
  if (!created) return { outcome: 'busy' }
  logger.info(
    { consumer, cursor: String(created.start) },
    `no ${consumer} dispatch cursor yet: created at transition ${created.start}, so delivery starts with the next transition (history is not replayed)`,
  )
  return { outcome: 'cursor_created', cursor: created.start, observed: created.observed }
}

/** Options of {@link TransitionDispatcher}. */
export interface TransitionDispatcherOptions {
  consumer: DeliveryConsumer
  db: Db
  logger?: Logger
  clock?: () => Date
  /** Pause between passes when the last one was not full. Default 500 ms (delivery.md: a pending row within 2 s, p95). */
  intervalMs?: number
  batchSize?: number
  tailIds?: number
  metrics?: DeliveryMetrics | null
  /** Called after a pass committed new pending rows (a worker in the same process wakes up). */
  onEnqueued?: () => void
}

/**
 * A consumer's dispatcher loop: {@link dispatchTransitions} every `intervalMs`, at once again after
 * a full batch, with the process's {@link TailMemory} kept between passes (updated only after a
 * pass committed). Database errors are logged once per streak and retried with a growing pause.
 */
export class TransitionDispatcher {
  readonly consumer: DeliveryConsumer
  private readonly options: TransitionDispatcherOptions
  private readonly logger: Logger
  private readonly intervalMs: number
  private readonly tailIds: bigint
  private readonly seenIds = new Set<bigint>()
  private highestSeen: bigint | null = null
  private running = false
  private loop: Promise<void> | null = null
  private readonly nap = new Nap()
  private counters = { passes: 0, busy: 0, transitions: 0, late: 0, pending: 0, suppressed: 0, errors: 0 }

  constructor(options: TransitionDispatcherOptions) {
    this.options = options
    this.consumer = options.consumer
    this.logger = options.logger ?? noopLogger
    this.intervalMs = positiveInteger('intervalMs', options.intervalMs, 500)
    this.tailIds = BigInt(nonNegativeInteger('tailIds', options.tailIds, DEFAULT_TAIL_IDS))
  }

  /** Runs one pass now (the loop does this on its own; tests call it directly). */
  async runOnce(): Promise<DispatchResult> {
    const result = await dispatchTransitions({
      ctx: { db: this.options.db, logger: this.logger, ...(this.options.clock ? { clock: this.options.clock } : {}) },
      consumer: this.consumer,
      ...(this.options.batchSize !== undefined ? { batchSize: this.options.batchSize } : {}),
      tailIds: Number(this.tailIds),
      tail: this.highestSeen === null ? null : { seen: (id) => this.seenIds.has(id), highestSeen: this.highestSeen },
    })
    this.counters.passes++
    if (result.outcome === 'busy') {
      this.counters.busy++
      return result
    }
    // Committed: now the ids count as seen.
    const cursor = result.outcome === 'dispatched' ? result.cursorAfter : result.cursor
    let highest = this.highestSeen ?? cursor
    if (cursor > highest) highest = cursor
    for (const id of result.observed) {
      this.seenIds.add(id)
      if (id > highest) highest = id
    }
    this.highestSeen = highest
    const floor = cursor - this.tailIds
    for (const id of this.seenIds) if (id <= floor) this.seenIds.delete(id)

    if (result.outcome === 'dispatched') {
      const { enqueued } = result
      this.counters.transitions += result.transitions
      this.counters.late += result.late
      this.counters.pending += enqueued.pending
      this.counters.suppressed += enqueued.suppressed
      const metrics = this.options.metrics
      if (metrics) {
        metrics.dispatchedTransitions.inc({ consumer: this.consumer }, result.transitions + result.late)
        if (enqueued.pending) metrics.enqueued.inc({ consumer: this.consumer, status: 'pending' }, enqueued.pending)
        if (enqueued.suppressed) {
          metrics.enqueued.inc({ consumer: this.consumer, status: 'suppressed' }, enqueued.suppressed)
        }
      }
      if (enqueued.pending > 0) this.options.onEnqueued?.()
    }
    return result
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Stops the loop after the pass in progress, if any, has committed or rolled back. */
  async stop(): Promise<void> {
    this.running = false
    this.nap.wake()
    await this.loop
    this.loop = null
  }

  /** Counters since the dispatcher was made. */
  stats() {
    return { consumer: this.consumer, ...this.counters, highestSeen: this.highestSeen?.toString() ?? null }
  }

  private async run(): Promise<void> {
    let failures = 0
    while (this.running) {
      let again = false
      try {
        const result = await this.runOnce()
        if (failures > 0) {
          this.logger.info({ consumer: this.consumer, failures }, `${this.consumer} dispatcher recovered`)
        }
        failures = 0
        again = result.outcome === 'dispatched' && result.full
      } catch (error) {
        failures++
        this.counters.errors++
        if (failures === 1 || failures % 60 === 0) {
          this.logger.error(
            { err: error, consumer: this.consumer, failures },
            `${this.consumer} dispatch pass failed: no new deliveries are queued until the database answers again; retrying`,
          )
        }
      }
      if (!this.running) break
      if (again) continue
      await this.nap.sleep(pauseAfter(this.intervalMs, failures))
    }
  }
}
