import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The delivery metrics: queue depth by status, oldest pending age, attempts by outcome, send latency. */
export interface DeliveryMetrics {
  /** `jetmon_delivery_queue_depth{consumer,status}`: rows pending, delivering or abandoned (refreshed periodically). */
  queueDepth: Gauge<'consumer' | 'status'>
  /** `jetmon_delivery_oldest_pending_age_seconds{consumer}`: how long the most overdue pending row has been due. */
  oldestPendingAge: Gauge<'consumer'>
  /**
   * `jetmon_delivery_attempts_total{consumer,outcome}`: `delivered`, `retry`, `abandoned`, `released`,
   * `lease_expired` (a worker died mid-send; the row was claimed again and the attempt counted).
   */
  attempts: Counter<'consumer' | 'outcome'>
  /** `jetmon_delivery_send_seconds{consumer}`: one send, from the request to the receiver's answer (or failure). */
  sendSeconds: Histogram<'consumer'>
  /** `jetmon_delivery_enqueued_total{consumer,status}`: rows the dispatchers inserted, `pending` or `suppressed`. */
  enqueued: Counter<'consumer' | 'status'>
  /** `jetmon_delivery_dispatched_transitions_total{consumer}`: transitions read past the cursor (late ones included). */
  dispatchedTransitions: Counter<'consumer'>
}

const registered = new WeakMap<Registry, DeliveryMetrics>()

/**
 * Registers the delivery metrics into `registry` and returns them; calling it again with the same
 * registry returns the same metrics (so a process that runs delivery twice does not collide).
 */
export function registerDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const existing = registered.get(registry)
  if (existing) return existing
  const registers = [registry]
  const metrics: DeliveryMetrics = {
    queueDepth: new Gauge({
      name: 'jetmon_delivery_queue_depth',
      help: 'Delivery rows by status (pending, delivering, abandoned), per consumer.',
      labelNames: ['consumer', 'status'],
      registers,
    }),
    oldestPendingAge: new Gauge({
      name: 'jetmon_delivery_oldest_pending_age_seconds',
      help: 'Seconds since the most overdue pending delivery became due (0 when none is due).',
      labelNames: ['consumer'],
      registers,
    }),
    attempts: new Counter({
      name: 'jetmon_delivery_attempts_total',
      help: 'Delivery attempts by outcome: delivered, retry (failed, scheduled again), abandoned, released (stopped before recording), lease_expired (the worker died mid-send; claimed again).',
      labelNames: ['consumer', 'outcome'],
      registers,
    }),
    sendSeconds: new Histogram({
      name: 'jetmon_delivery_send_seconds',
      help: 'Time of one send to a receiver, until its answer or the failure.',
      labelNames: ['consumer'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers,
    }),
    enqueued: new Counter({
      name: 'jetmon_delivery_enqueued_total',
      help: 'Delivery rows inserted by the dispatchers, by status (pending, suppressed by an hourly cap).',
      labelNames: ['consumer', 'status'],
      registers,
    }),
    dispatchedTransitions: new Counter({
      name: 'jetmon_delivery_dispatched_transitions_total',
      help: 'Transitions the dispatchers read past their cursor, including late-committed ones.',
      labelNames: ['consumer'],
      registers,
    }),
  }
  registered.set(registry, metrics)
  return metrics
}
