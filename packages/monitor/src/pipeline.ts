import type { CheckRequest, CheckResult } from '@jetmon/checker'
import { isDowntime, statusType } from '@jetmon/checker'
import { auditLog, type Db, events, type Logger, noopLogger, rerunDeadlockVictim, type Tx } from '@jetmon/db'
import {
  closeEvent,
  type Event,
  type EventStoreContext,
  listOpenEvents,
  type Metadata,
  openEvent,
  promoteEvent,
} from '@jetmon/eventstore'
import type { DetectionProfile, RedirectPolicy, RequestMethod } from '@jetmon/vocabulary'
import { and, desc, eq, gt, isNotNull, isNull, max } from 'drizzle-orm'
import { TransitionFollower } from './transition-follower.js'

/** What the pipeline needs to know of an endpoint (loaded from the sites table and its config sidecar). */
export interface MonitoredEndpoint {
  endpointId: bigint
  blogId: bigint
  url: string
  intervalMs: number
  timeoutMs: number
  method: RequestMethod
  /** How much of the response the verdict uses (absent: `full`); sent to the verifliers with the check. */
  profile?: DetectionProfile
  redirectPolicy: RedirectPolicy
  maxRedirects: number
  keyword: string | null
  forbiddenKeywords: readonly string[] | null
  keywordCaseSensitive: boolean
  customHeaders: Readonly<Record<string, string>> | null
  latencyThresholdMs: number | null
  tlsExpiryWarnDays: number
  alertCooldownMinutes: number | null
  /** The site belongs to a gateway tenant: its checks may only reach public addresses. */
  tenantOwned?: boolean
}

/** A veriflier's answer about one endpoint. */
export interface Vote {
  veriflier: string
  region: string
  vote: 'down' | 'up' | 'error'
  httpStatus: number | null
  errorCode: number | null
  error?: string | null
  rttMs: number | null
  /** How long the check took on the veriflier; null or absent without a result. */
  checkMs?: number | null
  detail?: string | null
}

/** What a confirmation round decided: the verifliers' votes against the quorum (see `decide` of the veriflier client). */
export type Decision = 'confirmed' | 'false_alarm' | 'inconclusive'

/** A notice for the WordPress.com notification path (status 2 = Down, 1 = recovered). */
export interface DownNotice {
  endpoint: MonitoredEndpoint
  /** The incident: at most one Down and one recovery notice go out per incident. */
  eventId: bigint
  statusId: 1 | 2
  statusType: string
  lastCheck: Date
  lastStatusChange: Date
  checks: { type: 1 | 2; host: string; status: 0 | 1; rtt: number | null; code: number | null }[]
}

export interface PipelineSettings {
  hostId: string
  /** Consecutive local failures (the first included) before asking the verifliers. */
  numOfChecks: number
  retryIntervalMs: number
  /**
   * Delay of the first local re-check after the failure that opened Seems Down (absent or 0: the
   * retry interval; never more than it). Not used inside the flap window, where re-checks keep the
   * retry interval.
   */
  quickRecheckMs?: number
  /**
   * Consecutive hard failures (see `isHardFailure`) that are enough to ask the verifliers before
   * `numOfChecks` local failures (absent or 0: off). Down still needs the verifliers' quorum; with
   * no verifliers configured, Down still needs `numOfChecks` local failures.
   */
  hardFailureChecks?: number
  /**
   * After a false alarm, the flap guard needs `numOfChecks` × 2 consecutive failures before a new
   * incident opens, × 4 after two false alarms with no passing check between (absent: off, always
   * `numOfChecks`). A site the verifliers keep seeing up is asked about less and less often.
   */
  falseAlarmBackoff?: boolean
  failedCheckIntervalMs: number
  flapWindowMs: number
  /** Configured verifliers; none ⇒ Down after numOfChecks local failures. */
  veriflierCount: number
  quorum: number
  projection: boolean
}

export interface PipelineDeps {
  db: Db
  check: (request: CheckRequest) => Promise<CheckResult>
  /** Asks every veriflier to run the check; never throws for a veriflier's failure. */
  askVerifliers?: (endpoint: MonitoredEndpoint, request: CheckRequest) => Promise<Vote[]>
  decide: (votes: Vote[], quorum: number) => Decision
  /** Every check outcome, for the history writer. */
  record?: (endpoint: MonitoredEndpoint, result: CheckResult, vantage: string) => void
  /**
   * The votes of a confirmation round that carry a check result (a veriflier that gave none, such as
   * an unreachable one, checked nothing), for the history writer with each veriflier's id as vantage.
   * `checkedAt` is when the round started.
   */
  recordVotes?: (endpoint: MonitoredEndpoint, votes: readonly Vote[], checkedAt: Date) => void
  /**
   * Queues a WordPress.com notice in the transaction that confirmed or closed the incident, so that
   * the change and its notice are stored together or not at all. Every close of a Down asks for a
   * recovery notice; the notifier sends it only once the Down notice went out.
   */
  notify?: (notice: DownNotice, tx: Tx) => unknown
  /** Whether a maintenance window covers the endpoint now. */
  inMaintenance?: (endpoint: MonitoredEndpoint, at: Date) => boolean
  clock?: () => Date
  logger?: Logger
  settings: PipelineSettings
  /**
   * How stale the pipeline's view of other writers' event changes may be (default 1000 ms): a check
   * that can act on an open event first reads the transitions written since, when this much time passed.
   */
  followEveryMs?: number
}

