import {
  type Db,
  dispatchCursors,
  dispatchGaps,
  eventTransitions,
  type Logger,
  noopLogger,
  rerunDeadlockVictim,
  type Tx,
  withTransaction,
} from '@jetmon/db'
import { listTransitionsAfter } from '@jetmon/eventstore'
import { and, asc, eq, gt, inArray, is, lte, sql } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
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

/** Transitions read past the cursor per pass. */
export const DISPATCH_BATCH_SIZE = 500
/** How many ids behind the cursor a gap is kept and looked up again for a late commit (see {@link dispatchTransitions}). */
export const DEFAULT_TAIL_IDS = 5_000
/** Rows per INSERT or DELETE of gaps. */
const GAP_INSERT_CHUNK = 1_000

/** Ids of the transitions visible to `tx` in (from, to]. */
async function visibleIdsBetween(tx: Tx, from: bigint, to: bigint): Promise<bigint[]> {
  if (to <= from) return []
  const rows = await tx
    .select({ id: eventTransitions.id })
    .from(eventTransitions)
    .where(and(gt(eventTransitions.id, from), lte(eventTransitions.id, to)))
  return rows.map((row) => row.id)
}

// Math.max does not take bigints.
const larger = (a: bigint, b: bigint): bigint => (a > b ? a : b)

/** The ids in (from, to] that are not in `visible`: invisible to this transaction, so uncommitted or rolled back. */
function missingIds(from: bigint, to: bigint, visible: Iterable<bigint>): bigint[] {
  const seen = new Set(visible)
  const missing: bigint[] = []
  for (let id = from + 1n; id <= to; id++) if (!seen.has(id)) missing.push(id)
  return missing
}

/** Records gaps of a consumer (`INSERT IGNORE`: a gap noted twice stays one row). */
async function noteGaps(tx: Tx, consumer: DeliveryConsumer, ids: readonly bigint[], now: Date): Promise<void> {
  for (let i = 0; i < ids.length; i += GAP_INSERT_CHUNK) {
    const chunk = ids.slice(i, i + GAP_INSERT_CHUNK)
    await tx
      .insert(dispatchGaps)
      .ignore()
      .values(chunk.map((transitionId) => ({ consumer, transitionId, createdAt: now })))
  }
}

/** Deletes gaps of a consumer by primary key. */
async function forgetGaps(tx: Tx, consumer: DeliveryConsumer, ids: readonly bigint[]): Promise<void> {
  for (let i = 0; i < ids.length; i += GAP_INSERT_CHUNK) {
    await tx
      .delete(dispatchGaps)
      .where(
        and(
          eq(dispatchGaps.consumer, consumer),
          inArray(dispatchGaps.transitionId, ids.slice(i, i + GAP_INSERT_CHUNK)),
        ),
      )
  }
}

export interface DispatchInput {
  /** `ctx.db` may be an open transaction: the pass then commits or rolls back with it. */
  ctx: DeliveryContext
  consumer: DeliveryConsumer
  /** Default {@link DISPATCH_BATCH_SIZE}; at most 1 000. */
  batchSize?: number
  /** Default {@link DEFAULT_TAIL_IDS}; 0 keeps no gaps (a transition that commits late is never dispatched). */
  tailIds?: number
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
      /** Ids in the window below the cursor that were invisible (uncommitted or rolled back), kept as gaps. */
      openGaps: number
    }
  | {
      outcome: 'dispatched'
      cursorBefore: bigint
      cursorAfter: bigint
      /** Transitions read past the cursor. */
      transitions: number
      /** Late-committed transitions found behind the cursor (filled gaps) and dispatched. */
      late: number
      /** Rows inserted as `pending`, and as `suppressed` (alert hourly caps). */
      enqueued: EnqueueResult
      /** The batch was full: more transitions are probably waiting. */
      full: boolean
      /** Gaps kept after this pass: ids behind the cursor still invisible, looked up again next pass. */
      openGaps: number
      /** Gaps forgotten by this pass because they fell more than `tailIds` behind the cursor while still invisible. */
      droppedGaps: number
    }

/**
 * One pass of a consumer's dispatcher, in one transaction: lock the
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
 * past it. So every id the cursor moves past without having seen it — a gap: uncommitted, or
 * rolled back — is written to `jetmon_dispatch_gaps` in the same transaction as the cursor, and
 * every pass, by whichever process holds the cursor, looks the consumer's gaps up by primary key
 * and dispatches (and forgets) those that have become visible. Gaps are in the database, not in a
 * process's memory, so neither a restart nor the death of the process that passed over a gap
 * loses the transition. A gap that falls more than `tailIds` ids behind the cursor while still
 * invisible is forgotten (`droppedGaps`): a rollback's gap leaves that way, and a writer that
 * commits that late is not delivered. Creating the cursor notes the invisible ids of the window
 * below it as gaps too. The unique key makes a second dispatch of a transition harmless (alert
 * caps skip rows that already exist).
 */
