/**
 * The builders of a monitor's checking path, each returning what a drain stops: the maintenance
 * cache, the history writer, the WordPress.com notifier, and the loop that holds a share of the
 * buckets and checks their endpoints (leases, endpoint source, scheduler, confirmation pipeline).
 */
import { type CheckRequest, type CheckResult, createChecker } from '@jetmon/checker'
import type { Db } from '@jetmon/db'
import { CheckRecorder } from '@jetmon/history'
import type { Logger } from '@jetmon/logging'
import {
  askVerifliers,
  autoMaxInFlight,
  ConfirmationPipeline,
  DurationWindow,
  decide,
  judgedCheck,
  MaintenanceCache,
  type MonitoredEndpoint,
  openFileLimit,
  type PressureJudge,
  quorumOf,
  WpcomNotifier,
} from '@jetmon/monitor'
import { BucketLeases, type BucketRange, EndpointSource, type RolloutMode, Scheduler } from '@jetmon/scheduler'
import type { Jetmon2Config } from '../config.js'
import { VERSION } from '../version.js'
import type { MonitorMetrics } from './metrics.js'
import type { Running } from './running.js'
import { loadWhileDispatching } from './startup.js'

/** How often `MAX_IN_FLIGHT=auto` is recomputed from the endpoints held and the observed latency. */
const IN_FLIGHT_SIZING_MS = 5_000

/** What every builder here is given. `config()` is read on use, so that a reload applies. */
export interface MonitorPartDeps {
  db: Db
  config: () => Jetmon2Config
  logger: Logger
}

/** A check as the monitor runs it, the private-target guard applied. */
export type Check = (request: CheckRequest) => Promise<CheckResult>

/**
 * The checker with the configuration's user agent, DNS servers, CA and read limits. Tenants'
 * endpoints are always guarded (checkRequestOf); CHECK_ALLOW_PRIVATE_TARGETS=false guards every
 * endpoint, read per call so that a reload applies.
 */
export function buildChecker(deps: Omit<MonitorPartDeps, 'db'> & { ca: string[] | undefined }): {
  check: Check
  guarded: <R extends CheckRequest>(request: R) => R
} {
  const config = deps.config()
  const checker = createChecker({
    ...(config.USER_AGENT ? { userAgent: config.USER_AGENT } : {}),
    ...(config.DNS_SERVERS?.length ? { dnsServers: config.DNS_SERVERS } : {}),
    ...(deps.ca ? { ca: deps.ca } : {}),
    limits: {
      bodyMaxBytes: config.BODY_READ_MAX_BYTES,
      keywordMaxBytes: config.KEYWORD_READ_MAX_BYTES,
      bodyMaxMs: config.BODY_READ_MAX_MS,
    },
    logger: deps.logger.child({ module: 'checker' }),
  })
  const guarded = <R extends CheckRequest>(request: R): R =>
    deps.config().CHECK_ALLOW_PRIVATE_TARGETS ? request : { ...request, refusePrivateTargets: true }
  return { check: (request) => checker(guarded(request)), guarded }
}

/** The maintenance windows, loaded now and refreshed every TARGET_RELOAD_SEC. */
export async function startMaintenance(deps: MonitorPartDeps): Promise<Running & { cache: MaintenanceCache }> {
  const cache = new MaintenanceCache(deps.db, {
    refreshMs: deps.config().TARGET_RELOAD_SEC * 1000,
    logger: deps.logger,
  })
  await cache.refresh()
  cache.start()
  return {
    name: 'maintenance',
    cache,
    stop: async () => cache.stop(),
  }
}

/** The history writer; a drain flushes what it holds. */
export function startRecorder(deps: MonitorPartDeps): Running & { recorder: CheckRecorder } {
  const config = deps.config()
  const recorder = new CheckRecorder({
    db: deps.db,
    historyMode: config.HISTORY_MODE,
    stateFlushMs: config.STATE_FLUSH_SEC * 1000,
    logger: deps.logger.child({ module: 'history' }),
  })
  return {
    name: 'history',
    recorder,
    stop: async () => {
      await recorder.stop().catch((error: unknown) => deps.logger.warn({ err: error }, 'could not flush history'))
    },
  }
}

/**
 * The WordPress.com notifier. It starts at once: notices left in the outbox by an earlier run (or
 * another monitor) go out from now on. A drain sends what is queued, within its budget.
 */