/** The pipeline's memory of one endpoint. Rebuilt from the event store after a restart. */
interface EndpointState {
  loaded: boolean
  /** Someone else changed one of its events: reload them from the event store before the next decision. */
  stale: boolean
  /** Open events by check type. */
  open: Map<string, Event>
  failures: number
  /** Consecutive hard failures (the latest checks, all of a hard class). */
  hardFailures: number
  /** False alarms since the last passing check. */
  falseAlarms: number
  /** Successful-but-slow and fast streaks for the latency advisory. */
  slow: number
  fast: number
  lastClosedAt: number | null
  confirming: boolean
  /** When the next veriflier round may start (backoff after an inconclusive one). */
  nextAskAt: number
  askBackoffMs: number
  confirmationUnavailable: boolean
  /** Checks using this object now: it goes back to its compact form only once none is. */
  users: number
}

/**
 * The compact memory of an endpoint whose state is the plain one — loaded, nothing open, no
 * streak, no round, no false alarm, no recovery remembered (or only the time of its last recovery)
 * — which is nearly every endpoint: its passing-check count for the latency advisory, with the
 * time of the last http recovery when there was one. A few bytes in one Map instead of an object
 * and a Map of its own per endpoint.
 */
type QuietState = number | { fast: number; lastClosedAt: number }

/**
 * Whether `error` (or a cause it wraps, as drizzle does) came from the database or its driver: a
 * failed statement, a server error (SQLSTATE), a broken or closed connection.
 */
function isDatabaseFailure(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const e = current as { name?: unknown; fatal?: unknown; sqlState?: unknown; errno?: unknown }
    if (e.name === 'DrizzleQueryError' || e.fatal === true || typeof e.sqlState === 'string') return true
    if (typeof e.errno === 'number') return true
  }
  return false
}

const ADVISORY_TYPES = ['tls_expiry', 'tls_deprecated', 'latency'] as const

/**
 * Whether a failed check is hard evidence of an outage: an answer that a second look a few seconds
 * later repeats when the site is really down — a refused connection, a name that does not exist,
 * an HTTP error status, a failed TLS handshake or certificate, a redirect loop. A timeout, a reset,
 * a partial or empty body, a missing keyword or a resolver that did not answer may be a passing
 * hiccup on the path and get the slower, local rhythm.
 */
export function isHardFailure(result: CheckResult): boolean {
  switch (result.error) {
    case 'http_status':
    case 'tls':
    case 'tls_expired':
    case 'redirect':
      return true
    case 'dns':
      return result.dns?.failureClass === 'nxdomain'
    case 'connect':
      return result.detail?.startsWith('connection refused') === true
    default:
      return false
  }
}

/** The evidence recorded on an event: what the failing check saw. */
function evidence(result: CheckResult): Metadata {
  return {
    check: {
      url: result.url,
      final_url: result.finalUrl,
      method: result.method,
      started_at: result.startedAt,
      http_code: result.httpStatus,
      error_code: result.errorCode,
      error: result.error,
      detail: result.detail,
      timeout_phase: result.timeoutPhase ?? null,
      timings: result.timings,
      redirects: result.redirects,
      ...(result.tls ? { tls: result.tls } : {}),
      ...(result.dns ? { dns: result.dns } : {}),
      ...(result.body ? { body: result.body } : {}),
      ...(result.keyword ? { keyword: result.keyword } : {}),
      remote_address: result.remoteAddress ?? null,
    },
  }
}

export function checkRequestOf(endpoint: MonitoredEndpoint): CheckRequest {
  return {
    url: endpoint.url,
    method: endpoint.method,
    ...(endpoint.profile ? { profile: endpoint.profile } : {}),
    timeoutMs: endpoint.timeoutMs,
    redirectPolicy: endpoint.redirectPolicy,
    maxRedirects: endpoint.maxRedirects,
    keyword: endpoint.keyword,
    forbiddenKeywords: endpoint.forbiddenKeywords,
    keywordCaseSensitive: endpoint.keywordCaseSensitive,
    ...(endpoint.customHeaders ? { headers: endpoint.customHeaders } : {}),
    latencyThresholdMs: endpoint.latencyThresholdMs,
    tlsExpiryWarnDays: endpoint.tlsExpiryWarnDays,
    ...(endpoint.tenantOwned === true ? { refusePrivateTargets: true } : {}),
  }
}

