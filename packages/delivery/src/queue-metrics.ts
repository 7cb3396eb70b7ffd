import { and, count, eq, inArray, lte, min } from 'drizzle-orm'
import { queueOf } from './_queues.js'
import { DELIVERY_CONSUMERS, type DeliveryContext, systemClock } from './context.js'
import type { DeliveryMetrics } from './metrics.js'

/** The statuses whose counts are reported: the queue itself and what needs a person. Delivered rows only grow. */
const REPORTED_STATUSES = ['pending', 'delivering', 'abandoned'] as const

/**
 * Refreshes the queue gauges of `metrics` from the delivery tables: rows per reported status
 * (`pending`, `delivering`, `abandoned`; an index range each, never the delivered history) and the
 * age of the most overdue due `pending` row. Two statements per consumer.
 */
export async function refreshQueueMetrics({
  ctx,
  metrics,
}: {
  ctx: DeliveryContext
  metrics: DeliveryMetrics
}): Promise<void> {
  const now = (ctx.clock ?? systemClock)()
  for (const consumer of DELIVERY_CONSUMERS) {
    const { table: t } = queueOf(consumer)
    const rows = await ctx.db
      .select({ status: t.status, rows: count() })
      .from(t)
      .where(inArray(t.status, [...REPORTED_STATUSES]))
      .groupBy(t.status)
    const counts = new Map(rows.map((row) => [row.status, Number(row.rows)]))
    for (const status of REPORTED_STATUSES) metrics.queueDepth.set({ consumer, status }, counts.get(status) ?? 0)
    const [oldest] = await ctx.db
      .select({ due: min(t.nextAttemptAt) })
      .from(t)
      .where(and(eq(t.status, 'pending'), lte(t.nextAttemptAt, now)))
    const due = oldest?.due ? new Date(oldest.due).getTime() : null
    metrics.oldestPendingAge.set({ consumer }, due === null ? 0 : Math.max(0, (now.getTime() - due) / 1_000))
  }
}