export function startNotifier(deps: MonitorPartDeps): Running & { notifier: WpcomNotifier } {
  const config = deps.config()
  const notifier = new WpcomNotifier({
    url: config.WPCOM_NOTIFY_URL ?? '',
    authToken: config.AUTH_TOKEN ?? '',
    enabled: config.WPCOM_NOTIFY_ENABLE,
    db: deps.db,
    hostId: config.HOST_ID,
    userAgent: `jetmon2/${VERSION}`,
    cooldownMinutes: config.ALERT_COOLDOWN_MINUTES,
    leaseMs: config.WPCOM_LEASE_SEC * 1000,
    logger: deps.logger.child({ module: 'wpcom' }),
  })
  notifier.start()
  return {
    name: 'wpcom notifier',
    notifier,
    stop: async (left) => {
      await notifier.stop({ flush: true, timeoutMs: Math.min(10_000, left() / 2) })
    },
  }
}

export interface CheckingDeps extends MonitorPartDeps {
  check: Check
  guarded: <R extends CheckRequest>(request: R) => R
  ca: string[] | undefined
  metrics: MonitorMetrics
  recorder: CheckRecorder
  notifier: WpcomNotifier
  maintenance: MaintenanceCache
  /** The monitor's pressure: failures it makes suspect give no verdict (docs/adr/0013-…). */
  pressure?: PressureJudge
}

/** The checking loop as it runs: what the API's probe, the metrics and a reload reach into. */
export interface Checking extends Running {
  pipeline: ConfirmationPipeline
  scheduler: Scheduler
  leases: BucketLeases
  /** `ROLLOUT_MODE`: how this host comes by its buckets. */
  mode: RolloutMode
  /** The endpoints of the buckets held, by endpoint id. */
  endpoints: { get(endpointId: bigint): MonitoredEndpoint | undefined; readonly size: number }
  /** The bucket ranges held when it started. */
  ranges: readonly BucketRange[]
  /** Applies a new configuration: the in-flight bound, pipeline thresholds and endpoint defaults. */
  reload(config: Jetmon2Config): void
}

/**
 * Takes a lease on a share of the bucket space (by `ROLLOUT_MODE`: a dynamic share or the pinned
 * range, nothing on standby, the activated rollout locks when api-controlled), loads those buckets'
 * endpoints, and schedules their checks through the confirmation pipeline. When buckets are given
 * up, their endpoints leave the scheduler at once (no new checks), and the change is finished —
 * what an api-controlled host waits for before it acknowledges a release — once their in-flight
 * checks and confirmation rounds are over and the history writer has flushed. A drain stops
 * loading and dispatching, lets in-flight checks and rounds finish, and releases the buckets at once.
 */