/**
 * From one check result to incidents: Seems Down on the first failure, local re-checks, a
 * veriflier round off the scheduling path, Down / false alarm / inconclusive by quorum, recovery,
 * the flap guard, maintenance, and the advisory lifecycles (tls_expiry, tls_deprecated, latency).
 *
 * `runCheck` is what the scheduler calls; it resolves with the delay until the endpoint's next
 * check (undefined = its normal interval).
 */
export class ConfirmationPipeline {
  /** Endpoints in use or with something to remember beyond a quiet state; these win over `quiet`. */
  private readonly states = new Map<bigint, EndpointState>()
  /**
   * Every other endpoint the pipeline has loaded, in its compact form. An entry may be left behind
   * while the endpoint is in `states` (overwritten in place when it comes back: no churn in a Map
   * of the whole fleet).
   */
  private readonly quiet = new Map<bigint, QuietState>()
  /**
   * A snapshot taken at start; each entry is used once. `endpoints` null: it covers every endpoint
   * first checked after it. `invalid`: endpoints another writer changed (or that were forgotten)
   * since, which load from the event store instead.
   */
  private preloaded: {
    endpoints: Set<bigint> | null
    invalid: Set<bigint>
    open: Map<bigint, Event[]>
    closedAt: Map<bigint, number>
  } | null = null
  private readonly rounds = new Set<Promise<void>>()
  private readonly clock: () => Date
  private readonly logger: Logger
  private readonly ctx: EventStoreContext
  private readonly follower: TransitionFollower
  readonly stats = {
    checks: 0,
    failures: 0,
    opened: 0,
    confirmed: 0,
    falseAlarms: 0,
    inconclusive: 0,
    recovered: 0,
    swallowed: 0,
    /** Failed checks of endpoints already confirmed Down: counted, never confirmed again. */
    stillDown: 0,
  }

  constructor(private readonly deps: PipelineDeps) {
    this.clock = deps.clock ?? (() => new Date())
    this.logger = deps.logger ?? noopLogger
    this.ctx = {
      db: deps.db,
      source: `monitor:${deps.settings.hostId}`,
      clock: this.clock,
      logger: this.logger,
      projection: deps.settings.projection,
    }
    // The memory of an endpoint is a cache of the event store; writes by anyone else invalidate it.
    this.follower = new TransitionFollower({
      db: deps.db,
      everyMs: deps.followEveryMs ?? 1_000,
      logger: this.logger,
      onTransition: (transition) => {
        if (transition.source === this.ctx.source || transition.endpointId === null) return
        const state = this.states.get(transition.endpointId) ?? this.unpack(transition.endpointId)
        if (state) state.stale = true
        else this.preloaded?.invalid.add(transition.endpointId)
      },
    })
  }

  /** Confirmation rounds still running (the drain waits for them). */
  async settle(): Promise<void> {
    while (this.rounds.size) await Promise.allSettled([...this.rounds])
  }

  /**
   * Loads what the pipeline must remember across a restart for the whole fleet in two queries —
   * the open events and the http closes inside the flap window — so that no check has to ask the
   * event store about its endpoint. Other endpoints load lazily.
   */
  async preload(endpointIds?: ReadonlySet<bigint>): Promise<void> {
    const { db, settings } = this.deps
    const since = new Date(this.clock().getTime() - settings.flapWindowMs)
    // Before the snapshot: what is written while it is read is followed, not lost.
    await this.follower.start()
    const [open, closes] = await Promise.all([
      db.select().from(events).where(isNull(events.endedAt)),
      db
        .select({ endpointId: events.endpointId, endedAt: max(events.endedAt) })
        .from(events)
        .where(and(eq(events.checkType, 'http'), gt(events.endedAt, since)))
        .groupBy(events.endpointId),
    ])
    this.preloaded = {
      endpoints: endpointIds ? new Set(endpointIds) : null,
      invalid: new Set(),
      open: new Map(),
      closedAt: new Map(),
    }
    for (const row of open) {
      if (row.endpointId === null) continue
      const list = this.preloaded.open.get(row.endpointId) ?? []
      const { dedupKey: _dedupKey, ...event } = row
      list.push(event as unknown as Event)
      this.preloaded.open.set(row.endpointId, list)
    }
    for (const row of closes) {
      if (row.endpointId !== null && row.endedAt)
        this.preloaded.closedAt.set(row.endpointId, new Date(row.endedAt).getTime())
    }
  }

