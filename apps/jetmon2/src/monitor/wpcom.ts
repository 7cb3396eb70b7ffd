/**
 * The WordPress.com notification path (monitor.md, "WordPress.com notifications (legacy path)"):
 * a confirmed Down and the recovery of a notified Down are POSTed to WPCOM_NOTIFY_URL, off the
 * check path, with retries, a circuit breaker, a bounded queue and the alert cooldown.
 *
 * Maintenance windows are not looked at here: the confirmation pipeline never notifies inside one
 * (it swallows failures and closes the open event), so every notice that arrives is meant to go out.
 */
import { auditLog, type Db, endpointState, type Logger, noopLogger } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { type Dispatcher, request } from 'undici'
import { VERSION } from '../version.js'
import type { DownNotice } from './pipeline.js'

/** Timer scheduling, injected so that tests drive retries, the breaker and timeouts without waiting. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export interface WpcomRetryPolicy {
  /** Delay before the second attempt; each further attempt doubles it (with jitter). */
  baseMs: number
  maxMs: number
  /** Attempts per notification, the first included, before giving up on it. */
  maxAttempts: number
}

export interface WpcomBreakerPolicy {
  /** Consecutive transient failures (transport errors, 5xx, 408, 429) that open the circuit. */
  failures: number
  /** How long the circuit stays open before one trial request is let through. */
  openMs: number
}

export interface WpcomNotifierOptions {
  /** WPCOM_NOTIFY_URL. */
  url: string
  /** AUTH_TOKEN, sent as a bearer token. Never logged, never stored. */
  authToken: string
  /** WPCOM_NOTIFY_ENABLE: when false, `notify()` does nothing but count. */
  enabled: boolean
  db: Db
  /** This monitor (HOST_ID): the audit source is `monitor:<hostId>`. */
  hostId: string
  clock?: () => Date
  timers?: Timers
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number
  logger?: Logger
  /** Per request, the answer's body included. Default 15 s. */
  timeoutMs?: number
  /** Notifications waiting or in flight; when full the oldest waiting one is dropped. Default 10 000. */
  maxQueue?: number
  /** Requests in flight at once (one per endpoint at a time, so each endpoint's notices stay in order). Default 4. */
  concurrency?: number
  retry?: Partial<WpcomRetryPolicy>
  breaker?: Partial<WpcomBreakerPolicy>
  /** ALERT_COOLDOWN_MINUTES (≤ 0 disables); an endpoint's `alertCooldownMinutes` overrides it. Default 30. */
  cooldownMinutes?: number
  /** An undici dispatcher (Agent, proxy agent); default undici's global one. */
  dispatcher?: Dispatcher
}

export type BreakerState = 'closed' | 'open' | 'half_open'

/** Counters since start, for /metrics and `jetmon2 status`. */
export interface WpcomStats {
  /** Notifications waiting (for a slot, a retry or the breaker) or in flight. */
  queued: number
  inFlight: number
  /** Delivered (2xx). */
  sent: number
  /** Given up after transient failures: retries exhausted, or still queued when the drain ended. */
  failed: number
  /** Refused by WordPress.com with a 4xx other than 408/429 (404/410: the site is unknown there). */
  permanent: number
  /** Not sent: a Down within the cooldown, or the recovery of a Down that was not sent. */
  suppressed: number
  /** Dropped, oldest first, from a full queue. */
  dropped: number
  /** Ignored because the path is disabled (WPCOM_NOTIFY_ENABLE=false). */
  disabled: number
  /** Failed attempts that were scheduled again. */
  retries: number
  breaker: BreakerState
  lastError: string | null
}

/** The JSON body WordPress.com receives, field for field what the Go monitor sent. */
export interface WpcomPayload {
  /** A number while it is exact in JSON (≤ 2^53), the decimal string beyond. */
  blog_id: number | string
  monitor_url: string
  status_id: 1 | 2
  status_type: string
  /** RFC 3339, UTC, whole seconds. */
  last_check: string
  last_status_change: string
  checks: { type: 1 | 2; host: string; status: 0 | 1; rtt: number; code: number }[]
}

const MAX_EXACT_JSON_INTEGER = 2n ** 53n