export async function startChecking(deps: CheckingDeps): Promise<Checking> {
  const { db, logger: log, metrics, recorder, notifier, maintenance, guarded } = deps
  const config = deps.config()
  const durations = new DurationWindow()
  const fdLimit = openFileLimit()
  // The endpoints of the buckets held, in the endpoint source's compact table (no second copy here).
  const endpoints = new EndpointSource({
    db,
    bucketTotal: config.BUCKET_TOTAL,
    defaults: endpointDefaults(config),
    logger: log.child({ module: 'endpoints' }),
  })
  const source = endpoints

  // A timeout or connect failure seen while this monitor is under pressure gives no verdict.
  const judged = (check: Check): Check => (deps.pressure ? judgedCheck(check, deps.pressure) : check)
  const pipeline = new ConfirmationPipeline({
    db,
    check: judged(async (request) => {
      const started = performance.now()
      const result = await deps.check(request)
      const ms = performance.now() - started
      durations.add(ms)
      metrics.checks.inc({ result: result.error ?? 'ok', method: result.method, profile: result.profile ?? 'full' })
      metrics.checkSeconds.observe(ms / 1000)
      return result
    }),
    decide: (votes, q) => decide(votes, q),
    // Reads the current configuration on every round, so that a reload takes effect.
    askVerifliers: async (endpoint, request) => {
      const current = deps.config()
      const started = performance.now()
      const answers = await askVerifliers({
        verifliers: current.VERIFLIERS,
        checks: [{ ...guarded(request), endpointId: endpoint.endpointId, blogId: endpoint.blogId }],
        timeoutMs: current.VERIFLIER_TIMEOUT_MS,
        quorum: quorumOf(current.VERIFLIERS.length, current.VERIFLIER_QUORUM),
        // https:// verifliers are verified against the built-in roots plus CA_FILE.
        ...(deps.ca ? { ca: deps.ca } : {}),
        userAgent: `jetmon2/${VERSION}`,
        logger: log.child({ module: 'verifliers' }),
      })
      metrics.veriflierSeconds.observe((performance.now() - started) / 1000)
      const votes = answers.get(endpoint.endpointId) ?? []
      for (const vote of votes) if (vote.vote === 'error') metrics.veriflierErrors.inc({ veriflier: vote.veriflier })
      return votes
    },
    record: (endpoint, result: CheckResult, vantage) =>
      recorder.record({
        endpointId: endpoint.endpointId,
        blogId: endpoint.blogId,
        checkedAt: new Date(Date.parse(result.startedAt)),
        vantage,
        method: result.method,
        httpCode: result.httpStatus,
        errorCode: result.errorCode,
        rttMs: result.timings.totalMs,
        dnsMs: result.timings.dnsMs,
        tcpMs: result.timings.connectMs,
        tlsMs: result.timings.tlsMs,
        ttfbMs: result.timings.ttfbMs,
        failed: !result.ok,
        ...(result.tls?.validTo ? { sslExpiresAt: new Date(result.tls.validTo) } : {}),
        ...(result.tls?.protocol ? { tlsVersion: result.tls.protocol } : {}),
      }),
    // Each veriflier's check joins the history under its own id (history only: rollups and state stay local).
    recordVotes: (endpoint, votes, checkedAt) => {
      for (const vote of votes) {
        recorder.record({
          endpointId: endpoint.endpointId,
          blogId: endpoint.blogId,
          checkedAt,
          vantage: vote.veriflier,
          method: endpoint.method,
          httpCode: vote.httpStatus,
          errorCode: vote.errorCode ?? 0,
          rttMs: vote.checkMs ?? null,
          dnsMs: null,
          tcpMs: null,
          tlsMs: null,
          ttfbMs: null,
          failed: vote.vote === 'down',
        })
      }
    },
    notify: (notice, tx) => notifier.enqueue(notice, tx),
    inMaintenance: (endpoint, at) => maintenance.covers(endpoint.blogId, endpoint.endpointId, at),
    logger: log.child({ module: 'pipeline' }),
    settings: pipelineSettings(config),
  })

  /** `MAX_IN_FLIGHT=auto`: the bound for the endpoints held now and the latency observed lately. */
  const autoInFlight = (): number => {
    return autoMaxInFlight({ checksPerSecond: source.checksPerSecond(), latencyP95Ms: durations.p95(), fdLimit })
  }
  const scheduler = new Scheduler({
    maxInFlight: config.MAX_IN_FLIGHT === 'auto' ? autoInFlight() : config.MAX_IN_FLIGHT,
    logger: log.child({ module: 'scheduler' }),
    run: async (endpointId, context) => {
      deps.pressure?.dispatched(context.startedAt - context.dueAt)
      const endpoint = endpoints.get(endpointId)
      if (!endpoint) return undefined
      return pipeline.runCheck(endpoint)
    },
  })

  const leases = new BucketLeases({
    db,
    hostId: config.HOST_ID,
    version: VERSION,
    bucketTotal: config.BUCKET_TOTAL,
    leaseMs: config.BUCKET_LEASE_SEC * 1000,
    pinned:
      config.PINNED_BUCKET_MIN !== undefined && config.PINNED_BUCKET_MAX !== undefined
        ? { min: config.PINNED_BUCKET_MIN, max: config.PINNED_BUCKET_MAX }
        : null,
    mode: config.ROLLOUT_MODE,
    rolloutPollMs: config.ROLLOUT_POLL_SEC * 1000,
    logger: log.child({ module: 'leases' }),
  })
  source.onChange((change) => {
    for (const endpoint of change.upserts) scheduler.upsert(endpoint.endpointId, endpoint.intervalMs)
    for (const endpointId of change.removals) {
      scheduler.remove(endpointId)
      pipeline.forget(endpointId)
    }
  })
  let sizingTimer: NodeJS.Timeout | undefined
  const stop = async (left: () => number) => {
    await source.stop()
    await scheduler.stop({ drain: true, timeoutMs: left() / 2 })
    await Promise.race([pipeline.settle(), new Promise((r) => setTimeout(r, left() / 3).unref())])
    await leases.drain().catch((error: unknown) => log.warn({ err: error }, 'could not release the buckets'))
    leases.stop()
    clearInterval(sizingTimer)
  }
  /**
   * After the endpoints of given-up buckets left the scheduler: their checks in flight settle, the
   * confirmation rounds they started end (bounded by the veriflier and check timeouts), and the
   * history writer flushes, so nothing of those buckets is written after this resolves.
   */
  const drained = async () => {
    await scheduler.removedRunsSettled()
    const current = deps.config()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      pipeline.settle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, current.VERIFLIER_TIMEOUT_MS + current.CHECK_TIMEOUT_MS).unref()
      }),
    ])
    clearTimeout(timer)
    const flushed = await recorder.flush()
    if (!flushed.ok) {
      throw new Error(`the history writer could not flush (${flushed.pending} row(s) still pending)`)
    }
  }
  let ranges: BucketRange[]
  try {
    // A change loads the buckets taken over and drains those given up (an api-controlled host
    // acknowledges its rollout locks once this promise resolves).
    leases.onChange(async (change) => {
      log.info({ ranges: describeRanges(change.ranges), reason: change.reason }, 'bucket assignment changed')
      try {
        await source.setRanges(change.ranges)
      } catch (error) {
        log.error({ err: error }, 'could not load endpoints')
        throw error
      }
      await drained()
    })
    ranges = await leases.start()
    const sizeInFlight = () => {
      if (deps.config().MAX_IN_FLIGHT === 'auto') scheduler.setMaxInFlight(autoInFlight())
    }
    sizingTimer = setInterval(sizeInFlight, IN_FLIGHT_SIZING_MS)
    sizingTimer.unref()
    await loadWhileDispatching(
      {
        scheduler,
        snapshot: () => pipeline.preload(),
        load: (owned) => source.setRanges(owned),
      },
      ranges,
    )
    sizeInFlight()
    source.start({ refreshMs: config.TARGET_RELOAD_SEC * 1000 })
  } catch (error) {
    // Whatever started is stopped (the buckets released) before the failure goes to the caller.
    await stop(() => 1_000).catch(() => {})
    throw error
  }

  return {
    name: 'checking',
    pipeline,
    scheduler,
    leases,
    mode: config.ROLLOUT_MODE,
    endpoints,
    ranges,
    reload(next) {
      scheduler.setMaxInFlight(next.MAX_IN_FLIGHT === 'auto' ? autoInFlight() : next.MAX_IN_FLIGHT)
      pipeline.updateSettings(pipelineSettings(next))
      source.setDefaults(endpointDefaults(next))
    },
    stop,
  }
}