  /** Applies reloaded settings (the host id stays). */
  updateSettings(settings: PipelineSettings): void {
    Object.assign(this.deps.settings, { ...settings, hostId: this.deps.settings.hostId })
    this.ctx.projection = settings.projection
  }

  /** Forgets an endpoint that left this host (unassigned bucket, deleted, paused). */
  forget(endpointId: bigint): void {
    const held = this.states.delete(endpointId)
    if (this.quiet.delete(endpointId) || held) this.preloaded?.invalid.add(endpointId)
  }

  async runCheck(endpoint: MonitoredEndpoint): Promise<number | undefined> {
    try {
      return (await this.check(endpoint)).delayMs
    } catch (error) {
      // A database that failed mid-write (a lost connection, a lock wait timeout) is no bug of the
      // pipeline: what was not committed stays in memory as it was (an open incident stays open)
      // and the endpoint is checked again at the retry interval instead of a whole interval later.
      if (!isDatabaseFailure(error)) throw error
      const retryMs = this.deps.settings.retryIntervalMs
      this.logger.warn(
        { err: error, endpointId: String(endpoint.endpointId) },
        `could not record this check's outcome in the event store (the database failed); the endpoint's events stay as they were and it is checked again in ${Math.round(retryMs / 1000)} s`,
      )
      return retryMs
    }
  }

  /**
   * One check through the whole pipeline, as the scheduler runs it, with what it found and did:
   * the result, and whether it closed an open http event or has an http event open afterwards.
   * `closeReason` replaces the recovery reason (the API's trigger-now closes with `probe_cleared`).
   */
  async check(
    endpoint: MonitoredEndpoint,
    options: { closeReason?: 'probe_cleared' } = {},
  ): Promise<{ delayMs: number | undefined; result: CheckResult; closedHttp: boolean; openHttp: boolean }> {
    const request = checkRequestOf(endpoint)
    const result = await this.deps.check(request)
    this.stats.checks++
    this.deps.record?.(endpoint, result, 'local')
    // Changes by other writers (an operator's close, a pause, trigger-now on another host) reach
    // the cached events first. Only checks that can act on an event wait for that read: a healthy
    // endpoint with nothing open never waits on the database.
    const following = this.follower.poll()
    const cached = this.states.get(endpoint.endpointId)
    // A quiet endpoint is loaded, not stale and has nothing open.
    if (isDowntime(result) || (cached ? cached.stale || cached.open.size > 0 : !this.quiet.has(endpoint.endpointId)))
      await following
    const state = this.acquire(endpoint.endpointId)
    try {
      return await this.checkWith(endpoint, state, result, request, options.closeReason)
    } finally {
      this.release(endpoint.endpointId, state)
    }
  }

  private async checkWith(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    result: CheckResult,
    request: CheckRequest,
    closeReason: 'probe_cleared' | undefined,
  ): Promise<{ delayMs: number | undefined; result: CheckResult; closedHttp: boolean; openHttp: boolean }> {
    await this.load(endpoint, state)
    const now = this.clock()
    const wasOpen = state.open.has('http')
    const outcome = (delayMs: number | undefined) => ({
      delayMs,
      result,
      closedHttp: wasOpen && !state.open.has('http'),
      openHttp: state.open.has('http'),
    })

    if (this.deps.inMaintenance?.(endpoint, now)) {
      await this.swallow(endpoint, state)
      return outcome(undefined)
    }
    // Our own trouble (no sockets, resolver down) says nothing about the site: Unknown, never an incident.
    if (result.error === 'monitor_error') return outcome(undefined)

    await this.advisories(endpoint, state, result)
    const delayMs = isDowntime(result)
      ? await this.failed(endpoint, state, result, request)
      : await this.passed(endpoint, state, result, closeReason)
    return outcome(delayMs)
  }

  // ── the http lifecycle ──────────────────────────────────────────────────────────────────────

