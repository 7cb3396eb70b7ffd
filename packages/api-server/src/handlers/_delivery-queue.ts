/** The delivery queues of webhooks and alert contacts: listing a subscriber's rows and retrying one by hand. */
import { type Delivery, type DeliveryStatus, jsonId } from '@jetmon/api-client'
import { alertDeliveries, type Db, webhookDeliveries, withTransaction } from '@jetmon/db'
import { and, desc, eq, lt, type SQL } from 'drizzle-orm'
import { ApiError, notFound } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'

/**
 * One queue table and its subscriber column. The two tables have the same delivery columns; the
 * functions below are typed against the webhook table and used for both.
 */
export interface DeliveryQueue {
  table: typeof webhookDeliveries
  subscriber: typeof webhookDeliveries.webhookId
}

export const webhookQueue: DeliveryQueue = { table: webhookDeliveries, subscriber: webhookDeliveries.webhookId }
export const alertQueue: DeliveryQueue = {
  // Same delivery columns, other subscriber column (see DeliveryQueue).
  table: alertDeliveries as unknown as typeof webhookDeliveries,
  subscriber: alertDeliveries.alertContactId as unknown as typeof webhookDeliveries.webhookId,
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect

/** A delivery row in wire form (the frozen payload is left out: its event and transition are linked by id). */
export function deliveryJson(row: Omit<DeliveryRow, 'webhookId' | 'payload'>): Delivery {
  return {
    id: jsonId(row.id),
    transition_id: jsonId(row.transitionId),
    event_id: jsonId(row.eventId),
    blog_id: jsonId(row.blogId),
    event_type: row.eventType,
    status: row.status,
    attempt: row.attempt,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    last_status_code: row.lastStatusCode,
    last_response: row.lastResponse,
    last_attempt_at: row.lastAttemptAt?.toISOString() ?? null,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  }
}

function columns(queue: DeliveryQueue) {
  const t = queue.table
  return {
    id: t.id,
    transitionId: t.transitionId,
    eventId: t.eventId,
    blogId: t.blogId,
    eventType: t.eventType,
    status: t.status,
    attempt: t.attempt,
    nextAttemptAt: t.nextAttemptAt,
    leaseExpiresAt: t.leaseExpiresAt,
    lastStatusCode: t.lastStatusCode,
    lastResponse: t.lastResponse,
    lastAttemptAt: t.lastAttemptAt,
    deliveredAt: t.deliveredAt,
    createdAt: t.createdAt,
  }
}

/**
 * One page of a subscriber's deliveries, newest first. Rows are ordered by transition id, which
 * follows creation order (the dispatcher walks transitions forward) and is unique per subscriber,
 * so the `(subscriber, transition_id)` unique key serves both the filter and the order.
 */
export async function listDeliveries(
  db: Db,
  queue: DeliveryQueue,
  subscriberId: bigint,
  query: { limit?: number | undefined; cursor?: string | undefined; status?: DeliveryStatus | undefined },
) {
  const limit = query.limit ?? DEFAULT_LIMIT
  const conditions: SQL[] = [eq(queue.subscriber, subscriberId)]
  if (query.status !== undefined) conditions.push(eq(queue.table.status, query.status))
  if (query.cursor !== undefined) {
    const [transitionId] = decodeCursor(query.cursor, ['id'])
    conditions.push(lt(queue.table.transitionId, transitionId))
  }
  const rows = await db
    .select(columns(queue))
    .from(queue.table)
    .where(and(...conditions))
    .orderBy(desc(queue.table.transitionId))
    .limit(limit + 1)
  return pageOf(rows, limit, deliveryJson, (row) => [row.transitionId.toString()])
}

/**
 * Puts an `abandoned` delivery back in the queue: `pending`, attempt 0, due now. The last answer
 * stays visible until the next attempt replaces it. 404 `delivery_not_found` when the delivery is
 * not this subscriber's; 409 `delivery_not_retryable` in any other status.
 */
export async function retryDelivery(
  db: Db,
  queue: DeliveryQueue,
  subscriberId: bigint,
  deliveryId: bigint,
  now: Date,
): Promise<Delivery> {
  return withTransaction(db, async (tx) => {
    const mine = and(eq(queue.table.id, deliveryId), eq(queue.subscriber, subscriberId))
    const [row] = await tx.select(columns(queue)).from(queue.table).where(mine).for('update')
    if (!row) throw notFound('delivery', deliveryId)
    if (row.status !== 'abandoned') {
      throw new ApiError(
        409,
        'delivery_not_retryable',
        `delivery ${deliveryId} is ${row.status}; only abandoned deliveries can be retried by hand`,
      )
    }
    await tx
      .update(queue.table)
      .set({ status: 'pending', attempt: 0, nextAttemptAt: now, leaseExpiresAt: null })
      .where(mine)
    return deliveryJson({ ...row, status: 'pending', attempt: 0, nextAttemptAt: now, leaseExpiresAt: null })
  })
}