export async function dispatchTransitions(input: DispatchInput): Promise<DispatchResult> {
  const { ctx, consumer } = input
  const batchSize = positiveInteger('batchSize', input.batchSize, DISPATCH_BATCH_SIZE, 1_000)
  const tailIds = BigInt(nonNegativeInteger('tailIds', input.tailIds, DEFAULT_TAIL_IDS))
  const now = (ctx.clock ?? systemClock)()
  const logger = ctx.logger ?? noopLogger
  const floorOf = (cursor: bigint) => (cursor > tailIds ? cursor - tailIds : 0n)

  const pass = await withTransaction(ctx.db, async (tx): Promise<DispatchResult | { outcome: 'missing' }> => {
    const [cursorRow] = await tx
      .select({ last: dispatchCursors.lastTransitionId })
      .from(dispatchCursors)
      .where(eq(dispatchCursors.consumer, consumer))
      .for('update', { skipLocked: true })

    if (!cursorRow) {
      const [exists] = await tx
        .select({ consumer: dispatchCursors.consumer })
        .from(dispatchCursors)
        .where(eq(dispatchCursors.consumer, consumer))
      return { outcome: exists ? 'busy' : 'missing' }
    }

    // Read only after the cursor's lock is held: the gaps the previous holder wrote have committed.
    const gaps = await tx
      .select({ id: dispatchGaps.transitionId, createdAt: dispatchGaps.createdAt })
      .from(dispatchGaps)
      .where(eq(dispatchGaps.consumer, consumer))
      .orderBy(asc(dispatchGaps.transitionId))
    const cursorBefore = cursorRow.last
    const batch: TransitionRow[] = await listTransitionsAfter({
      ctx: { db: tx },
      afterId: cursorBefore,
      limit: batchSize,
    })
    const cursorAfter = batch.at(-1)?.id ?? cursorBefore
    const floor = floorOf(cursorAfter)

    const live = gaps.filter((gap) => gap.id > floor)
    const dropped = gaps.filter((gap) => gap.id <= floor)
    const late: TransitionRow[] =
      live.length === 0
        ? []
        : await tx
            .select()
            .from(eventTransitions)
            .where(
              inArray(
                eventTransitions.id,
                live.map((gap) => gap.id),
              ),
            )
    if (late.length > 0) {
      const filled = new Set(late.map((t) => t.id))
      const oldest = Math.min(...live.filter((gap) => filled.has(gap.id)).map((gap) => gap.createdAt.getTime()))
      logger.info(
        { consumer, transitionIds: late.map((t) => String(t.id)), lateByMs: Math.max(0, now.getTime() - oldest) },
        'dispatching transitions that were committed after later ones had been dispatched',
      )
    }
    if (dropped.length > 0) {
      logger.info(
        { consumer, transitionIds: dropped.slice(0, 20).map((gap) => String(gap.id)), count: dropped.length },
        `forgetting ${dropped.length} transition ids that stayed invisible until they were ${tailIds} ids behind the cursor: rolled back, or committed too late to be delivered`,
      )
    }
    // By exact key (record locks only): a range would also lock the gap next to the other
    // consumer's rows and could deadlock with its dispatcher.
    const forgotten = [...dropped.map((gap) => gap.id), ...late.map((t) => t.id)]
    if (forgotten.length > 0) await forgetGaps(tx, consumer, forgotten)
    // Ids the cursor moves past that this transaction cannot see.
    const fresh = missingIds(
      larger(cursorBefore, floor),
      cursorAfter,
      batch.map((t) => t.id),
    )
    if (fresh.length > 0) await noteGaps(tx, consumer, fresh, now)

    const work = [...late, ...batch]
    const enqueued =
      work.length === 0
        ? { pending: 0, suppressed: 0 }
        : consumer === 'webhooks'
          ? await enqueueWebhookDeliveries(tx, work, now, logger)
          : await enqueueAlertDeliveries(tx, work, now, logger)
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
      openGaps: live.length - late.length + fresh.length,
      droppedGaps: dropped.length,
    }
  })
  if (pass.outcome !== 'missing') return pass

  // Created in a transaction of its own, after the one above has released the gap lock its locking
  // read of the missing row took: two consumers' first passes, each holding such a lock and then
  // inserting into the same gap, would deadlock. Several processes creating both cursors at once
  // can still meet in that gap (InnoDB then rolls one insert back as a deadlock victim): run as a
  // transaction of its own, the victim runs again, and finds the cursor or creates it.
  const create = () =>
    withTransaction(ctx.db, async (tx) => {
      const [newest] = await tx
        .select({ id: sql<string | number | null>`MAX(${eventTransitions.id})` })
        .from(eventTransitions)
      const start = BigInt(newest?.id ?? 0)
      const [header] = await tx
        .insert(dispatchCursors)
        .ignore()
        .values({ consumer, lastTransitionId: start, updatedAt: now })
      if (header.affectedRows === 0) return null // another process created it a moment ago
      // Writers still in flight below the newest id commit after the cursor exists: theirs are new
      // transitions, not history, so their ids are gaps like any other.
      const floor = floorOf(start)
      const gaps = missingIds(floor, start, await visibleIdsBetween(tx, floor, start))
      // Gaps of an earlier cursor of this name (deleted by hand) belong to history.
      const stale = await tx
        .select({ id: dispatchGaps.transitionId })
        .from(dispatchGaps)
        .where(eq(dispatchGaps.consumer, consumer))
      if (stale.length > 0) {
        await forgetGaps(
          tx,
          consumer,
          stale.map((gap) => gap.id),
        )
      }
      await noteGaps(tx, consumer, gaps, now)
      return { start, openGaps: gaps.length }
    })
  const created = is(ctx.db, MySqlTransaction)
    ? await create()
    : await rerunDeadlockVictim(create, {
        attempts: 5,
        onRerun: (attempt) =>
          logger.debug(
            { consumer, attempt },
            'creating the dispatch cursor: chosen as a deadlock victim, running again',
          ),
      })
  if (!created) return { outcome: 'busy' }
  logger.info(
    { consumer, cursor: String(created.start) },
    `no ${consumer} dispatch cursor yet: created at transition ${created.start}, so delivery starts with the next transition (history is not replayed)`,
  )
  return { outcome: 'cursor_created', cursor: created.start, openGaps: created.openGaps }
}