  private async failed(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    result: CheckResult,
    request: CheckRequest,
  ): Promise<number | undefined> {
    const { settings } = this.deps
    this.stats.failures++
    state.failures++
    state.hardFailures = isHardFailure(result) ? state.hardFailures + 1 : 0
    const now = this.clock().getTime()
    let event = state.open.get('http')

    if (!event) {
      // Flap guard: right after a recovery, one failure is not enough to reopen.
      const flapping = state.lastClosedAt !== null && now - state.lastClosedAt < settings.flapWindowMs
      const backoff = settings.falseAlarmBackoff ? 2 ** Math.min(state.falseAlarms, 2) : 1
      if (flapping && state.failures < settings.numOfChecks * backoff) return settings.retryIntervalMs
      const startedAt = new Date(Date.parse(result.startedAt))
      const opened = await openEvent({
        ctx: this.ctx,
        input: {
          blogId: endpoint.blogId,
          endpointId: endpoint.endpointId,
          checkType: 'http',
          state: 'Seems Down',
          startedAt,
          eventMetadata: evidence(result),
          transitionMetadata: { error: result.error, detail: result.detail, flap_guard: flapping },
        },
      })
      event = opened.event
      state.open.set('http', event)
      state.nextAskAt = 0
      state.askBackoffMs = settings.retryIntervalMs
      if (opened.opened) {
        this.stats.opened++
        this.logger.info({ endpointId: String(endpoint.endpointId), error: result.error }, 'seems down')
      }
    }

    // Already confirmed: no new round, no new notice; the endpoint is checked at the failed-check pace.
    if (event.state === 'Down') {
      this.stats.stillDown++
      return Math.min(settings.failedCheckIntervalMs, endpoint.intervalMs)
    }

    const verifliers = settings.veriflierCount > 0 && this.deps.askVerifliers !== undefined
    if (!verifliers && state.failures >= settings.numOfChecks) {
      await this.confirmDown(endpoint, state, result, [], 'local_retries')
      if (!state.open.has('http')) return settings.retryIntervalMs
      return Math.min(settings.failedCheckIntervalMs, endpoint.intervalMs)
    }
    // Enough local evidence: NUM_OF_CHECKS failures, or fewer when they are all hard. The round runs
    // beside the local re-checks, which go on at their own pace; only a quorum of the verifliers
    // makes it Down.
    const hard = (settings.hardFailureChecks ?? 0) > 0 && state.hardFailures >= (settings.hardFailureChecks ?? 0)
    if (verifliers && (state.failures >= settings.numOfChecks || hard)) {
      if (!state.confirming && now >= state.nextAskAt) this.startRound(endpoint, state, result, request)
    }
    // The failure that opened the incident gets a quick second look (never later than a retry).
    if (state.failures === 1 && settings.quickRecheckMs)
      return Math.min(settings.quickRecheckMs, settings.retryIntervalMs)
    return settings.retryIntervalMs
  }

  private async passed(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    result: CheckResult,
    closeReason?: 'probe_cleared',
  ): Promise<undefined> {
    state.failures = 0
    state.hardFailures = 0
    state.falseAlarms = 0
    const event = state.open.get('http')
    if (!event) return undefined
    const wasDown = event.state === 'Down'
    // A Down's recovery notice is queued with the close: if another host closed it first, neither happens here.
    const recovery =
      wasDown && this.deps.notify
        ? (tx: Tx) => this.notice(tx, endpoint, 1, result, event.startedAt, [], event.id)
        : undefined
    await this.closeOpen(
      state,
      'http',
      closeReason ?? (wasDown ? 'verifier_cleared' : 'probe_cleared'),
      { recovered_by: { http_code: result.httpStatus, total_ms: result.timings.totalMs } },
      undefined,
      recovery,
    )
    this.stats.recovered++
    state.lastClosedAt = this.clock().getTime()
    state.confirmationUnavailable = false
    this.logger.info({ endpointId: String(endpoint.endpointId), wasDown }, 'recovered')
    return undefined
  }

  /** A veriflier round, off the scheduling path: the scheduler never waits for it. */
  private startRound(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    local: CheckResult,
    request: CheckRequest,
  ): void {
    state.confirming = true
    const round = (async () => {
      const askedAt = this.clock()
      const votes = await (this.deps.askVerifliers as NonNullable<PipelineDeps['askVerifliers']>)(endpoint, request)
      const checked = votes.filter((v) => v.errorCode !== null)
      if (checked.length > 0) this.deps.recordVotes?.(endpoint, checked, askedAt)
      const decision = this.deps.decide(votes, this.deps.settings.quorum)
      await this.applyDecision(endpoint, state, local, votes, decision)
    })()
      .catch((error: unknown) =>
        this.logger.error({ err: error, endpointId: String(endpoint.endpointId) }, 'confirmation round failed'),
      )
      .finally(() => {
        state.confirming = false
        this.rounds.delete(round)
      })
    this.rounds.add(round)
  }

