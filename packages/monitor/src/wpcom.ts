/**
 * The WordPress.com notification path (apps/jetmon2/README.md, "WordPress.com notices"): a confirmed Down
 * and the recovery of a notified Down are POSTed to WPCOM_NOTIFY_URL, off the check path, from a
 * database outbox, with retries, a circuit breaker, a bounded backlog and the alert cooldown.
 *
 * The confirmation pipeline stores each notice in the transaction that confirms or closes the
 * incident (`enqueue` with its transaction); any running monitor sends it. A crash or a restart
 * loses nothing: claimed notices come back when their lease ends. Maintenance windows are not looked
 * at here: the pipeline never asks for a notice inside one.
 *
 * This file decides (claim, cooldown, retry, breaker, audit); wpcom-outbox.ts stores and
 * wpcom-http.ts sends.
 */
import { auditLog, type Db, type DbOrTx } from '@jetmon/db'
import { type Logger, noopLogger, systemTimers, type Timers } from '@jetmon/vocabulary'
import type { DownNotice } from './pipeline.js'
import { WpcomHttpSender, type WpcomSender, wpcomPayload } from './wpcom-http.js'
import {
  type ClaimedWpcomNotice,
  claimWpcomNotices,
  DEFAULT_WPCOM_LEASE_MS,
  enqueueWpcomNotice,
  finishWpcomNotice,
  hurryWpcomNotices,
  releaseWpcomNotices,
  trimWpcomOutbox,
  type WpcomOutcome,
  wpcomBacklog,
} from './wpcom-outbox.js'

export {
  rfc3339,
  WpcomConfigError,
  type WpcomPayload,
  wpcomPayload,
} from './wpcom-http.js'

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
  /** WPCOM_NOTIFY_ENABLE: when false, nothing is stored or sent; notices are only counted. */
  enabled: boolean
  db: Db
  /** This monitor (HOST_ID): the audit source is `monitor:<hostId>`. */
  hostId: string
  /**
   * Sends the notices (default: a {@link WpcomHttpSender} built from `url`, `authToken` and the
   * options below). The breaker, retries and the outbox work the same with any sender.
   */
  sender?: WpcomSender
  /** The User-Agent of each request, before the host id (default `jetmon2/<version of this package>`). */
  userAgent?: string
  clock?: () => Date
  timers?: Timers
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number
  logger?: Logger
  /** Per request, the answer's body included. Default 15 s. */
  timeoutMs?: number
  /** Notices waiting in the outbox (the whole fleet's); beyond it the oldest waiting ones are dropped. Default 10 000. */
  maxQueue?: number
  /** Requests in flight at once from this monitor (one per endpoint at a time, fleet-wide). Default 4. */
  concurrency?: number
  retry?: Partial<WpcomRetryPolicy>
  breaker?: Partial<WpcomBreakerPolicy>
  /** ALERT_COOLDOWN_MINUTES (≤ 0 disables); an endpoint's `alertCooldownMinutes` overrides it. Default 30. */
  cooldownMinutes?: number
  /** An undici dispatcher (Agent, proxy agent); default undici's global one. */
  dispatcher?: import('undici').Dispatcher
  /** How long a claim lasts; a monitor killed mid-send leaves its notices to others after it. Default 60 s. */
  leaseMs?: number
  /** How often the outbox is looked at when nothing wakes the sender (notices stored by other monitors). Default 1 s. */
  pollMs?: number
}

export type BreakerState = 'closed' | 'open' | 'half_open'

/** Counters since start, for /metrics and `jetmon2 status`. */
export interface WpcomStats {
  /** Notices waiting in the outbox or being sent, fleet-wide, as last read. */
  queued: number
  /** Requests this monitor has in flight. */
  inFlight: number
  /** Delivered (2xx). */
  sent: number
  /** Given up after transient failures (retries exhausted). */
  failed: number
  /** Refused by WordPress.com with a 4xx other than 408/429 (404/410: the site is unknown there). */
  permanent: number
  /** Not sent: a Down within the cooldown, or the recovery of a Down that was not sent. */
  suppressed: number
  /** Dropped, oldest first, from a backlog beyond `maxQueue`. */
  dropped: number
  /** Ignored because the path is disabled (WPCOM_NOTIFY_ENABLE=false). */
  disabled: number
  /** Failed attempts that were scheduled again. */
  retries: number
  breaker: BreakerState
  lastError: string | null
}

type AuditRow = typeof auditLog.$inferInsert

