import type { AlertSender } from '@jetmon/alerting'
import { type Db, type Logger, noopLogger } from '@jetmon/db'
import type { Registry } from 'prom-client'
import type { Dispatcher } from 'undici'
import { DELIVERY_CONSUMERS, type DeliveryConsumer, positiveInteger, systemClock } from './context.js'
import { TransitionDispatcher } from './dispatch.js'
import { type DeliveryMetrics, registerDeliveryMetrics } from './metrics.js'
import { SendPool } from './pool.js'
import { refreshQueueMetrics } from './queue-metrics.js'
import { createAlertContactSender, createWebhookSender, type DeliverySender } from './senders.js'
import { DeliveryWorker, type DeliveryWorkerStats } from './worker.js'

/** Options of {@link startDelivery}. */
export interface StartDeliveryOptions {
  db: Db
  /** Default: silent. Pass `logger.child({ module: 'delivery' })`. */
  logger?: Logger
  /** `SECRETS_KEY` decoded (32 bytes); null when not configured (secrets are then stored in plaintext). */
  secretsKey: Uint8Array | null
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`. */
  allowPrivateTargets: boolean
  /** From `createAlertSender` (@jetmon/alerting). The caller owns it (and closes it after `stop()`). */
  alertSender: Pick<AlertSender, 'send'>
  /** The process's Prometheus registry; the delivery metrics are registered into it. */
  registry?: Registry
  /** Default: the system clock. */
  clock?: () => Date
  /** Which consumers to run (default both). */
  consumers?: readonly DeliveryConsumer[]
  /** Run the dispatchers (default true). */
  dispatch?: boolean
  /** Run the workers (default true). */
  deliver?: boolean
  /** Sends in flight in this process, across both consumers (default 50). */
  concurrency?: number
  /** Sends in flight per webhook or alert contact (default 3). */
  perSubscriberConcurrency?: number
  /** Dispatcher pause between passes (default 500 ms). */
  dispatchIntervalMs?: number
  /** Worker poll when nothing wakes it (default 500 ms). */
  pollMs?: number
  /** Claim lease (default 60 s). */
  leaseMs?: number
  /** Transitions per dispatch pass (default 500). */
  batchSize?: number
  /** How far behind the cursor (in ids) a gap is kept for a late commit (default 5 000). */
  tailIds?: number
  /** Default: a guarded dispatcher (the SSRF guard) owned by the webhook sender. */
  webhookDispatcher?: Dispatcher
  /** How often the queue gauges are refreshed when `registry` is given (default 15 s). */
  metricsRefreshMs?: number
}

/** Delivery running in a process. */
export interface RunningDelivery {
  /**
   * Stops the dispatchers (after the pass in progress commits) and the workers, waiting up to
   * `timeoutMs` (default 15 s) for sends in flight; unfinished ones are released for another process.
   */
  stop(timeoutMs?: number): Promise<void>
  /** Counters of the dispatchers and workers, for logs and `jetmon_process_health.stats`. */
  stats(): DeliveryStats
  /** The metrics, when a registry was given. */
  readonly metrics: DeliveryMetrics | null
}

export interface DeliveryStats {
  dispatchers: ReturnType<TransitionDispatcher['stats']>[]
  workers: DeliveryWorkerStats[]
}

/**
 * Runs delivery in this process until stopped: for each consumer (`webhooks`, `alerts`) a
 * dispatcher that turns new transitions into delivery rows and a worker that sends them, the two
 * workers sharing one pool of sends. Any number of processes may run it at once; correctness comes
 * from the database (cursor row lock, unique keys, leases). Returns at once; loops log their own
 * errors and keep retrying.
 *
 * @example
 * const delivery = startDelivery({ db, logger, secretsKey, allowPrivateTargets: false, alertSender, registry })
 * process.once('SIGTERM', () => void delivery.stop(15_000))
 */
export function startDelivery(options: StartDeliveryOptions): RunningDelivery {
  const logger = options.logger ?? noopLogger
  const clock = options.clock ?? systemClock
  const consumers = options.consumers ?? DELIVERY_CONSUMERS
  const metrics = options.registry ? registerDeliveryMetrics(options.registry) : null
  const pool = new SendPool(positiveInteger('concurrency', options.concurrency, 50))
  const senders: DeliverySender[] = []
  const workers: DeliveryWorker[] = []
  const dispatchers: TransitionDispatcher[] = []

  for (const consumer of consumers) {
    let worker: DeliveryWorker | null = null
    if (options.deliver !== false) {
      const sender =
        consumer === 'webhooks'
          ? createWebhookSender({
              secretsKey: options.secretsKey,
              allowPrivateTargets: options.allowPrivateTargets,
              ...(options.webhookDispatcher ? { dispatcher: options.webhookDispatcher } : {}),
              clock,
              logger,
            })
          : createAlertContactSender({ alertSender: options.alertSender, secretsKey: options.secretsKey, logger })
      senders.push(sender)
      worker = new DeliveryWorker({
        db: options.db,
        sender,
        logger,
        clock,
        pool,
        metrics,
        ...(options.perSubscriberConcurrency !== undefined
          ? { perSubscriberLimit: options.perSubscriberConcurrency }
          : {}),
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      })
      workers.push(worker)
    }
    if (options.dispatch !== false) {
      const local = worker
      dispatchers.push(
        new TransitionDispatcher({
          consumer,
          db: options.db,
          logger,
          clock,
          metrics,
          ...(options.dispatchIntervalMs !== undefined ? { intervalMs: options.dispatchIntervalMs } : {}),
          ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
          ...(options.tailIds !== undefined ? { tailIds: options.tailIds } : {}),
          // New rows are claimed at once by this process's worker instead of at its next poll.
          ...(local ? { onEnqueued: () => local.wake() } : {}),
        }),
      )
    }
  }

  let metricsTimer: NodeJS.Timeout | null = null
  if (metrics) {
    let failing = false
    const refresh = () =>
      refreshQueueMetrics({ ctx: { db: options.db, clock }, metrics }).then(
        () => {
          failing = false
        },
        (error: unknown) => {
          if (!failing) logger.warn({ err: error }, 'could not refresh the delivery queue metrics; they are stale')
          failing = true
        },
      )
    void refresh()
    metricsTimer = setInterval(
      () => void refresh(),
      positiveInteger('metricsRefreshMs', options.metricsRefreshMs, 15_000),
    )
    metricsTimer.unref()
  }

  for (const dispatcher of dispatchers) dispatcher.start()
  for (const worker of workers) worker.start()
  logger.info(
    {
      consumers,
      dispatch: dispatchers.length > 0,
      deliver: workers.length > 0,
      concurrency: pool.size,
    },
    'delivery started',
  )

  let stopping: Promise<void> | null = null
  return {
    metrics,
    stats: () => ({ dispatchers: dispatchers.map((d) => d.stats()), workers: workers.map((w) => w.stats()) }),
    stop(timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (metricsTimer) clearInterval(metricsTimer)
        await Promise.all(dispatchers.map((d) => d.stop()))
        await Promise.all(workers.map((w) => w.stop(timeoutMs)))
        await Promise.all(senders.map((s) => s.close()))
        logger.info('delivery stopped')
      })()
      return stopping
    },
  }
}