  private async applyDecision(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    local: CheckResult,
    votes: Vote[],
    decision: Decision,
  ): Promise<void> {
    const event = state.open.get('http')
    // The site may have recovered (or been closed by an operator) while the round ran.
    if (event?.state !== 'Seems Down') return
    const evidenceVotes = votes.map((v) => ({
      veriflier: v.veriflier,
      region: v.region,
      success: v.vote === 'up',
      vote: v.vote,
      http_code: v.httpStatus,
      error_code: v.errorCode,
      rtt_ms: v.rttMs,
    }))
    const quorum = this.deps.settings.quorum
    if (decision === 'confirmed') {
      await this.confirmDown(endpoint, state, local, votes, 'verifliers')
      return
    }
    if (decision === 'false_alarm') {
      this.stats.falseAlarms++
      await this.closeOpen(
        state,
        'http',
        'false_alarm',
        { votes: evidenceVotes, quorum },
        { votes: evidenceVotes, quorum },
      )
      state.lastClosedAt = this.clock().getTime()
      state.failures = 0
      state.hardFailures = 0
      state.falseAlarms++
      return
    }
    // Inconclusive: never Down, never a false alarm. Stay Seems Down and ask again later.
    this.stats.inconclusive++
    state.confirmationUnavailable = true
    state.nextAskAt = this.clock().getTime() + state.askBackoffMs
    state.askBackoffMs = Math.min(state.askBackoffMs * 2, 5 * 60_000)
    await this.deps.db.insert(auditLog).values({
      blogId: endpoint.blogId,
      eventId: event.id,
      eventType: 'veriflier_request',
      source: this.ctx.source,
      detail: `confirmation unavailable: fewer than ${quorum} usable veriflier answers`,
      metadata: { outcome: 'inconclusive', confirmation: 'unavailable', votes: evidenceVotes, quorum },
    })
  }

  private async confirmDown(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    local: CheckResult,
    votes: Vote[],
    by: 'verifliers' | 'local_retries',
  ): Promise<void> {
    const event = state.open.get('http')
    if (!event) return
    const evidenceVotes = votes.map((v) => ({
      veriflier: v.veriflier,
      region: v.region,
      success: v.vote === 'up',
      http_code: v.httpStatus,
      error_code: v.errorCode,
      rtt_ms: v.rttMs,
    }))
    const confirmation = { confirmed_by: by, votes: evidenceVotes, quorum: this.deps.settings.quorum }
    // The Down notice is queued in the transaction that confirms the Down: a crash loses neither.
    const promoted = await this.transaction(this.deps.notify !== undefined, async (ctx) => {
      const result = await promoteEvent({
        ctx,
        input: {
          eventId: event.id,
          state: 'Down',
          reason: by === 'verifliers' ? 'verifier_confirmed' : 'state_change',
          transitionMetadata: confirmation,
          eventMetadata: { ...evidence(local), confirmation },
        },
      })
      if (result.changed) await this.notice(ctx.db as Tx, endpoint, 2, local, result.event.updatedAt, votes, event.id)
      return result
    }).catch((error: unknown) => {
      // Closed behind our back: the next check reloads the endpoint's events and opens a new incident.
      if (!this.goneFromStore(state, error)) throw error
      if (state.open.get('http')?.id === event.id) state.open.delete('http')
      return null
    })
    if (!promoted) return
    state.open.set('http', promoted.event)
    state.confirmationUnavailable = false
    if (!promoted.changed) return
    this.stats.confirmed++
    this.logger.warn({ endpointId: String(endpoint.endpointId), by }, 'down')
  }

  /** Runs `fn` with the store context, inside a transaction of its own when `own` is set. */
  private transaction<T>(own: boolean, fn: (ctx: EventStoreContext) => Promise<T>): Promise<T> {
    if (!own) return fn(this.ctx)
    // A deadlock victim rolled back all of it, the notice too: run it again, as the event store does.
    return rerunDeadlockVictim(() => this.deps.db.transaction((tx) => fn({ ...this.ctx, db: tx })))
  }

  private async notice(
    tx: Tx,
    endpoint: MonitoredEndpoint,
    statusId: 1 | 2,
    local: CheckResult,
    changedAt: Date,
    votes: Vote[],
    eventId: bigint,
  ): Promise<void> {
    if (!this.deps.notify) return
    await this.deps.notify(
      {
        endpoint,
        eventId,
        statusId,
        statusType: statusType(local) ?? 'intermittent',
        lastCheck: new Date(Date.parse(local.startedAt)),
        lastStatusChange: changedAt,
        checks: [
          {
            type: 1,
            host: this.deps.settings.hostId,
            status: isDowntime(local) ? 0 : 1,
            rtt: local.timings.totalMs,
            code: local.httpStatus,
          },
          ...votes.map((v) => ({
            type: 2 as const,
            host: v.veriflier,
            status: (v.vote === 'up' ? 1 : 0) as 0 | 1,
            rtt: v.rttMs,
            code: v.httpStatus,
          })),
        ],
      },
      tx,
    )
  }

  /** A maintenance window began covering the endpoint: failures open nothing, an open http event closes. */
  private async swallow(endpoint: MonitoredEndpoint, state: EndpointState): Promise<void> {
    state.failures = 0
    state.hardFailures = 0
    if (!state.open.get('http')) return
    await this.closeOpen(state, 'http', 'maintenance_swallowed', {})
    this.stats.swallowed++
    await this.deps.db.insert(auditLog).values({
      blogId: endpoint.blogId,
      eventType: 'maintenance_suppressed',
      source: this.ctx.source,
      detail: 'a maintenance window began; the open http event was closed',
      metadata: { endpoint_id: String(endpoint.endpointId) },
    })
  }