/** Shortest pause before looking at the outbox again when due notices could not be claimed. */
const MIN_PAUSE_MS = 250

/**
 * Sends the WordPress.com outbox. Each monitor runs one; they share the outbox through claims, so
 * a notice is sent by whichever monitor claims it, and an endpoint's notices go one at a time,
 * oldest first (a recovery never overtakes its Down).
 *
 * - 2xx: sent, audited `wpcom_sent`; for a Down, the incident is marked notified
 *   (`jetmon_events.down_notified_at`) and `jetmon_endpoint_state.last_alert_sent_at` is written.
 * - transport error, timeout, 5xx, 408, 429: retried with exponential backoff and jitter (Retry-After
 *   honoured), counted by the circuit breaker; after `maxAttempts`, abandoned and audited `wpcom_failed`.
 * - other 4xx (404/410: the site is unknown to WordPress.com): abandoned at once, audited
 *   `wpcom_failed`; the breaker neither counts nor forgets it.
 * - The breaker (this monitor's) opens after `failures` consecutive transient failures; while open
 *   this monitor sends nothing; after `openMs` one trial request decides, and a success makes every
 *   notice waiting out a backoff due at once.
 * - Cooldown: a Down within the cooldown of the endpoint's last sent Down is suppressed
 *   (`alert_suppressed`). A recovery goes only when its incident's Down notice went out; otherwise
 *   it is suppressed too.
 */
export class WpcomNotifier {
  private readonly sender: WpcomSender | null
  private readonly db: Db
  private readonly source: string
  private readonly clock: () => Date
  private readonly timers: Timers
  private readonly random: () => number
  private readonly logger: Logger
  private readonly maxQueue: number
  private readonly concurrency: number
  private readonly retry: WpcomRetryPolicy
  private readonly breakerPolicy: WpcomBreakerPolicy
  private readonly cooldownMinutes: number
  private readonly leaseMs: number
  private readonly pollMs: number

