import { readFileSync } from 'node:fs'
import type { AlertSender } from '@jetmon/alerting'
import { type ApiApp, createApiApp, type RunningApiServer, startApiServer } from '@jetmon/api-server'
import { type CheckRequest, type CheckResult, createChecker } from '@jetmon/checker'
import { createDashboard, createVeriflierHealthProbe } from '@jetmon/dashboard'
import { createDatabase, type Database, migrationStatus, withNamedLock } from '@jetmon/db'
import type { startDelivery } from '@jetmon/delivery'
import { CheckRecorder, pruneHistory, pruneRollups } from '@jetmon/history'
import type { Logger } from '@jetmon/logging'
import {
  askVerifliers,
  autoMaxInFlight,
  ConfirmationPipeline,
  DurationWindow,
  decide,
  MaintenanceCache,
  type MonitoredEndpoint,
  MonitorProbe,
  openFileLimit,
  pruneWpcomOutbox,
  quorumOf,
  veriflierFetch,
  WPCOM_OUTBOX_RETENTION_DAYS,
  WpcomNotifier,
} from '@jetmon/monitor'
import { BucketLeases, type BucketRange, EndpointSource, Scheduler } from '@jetmon/scheduler'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Jetmon2Config } from '../config.js'
import { writeProcessHealth } from '../process-health.js'
import { VERSION } from '../version.js'
import { alertingFromConfig, startDeliveryWorkers } from './delivery.js'
import { databaseReadiness, startOpsServer } from './ops.js'

export interface MonitorServiceOptions {
  config: Jetmon2Config
  databaseUrl: string
  logger: Logger
}

/** How often `MAX_IN_FLIGHT=auto` is recomputed from the endpoints held and the observed latency. */
const IN_FLIGHT_SIZING_MS = 5_000

/**
 * `jetmon2 serve`: the composition root of a monitor host. It owns the database pool, the lease on
 * a share of the bucket space, the endpoints of those buckets, the scheduler, the confirmation
 * pipeline and its writers, the WPCOM notifier and the ops endpoints, and stops them in order.
 */
export class MonitorService {
  private database: Database | null = null
  private scheduler: Scheduler | null = null
  private leases: BucketLeases | null = null
  private source: EndpointSource | null = null
  private recorder: CheckRecorder | null = null
  private notifier: WpcomNotifier | null = null
  private pipeline: ConfirmationPipeline | null = null
  private maintenance: MaintenanceCache | null = null
  private ops: Awaited<ReturnType<typeof startOpsServer>> | null = null
  private api: { app: ApiApp; server: RunningApiServer } | null = null
  private alerts: AlertSender | null = null
  private dashboard: ReturnType<typeof createDashboard> | null = null
  private delivery: ReturnType<typeof startDelivery> | null = null
  private deliveryDatabase: Database | null = null
  private healthTimer: NodeJS.Timeout | null = null
  private pruneTimer: NodeJS.Timeout | null = null
  private sizingTimer: NodeJS.Timeout | null = null
  private readonly durations = new DurationWindow()
  private readonly fdLimit = openFileLimit()
  private readonly endpoints = new Map<bigint, MonitoredEndpoint>()
  private readonly registry = new Registry()
  private state: 'starting' | 'running' | 'draining' | 'stopped' = 'starting'
  private readonly startedAt = new Date()
  private config: Jetmon2Config
  private readonly logger: Logger

  constructor(private readonly options: MonitorServiceOptions) {
    this.config = options.config
    this.logger = options.logger
  }

  /** The REST API's base URL (`http://host:port/api/v1`), or null when `API_PORT` is 0. */
  get apiUrl(): string | null {
    return this.api?.server.url ?? null
  }

  /** The port the ops server listens on (0 when off). */
  get opsPort(): number {
    return this.ops?.port ?? 0
  }

