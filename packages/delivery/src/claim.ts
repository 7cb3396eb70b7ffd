import { type Db, type DbOrTx, noopLogger, type Tx } from '@jetmon/db'
import { and, asc, eq, inArray, is, lte, notInArray, type SQL, sql } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
import { queueOf, truncateResponse } from './_queues.js'
import { type DeliveryConsumer, type DeliveryContext, positiveInteger, systemClock } from './context.js'
import { MAX_ATTEMPTS, retryDelayMs } from './retry.js'

/** How long a claim lasts: a worker that dies leaves its rows claimable again after this. */
export const DEFAULT_LEASE_MS = 60_000

/** A delivery row claimed by a worker (`status = 'delivering'` under its lease). */
export interface ClaimedDelivery {
  consumer: DeliveryConsumer
  id: bigint
  /** The webhook or alert contact. */
  subscriberId: bigint
  transitionId: bigint
  eventId: bigint
  blogId: bigint
  eventType: string
  /** Frozen at dispatch. */
  payload: Record<string, unknown>
  /** Attempts made before this one. */
  attempt: number
  /** The lease this claim holds; recording the outcome requires it to be unchanged. */
  leaseExpiresAt: Date
}

export interface ClaimInput {
  ctx: DeliveryContext
  consumer: DeliveryConsumer
  /** At most this many rows. */
  limit: number
  /** Default {@link DEFAULT_LEASE_MS}. */
  leaseMs?: number
  /** Per-subscriber cap: a subscriber with `inFlight` sends going gets at most `limit − inFlight` more rows. */
  perSubscriber?: { limit: number; inFlight: ReadonlyMap<bigint, number> }
  /**
   * Told, once the claim is done, about the rows whose lease had expired with no outcome recorded
   * (their worker died or stalled mid-send) and that this claim counted an attempt for: re-claimed,
   * or abandoned because that attempt was the last.
   */
  onLeaseExpired?: (rows: readonly ExpiredLease[]) => void
}

/** A row whose lease expired without an outcome; {@link claimDeliveries} counted the attempt. */
export interface ExpiredLease {
  id: bigint
  subscriberId: bigint
  /** Attempts made, the one that expired included. */
  attempt: number
  /** `true`: it was the last attempt ({@link MAX_ATTEMPTS}) and the row is now `abandoned`; `false`: claimed again. */
  abandoned: boolean
}

/** Runs `fn` in a READ COMMITTED transaction of its own, or in the caller's transaction. */
async function readCommitted<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (is(db, MySqlTransaction)) return fn(db as Tx)
  // READ COMMITTED: no gap locks on the (status, next_attempt_at) range, so claims do not hold up
  // the dispatcher's inserts, and rows skipped by the per-subscriber cap are unlocked at once.
  return (db as Db).transaction(fn, { isolationLevel: 'read committed' })
}

/**
 * Claims deliveries that are due: `pending` rows whose `next_attempt_at`
 * has come, most overdue first, and `delivering` rows whose lease expired (their worker died),
 * both read with `FOR UPDATE SKIP LOCKED` so concurrent workers never claim one row twice; the
 * claimed rows become `delivering` with `lease_expires_at = now + leaseMs`, and the transaction
 * commits before anything is sent. Subscribers at their per-subscriber cap are left out.
 *
 * **An expired lease is an attempt.** The worker that held it may have sent the delivery, and a
 * delivery that makes its worker die must not loop for ever: re-claiming such a row counts the
 * attempt (`attempt + 1`, `last_response` says the lease expired). When that was the last attempt
 * of the retry ladder ({@link MAX_ATTEMPTS}) the row is `abandoned` instead, whatever the caps,
 * like a delivery whose last send failed. A row re-claimed this way is sent again at once: only a
 * recorded failure waits for the ladder's next rung.
 */