/** The defaults an endpoint without its own setting gets. */
export function endpointDefaults(config: Jetmon2Config) {
  return {
    timeoutMs: config.CHECK_TIMEOUT_MS,
    tlsExpiryWarnDays: config.TLS_EXPIRY_WARN_DAYS,
    alertCooldownMinutes: config.ALERT_COOLDOWN_MINUTES,
    requestMethod: config.DEFAULT_REQUEST_METHOD,
    detectionProfile: config.DEFAULT_DETECTION_PROFILE,
  }
}

function pipelineSettings(config: Jetmon2Config) {
  return {
    hostId: config.HOST_ID,
    numOfChecks: config.NUM_OF_CHECKS,
    retryIntervalMs: config.RETRY_INTERVAL_SEC * 1000,
    quickRecheckMs: config.QUICK_RECHECK_SEC * 1000,
    hardFailureChecks: config.HARD_FAILURE_CHECKS,
    falseAlarmBackoff: config.FALSE_ALARM_BACKOFF,
    failedCheckIntervalMs: config.FAILED_CHECK_INTERVAL_SEC * 1000,
    flapWindowMs: config.FLAP_WINDOW_SEC * 1000,
    veriflierCount: config.VERIFLIERS.length,
    quorum: quorumOf(config.VERIFLIERS.length, config.VERIFLIER_QUORUM),
    projection: config.LEGACY_STATUS_PROJECTION_ENABLE,
  }
}

/** Bucket ranges for a log line or `/readyz`: `0–499, 700`. */
export function describeRanges(ranges: readonly BucketRange[]): string {
  return ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}–${r.max}`)).join(', ')
}
