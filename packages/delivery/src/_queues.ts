import { alertDeliveries, webhookDeliveries } from '@jetmon/db'
import type { DeliveryConsumer } from './context.js'

/**
 * One delivery table and its subscriber column. The two tables have the same delivery columns and
 * differ only in the subscriber's; code that touches only the shared columns is typed against the
 * webhook table and used for both (the same device as the API's delivery queue).
 */
export interface DeliveryQueue {
  consumer: DeliveryConsumer
  table: typeof webhookDeliveries
  subscriber: typeof webhookDeliveries.webhookId
  /** What a subscriber is called in messages for people: `webhook`, `alert contact`. */
  noun: string
}

const QUEUES: Record<DeliveryConsumer, DeliveryQueue> = {
  webhooks: {
    consumer: 'webhooks',
    table: webhookDeliveries,
    subscriber: webhookDeliveries.webhookId,
    noun: 'webhook',
  },
  alerts: {
    consumer: 'alerts',
    table: alertDeliveries as unknown as typeof webhookDeliveries,
    subscriber: alertDeliveries.alertContactId as unknown as typeof webhookDeliveries.webhookId,
    noun: 'alert contact',
  },
}

export function queueOf(consumer: DeliveryConsumer): DeliveryQueue {
  return QUEUES[consumer]
}

/** Stored responses and reasons are cut to the column's 2 KiB. */
export const RESPONSE_LIMIT = 2_048

export function truncateResponse(text: string | null): string | null {
  if (text === null) return null
  // Cut by code points so a surrogate pair is never split in half.
  const points = Array.from(text)
  return points.length <= RESPONSE_LIMIT ? text : points.slice(0, RESPONSE_LIMIT).join('')
}