  async start(): Promise<void> {
    const config = this.config
    const log = this.logger
    this.database = createDatabase(this.options.databaseUrl, { connectionLimit: 20 })
    const { db, pool } = this.database
    const status = await migrationStatus(pool)
    if (status.pending.length) {
      throw new Error(`the database has ${status.pending.length} pending migration(s): run jetmon2 migrate first`)
    }

    const metrics = this.metrics()
    const ca = config.CA_FILE ? [readFileSync(config.CA_FILE, 'utf8')] : undefined
    const checker = createChecker({
      ...(config.USER_AGENT ? { userAgent: config.USER_AGENT } : {}),
      ...(config.DNS_SERVERS?.length ? { dnsServers: config.DNS_SERVERS } : {}),
      ...(ca ? { ca } : {}),
      limits: {
        bodyMaxBytes: config.BODY_READ_MAX_BYTES,
        keywordMaxBytes: config.KEYWORD_READ_MAX_BYTES,
        bodyMaxMs: config.BODY_READ_MAX_MS,
      },
      logger: log.child({ module: 'checker' }),
    })
    // Tenants' endpoints are always guarded (checkRequestOf); CHECK_ALLOW_PRIVATE_TARGETS=false
    // guards every endpoint. Read per call, so that a reload applies.
    const guarded = <R extends CheckRequest>(request: R): R =>
      this.config.CHECK_ALLOW_PRIVATE_TARGETS ? request : { ...request, refusePrivateTargets: true }
    const check = (request: CheckRequest) => checker(guarded(request))
    this.recorder = new CheckRecorder({
      db,
      historyMode: config.HISTORY_MODE,
      stateFlushMs: config.STATE_FLUSH_SEC * 1000,
      logger: log.child({ module: 'history' }),
    })
    this.notifier = new WpcomNotifier({
      url: config.WPCOM_NOTIFY_URL ?? '',
      authToken: config.AUTH_TOKEN ?? '',
      enabled: config.WPCOM_NOTIFY_ENABLE,
      db,
      hostId: config.HOST_ID,
      userAgent: `jetmon2/${VERSION}`,
      cooldownMinutes: config.ALERT_COOLDOWN_MINUTES,
      logger: log.child({ module: 'wpcom' }),
    })
    // Notices left in the outbox by an earlier run (or another monitor) go out from now on.
    this.notifier.start()
    this.maintenance = new MaintenanceCache(db, { refreshMs: config.TARGET_RELOAD_SEC * 1000, logger: log })
    await this.maintenance.refresh()
    this.maintenance.start()

    const verifliers = config.VERIFLIERS
    const recorder = this.recorder
    const notifier = this.notifier
    const maintenance = this.maintenance
    this.pipeline = new ConfirmationPipeline({
      db,
      check: async (request) => {
        const started = performance.now()
        const result = await check(request)
        const ms = performance.now() - started
        this.durations.add(ms)
        metrics.checks.inc({ result: result.error ?? 'ok' })
        metrics.checkSeconds.observe(ms / 1000)
        return result
      },
      decide: (votes, q) => decide(votes, q),
      // Reads the current configuration on every round, so that a reload takes effect.
      askVerifliers: async (endpoint, request) => {
        const current = this.config
        const started = performance.now()
        const answers = await askVerifliers({
          verifliers: current.VERIFLIERS,
          checks: [{ ...guarded(request), endpointId: endpoint.endpointId, blogId: endpoint.blogId }],
          timeoutMs: current.VERIFLIER_TIMEOUT_MS,
          quorum: quorumOf(current.VERIFLIERS.length, current.VERIFLIER_QUORUM),
          // https:// verifliers are verified against the built-in roots plus CA_FILE.
          ...(ca ? { ca } : {}),
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
      notify: (notice, tx) => notifier.enqueue(notice, tx),
      inMaintenance: (endpoint, at) => maintenance.covers(endpoint.blogId, endpoint.endpointId, at),
      logger: log.child({ module: 'pipeline' }),
      settings: pipelineSettings(config),
    })

    const pipeline = this.pipeline
    this.scheduler = new Scheduler({
      maxInFlight: config.MAX_IN_FLIGHT === 'auto' ? this.autoInFlight() : config.MAX_IN_FLIGHT,
      logger: log.child({ module: 'scheduler' }),
      run: async (endpointId) => {
        const endpoint = this.endpoints.get(endpointId)
        if (!endpoint) return undefined
        return pipeline.runCheck(endpoint)
      },
    })

    this.leases = new BucketLeases({
      db,
      hostId: config.HOST_ID,
      version: VERSION,
      bucketTotal: config.BUCKET_TOTAL,
      leaseMs: config.BUCKET_LEASE_SEC * 1000,
      pinned:
        config.PINNED_BUCKET_MIN !== undefined && config.PINNED_BUCKET_MAX !== undefined
          ? { min: config.PINNED_BUCKET_MIN, max: config.PINNED_BUCKET_MAX }
          : null,
      logger: log.child({ module: 'leases' }),
    })
    this.source = new EndpointSource({
      db,
      bucketTotal: config.BUCKET_TOTAL,
      defaults: {
        timeoutMs: config.CHECK_TIMEOUT_MS,
        tlsExpiryWarnDays: config.TLS_EXPIRY_WARN_DAYS,
        alertCooldownMinutes: config.ALERT_COOLDOWN_MINUTES,
      },
      logger: log.child({ module: 'endpoints' }),
    })
    const scheduler = this.scheduler
    this.source.onChange((change) => {
      for (const endpoint of change.upserts) {
        this.endpoints.set(endpoint.endpointId, endpoint)
        scheduler.upsert(endpoint.endpointId, endpoint.intervalMs)
      }
      for (const endpointId of change.removals) {
        this.endpoints.delete(endpointId)
        scheduler.remove(endpointId)
        pipeline.forget(endpointId)
      }
    })
    const ranges = await this.leases.start()
    this.leases.onChange((change) => {
      this.logger.info({ ranges: describeRanges(change.ranges) }, 'bucket assignment changed')
      this.source
        ?.setRanges(change.ranges)
        .catch((error: unknown) => this.logger.error({ err: error }, 'could not load endpoints'))
    })
    await this.source.setRanges(ranges)
    await pipeline.preload(new Set(this.endpoints.keys()))
    this.source.start({ refreshMs: config.TARGET_RELOAD_SEC * 1000 })
    this.sizeInFlight()
    this.sizingTimer = setInterval(() => this.sizeInFlight(), IN_FLIGHT_SIZING_MS)
    this.sizingTimer.unref()
    this.scheduler.start()

    if (config.DASHBOARD_PORT !== 0) {
      // Trusts https:// verifliers as the confirmation requests do: the built-in roots plus CA_FILE.
      const veriflierHealth = createVeriflierHealthProbe({
        targets: () => this.config.VERIFLIERS,
        fetch: veriflierFetch(ca ?? []),
      })
      const dashboard = createDashboard({
        db,
        logger: log.child({ module: 'dashboard' }),
        bind: config.DASHBOARD_BIND,
        trustProxy: config.DASHBOARD_TRUST_PROXY,
        version: VERSION,
        historyRetentionDays: config.HISTORY_RETENTION_DAYS,
        historyMode: config.HISTORY_MODE,
        bucketTotal: config.BUCKET_TOTAL,
        fleetInfo: async () => ({
          verifliers: await veriflierHealth.read(),
          wpcom: { enabled: this.config.WPCOM_NOTIFY_ENABLE, ...notifier.stats() },
        }),
      })
      this.dashboard = dashboard
      this.ops = await startOpsServer({
        bind: config.DASHBOARD_BIND,
        port: config.DASHBOARD_PORT,
        registry: this.registry,
        readiness: () => this.readiness(),
        fallback: (req, res) => dashboard.handle(req, res),
      })
    }
    const dashboardUrl =
      config.DASHBOARD_PORT !== 0 ? `http://${hostForUrl(config.DASHBOARD_BIND)}:${config.DASHBOARD_PORT}` : null
    const alerting = alertingFromConfig(config, log, { dashboardUrl })
    const { secretsKey, alertSender: alerts } = alerting
    this.alerts = alerts
    if (config.DELIVERY_WORKERS_ENABLE) {
      // Its own pool: dispatch, claims and up to 50 result writes must not starve the monitor's.
      this.deliveryDatabase = createDatabase(this.options.databaseUrl, { connectionLimit: 10 })
      this.delivery = startDeliveryWorkers({
        config,
        db: this.deliveryDatabase.db,
        logger: log,
        registry: this.registry,
        alerting,
      })
      log.info('delivery workers running (webhooks and alerts)')
    }
    if (config.API_PORT !== 0) {
      const probe = new MonitorProbe({
        db,
        check,
        pipeline,
        owned: (endpointId) => this.endpoints.get(endpointId),
        defaults: () => ({
          timeoutMs: this.config.CHECK_TIMEOUT_MS,
          tlsExpiryWarnDays: this.config.TLS_EXPIRY_WARN_DAYS,
          alertCooldownMinutes: this.config.ALERT_COOLDOWN_MINUTES,
        }),
        projection: () => this.config.LEGACY_STATUS_PROJECTION_ENABLE,
        logger: log.child({ module: 'probe' }),
      })
      const app = createApiApp({
        db,
        logger: log.child({ module: 'api' }),
        bucketTotal: config.BUCKET_TOTAL,
        historyRetentionDays: config.HISTORY_RETENTION_DAYS,
        historyMode: config.HISTORY_MODE,
        secretsKey,
        allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        probe,
        alertTester: { send: (contact, now) => alerts.sendTest(contact as never, now) },
        dashboardUrl,
      })
      const server = await startApiServer(app, { port: config.API_PORT, bind: config.API_BIND })
      this.api = { app, server }
      log.info({ url: server.url }, 'REST API listening')
    }
    this.healthTimer = setInterval(() => void this.writeHealth().catch(() => {}), 5_000)
    this.healthTimer.unref()
    // Retention: hourly, on one host at a time (a named lock), in bounded batches.
    this.pruneTimer = setInterval(() => void this.prune(), 3_600_000)
    this.pruneTimer.unref()
    setTimeout(() => void this.prune(), 60_000).unref()
    this.state = 'running'
    await this.writeHealth()
    log.info(
      {
        host: config.HOST_ID,
        ranges: describeRanges(ranges),
        endpoints: this.endpoints.size,
        verifliers: verifliers.length,
      },
      'monitor running',
    )
  }

  private lastRate: { at: number; completed: number } | null = null

  /** Checks completed per second since the previous health write. */
  private checksPerSecond(completed: number): number {
    const now = Date.now()
    const last = this.lastRate
    this.lastRate = { at: now, completed }
    if (!last || now <= last.at) return 0
    return Math.round(((completed - last.completed) / (now - last.at)) * 10_000) / 10
  }

  /** `MAX_IN_FLIGHT=auto`: the bound for the endpoints held now and the latency observed lately. */
  private autoInFlight(): number {
    let checksPerSecond = 0
    for (const endpoint of this.endpoints.values()) checksPerSecond += 1000 / endpoint.intervalMs
    return autoMaxInFlight({ checksPerSecond, latencyP95Ms: this.durations.p95(), fdLimit: this.fdLimit })
  }

  private sizeInFlight(): void {
    if (this.config.MAX_IN_FLIGHT === 'auto') this.scheduler?.setMaxInFlight(this.autoInFlight())
  }

  private async prune(): Promise<void> {
    const database = this.database
    if (!database || this.state !== 'running') return
    try {
      await withNamedLock({
        ctx: { pool: database.pool },
        name: 'jetmon_prune',
        unit: async () => {
          const ctx = { db: database.db, logger: this.logger.child({ module: 'retention' }) }
          await pruneHistory({ ctx, retentionDays: this.config.HISTORY_RETENTION_DAYS })
          await pruneRollups({ ctx })
          await this.api?.app.idempotency.prune()
          await pruneWpcomOutbox(database.db, new Date(Date.now() - WPCOM_OUTBOX_RETENTION_DAYS * 86_400_000))
        },
      })
    } catch (error) {
      this.logger.warn({ err: error }, 'retention pruning failed; it is tried again in an hour')
    }
  }

  private async readiness() {
    const checks: Record<string, string> = {}
    let ok = this.state === 'running'
    checks.state = this.state
    checks.database = this.database ? await databaseReadiness(this.database.pool, this.logger) : 'not connected'
    if (checks.database !== 'ok') ok = false
    const ranges = this.leases?.ranges ?? []
    checks.leases = ranges.length ? describeRanges(ranges) : 'no buckets held'
    if (this.leases?.state !== 'active') ok = false
    return { ok, checks }
  }

  private metrics() {
    const registry = this.registry
    collectDefaultMetrics({ register: registry, prefix: 'jetmon_process_' })
    const service = () => this
    new Gauge({
      name: 'jetmon_scheduler_endpoints',
      help: 'Endpoints scheduled on this host',
      registers: [registry],
      collect() {
        this.set(service().scheduler?.stats().endpoints ?? 0)
      },
    })
    new Gauge({
      name: 'jetmon_scheduler_in_flight',
      help: 'Checks in flight',
      registers: [registry],
      collect() {
        this.set(service().scheduler?.stats().inFlight ?? 0)
      },
    })
    new Gauge({
      name: 'jetmon_scheduler_max_in_flight',
      help: 'The in-flight bound (MAX_IN_FLIGHT, or its auto-sized value)',
      registers: [registry],
      collect() {
        this.set(service().scheduler?.stats().maxInFlight ?? 0)
      },
    })
    new Gauge({
      name: 'jetmon_scheduler_due_backlog',
      help: 'Endpoints due but not started yet (queue depth)',
      registers: [registry],
      collect() {
        this.set(service().scheduler?.stats().dueBacklog ?? 0)
      },
    })
    new Gauge({
      name: 'jetmon_scheduler_lag_seconds',
      help: 'Dispatch lag over the recent window',
      labelNames: ['quantile'],
      registers: [registry],
      collect() {
        const lag = service().scheduler?.stats().lagMs
        if (!lag) return
        this.set({ quantile: '0.5' }, lag.p50 / 1000)
        this.set({ quantile: '0.95' }, lag.p95 / 1000)
        this.set({ quantile: '0.99' }, lag.p99 / 1000)
      },
    })
    new Gauge({
      name: 'jetmon_confirmation_outcomes',
      help: 'Confirmation outcomes since start',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const stats = service().pipeline?.stats
        if (!stats) return
        this.set({ outcome: 'opened' }, stats.opened)
        this.set({ outcome: 'confirmed' }, stats.confirmed)
        this.set({ outcome: 'false_alarm' }, stats.falseAlarms)
        this.set({ outcome: 'inconclusive' }, stats.inconclusive)
        this.set({ outcome: 'recovered' }, stats.recovered)
        this.set({ outcome: 'maintenance_swallowed' }, stats.swallowed)
      },
    })
    new Gauge({
      name: 'jetmon_wpcom_notices',
      help: 'WordPress.com notices by outcome since start, the outbox backlog (queued, fleet-wide) and the breaker state (1 = open)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const stats = service().notifier?.stats()
        if (!stats) return
        this.set({ outcome: 'sent' }, stats.sent)
        this.set({ outcome: 'failed' }, stats.failed)
        this.set({ outcome: 'permanent' }, stats.permanent)
        this.set({ outcome: 'retried' }, stats.retries)
        this.set({ outcome: 'suppressed' }, stats.suppressed)
        this.set({ outcome: 'dropped' }, stats.dropped)
        this.set({ outcome: 'queued' }, stats.queued)
        this.set({ outcome: 'breaker_open' }, stats.breaker === 'open' ? 1 : 0)
      },
    })
    new Gauge({
      name: 'jetmon_db_write_statements',
      help: 'Statements written by the history writer since start',
      registers: [registry],
      collect() {
        this.set(service().recorder?.stats().statements ?? 0)
      },
    })
    return {
      checks: new Counter({
        name: 'jetmon_checks_total',
        help: 'Checks by result',
        labelNames: ['result'],
        registers: [registry],
      }),
      checkSeconds: new Histogram({
        name: 'jetmon_check_duration_seconds',
        help: 'Duration of a check',
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
      veriflierSeconds: new Histogram({
        name: 'jetmon_veriflier_round_seconds',
        help: 'Duration of a veriflier round',
        buckets: [0.1, 0.5, 1, 2.5, 5, 10, 20],
        registers: [registry],
      }),
      veriflierErrors: new Counter({
        name: 'jetmon_veriflier_errors_total',
        help: 'Veriflier answers that were errors',
        labelNames: ['veriflier'],
        registers: [registry],
      }),
    }
  }

  private async writeHealth(): Promise<void> {
    if (!this.database) return
    const stats = this.scheduler?.stats()
    const processId = `${this.config.HOST_ID}:monitor`
    const row = {
      processId,
      hostId: this.config.HOST_ID,
      role: 'monitor' as const,
      pid: process.pid,
      version: VERSION,
      state: this.state,
      health: this.state === 'running' ? ('green' as const) : ('amber' as const),
      stats: {
        endpoints: stats?.endpoints ?? 0,
        in_flight: stats?.inFlight ?? 0,
        max_in_flight: stats?.maxInFlight ?? 0,
        checks_per_sec: this.checksPerSecond(stats?.completed ?? 0),
        due_backlog: stats?.dueBacklog ?? 0,
        lag_p95_ms: stats?.lagMs.p95 ?? 0,
        rss: process.memoryUsage().rss,
      },
      startedAt: this.startedAt,
      updatedAt: new Date(),
    }
    await writeProcessHealth(this.database.db, row)
  }

  /**
   * Drain: stop dispatching, let in-flight checks and confirmation rounds finish, flush the
   * writers, release the buckets at once, and close — within `timeoutMs` (30 s by default).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return
    this.state = 'draining'
    const deadline = Date.now() + timeoutMs
    const left = () => Math.max(1_000, deadline - Date.now())
    this.logger.info('draining')
    // The API stops taking requests first; those in flight get a few seconds to answer.
    await this.api?.server
      .close(Math.min(5_000, left() / 4))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not close the API server'))
    await this.source?.stop()
    await this.scheduler?.stop({ drain: true, timeoutMs: left() / 2 })
    await Promise.race([this.pipeline?.settle(), new Promise((r) => setTimeout(r, left() / 3).unref())])
    await this.leases
      ?.drain()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not release the buckets'))
    this.leases?.stop()
    await this.notifier?.stop({ flush: true, timeoutMs: Math.min(10_000, left() / 2) })
    await this.recorder?.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'could not flush history'))
    this.maintenance?.stop()
    if (this.healthTimer) clearInterval(this.healthTimer)
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    if (this.sizingTimer) clearInterval(this.sizingTimer)
    this.state = 'stopped'
    await this.writeHealth().catch(() => {})
    await this.delivery
      ?.stop(Math.min(15_000, left() / 2))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not stop the delivery workers cleanly'))
    await this.deliveryDatabase?.close()
    await this.dashboard?.close().catch(() => {})
    await this.ops?.close()
    await this.alerts?.close().catch(() => {})
    await this.database?.close()
    this.logger.info('stopped')
  }

  /** Applies a new, valid configuration: intervals, thresholds, verifliers and limits. */
  reload(config: Jetmon2Config): void {
    this.config = config
    this.scheduler?.setMaxInFlight(config.MAX_IN_FLIGHT === 'auto' ? this.autoInFlight() : config.MAX_IN_FLIGHT)
    this.pipeline?.updateSettings(pipelineSettings(config))
    this.source?.setDefaults({
      timeoutMs: config.CHECK_TIMEOUT_MS,
      tlsExpiryWarnDays: config.TLS_EXPIRY_WARN_DAYS,
      alertCooldownMinutes: config.ALERT_COOLDOWN_MINUTES,
    })
    this.logger.info('configuration reloaded')
  }
}

function pipelineSettings(config: Jetmon2Config) {
  return {
    hostId: config.HOST_ID,
    numOfChecks: config.NUM_OF_CHECKS,
    retryIntervalMs: config.RETRY_INTERVAL_SEC * 1000,
    failedCheckIntervalMs: config.FAILED_CHECK_INTERVAL_SEC * 1000,
    flapWindowMs: config.FLAP_WINDOW_SEC * 1000,
    veriflierCount: config.VERIFLIERS.length,
    quorum: quorumOf(config.VERIFLIERS.length, config.VERIFLIER_QUORUM),
    projection: config.LEGACY_STATUS_PROJECTION_ENABLE,
  }
}

/** A bind address as it goes in a URL: the wildcard becomes loopback, IPv6 gets brackets. */
function hostForUrl(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1'
  if (bind === '::') return '[::1]'
  return bind.includes(':') ? `[${bind}]` : bind
}

function describeRanges(ranges: readonly BucketRange[]): string {
  return ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}–${r.max}`)).join(', ')
}