  private readonly inFlight = new Map<bigint, Promise<void>>()
  private readonly writes = new Set<Promise<unknown>>()
  private cycle: Promise<void> | null = null
  private again = false
  private lastClaimed = 0
  private idleWaiters: (() => void)[] = []
  private wake: { handle: unknown; at: number } | null = null
  private breaker: BreakerState = 'closed'
  private consecutiveFailures = 0
  private openUntil = 0
  private queued = 0
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
    this.clock = options.clock ?? (() => new Date())
    this.timers = options.timers ?? systemTimers
    this.sender = !options.enabled
      ? null
      : (options.sender ??
        new WpcomHttpSender({
          url: options.url,
          authToken: options.authToken,
          hostId: options.hostId,
          ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
          clock: this.clock,
          timers: this.timers,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        }))
    this.db = options.db
    this.source = `monitor:${options.hostId}`
    this.random = options.random ?? Math.random
    this.logger = options.logger ?? noopLogger
    this.maxQueue = Math.max(1, options.maxQueue ?? 10_000)
    this.concurrency = Math.max(1, options.concurrency ?? 4)
    this.retry = { baseMs: 2_000, maxMs: 5 * 60_000, maxAttempts: 8, ...options.retry }
    this.breakerPolicy = { failures: 5, openMs: 60_000, ...options.breaker }
    this.cooldownMinutes = options.cooldownMinutes ?? 30
    this.leaseMs = options.leaseMs ?? DEFAULT_WPCOM_LEASE_MS
    this.pollMs = options.pollMs ?? 1_000
  }

  /**
   * Stores a notice in the outbox, in `db` (the caller's transaction, so that the notice is stored
   * with the change that caused it, or not at all), and wakes the sender. An incident's second Down
   * or second recovery is ignored. Returns whether a notice was stored. Throws what the database throws.
   */
  async enqueue(notice: DownNotice, db: DbOrTx = this.db): Promise<boolean> {
    if (!this.sender) {
      this.counters.disabled++
      return false
    }
    const stored = await enqueueWpcomNotice(
      db,
      {
        eventId: notice.eventId,
        blogId: notice.endpoint.blogId,
        endpointId: notice.endpoint.endpointId,
        statusId: notice.statusId,
        payload: wpcomPayload(notice) as unknown as Record<string, unknown>,
        cooldownMinutes: notice.endpoint.alertCooldownMinutes,
      },
      this.clock(),
    )
    // In a caller's transaction the row is visible once it commits: the next poll finds it then.
    this.pump()
    return stored
  }

  /** Stores a notice in a transaction of its own, in the background. Never throws. */
  notify(notice: DownNotice): void {
    const write = this.enqueue(notice)
      .catch((error: unknown) =>
        this.logger.error(
          { err: error, endpointId: String(notice.endpoint.endpointId), statusId: notice.statusId },
          'could not store a WordPress.com notice: not sent',
        ),
      )
      .finally(() => this.writes.delete(write))
    this.writes.add(write)
  }

  /** Starts sending what the outbox holds (notices left by a previous run included). */
  start(): void {
    this.pump()
  }

  stats(): WpcomStats {
    return {
      queued: this.queued,
      inFlight: this.inFlight.size,
      ...this.counters,
      breaker: this.breaker,
      lastError: this.lastError,
    }
  }

  /**
   * Resolves once no claim or send is in progress, every write is done, and no look at the outbox
   * is overdue by the clock. Notices waiting for a retry or for the breaker stay in the outbox
   * (tests advance their clock, then settle).
   */
  async settle(): Promise<void> {
    for (;;) {
      if (this.cycle || this.inFlight.size || this.writes.size) {
        await Promise.allSettled([this.cycle, ...this.inFlight.values(), ...this.writes])
      } else if (this.wake && this.wake.at <= this.now() && !this.halted) {
        // Due by the clock, though its timer has not run yet (or ran before the clock got there).
        this.clearWake()
        this.pump()
      } else {
        return
      }
    }
  }

  /**
   * The drain: with `flush` (default), first sends what is due, for at most `timeoutMs` (default
   * 10 s); then aborts what is in flight and gives those notices back to the outbox. Nothing is
   * lost: the next monitor to look at the outbox sends the rest.
   */
  stop(options: { flush?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.flush ?? true, options.timeoutMs ?? 10_000)
    return this.stopping
  }

  private async drain(flush: boolean, timeoutMs: number): Promise<void> {
    if (flush && this.sender) {
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
    this.sender?.abortAll()
    await this.settle()
    this.resolveIdle()
    if (!this.sender) return
    try {
      const { unfinished } = await wpcomBacklog(this.db)
      if (unfinished > 0) {
        this.logger.info(
          { left: unfinished, breaker: this.breaker, lastError: this.lastError },
          `${unfinished} WordPress.com notice(s) wait in the outbox; a running monitor sends them`,
        )
      }
    } catch {
      // Only a report.
    }
  }

  // ── the sending loop ────────────────────────────────────────────────────────────────────────

  /** Runs a claim cycle now, or right after the one running. */
  private pump(): void {
    if (!this.sender || this.halted) return
    if (this.cycle) {
      this.again = true
      return
    }
    this.again = false
    const cycle: Promise<void> = this.claimCycle()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not read the WordPress.com outbox; will try again')
        this.wakeAt(this.now() + this.pollMs)
      })
      .finally(() => {
        this.cycle = null
        if (this.again) this.pump()
        else if (!this.inFlight.size && this.lastClaimed === 0) this.resolveIdle()
      })
    this.cycle = cycle
  }

  private async claimCycle(): Promise<void> {
    this.lastClaimed = 0
    const now = this.now()
    if (this.breaker === 'open' && now >= this.openUntil) this.setBreaker('half_open')
    // Open: nothing is sent. Half-open: one trial at a time decides whether WordPress.com is back.
    const slots =
      this.breaker === 'open'
        ? 0
        : this.breaker === 'half_open'
          ? this.inFlight.size
            ? 0
            : 1
          : this.concurrency - this.inFlight.size
    if (slots > 0) {
      const claimed = await claimWpcomNotices(this.db, { now: new Date(now), limit: slots, leaseMs: this.leaseMs })
      this.lastClaimed = claimed.length
      for (const notice of claimed) this.send(notice)
    }
    let backlog = await wpcomBacklog(this.db)
    if (backlog.unfinished > this.maxQueue) {
      await this.dropOldest()
      backlog = await wpcomBacklog(this.db)
    }
    this.queued = backlog.unfinished
    // Again at the poll interval (for what other monitors store), when the breaker half-opens, or
    // when the next notice falls due. One due already but not claimed is held by another monitor
    // or waits for a free slot: a short pause then.
    let next = now + this.pollMs
    if (this.breaker === 'open') next = Math.min(next, this.openUntil)
    else if (backlog.nextDueAt) {
      const due = backlog.nextDueAt.getTime()
      next = Math.min(next, due > now ? due : now + MIN_PAUSE_MS)
    }
    this.wakeAt(next)
  }

  private send(notice: ClaimedWpcomNotice): void {
    const run: Promise<void> = this.deliver(notice)
      .catch((error: unknown) => {
        // A bug or a database failure, not WordPress.com's answer: the claim's lease runs out and
        // the notice is tried again then.
        this.logger.error(
          { err: error, endpointId: String(notice.endpointId), statusId: notice.statusId },
          'WordPress.com delivery failed unexpectedly; the notice is retried when its claim expires',
        )
      })
      .finally(() => {
        this.inFlight.delete(notice.id)
        this.pump()
      })
    this.inFlight.set(notice.id, run)
  }

  private async deliver(notice: ClaimedWpcomNotice): Promise<void> {
    const sender = this.sender as WpcomSender
    if (notice.attempt === 0 && (await this.suppressed(notice))) return

    const attempt = await sender.post(JSON.stringify(notice.payload))
    const now = this.now()
    if (attempt.kind === 'aborted') {
      await releaseWpcomNotices(this.db, [notice], new Date(now))
      return
    }
    const attempts = notice.attempt + 1
    const endpointId = String(notice.endpointId)
    const base = {
      status_id: notice.statusId,
      endpoint_id: endpointId,
      event_id: String(notice.eventId),
      attempts,
    }

    if (attempt.kind === 'ok') {
      this.counters.sent++
      await this.breakerSuccess(now)
      const statusType = String(notice.payload.status_type ?? '')
      await this.finish(notice, { kind: 'sent', statusCode: attempt.status }, now, {
        eventType: 'wpcom_sent',
        detail: `status=${notice.statusId} type=${statusType} delivered (attempt ${attempts})`,
        metadata: { ...base, http_status: attempt.status, status_type: statusType },
      })
      this.logger.info({ endpointId, statusId: notice.statusId, attempts }, 'WordPress.com notified')
      return
    }

    if (attempt.kind === 'permanent') {
      this.counters.permanent++
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
      await this.finish(notice, { kind: 'abandoned', statusCode: attempt.status, response: attempt.answer }, now, {
        eventType: 'wpcom_failed',
        detail: `status=${notice.statusId} refused with HTTP ${attempt.status}, not retried: ${what}`,
        metadata: { ...base, http_status: attempt.status, reason: gone ? 'gone' : 'rejected', answer: attempt.answer },
      })
      return
    }

    this.lastError = attempt.error
    this.breakerFailure(now)
    if (attempts >= this.retry.maxAttempts) {
      this.counters.failed++
      this.logger.error(
        { endpointId, statusId: notice.statusId, attempts, error: attempt.error },
        `WordPress.com notice given up after ${attempts} attempts`,
      )
      await this.finish(notice, { kind: 'abandoned', statusCode: attempt.status, response: attempt.error }, now, {
        eventType: 'wpcom_failed',
        detail: `status=${notice.statusId} given up after ${attempts} attempts: ${attempt.error}`,
        metadata: { ...base, http_status: attempt.status, reason: 'retries_exhausted', error: attempt.error },
      })
      return
    }
    this.counters.retries++
    const delay = this.backoff(attempts, attempt.retryAfterMs)
    this.logger.warn(
      { endpointId, statusId: notice.statusId, attempts, error: attempt.error, retryInMs: delay },
      'WordPress.com notice failed; will retry',
    )
    const outcome: WpcomOutcome = {
      kind: 'retry',
      statusCode: attempt.status,
      response: attempt.error,
      nextAttemptAt: new Date(now + delay),
    }
    await this.finish(notice, outcome, now, null)
  }

  /** Cooldown and "nothing to recover from": decided once, before the first attempt. */
  private async suppressed(notice: ClaimedWpcomNotice): Promise<boolean> {
    const now = this.now()
    let detail: string
    let metadata: Record<string, unknown>
    if (notice.statusId === 2) {
      const minutes = notice.cooldownMinutes ?? this.cooldownMinutes
      const last = notice.lastAlertSentAt?.getTime() ?? null
      const since = last === null ? null : now - last
      if (minutes <= 0 || since === null || since >= minutes * 60_000) return false
      detail = `Down notice suppressed: the previous one was sent ${Math.floor(since / 60_000)} min ago (cooldown ${minutes} min)`
      metadata = { reason: 'cooldown', cooldown_minutes: minutes, last_sent_at: new Date(last as number).toISOString() }
    } else {
      if (notice.downNotifiedAt) return false
      const down = notice.downStatus ?? 'none'
      detail = `recovery notice not sent: its Down notice was ${down === 'suppressed' ? 'suppressed' : 'not delivered'}`
      metadata = { reason: 'down_not_sent', down }
    }
    this.counters.suppressed++
    this.logger.info({ endpointId: String(notice.endpointId), statusId: notice.statusId }, detail)
    await this.finish(notice, { kind: 'suppressed', response: detail }, now, {
      eventType: 'alert_suppressed',
      detail,
      metadata: {
        status_id: notice.statusId,
        endpoint_id: String(notice.endpointId),
        event_id: String(notice.eventId),
        ...metadata,
      },
    })
    return true
  }

  private async finish(
    notice: ClaimedWpcomNotice,
    outcome: WpcomOutcome,
    now: number,
    audit: Omit<AuditRow, 'source' | 'blogId' | 'eventId'> | null,
  ): Promise<void> {
    const row = audit ? { ...audit, blogId: notice.blogId, eventId: notice.eventId, source: this.source } : null
    const recorded = await finishWpcomNotice(this.db, notice, outcome, new Date(now), row)
    if (!recorded) {
      this.logger.warn(
        { endpointId: String(notice.endpointId), statusId: notice.statusId, outcome: outcome.kind },
        'a WordPress.com notice outcome was not recorded: its claim expired and it was claimed again (it may be sent twice)',
      )
    }
  }

  /** Bounds the backlog: the oldest waiting notices go, with one audit row per drop. */
  private async dropOldest(): Promise<void> {
    const dropped = await trimWpcomOutbox(this.db, this.maxQueue, new Date(this.now()))
    const first = dropped[0]
    if (!first) return
    this.counters.dropped += dropped.length
    this.logger.error(
      { maxQueue: this.maxQueue, dropped: dropped.length, breaker: this.breaker, lastError: this.lastError },
      `WordPress.com outbox is full (${this.maxQueue}): ${dropped.length} oldest notice(s) dropped`,
    )
    await this.db.insert(auditLog).values({
      blogId: first.blogId,
      eventId: first.eventId,
      eventType: 'wpcom_failed',
      source: this.source,
      detail: `notice outbox full (${this.maxQueue}): ${dropped.length} oldest notice(s) dropped, starting with this one`,
      metadata: {
        reason: 'queue_full',
        max_queue: this.maxQueue,
        dropped: dropped.length,
        status_id: first.statusId,
        endpoint_id: String(first.endpointId),
      },
    })
  }

  // ── the breaker ─────────────────────────────────────────────────────────────────────────────

  private async breakerSuccess(now: number): Promise<void> {
    this.consecutiveFailures = 0
    if (this.breaker === 'closed') return
    this.setBreaker('closed')
    // WordPress.com answers again: what waited out the outage goes now, not at its backoff.
    try {
      await hurryWpcomNotices(this.db, new Date(now))
    } catch (error) {
      this.logger.warn({ err: error }, 'could not make the waiting WordPress.com notices due')
    }
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
    const context = { breaker: state, queued: this.queued, lastError: this.lastError }
    if (state === 'open') {
      this.logger.warn(
        context,
        `WordPress.com notifications are failing: circuit open for ${this.breakerPolicy.openMs / 1000} s; ` +
          'notices wait in the outbox meanwhile (check WPCOM_NOTIFY_URL reachability)',
      )
    } else if (state === 'half_open') {
      this.logger.info(context, 'WordPress.com circuit half-open: one trial notice')
    } else {
      this.logger.info(context, 'WordPress.com circuit closed: delivering the outbox')
    }
  }

  // ── time ────────────────────────────────────────────────────────────────────────────────────

  private idle(): Promise<void> {
    if (!this.cycle && !this.inFlight.size && this.lastClaimed === 0 && !this.again) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  private backoff(attempts: number, retryAfterMs: number | null): number {
    const exponential = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempts - 1))
    // Equal jitter: half fixed, half random, so a fleet of monitors does not retry in step.
    const jittered = exponential / 2 + (this.random() * exponential) / 2
    return Math.round(Math.min(this.retry.maxMs, Math.max(jittered, retryAfterMs ?? 0)))
  }

  private wakeAt(at: number): void {
    if (this.halted) return
    if (this.wake && this.wake.at <= at) return
    this.clearWake()
    const handle = this.timers.setTimeout(
      () => {
        this.wake = null
        this.pump()
      },
      Math.max(0, at - this.now()),
    )
    // The poll alone does not keep the process alive.
    ;(handle as { unref?: () => void } | null)?.unref?.()
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
}