  // ── advisories: never in the confirmation pipeline, never in the legacy projection ─────────

  private async advisories(endpoint: MonitoredEndpoint, state: EndpointState, result: CheckResult): Promise<void> {
    // Advisories belong to the full profile: under the others an endpoint opens none, and one left
    // open from before its profile changed is closed.
    if ((endpoint.profile ?? 'full') !== 'full') {
      for (const checkType of ADVISORY_TYPES) {
        if (state.open.has(checkType))
          await this.closeOpen(state, checkType, 'probe_cleared', { profile: endpoint.profile })
      }
      state.slow = 0
      state.fast = 0
      return
    }
    const tls = result.tls
    if (tls && !tls.failure && tls.daysUntilExpiry !== null) {
      const days = tls.daysUntilExpiry
      const severity = days <= 7 ? 2 : days <= endpoint.tlsExpiryWarnDays ? 1 : 0
      const metadata = { valid_to: tls.validTo, days_until_expiry: days, subject: tls.subject, issuer: tls.issuer }
      await this.advisory(endpoint, state, 'tls_expiry', severity, metadata)
    }
    if (tls?.protocol) {
      const deprecated = tls.protocol === 'TLSv1' || tls.protocol === 'TLSv1.1'
      await this.advisory(endpoint, state, 'tls_deprecated', deprecated ? 1 : 0, {
        tls_version: tls.protocol,
        cipher: tls.cipher,
      })
    }
    if (endpoint.latencyThresholdMs && !isDowntime(result)) {
      const slow = result.timings.totalMs > endpoint.latencyThresholdMs
      state.slow = slow ? state.slow + 1 : 0
      state.fast = slow ? 0 : state.fast + 1
      const open = state.open.has('latency')
      const n = this.deps.settings.numOfChecks
      if (!open && state.slow >= n) {
        await this.advisory(endpoint, state, 'latency', 2, {
          threshold_ms: endpoint.latencyThresholdMs,
          total_ms: result.timings.totalMs,
          consecutive: state.slow,
        })
      } else if (open && state.fast >= n) {
        await this.advisory(endpoint, state, 'latency', 0, { total_ms: result.timings.totalMs })
      }
    }
  }

  /** Opens, escalates, de-escalates or closes one advisory so that it matches `severity` (0 = closed). */
  private async advisory(
    endpoint: MonitoredEndpoint,
    state: EndpointState,
    checkType: 'tls_expiry' | 'tls_deprecated' | 'latency',
    severity: 0 | 1 | 2,
    metadata: Metadata,
  ): Promise<void> {
    const open = state.open.get(checkType)
    if (severity === 0) {
      if (open) await this.closeOpen(state, checkType, 'probe_cleared', metadata)
      return
    }
    const eventState = severity === 2 ? 'Degraded' : 'Warning'
    if (!open) {
      const opened = await openEvent({
        ctx: this.ctx,
        input: {
          blogId: endpoint.blogId,
          endpointId: endpoint.endpointId,
          checkType,
          state: eventState,
          severity,
          eventMetadata: metadata,
          transitionMetadata: metadata,
        },
      })
      state.open.set(checkType, opened.event)
      return
    }
    if (open.severity !== severity) {
      // One transition: the severity moves and the state follows it (Warning ⇄ Degraded).
      const promoted = await promoteEvent({
        ctx: this.ctx,
        input: { eventId: open.id, state: eventState, severity, eventMetadata: metadata, transitionMetadata: metadata },
      }).catch((error: unknown) => {
        if (!this.goneFromStore(state, error)) throw error
        return null
      })
      if (promoted) state.open.set(checkType, promoted.event)
      else if (state.open.get(checkType)?.id === open.id) state.open.delete(checkType)
    }
  }

  private async closeOpen(
    state: EndpointState,
    checkType: string,
    reason: 'verifier_cleared' | 'probe_cleared' | 'false_alarm' | 'maintenance_swallowed',
    transitionMetadata: Metadata,
    eventMetadata?: Metadata,
    /** More to write in the closing transaction (a recovery notice); not run when the close fails. */
    alsoInTransaction?: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    const open = state.open.get(checkType)
    if (!open) return
    try {
      await this.transaction(alsoInTransaction !== undefined, async (ctx) => {
        await closeEvent({
          ctx,
          input: { eventId: open.id, reason, transitionMetadata, ...(eventMetadata ? { eventMetadata } : {}) },
        })
        await alsoInTransaction?.(ctx.db as Tx)
      })
    } catch (error) {
      // Closed meanwhile by someone else (an operator, another host during a handover): nothing to do.
      // Any other failure (a lost connection) keeps the event in memory, so the next check closes it.
      if (!this.goneFromStore(state, error)) throw error
    }
    // Only once the close committed (or someone else's did) does the memory let go of the event.
    if (state.open.get(checkType)?.id === open.id) state.open.delete(checkType)
  }