export async function claimDeliveries(input: ClaimInput): Promise<ClaimedDelivery[]> {
  const { ctx, consumer } = input
  const limit = positiveInteger('limit', input.limit, 1, 1_000)
  const leaseMs = positiveInteger('leaseMs', input.leaseMs, DEFAULT_LEASE_MS)
  const now = (ctx.clock ?? systemClock)()
  const lease = new Date(now.getTime() + leaseMs)
  const { table: t, subscriber } = queueOf(consumer)
  const cap = input.perSubscriber
  const free = new Map<bigint, number>()
  const slotsFor = (id: bigint): number => {
    if (!cap) return limit
    let slots = free.get(id)
    if (slots === undefined) {
      slots = cap.limit - (cap.inFlight.get(id) ?? 0)
      free.set(id, slots)
    }
    return slots
  }
  // Subscribers already at their cap are excluded in SQL, so their backlog cannot fill the page.
  const full = cap ? [...cap.inFlight.keys()].filter((id) => slotsFor(id) <= 0) : []

  const expiredLeases: ExpiredLease[] = []
  const claimed = await readCommitted(ctx.db, async (tx) => {
    const excluded = (): SQL | undefined => (full.length > 0 ? notInArray(subscriber, full) : undefined)
    // Rows are locked by id first and read in full only once chosen: with a subscriber at its cap
    // most locked rows are left, and their payloads need not travel.
    const keys = { id: t.id, subscriberId: subscriber }
    const page = Math.min(limit * 3, 1_000)
    const expired = await tx
      .select({ ...keys, attempt: t.attempt })
      .from(t)
      .where(and(eq(t.status, 'delivering'), lte(t.leaseExpiresAt, now), excluded()))
      .orderBy(asc(t.leaseExpiresAt), asc(t.id))
      .limit(page)
      .for('update', { skipLocked: true })
    const due = await tx
      .select(keys)
      .from(t)
      .where(and(eq(t.status, 'pending'), lte(t.nextAttemptAt, now), excluded()))
      .orderBy(asc(t.nextAttemptAt), asc(t.id))
      .limit(page)
      .for('update', { skipLocked: true })

    // Expired leases whose attempt was the last are abandoned, not claimed; they take no slot.
    const lastRung = expired.filter((row) => row.attempt + 1 >= MAX_ATTEMPTS)
    const reclaimable = expired.filter((row) => row.attempt + 1 < MAX_ATTEMPTS)
    const chosen: bigint[] = []
    const chosenExpired: typeof expired = []
    const candidates = [
      ...reclaimable.map((row) => ({ row, expired: row })),
      ...due.map((row) => ({ row, expired: null })),
    ]
    for (const { row, expired } of candidates) {
      if (chosen.length >= limit) break
      const slots = slotsFor(row.subscriberId)
      if (slots <= 0) continue
      free.set(row.subscriberId, slots - 1)
      chosen.push(row.id)
      if (expired) chosenExpired.push(expired)
    }
    for (const row of lastRung) {
      await tx
        .update(t)
        .set({
          status: 'abandoned',
          attempt: row.attempt + 1,
          nextAttemptAt: null,
          leaseExpiresAt: null,
          lastStatusCode: null,
          lastResponse: truncateResponse(
            `abandoned: the lease of attempt ${row.attempt + 1} expired without an outcome (its worker died or stalled mid-send), and that was the last of ${MAX_ATTEMPTS} attempts`,
          ),
        })
        .where(eq(t.id, row.id))
    }
    for (const row of chosenExpired) {
      await tx
        .update(t)
        .set({
          attempt: sql`${t.attempt} + 1`,
          lastStatusCode: null,
          lastResponse: `lease expired: attempt ${row.attempt + 1} recorded no outcome (its worker died or stalled mid-send)`,
        })
        .where(eq(t.id, row.id))
    }
    expiredLeases.push(
      ...lastRung.map((row) => ({
        id: row.id,
        subscriberId: row.subscriberId,
        attempt: row.attempt + 1,
        abandoned: true,
      })),
      ...chosenExpired.map((row) => ({
        id: row.id,
        subscriberId: row.subscriberId,
        attempt: row.attempt + 1,
        abandoned: false,
      })),
    )
    if (chosen.length === 0) return []
    await tx.update(t).set({ status: 'delivering', leaseExpiresAt: lease }).where(inArray(t.id, chosen))
    const rows = await tx
      .select({
        id: t.id,
        subscriberId: subscriber,
        transitionId: t.transitionId,
        eventId: t.eventId,
        blogId: t.blogId,
        eventType: t.eventType,
        payload: t.payload,
        attempt: t.attempt,
      })
      .from(t)
      .where(inArray(t.id, chosen))
    // In the order chosen (most overdue first).
    const byId = new Map(rows.map((row) => [row.id, row]))
    return chosen.flatMap((id) => {
      const row = byId.get(id)
      return row ? [{ consumer, ...row, leaseExpiresAt: lease }] : []
    })
  })
  if (expiredLeases.length > 0) {
    const logger = ctx.logger ?? noopLogger
    for (const row of expiredLeases) {
      const fields = {
        consumer,
        deliveryId: String(row.id),
        subscriberId: String(row.subscriberId),
        attempt: row.attempt,
      }
      if (row.abandoned) {
        logger.warn(
          fields,
          `${consumer} delivery abandoned: its worker died or stalled mid-send on the last of ${MAX_ATTEMPTS} attempts; it will not be sent again unless retried by hand through the API`,
        )
      } else {
        logger.warn(
          fields,
          `${consumer} delivery claimed again after its lease expired with no outcome (its worker died or stalled mid-send); the attempt counts`,
        )
      }
    }
    input.onLeaseExpired?.(expiredLeases)
  }
  return claimed
}