/** `2025-03-01T12:00:00Z`: Go's time.RFC3339 for a UTC time, which the receiving end has always parsed. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function wpcomPayload(notice: DownNotice): WpcomPayload {
  const { blogId, url } = notice.endpoint
  return {
    blog_id: blogId <= MAX_EXACT_JSON_INTEGER ? Number(blogId) : String(blogId),
    monitor_url: url,
    status_id: notice.statusId,
    status_type: notice.statusType,
    last_check: rfc3339(notice.lastCheck),
    last_status_change: rfc3339(notice.lastStatusChange),
    // The legacy receiver takes integers: no measurement (no answer, a veriflier error) is 0, as Go sent it.
    checks: notice.checks.map((c) => ({
      type: c.type,
      host: c.host,
      status: c.status,
      rtt: c.rtt === null ? 0 : Math.round(c.rtt),
      code: c.code ?? 0,
    })),
  }
}

interface Job {
  notice: DownNotice
  body: string
  attempts: number
  /** Not before this time (clock ms): a retry's backoff. */
  dueAt: number
  running: boolean
}

/** What this process knows of one endpoint's notices. */
interface EndpointMemory {
  /** Whether `last_alert_sent_at` has been read from the database (first Down after a start or a handover). */
  loaded: boolean
  lastDownSentAt: number | null
  /**
   * What became of the latest Down notice; a recovery is sent only after a sent one. Null: none seen
   * by this process, e.g. a Down notified before a restart, whose recovery the pipeline asks for.
   */
  lastDown: 'sent' | 'suppressed' | 'failed' | 'dropped' | null
}

type Attempt =
  | { kind: 'ok'; status: number }
  | { kind: 'permanent'; status: number; answer: string }
  | { kind: 'transient'; status: number | null; error: string; retryAfterMs: number | null }
  | { kind: 'aborted' }

type AuditRow = typeof auditLog.$inferInsert

/**
 * Delivers WordPress.com notifications asynchronously. `notify()` only queues; a delivery loop
 * sends, one request per endpoint at a time (its notices stay in order), up to `concurrency` at once.
 *
 * - 2xx: sent, audited `wpcom_sent`; for a Down, `jetmon_endpoint_state.last_alert_sent_at` is written.
 * - transport error, timeout, 5xx, 408, 429: retried with exponential backoff and jitter (Retry-After
 *   honoured), counted by the circuit breaker; after `maxAttempts`, audited `wpcom_failed`.
 * - other 4xx (404/410: the site is unknown to WordPress.com): permanent for that notification,
 *   audited `wpcom_failed`, not retried, and the breaker neither counts nor forgets it.
 * - The breaker opens after `failures` consecutive transient failures; while open nothing is sent
 *   and notices queue; after `openMs` one trial request decides (success closes it and the queue drains).
 * - Cooldown: a Down within the cooldown of the endpoint's last sent Down is suppressed
 *   (`alert_suppressed`), and so is the recovery that follows it; a recovery after a sent Down always goes.
 */
export class WpcomNotifier {
  private readonly url: string
  private readonly safeUrl: string
  private readonly headers: Record<string, string>
  private readonly token: string
  private readonly enabled: boolean
  private readonly db: Db
  private readonly source: string
  private readonly clock: () => Date
  private readonly timers: Timers
  private readonly random: () => number
  private readonly logger: Logger
  private readonly timeoutMs: number
  private readonly maxQueue: number
  private readonly concurrency: number
  private readonly retry: WpcomRetryPolicy
  private readonly breakerPolicy: WpcomBreakerPolicy
  private readonly cooldownMinutes: number
  private readonly dispatcher: Dispatcher | undefined

  private readonly queue: Job[] = []
  private readonly endpoints = new Map<bigint, EndpointMemory>()
  private readonly running = new Set<Promise<void>>()
  private readonly writes = new Set<Promise<void>>()
  private readonly requests = new Set<AbortController>()
  private idleWaiters: (() => void)[] = []
  private wake: { handle: unknown; at: number } | null = null
  private breaker: BreakerState = 'closed'
  private consecutiveFailures = 0
  private openUntil = 0
  /** Drops since the queue was last comfortably below its bound: one audit row per burst. */
  private dropBurst = 0
  private halted = false
  private stopping: Promise<void> | null = null
  private readonly counters = {
    sent: 0,
    failed: 0,
    permanent: 0,
    suppressed: 0,
    dropped: 0,
    disabled: 0,
    retries: 0,
  }
  private lastError: string | null = null