/** Options of {@link TransitionDispatcher}. */
export interface TransitionDispatcherOptions {
  consumer: DeliveryConsumer
  db: Db
  logger?: Logger
  clock?: () => Date
  /** Pause between passes when the last one was not full. Default 500 ms (a pending row within 2 s of the transition, p95). */
  intervalMs?: number
  batchSize?: number
  tailIds?: number
  metrics?: DeliveryMetrics | null
  /** Called after a pass committed new pending rows (a worker in the same process wakes up). */
  onEnqueued?: () => void
}

/**
 * A consumer's dispatcher loop: {@link dispatchTransitions} every `intervalMs`, at once again after
 * a full batch. It keeps nothing between passes that matters: the cursor and the gaps behind it
 * are in the database, so a restarted process (or any other) carries on where this one stopped.
 * Database errors are logged once per streak and retried with a growing pause.
 */
export class TransitionDispatcher {
  readonly consumer: DeliveryConsumer
  private readonly options: TransitionDispatcherOptions
  private readonly logger: Logger
  private readonly intervalMs: number
  private readonly tailIds: number
  private openGaps: number | null = null
  private running = false
  private loop: Promise<void> | null = null
  private readonly nap = new Nap()
  private counters = {
    passes: 0,
    busy: 0,
    transitions: 0,
    late: 0,
    droppedGaps: 0,
    pending: 0,
    suppressed: 0,
    errors: 0,
  }

  constructor(options: TransitionDispatcherOptions) {
    this.options = options
    this.consumer = options.consumer
    this.logger = options.logger ?? noopLogger
    this.intervalMs = positiveInteger('intervalMs', options.intervalMs, 500)
    this.tailIds = nonNegativeInteger('tailIds', options.tailIds, DEFAULT_TAIL_IDS)
  }

  /** Runs one pass now (the loop does this on its own; tests call it directly). */
  async runOnce(): Promise<DispatchResult> {
    const result = await dispatchTransitions({
      ctx: { db: this.options.db, logger: this.logger, ...(this.options.clock ? { clock: this.options.clock } : {}) },
      consumer: this.consumer,
      ...(this.options.batchSize !== undefined ? { batchSize: this.options.batchSize } : {}),
      tailIds: this.tailIds,
    })
    this.counters.passes++
    if (result.outcome === 'busy') {
      this.counters.busy++
      return result
    }
    this.openGaps = result.openGaps
    if (result.outcome === 'dispatched') {
      const { enqueued } = result
      this.counters.transitions += result.transitions
      this.counters.late += result.late
      this.counters.droppedGaps += result.droppedGaps
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
    return { consumer: this.consumer, ...this.counters, openGaps: this.openGaps }
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