/**
 * What one attempt came to. `delivered`: the receiver accepted it. `failed`: it did not (non-2xx,
 * transport error); `retryable: false` abandons at once (alert senders say so for answers that
 * cannot change, such as an invalid destination). `abandon`: no attempt was made and none will be
 * (the subscriber was deleted or deactivated, the payload is unreadable).
 */
export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number | null; response: string | null }
  | { kind: 'failed'; statusCode: number | null; response: string; retryable: boolean }
  | { kind: 'abandon'; reason: string }

/** The row's state after {@link recordAttempt}. `recorded: false`: the lease was lost and nothing was written. */
export interface RecordedAttempt {
  recorded: boolean
  status: 'delivered' | 'pending' | 'abandoned'
  attempt: number
  nextAttemptAt: Date | null
}

export interface RecordAttemptInput {
  ctx: DeliveryContext
  delivery: Pick<ClaimedDelivery, 'consumer' | 'id' | 'attempt' | 'leaseExpiresAt'>
  outcome: AttemptOutcome
  /** Jitter source, default `Math.random`. */
  random?: () => number
}

/**
 * Records an attempt on a claimed row: `delivered`; or `pending` again
 * after 1 m, 5 m, 30 m, 1 h, 6 h (±10 %) with `attempt + 1`; or `abandoned` after the 6th failed
 * attempt, a non-retryable failure, or at once (attempt unchanged) for an `abandon` outcome. The
 * answer is kept in `last_status_code` / `last_response` (2 KiB). The update applies only while
 * the row is still `delivering` under this claim's lease: a worker whose lease expired and whose
 * row was claimed again records nothing (the other claim's outcome wins).
 */
export async function recordAttempt(input: RecordAttemptInput): Promise<RecordedAttempt> {
  const { ctx, delivery, outcome } = input
  const now = (ctx.clock ?? systemClock)()
  const { table: t } = queueOf(delivery.consumer)
  let set: Partial<typeof t.$inferInsert>
  let result: Omit<RecordedAttempt, 'recorded'>
  switch (outcome.kind) {
    case 'delivered': {
      const attempt = delivery.attempt + 1
      result = { status: 'delivered', attempt, nextAttemptAt: null }
      set = {
        deliveredAt: now,
        lastAttemptAt: now,
        lastStatusCode: outcome.statusCode,
        lastResponse: truncateResponse(outcome.response),
      }
      break
    }
    case 'failed': {
      const attempt = delivery.attempt + 1
      const delay = outcome.retryable ? retryDelayMs(Math.min(attempt, MAX_ATTEMPTS), input.random) : null
      result =
        delay === null
          ? { status: 'abandoned', attempt, nextAttemptAt: null }
          : { status: 'pending', attempt, nextAttemptAt: new Date(now.getTime() + delay) }
      set = {
        lastAttemptAt: now,
        lastStatusCode: outcome.statusCode,
        lastResponse: truncateResponse(outcome.response),
      }
      break
    }
    case 'abandon':
      result = { status: 'abandoned', attempt: delivery.attempt, nextAttemptAt: null }
      set = { lastStatusCode: null, lastResponse: truncateResponse(`abandoned: ${outcome.reason}`) }
      break
  }
  const [header] = await ctx.db
    .update(t)
    .set({
      ...set,
      status: result.status,
      attempt: result.attempt,
      nextAttemptAt: result.nextAttemptAt,
      leaseExpiresAt: null,
    })
    .where(and(eq(t.id, delivery.id), eq(t.status, 'delivering'), eq(t.leaseExpiresAt, delivery.leaseExpiresAt)))
  const recorded = header.affectedRows > 0
  if (!recorded) {
    ;(ctx.logger ?? noopLogger).warn(
      { consumer: delivery.consumer, deliveryId: String(delivery.id), outcome: outcome.kind },
      'a delivery outcome was not recorded: its lease expired and it was claimed again (it may be sent twice; receivers deduplicate on X-Jetmon-Delivery)',
    )
  }
  return { recorded, ...result }
}

/**
 * Gives claimed rows back without an attempt (a worker stopping before its sends finished): they
 * are `pending` and due now, attempt unchanged, so another worker sends them. Rows whose lease
 * changed since (claimed again) are left alone. Returns how many rows were released.
 */
export async function releaseDeliveries(input: {
  ctx: DeliveryContext
  deliveries: readonly Pick<ClaimedDelivery, 'consumer' | 'id' | 'leaseExpiresAt'>[]
}): Promise<number> {
  const now = (input.ctx.clock ?? systemClock)()
  let released = 0
  for (const delivery of input.deliveries) {
    const { table: t } = queueOf(delivery.consumer)
    const [header] = await input.ctx.db
      .update(t)
      .set({ status: 'pending', nextAttemptAt: now, leaseExpiresAt: null })
      .where(and(eq(t.id, delivery.id), eq(t.status, 'delivering'), eq(t.leaseExpiresAt, delivery.leaseExpiresAt)))
    released += header.affectedRows
  }
  return released
}