  constructor(options: WpcomNotifierOptions) {
    this.enabled = options.enabled
    this.url = options.url
    this.token = options.authToken
    this.safeUrl = '(disabled)'
    if (options.enabled) {
      let parsed: URL
      try {
        parsed = new URL(options.url)
      } catch {
        throw new WpcomConfigError('WPCOM_NOTIFY_URL is not a URL; set it, or set WPCOM_NOTIFY_ENABLE=false')
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new WpcomConfigError(`WPCOM_NOTIFY_URL must be http(s), got ${parsed.protocol}`)
      }
      if (!options.authToken) {
        throw new WpcomConfigError('AUTH_TOKEN is empty: WordPress.com would refuse every notification')
      }
      this.safeUrl = `${parsed.origin}${parsed.pathname}`
    }
    this.headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${options.authToken}`,
      'user-agent': `jetmon2/${VERSION} (${options.hostId})`,
    }
    this.db = options.db
    this.source = `monitor:${options.hostId}`
    this.clock = options.clock ?? (() => new Date())
    this.timers = options.timers ?? systemTimers
    this.random = options.random ?? Math.random
    this.logger = options.logger ?? noopLogger
    this.timeoutMs = options.timeoutMs ?? 15_000
    this.maxQueue = Math.max(1, options.maxQueue ?? 10_000)
    this.concurrency = Math.max(1, options.concurrency ?? 4)
    this.retry = { baseMs: 2_000, maxMs: 5 * 60_000, maxAttempts: 8, ...options.retry }
    this.breakerPolicy = { failures: 5, openMs: 60_000, ...options.breaker }
    this.cooldownMinutes = options.cooldownMinutes ?? 30
    this.dispatcher = options.dispatcher
  }

  /** Queues a notice; never blocks, never throws. */
  notify(notice: DownNotice): void {
    try {
      if (!this.enabled) {
        this.counters.disabled++
        return
      }
      const endpointId = String(notice.endpoint.endpointId)
      if (this.halted) {
        this.counters.failed++
        this.logger.warn(
          { endpointId, statusId: notice.statusId },
          'WordPress.com notice arrived after the notifier stopped: not sent',
        )
        return
      }
      const now = this.now()
      const job: Job = {
        notice,
        body: JSON.stringify(wpcomPayload(notice)),
        attempts: 0,
        dueAt: now,
        running: false,
      }
      if (this.queue.length >= this.maxQueue && !this.dropOldest()) {
        // Everything queued is in flight (a queue no bigger than the concurrency): the newcomer goes.
        this.dropped(job)
        return
      }
      this.queue.push(job)
      this.pump()
    } catch (error) {
      this.logger.error({ err: error }, 'could not queue a WordPress.com notice (bug): not sent')
    }
  }

  stats(): WpcomStats {
    return {
      queued: this.queue.length,
      inFlight: this.queue.filter((job) => job.running).length,
      ...this.counters,
      breaker: this.breaker,
      lastError: this.lastError,
    }
  }

  /**
   * Resolves once no delivery is in progress and every audit row is written. Notices waiting for a
   * retry or for the breaker stay queued (tests advance their clock, then settle).
   */
  async settle(): Promise<void> {
    while (this.running.size || this.writes.size) await Promise.allSettled([...this.running, ...this.writes])
  }

  /**
   * The drain: with `flush` (default), tries to deliver what is queued, retries not waiting out their
   * backoff, for at most `timeoutMs` (default 10 s); then aborts what is in flight and gives up on
   * the rest, with a log line and one `wpcom_failed` audit row. Notices arriving later are not sent.
   */
  stop(options: { flush?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.flush ?? true, options.timeoutMs ?? 10_000)
    return this.stopping
  }

  private async drain(flush: boolean, timeoutMs: number): Promise<void> {
    if (flush && this.queue.length) {
      const now = this.now()
      for (const job of this.queue) job.dueAt = Math.min(job.dueAt, now)
      this.pump()
      let timer: unknown
      await Promise.race([
        this.idle(),
        new Promise<void>((resolve) => {
          timer = this.timers.setTimeout(resolve, timeoutMs)
        }),
      ])
      this.timers.clearTimeout(timer)
    }
    this.halted = true
    this.clearWake()
    for (const controller of this.requests) controller.abort()
    await this.settle()
    const left = this.queue.splice(0)
    if (left.length) {
      this.counters.failed += left.length
      const endpoints = left.slice(0, 20).map((job) => String(job.notice.endpoint.endpointId))
      this.logger.warn(
        { left: left.length, endpoints, breaker: this.breaker, lastError: this.lastError },
        `${left.length} WordPress.com notice(s) were not delivered before shutdown and are lost; ` +
          'the sites concerned will not get these Down/recovery messages',
      )
      this.audit({
        blogId: left[0]?.notice.endpoint.blogId ?? null,
        eventType: 'wpcom_failed',
        detail: `${left.length} notice(s) still queued at shutdown were not delivered`,
        metadata: { reason: 'shutdown', left: left.length, endpoint_ids: endpoints, last_error: this.lastError },
      })
    }
    if (this.dropBurst) this.endDropBurst()
    this.resolveIdle()
    await this.settle()
  }

  // ── the delivery loop ───────────────────────────────────────────────────────────────────────

  /** Starts what may start now and arranges to be called again when the next thing falls due. */
  private pump(): void {
    if (this.halted) return
    const now = this.now()
    if (this.breaker === 'open') {
      if (now < this.openUntil) {
        this.wakeAt(this.openUntil)
        return
      }
      this.setBreaker('half_open')
    }
    // Half-open: one trial at a time decides whether WordPress.com is back.
    let slots = this.breaker === 'half_open' ? (this.running.size ? 0 : 1) : this.concurrency - this.running.size
    if (slots <= 0) return
    const blocked = new Set<bigint>()
    let nextDue = Number.POSITIVE_INFINITY
    for (const job of this.queue) {
      const endpointId = job.notice.endpoint.endpointId
      // Only the oldest notice of an endpoint may go: a recovery never overtakes its Down.
      if (blocked.has(endpointId)) continue
      blocked.add(endpointId)
      if (job.running) continue
      if (job.dueAt > now) {
        nextDue = Math.min(nextDue, job.dueAt)
        continue
      }
      this.start(job)
      if (--slots === 0) break
    }
    if (nextDue !== Number.POSITIVE_INFINITY) this.wakeAt(nextDue)
  }

  private start(job: Job): void {
    job.running = true
    const run: Promise<void> = this.deliver(job)
      .catch((error: unknown) => {
        // A bug, not WordPress.com's answer: give the notice up rather than loop on it.
        this.remove(job)
        this.counters.failed++
        this.logger.error(
          { err: error, endpointId: String(job.notice.endpoint.endpointId) },
          'WordPress.com delivery failed unexpectedly (bug): notice given up',
        )
      })
      .finally(() => {
        job.running = false
        this.running.delete(run)
        this.pump()
        if (!this.queue.length && !this.running.size) this.resolveIdle()
      })
    this.running.add(run)
  }

  private async deliver(job: Job): Promise<void> {
    const { notice } = job
    const memory = await this.memoryOf(notice.endpoint.endpointId, notice.statusId === 2)
    if (this.halted) return
    if (job.attempts === 0 && this.suppressed(job, memory)) return

    const attempt = await this.post(job)
    if (attempt.kind === 'aborted') return
    job.attempts++
    const now = this.now()
    const endpointId = String(notice.endpoint.endpointId)
    const base = { status_id: notice.statusId, endpoint_id: endpointId, attempts: job.attempts }

    if (attempt.kind === 'ok') {
      this.remove(job)
      this.counters.sent++
      this.breakerSuccess()
      if (notice.statusId === 2) {
        memory.lastDownSentAt = now
        memory.lastDown = 'sent'
        await this.recordAlertSent(notice.endpoint.endpointId, now)
      } else {
        memory.lastDown = null
      }
      this.logger.info({ endpointId, statusId: notice.statusId, attempts: job.attempts }, 'WordPress.com notified')
      this.audit({
        blogId: notice.endpoint.blogId,
        eventType: 'wpcom_sent',
        detail: `status=${notice.statusId} type=${notice.statusType} delivered (attempt ${job.attempts})`,
        metadata: { ...base, http_status: attempt.status, status_type: notice.statusType },
      })
      return
    }

    if (attempt.kind === 'permanent') {
      this.remove(job)
      this.counters.permanent++
      if (notice.statusId === 2) memory.lastDown = 'failed'
      else memory.lastDown = null
      const auth = attempt.status === 401 || attempt.status === 403
      const gone = attempt.status === 404 || attempt.status === 410
      const what = gone
        ? 'WordPress.com does not know this site'
        : auth
          ? 'WordPress.com refused the credentials: check AUTH_TOKEN'
          : 'WordPress.com refused the notice'
      const fields = { endpointId, statusId: notice.statusId, httpStatus: attempt.status, answer: attempt.answer }
      const message = `${what} (HTTP ${attempt.status}): notice not retried`
      if (auth) this.logger.error(fields, message)
      else this.logger.warn(fields, message)
      this.audit({
        blogId: notice.endpoint.blogId,
        eventType: 'wpcom_failed',
        detail: `status=${notice.statusId} refused with HTTP ${attempt.status}, not retried: ${what}`,
        metadata: { ...base, http_status: attempt.status, reason: gone ? 'gone' : 'rejected', answer: attempt.answer },
      })
      return
    }

    this.lastError = attempt.error
    this.breakerFailure(now)
    if (job.attempts >= this.retry.maxAttempts) {
      this.remove(job)
      this.counters.failed++
      if (notice.statusId === 2) memory.lastDown = 'failed'
      else memory.lastDown = null
      this.logger.error(
        { endpointId, statusId: notice.statusId, attempts: job.attempts, error: attempt.error },
        `WordPress.com notice given up after ${job.attempts} attempts`,
      )
      this.audit({
        blogId: notice.endpoint.blogId,
        eventType: 'wpcom_failed',
        detail: `status=${notice.statusId} given up after ${job.attempts} attempts: ${attempt.error}`,
        metadata: { ...base, http_status: attempt.status, reason: 'retries_exhausted', error: attempt.error },
      })
      return
    }
    this.counters.retries++
    const delay = this.backoff(job.attempts, attempt.retryAfterMs)
    job.dueAt = now + delay
    this.logger.warn(
      { endpointId, statusId: notice.statusId, attempts: job.attempts, error: attempt.error, retryInMs: delay },
      'WordPress.com notice failed; will retry',
    )
  }

  /** Cooldown and "nothing to recover from": decided once, when the notice reaches the front. */
  private suppressed(job: Job, memory: EndpointMemory): boolean {
    const { notice } = job
    const now = this.now()
    let detail: string
    let metadata: Record<string, unknown>
    if (notice.statusId === 2) {
      const minutes = notice.endpoint.alertCooldownMinutes ?? this.cooldownMinutes
      const since = memory.lastDownSentAt === null ? null : now - memory.lastDownSentAt
      if (minutes <= 0 || since === null || since >= minutes * 60_000) return false
      memory.lastDown = 'suppressed'
      detail = `Down notice suppressed: the previous one was sent ${Math.floor(since / 60_000)} min ago (cooldown ${minutes} min)`
      metadata = {
        reason: 'cooldown',
        cooldown_minutes: minutes,
        last_sent_at: new Date(memory.lastDownSentAt as number).toISOString(),
      }
    } else {
      if (memory.lastDown === null || memory.lastDown === 'sent') return false
      detail = `recovery notice not sent: its Down notice was ${memory.lastDown === 'suppressed' ? 'suppressed' : 'not delivered'}`
      metadata = { reason: 'down_not_sent', down: memory.lastDown }
      memory.lastDown = null
    }
    this.remove(job)
    this.counters.suppressed++
    this.logger.info({ endpointId: String(notice.endpoint.endpointId), statusId: notice.statusId }, detail)
    this.audit({
      blogId: notice.endpoint.blogId,
      eventType: 'alert_suppressed',
      detail,
      metadata: { status_id: notice.statusId, endpoint_id: String(notice.endpoint.endpointId), ...metadata },
    })
    return true
  }

  /** One POST. Classifies the outcome; never throws. */
  private async post(job: Job): Promise<Attempt> {
    const controller = new AbortController()
    this.requests.add(controller)
    let timedOut = false
    const timer = this.timers.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.timeoutMs)
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: this.headers,
        body: job.body,
        signal: controller.signal,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      })
      const status = response.statusCode
      if (status >= 200 && status < 300) {
        await response.body.dump()
        return { kind: 'ok', status }
      }
      const answer = this.redact(await snippet(response.body))
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = this.retryAfter(response.headers['retry-after'])
        return { kind: 'transient', status, error: `HTTP ${status} from ${this.safeUrl}`, retryAfterMs }
      }
      return { kind: 'permanent', status, answer }
    } catch (error) {
      if (this.halted && !timedOut) return { kind: 'aborted' }
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describe(error)
      return { kind: 'transient', status: null, error: this.redact(`${reason} (${this.safeUrl})`), retryAfterMs: null }
    } finally {
      this.timers.clearTimeout(timer)
      this.requests.delete(controller)
    }
  }

  // ── the breaker ─────────────────────────────────────────────────────────────────────────────

  private breakerSuccess(): void {
    this.consecutiveFailures = 0
    if (this.breaker === 'closed') return
    this.setBreaker('closed')
    // WordPress.com answers again: what waited out the outage goes now, not at its backoff.
    const now = this.now()
    for (const job of this.queue) job.dueAt = Math.min(job.dueAt, now)
  }

  private breakerFailure(now: number): void {
    this.consecutiveFailures++
    const trip = this.breaker === 'half_open' || this.consecutiveFailures >= this.breakerPolicy.failures
    if (this.breaker === 'open' || !trip) return
    this.openUntil = now + this.breakerPolicy.openMs
    this.setBreaker('open')
  }

  private setBreaker(state: BreakerState): void {
    if (state === this.breaker) return
    this.breaker = state
    const context = { breaker: state, queued: this.queue.length, lastError: this.lastError }
    if (state === 'open') {
      this.logger.warn(
        context,
        `WordPress.com notifications are failing: circuit open for ${this.breakerPolicy.openMs / 1000} s; ` +
          'notices queue meanwhile (check WPCOM_NOTIFY_URL reachability)',
      )
    } else if (state === 'half_open') {
      this.logger.info(context, 'WordPress.com circuit half-open: one trial notice')
    } else {
      this.logger.info(context, 'WordPress.com circuit closed: delivering the queue')
    }
  }

  // ── the queue ───────────────────────────────────────────────────────────────────────────────

  /** Drops the oldest notice not in flight; false when everything queued is in flight. */
  private dropOldest(): boolean {
    const index = this.queue.findIndex((job) => !job.running)
    if (index < 0) return false
    const [job] = this.queue.splice(index, 1)
    if (job) this.dropped(job)
    return true
  }

  private dropped(job: Job): void {
    const { notice } = job
    this.counters.dropped++
    if (notice.statusId === 2) {
      const memory = this.memory(notice.endpoint.endpointId)
      memory.lastDown = 'dropped'
    }
    this.dropBurst++
    if (this.dropBurst > 1) return
    this.logger.error(
      { maxQueue: this.maxQueue, breaker: this.breaker, lastError: this.lastError },
      `WordPress.com notice queue is full (${this.maxQueue}): dropping the oldest notices until it drains`,
    )
    this.audit({
      blogId: notice.endpoint.blogId,
      eventType: 'wpcom_failed',
      detail:
        `notice queue full (${this.maxQueue}): oldest notices dropped, starting with this one; ` +
        'further drops until the queue drains are counted in the metrics',
      metadata: {
        reason: 'queue_full',
        max_queue: this.maxQueue,
        status_id: notice.statusId,
        endpoint_id: String(notice.endpoint.endpointId),
        attempts: job.attempts,
      },
    })
  }

  private endDropBurst(): void {
    this.logger.warn({ dropped: this.dropBurst }, `${this.dropBurst} WordPress.com notice(s) were dropped (queue full)`)
    this.dropBurst = 0
  }

  private remove(job: Job): void {
    const index = this.queue.indexOf(job)
    if (index >= 0) this.queue.splice(index, 1)
    // A burst ends once the queue has drained to half its bound, so a queue hovering at the bound audits once.
    if (this.dropBurst && this.queue.length <= this.maxQueue / 2) this.endDropBurst()
  }

  private idle(): Promise<void> {
    if (!this.queue.length && !this.running.size) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  // ── memory, time, records ───────────────────────────────────────────────────────────────────

  private memory(endpointId: bigint): EndpointMemory {
    let memory = this.endpoints.get(endpointId)
    if (!memory) {
      memory = { loaded: false, lastDownSentAt: null, lastDown: null }
      this.endpoints.set(endpointId, memory)
    }
    return memory
  }

  /** The endpoint's memory; for a Down, first reads the last sent alert written by this or another host. */
  private async memoryOf(endpointId: bigint, load: boolean): Promise<EndpointMemory> {
    const memory = this.memory(endpointId)
    if (!load || memory.loaded) return memory
    try {
      const [row] = await this.db
        .select({ at: endpointState.lastAlertSentAt })
        .from(endpointState)
        .where(eq(endpointState.endpointId, endpointId))
        .limit(1)
      const stored = row?.at ? row.at.getTime() : null
      if (stored !== null && (memory.lastDownSentAt === null || stored > memory.lastDownSentAt)) {
        memory.lastDownSentAt = stored
      }
      memory.loaded = true
    } catch (error) {
      // Without it the cooldown cannot be applied: rather a repeated alert than a missed one.
      this.logger.warn({ err: error, endpointId: String(endpointId) }, 'could not read last_alert_sent_at')
    }
    return memory
  }

  private async recordAlertSent(endpointId: bigint, at: number): Promise<void> {
    // DATETIME holds whole seconds; truncating keeps the cooldown from ending late after a restart.
    const sentAt = new Date(Math.floor(at / 1000) * 1000)
    try {
      await this.db
        .insert(endpointState)
        .values({ endpointId, lastAlertSentAt: sentAt, updatedAt: new Date(at) })
        .onDuplicateKeyUpdate({ set: { lastAlertSentAt: sentAt, updatedAt: new Date(at) } })
    } catch (error) {
      this.logger.warn({ err: error, endpointId: String(endpointId) }, 'could not write last_alert_sent_at')
    }
  }

  /** Writes an audit row in the background; the drain waits for it. Never throws. */
  private audit(row: Omit<AuditRow, 'source'>): void {
    const write: Promise<void> = this.db
      .insert(auditLog)
      .values({ ...row, source: this.source })
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn({ err: error, eventType: row.eventType }, 'could not write a WordPress.com audit row'),
      )
      .finally(() => this.writes.delete(write))
    this.writes.add(write)
  }

  private backoff(attempts: number, retryAfterMs: number | null): number {
    const exponential = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempts - 1))
    // Equal jitter: half fixed, half random, so a fleet of monitors does not retry in step.
    const jittered = exponential / 2 + (this.random() * exponential) / 2
    return Math.round(Math.min(this.retry.maxMs, Math.max(jittered, retryAfterMs ?? 0)))
  }

  private retryAfter(header: string | string[] | undefined): number | null {
    const value = Array.isArray(header) ? header[0] : header
    if (!value) return null
    if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
    const at = Date.parse(value)
    return Number.isNaN(at) ? null : Math.max(0, at - this.now())
  }

  private wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at) return
    this.clearWake()
    const handle = this.timers.setTimeout(
      () => {
        this.wake = null
        this.pump()
      },
      Math.max(0, at - this.now()),
    )
    this.wake = { handle, at }
  }

  private clearWake(): void {
    if (!this.wake) return
    this.timers.clearTimeout(this.wake.handle)
    this.wake = null
  }

  private now(): number {
    return this.clock().getTime()
  }

  /** The token never leaves in an error message, a log line or an audit row. */
  private redact(text: string): string {
    return this.token ? text.split(this.token).join('[redacted]') : text
  }
}

/** The notifier is enabled but cannot work as configured. */
export class WpcomConfigError extends Error {
  readonly code = 'WPCOM_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'WpcomConfigError'
  }
}

/** The start of an error answer's body, for the audit row and the log (bounded: the body may be large). */
async function snippet(body: AsyncIterable<Buffer>, max = 300): Promise<string> {
  let text = ''
  try {
    for await (const chunk of body) {
      text += chunk.toString('utf8')
      if (text.length >= max) break
    }
  } catch {
    // A truncated answer still classifies by its status.
  }
  return text.length > max ? `${text.slice(0, max)}…` : text
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as { cause?: unknown }).cause
  const code = (error as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code
  const message = error.message || error.name
  return code && !message.includes(code) ? `${message} (${code})` : message
}
