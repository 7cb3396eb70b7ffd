import type { Db, Logger } from '@jetmon/db'
import { noopLogger } from '@jetmon/db'
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  DEFAULT_LEASE_MS,
  type RecordedAttempt,
  recordAttempt,
  releaseDeliveries,
} from './claim.js'
import { type DeliveryConsumer, Nap, pauseAfter, positiveInteger, systemClock } from './context.js'
import type { DeliveryMetrics } from './metrics.js'
import { SendPool } from './pool.js'
import type { DeliverySender } from './senders.js'

/** Sends in flight per webhook or alert contact, per process (default 3). */
export const DEFAULT_PER_SUBSCRIBER_LIMIT = 3

/** Options of {@link DeliveryWorker}. */
export interface DeliveryWorkerOptions {
  db: Db
  /** `createWebhookSender(…)` or `createAlertContactSender(…)`; its consumer is the worker's. */
  sender: DeliverySender
  logger?: Logger
  /** Every due date, lease and timestamp comes from it; tests drive the retry ladder with a test clock. */
  clock?: () => Date
  /** Shared by the workers of a process (default: a pool of 50 of its own). */
  pool?: SendPool
  /** Default {@link DEFAULT_PER_SUBSCRIBER_LIMIT}. */
  perSubscriberLimit?: number
  /** Default {@link DEFAULT_LEASE_MS} (60 s, well beyond the 10 s a send may take). */
  leaseMs?: number
  /** How often to look for due rows when nothing wakes the worker. Default 500 ms. */
  pollMs?: number
  /** Retry jitter source, default `Math.random`. */
  random?: () => number
  metrics?: DeliveryMetrics | null
}

/** Counters since the worker was made. */
export interface DeliveryWorkerStats {
  consumer: DeliveryConsumer
  inFlight: number
  claimed: number
  delivered: number
  retried: number
  abandoned: number
  released: number
  /** Rows whose lease had expired with no outcome (a worker died mid-send) that this worker counted the attempt of, abandoned ones included. */
  leaseExpired: number
  notRecorded: number
  errors: number
}

/**
 * A delivery worker for one consumer: claims due rows (leases,
 * `SKIP LOCKED`), sends each through its {@link DeliverySender} within the per-subscriber cap and the
 * shared {@link SendPool}, and records the outcome on the retry ladder. It claims again as soon as a
 * send finishes, a dispatcher in the same process enqueues ({@link wake}), or every `pollMs`.
 */
export class DeliveryWorker {
  readonly consumer: DeliveryConsumer
  private readonly db: Db
  private readonly sender: DeliverySender
  private readonly logger: Logger
  private readonly clock: () => Date
  private readonly pool: SendPool
  private readonly perSubscriberLimit: number
  private readonly leaseMs: number
  private readonly pollMs: number
  private readonly random: () => number
  private readonly metrics: DeliveryMetrics | null
  private readonly inFlightBySubscriber = new Map<bigint, number>()
  private readonly inFlight = new Map<bigint, { delivery: ClaimedDelivery; done: Promise<void> }>()
  private readonly unsubscribe: () => void
  private running = false
  private loop: Promise<void> | null = null
  private readonly nap = new Nap()
  private woken = false
  private counters = {
    claimed: 0,
    delivered: 0,
    retried: 0,
    abandoned: 0,
    released: 0,
    leaseExpired: 0,
    notRecorded: 0,
    errors: 0,
  }