  /**
   * Whether a write failed because the cached event is no longer open in the store (closed or
   * removed by another writer). Then the endpoint reloads its events before the next decision.
   */
  private goneFromStore(state: EndpointState, error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code
    if (code !== 'EVENT_CLOSED' && code !== 'EVENT_NOT_FOUND') return false
    state.stale = true
    return true
  }

  private freshState(): EndpointState {
    return {
      loaded: false,
      stale: false,
      open: new Map(),
      failures: 0,
      hardFailures: 0,
      falseAlarms: 0,
      slow: 0,
      fast: 0,
      lastClosedAt: null,
      confirming: false,
      nextAskAt: 0,
      askBackoffMs: this.deps.settings.retryIntervalMs,
      confirmationUnavailable: false,
      users: 0,
    }
  }

  /** The full state of a quiet endpoint, back in `states` (undefined: the endpoint is not quiet). */
  private unpack(endpointId: bigint): EndpointState | undefined {
    const quiet = this.quiet.get(endpointId)
    if (quiet === undefined) return undefined
    const state = this.freshState()
    state.loaded = true
    if (typeof quiet === 'number') state.fast = quiet
    else {
      state.fast = quiet.fast
      state.lastClosedAt = quiet.lastClosedAt
    }
    this.states.set(endpointId, state)
    return state
  }

  /** The endpoint's state for one check (created, or unpacked from its quiet form), marked in use. */
  private acquire(endpointId: bigint): EndpointState {
    let state = this.states.get(endpointId) ?? this.unpack(endpointId)
    if (!state) {
      state = this.freshState()
      this.states.set(endpointId, state)
    }
    state.users++
    return state
  }

  /** A check is done with the state: when nothing else uses it and it is quiet, it goes back to its compact form. */
  private release(endpointId: bigint, state: EndpointState): void {
    if (--state.users > 0 || this.states.get(endpointId) !== state) return
    if (
      !state.loaded ||
      state.stale ||
      state.confirming ||
      state.open.size > 0 ||
      state.failures !== 0 ||
      state.hardFailures !== 0 ||
      state.falseAlarms !== 0 ||
      state.slow !== 0 ||
      // No inconclusive round since the last opening: the backoff is still the retry interval.
      state.nextAskAt !== 0 ||
      state.confirmationUnavailable
    ) {
      // Something to remember: the full state stays, and no stale compact copy beside it.
      this.quiet.delete(endpointId)
      return
    }
    this.quiet.set(
      endpointId,
      state.lastClosedAt === null ? state.fast : { fast: state.fast, lastClosedAt: state.lastClosedAt },
    )
    this.states.delete(endpointId)
  }

  /** The endpoint's memory, rebuilt from the event store on first touch (after a start or a handover). */
  private async load(endpoint: MonitoredEndpoint, state: EndpointState): Promise<void> {
    const preloaded = this.preloaded
    if (
      !state.loaded &&
      preloaded &&
      !preloaded.invalid.has(endpoint.endpointId) &&
      (preloaded.endpoints === null || preloaded.endpoints.delete(endpoint.endpointId))
    ) {
      for (const event of preloaded.open.get(endpoint.endpointId) ?? []) state.open.set(event.checkType, event)
      state.lastClosedAt = preloaded.closedAt.get(endpoint.endpointId) ?? null
      preloaded.open.delete(endpoint.endpointId)
      preloaded.closedAt.delete(endpoint.endpointId)
      state.loaded = true
    }
    if (state.stale) {
      // Another writer changed its events: the store is the truth, the streaks and counts stay.
      state.stale = false
      state.loaded = false
      state.open.clear()
    }
    if (!state.loaded) {
      const open = await listOpenEvents({ ctx: { db: this.deps.db }, endpointId: endpoint.endpointId })
      for (const event of open) state.open.set(event.checkType, event)
      if (!state.open.has('http')) {
        state.confirmationUnavailable = false
        const [last] = await this.deps.db
          .select({ endedAt: events.endedAt })
          .from(events)
          .where(
            and(eq(events.endpointId, endpoint.endpointId), eq(events.checkType, 'http'), isNotNull(events.endedAt)),
          )
          .orderBy(desc(events.endedAt))
          .limit(1)
        state.lastClosedAt = last?.endedAt ? last.endedAt.getTime() : null
      }
      state.loaded = true
    }
  }

  /** Whether the endpoint's confirmation is currently unavailable (no veriflier quorum answered). */
  confirmationUnavailable(endpointId: bigint): boolean {
    return this.states.get(endpointId)?.confirmationUnavailable ?? false
  }
}