  constructor(options: DeliveryWorkerOptions) {
    this.db = options.db
    this.sender = options.sender
    this.consumer = options.sender.consumer
    this.logger = options.logger ?? noopLogger
    this.clock = options.clock ?? systemClock
    this.pool = options.pool ?? new SendPool()
    this.perSubscriberLimit = positiveInteger(
      'perSubscriberLimit',
      options.perSubscriberLimit,
      DEFAULT_PER_SUBSCRIBER_LIMIT,
    )
    this.leaseMs = positiveInteger('leaseMs', options.leaseMs, DEFAULT_LEASE_MS)
    this.pollMs = positiveInteger('pollMs', options.pollMs, 500)
    this.random = options.random ?? Math.random
    this.metrics = options.metrics ?? null
    this.unsubscribe = this.pool.onRelease(() => this.wake())
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Looks for due rows now instead of at the next poll. */
  wake(): void {
    this.woken = true
    this.nap.wake()
  }

  /**
   * One round without the loop: claims what the pool and the caps allow, sends it all and waits
   * until every outcome is recorded. Returns how many rows were claimed. For tests and tools.
   */
  async runOnce(): Promise<number> {
    const started = await this.claimAndSend()
    await Promise.all(started)
    return started.length
  }

  /**
   * Stops claiming, then waits up to `timeoutMs` for the sends in flight to finish and be
   * recorded; rows still in flight after that are released (`pending`, due now, attempt unchanged)
   * for another worker. A send that completes after its release records nothing.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.running = false
    this.wake()
    await this.loop
    this.loop = null
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs)
      })
      const settled = Promise.allSettled([...this.inFlight.values()].map((entry) => entry.done))
      await Promise.race([settled, timedOut])
      clearTimeout(timer)
    }
    const unfinished = [...this.inFlight.values()].map((entry) => entry.delivery)
    if (unfinished.length > 0) {
      try {
        const released = await releaseDeliveries({ ctx: { db: this.db, clock: this.clock }, deliveries: unfinished })
        this.counters.released += released
        this.metrics?.attempts.inc({ consumer: this.consumer, outcome: 'released' }, released)
        this.logger.warn(
          { consumer: this.consumer, released, inFlight: unfinished.length },
          `stopped with ${unfinished.length} ${this.consumer} sends unfinished: released them for another worker (they may arrive twice)`,
        )
      } catch (error) {
        this.logger.error(
          { err: error, consumer: this.consumer },
          `could not release ${unfinished.length} claimed ${this.consumer} deliveries: they are sent again when their lease expires`,
        )
      }
    }
    this.unsubscribe()
  }

  /** Sends in flight in this worker now. */
  get inFlightCount(): number {
    return this.inFlight.size
  }

  stats(): DeliveryWorkerStats {
    return { consumer: this.consumer, inFlight: this.inFlight.size, ...this.counters }
  }

  private async run(): Promise<void> {
    let failures = 0
    while (this.running) {
      this.woken = false
      let claimed = 0
      try {
        claimed = (await this.claimAndSend()).length
        if (failures > 0) this.logger.info({ consumer: this.consumer, failures }, `${this.consumer} worker recovered`)
        failures = 0
      } catch (error) {
        failures++
        this.counters.errors++
        if (failures === 1 || failures % 60 === 0) {
          this.logger.error(
            { err: error, consumer: this.consumer, failures },
            `claiming ${this.consumer} deliveries failed: nothing is sent until the database answers again; retrying`,
          )
        }
      }
      if (!this.running) break
      // More may be due right away: claim again while there is room.
      if (claimed > 0 && this.pool.available > 0) continue
      if (this.woken && failures === 0) continue
      await this.nap.sleep(pauseAfter(this.pollMs, failures))
    }
  }

  /** Claims within the free slots, starts a send per row and returns their completions. */
  private async claimAndSend(): Promise<Promise<void>[]> {
    const slots = this.pool.acquire(this.pool.available)
    if (slots === 0) return []
    let claimed: ClaimedDelivery[]
    try {
      claimed = await claimDeliveries({
        ctx: { db: this.db, clock: this.clock, logger: this.logger },
        consumer: this.consumer,
        limit: slots,
        leaseMs: this.leaseMs,
        perSubscriber: { limit: this.perSubscriberLimit, inFlight: this.inFlightBySubscriber },
        onLeaseExpired: (rows) => {
          this.counters.leaseExpired += rows.length
          for (const row of rows) {
            if (row.abandoned) this.counters.abandoned++
            this.metrics?.attempts.inc({
              consumer: this.consumer,
              outcome: row.abandoned ? 'abandoned' : 'lease_expired',
            })
          }
        },
      })
    } catch (error) {
      this.pool.release(slots, false)
      throw error
    }
    if (claimed.length < slots) this.pool.release(slots - claimed.length, false)
    if (claimed.length === 0) return []
    this.counters.claimed += claimed.length

    let send: (delivery: ClaimedDelivery) => Promise<AttemptOutcome>
    try {
      send = await this.sender.prepare(this.db, claimed)
    } catch (error) {
      // Nothing was sent: give the rows back at once rather than waiting out their lease.
      this.pool.release(claimed.length, false)
      await releaseDeliveries({ ctx: { db: this.db, clock: this.clock }, deliveries: claimed }).catch(() => {})
      throw error
    }
    return claimed.map((delivery) => {
      this.inFlightBySubscriber.set(
        delivery.subscriberId,
        (this.inFlightBySubscriber.get(delivery.subscriberId) ?? 0) + 1,
      )
      const done = this.deliver(delivery, send).finally(() => {
        this.inFlight.delete(delivery.id)
        const left = (this.inFlightBySubscriber.get(delivery.subscriberId) ?? 1) - 1
        if (left > 0) this.inFlightBySubscriber.set(delivery.subscriberId, left)
        else this.inFlightBySubscriber.delete(delivery.subscriberId)
        this.pool.release(1)
      })
      this.inFlight.set(delivery.id, { delivery, done })
      return done
    })
  }

  private async deliver(
    delivery: ClaimedDelivery,
    send: (delivery: ClaimedDelivery) => Promise<AttemptOutcome>,
  ): Promise<void> {
    const started = performance.now()
    let outcome: AttemptOutcome
    try {
      outcome = await send(delivery)
    } catch (error) {
      // A sender that throws has a bug; the attempt counts as failed so the row cannot loop.
      this.logger.error(
        { err: error, consumer: this.consumer, deliveryId: String(delivery.id) },
        `sending a ${this.consumer} delivery threw inside Jetmon; this is a bug`,
      )
      outcome = { kind: 'failed', statusCode: null, response: `internal: ${(error as Error).message}`, retryable: true }
    }
    if (outcome.kind !== 'abandon') {
      this.metrics?.sendSeconds.observe({ consumer: this.consumer }, (performance.now() - started) / 1_000)
    }
    let recorded: RecordedAttempt
    try {
      recorded = await recordAttempt({
        ctx: { db: this.db, clock: this.clock, logger: this.logger },
        delivery,
        outcome,
        random: this.random,
      })
    } catch (error) {
      this.counters.errors++
      this.logger.error(
        { err: error, consumer: this.consumer, deliveryId: String(delivery.id), outcome: outcome.kind },
        `could not record a ${this.consumer} delivery attempt: the row is sent again when its lease expires`,
      )
      return
    }
    if (!recorded.recorded) {
      this.counters.notRecorded++
      return
    }
    const kind = recorded.status === 'delivered' ? 'delivered' : recorded.status === 'pending' ? 'retry' : 'abandoned'
    if (kind === 'delivered') this.counters.delivered++
    else if (kind === 'retry') this.counters.retried++
    else this.counters.abandoned++
    this.metrics?.attempts.inc({ consumer: this.consumer, outcome: kind })
    if (kind !== 'delivered') {
      const level = kind === 'abandoned' ? 'warn' : 'info'
      this.logger[level](
        {
          consumer: this.consumer,
          deliveryId: String(delivery.id),
          subscriberId: String(delivery.subscriberId),
          attempt: recorded.attempt,
          nextAttemptAt: recorded.nextAttemptAt?.toISOString() ?? null,
          statusCode: outcome.kind === 'abandon' ? null : outcome.statusCode,
          response:
            outcome.kind === 'delivered'
              ? undefined
              : outcome.kind === 'abandon'
                ? outcome.reason
                : outcome.response.slice(0, 200),
        },
        kind === 'abandoned'
          ? `${this.consumer} delivery abandoned: it will not be sent again unless retried by hand through the API`
          : `${this.consumer} delivery failed; retrying later`,
      )
    }
  }
}
