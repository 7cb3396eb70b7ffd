import { readFileSync } from 'node:fs'
import { createDatabase, type Database, migrationStatus, withNamedLock, writeProcessHealth } from '@jetmon/db'
import { pruneHistory, pruneRollups } from '@jetmon/history'
import type { Logger } from '@jetmon/logging'
import { pruneWpcomOutbox, WPCOM_OUTBOX_RETENTION_DAYS } from '@jetmon/monitor'
import { Registry } from 'prom-client'
import type { Jetmon2Config } from '../config.js'
import { VERSION } from '../version.js'
import {
  buildChecker,
  type Checking,
  describeRanges,
  type MonitorPartDeps,
  startChecking,
  startMaintenance,
  startNotifier,
  startRecorder,
} from './checking.js'
import { alertingFromConfig, startInProcessDelivery } from './delivery.js'
import { type MetricSources, registerMonitorMetrics } from './metrics.js'
import { databaseReadiness, type Readiness } from './ops.js'
import { type MonitorPressure, startPressure } from './pressure.js'
import type { Running } from './running.js'
import { startObjectiveEvaluator } from './slo.js'
import { dashboardUrlOf, startApi, startOpsAndDashboard } from './web.js'

export interface MonitorServiceOptions {
  config: Jetmon2Config
  databaseUrl: string
  logger: Logger
  /** The metrics registry `/metrics` serves (a supervisor's merges its workers' in); a new one by default. */
  registry?: Registry
  /** The checking processes of this host when `serve` runs several: shown by `/readyz` and the health row. */
  workers?: { list(): unknown[]; describe(): string }
}

/** How often this process's `jetmon_process_health` row is written. */
const HEALTH_EVERY_MS = 5_000
/** Retention runs hourly, the first time a minute after start. */
const PRUNE_EVERY_MS = 3_600_000
const FIRST_PRUNE_AFTER_MS = 60_000

/**
 * `jetmon2 serve`: the composition root of a monitor host. `start` runs one builder per part — the
 * database, the alert sender, the ops endpoints and dashboard, the delivery workers, the health
 * row, the maintenance cache, the history writer, the WordPress.com notifier, the checking loop
 * (leases, endpoints, scheduler, confirmation pipeline), the REST API, retention and the service
 * level objective evaluator — and keeps
 * what each returns; `drain` stops them in reverse order.
 */
export class MonitorService {
  /** What the builders returned, in start order. */
  private readonly running: Running[] = []
  private database: Database | null = null
  private checking: Checking | null = null
  private pressure: MonitorPressure | null = null
  private api: Awaited<ReturnType<typeof startApi>> | null = null
  private opsServer: { port: number } | null = null
  private readonly sources: MetricSources = {}
  private readonly registry: Registry
  private state: 'starting' | 'running' | 'draining' | 'stopped' = 'starting'
  private readonly startedAt = new Date()
  private config: Jetmon2Config
  private readonly logger: Logger

  constructor(private readonly options: MonitorServiceOptions) {
    this.config = options.config
    this.logger = options.logger
    this.registry = options.registry ?? new Registry()
  }

  /** The REST API's base URL (`http://host:port/api/v1`), or null when `API_PORT` is 0. */
  get apiUrl(): string | null {
    return this.api?.server.url ?? null
  }

  /** The port the ops server listens on (0 when off). */
  get opsPort(): number {
    return this.opsServer?.port ?? 0
  }

  async start(): Promise<void> {
    const config = this.config
    const log = this.logger
    const database = await this.startDatabase()
    const deps: MonitorPartDeps = { db: database.db, config: () => this.config, logger: log }
    const metrics = registerMonitorMetrics(this.registry, () => this.sources)
    const pressure = this.keep(
      startPressure({ config: () => this.config, registry: this.registry, logger: log.child({ module: 'pressure' }) }),
    )
    this.pressure = pressure
    const ca = config.CA_FILE ? [readFileSync(config.CA_FILE, 'utf8')] : undefined

    const dashboardUrl = dashboardUrlOf(config)
    const alerting = alertingFromConfig(config, log, { dashboardUrl })
    this.running.push({ name: 'alert sender', stop: () => alerting.alertSender.close().catch(() => {}) })
    if (config.DASHBOARD_PORT !== 0) {
      this.opsServer = this.keep(
        await startOpsAndDashboard({
          ...deps,
          ca,
          registry: this.registry,
          readiness: () => this.readiness(),
          notifier: () => this.sources.notifier,
        }),
      )
    }
    if (config.DELIVERY_WORKERS_ENABLE) {
      this.keep(
        startInProcessDelivery({
          config,
          databaseUrl: this.options.databaseUrl,
          logger: log,
          registry: this.registry,
          alerting,
        }),
      )
    }
    this.keep(this.startHealthRow())

    const { cache: maintenance } = this.keep(await startMaintenance(deps))
    const { recorder } = this.keep(startRecorder(deps))
    this.sources.recorder = recorder
    const { notifier } = this.keep(startNotifier(deps))
    this.sources.notifier = notifier
    const { check, guarded } = buildChecker({ ...deps, ca })
    const checking = this.keep(
      await startChecking({
        ...deps,
        check,
        guarded,
        ca,
        metrics,
        recorder,
        notifier,
        maintenance,
        pressure: pressure.judge,
      }),
    )
    this.checking = checking
    pressure.watch(checking.scheduler)
    this.sources.scheduler = checking.scheduler
    this.sources.pipeline = checking.pipeline

    if (config.API_PORT !== 0) {
      this.api = this.keep(
        await startApi({
          ...deps,
          check,
          checking,
          alertSender: alerting.alertSender,
          secretsKey: alerting.secretsKey,
          dashboardUrl,
        }),
      )
    }
    this.keep(this.startRetention())
    if (config.SLO_EVALUATOR_ENABLE) this.keep(startObjectiveEvaluator({ ...deps, registry: this.registry, alerting }))
    this.state = 'running'
    await this.writeHealth()
    log.info(
      {
        host: config.HOST_ID,
        rolloutMode: config.ROLLOUT_MODE,
        ranges: describeRanges(checking.ranges),
        endpoints: checking.endpoints.size,
        verifliers: config.VERIFLIERS.length,
      },
      'monitor running',
    )
  }

  /** Keeps what a builder returned, for the drain to stop. */
  private keep<T extends Running>(part: T): T {
    this.running.push(part)
    return part
  }

  /** The monitor's pool, refused while migrations are pending; closed last. */
  private async startDatabase(): Promise<Database> {
    const database = createDatabase(this.options.databaseUrl, { connectionLimit: 20 })
    this.database = database
    this.running.push({ name: 'database', stop: () => database.close() })
    const status = await migrationStatus(database.pool)
    if (status.pending.length) {
      throw new Error(`the database has ${status.pending.length} pending migration(s): run jetmon2 migrate first`)
    }
    return database
  }

  /**
   * This process's `jetmon_process_health` row, every few seconds once running (and through the
   * drain); stopping it writes the final `stopped` row.
   */
  private startHealthRow(): Running {
    const timer = setInterval(() => {
      if (this.state !== 'starting') void this.writeHealth().catch(() => {})
    }, HEALTH_EVERY_MS)
    timer.unref()
    return {
      name: 'health row',
      stop: async () => {
        clearInterval(timer)
        this.state = 'stopped'
        await this.writeHealth().catch(() => {})
      },
    }
  }

  /** Retention: hourly, on one host at a time (a named lock), in bounded batches. */
  private startRetention(): Running {
    const timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS)
    timer.unref()
    setTimeout(() => void this.prune(), FIRST_PRUNE_AFTER_MS).unref()
    return { name: 'retention', stop: async () => clearInterval(timer) }
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

  private async readiness(): Promise<Readiness> {
    const checks: Record<string, string> = {}
    let ok = this.state === 'running'
    checks.state = this.state
    checks.database = this.database ? await databaseReadiness(this.database.pool, this.logger) : 'not connected'
    if (checks.database !== 'ok') ok = false
    const leases = this.checking?.leases
    const ranges = leases?.ranges ?? []
    const mode = this.checking?.mode ?? this.config.ROLLOUT_MODE
    checks.rollout_mode = mode
    checks.leases = ranges.length ? describeRanges(ranges) : noBucketsHeld(mode)
    // A standby host, or an api-controlled one with no range activated, holds its lease and is ready.
    if (leases?.state !== 'active') ok = false
    const workers = this.options.workers
    if (workers) checks.workers = workers.describe()
    const processes = workers ? { workers: workers.list() } : {}
    // Pressure is amber: still ready (the checks go on), but the failures it sees give no verdict.
    if (!this.pressure) return { ok, checks, ...processes }
    const status = this.pressure.judge.status()
    checks.pressure = this.pressure.describe()
    return {
      ok,
      checks,
      ...processes,
      pressure: {
        state: status.state,
        signals: status.signals,
        since: status.since?.toISOString() ?? null,
        last_ended_at: status.lastEndedAt?.toISOString() ?? null,
        suppressed: status.suppressed,
        reading: {
          dispatch_lag_p95_ms: status.reading.dispatchLagMs,
          event_loop_delay_ms: status.reading.eventLoopDelayMs,
          in_flight: status.reading.inFlight,
          max_in_flight: status.reading.maxInFlight,
        },
        bounds: {
          dispatch_lag_ms: status.bounds.dispatchLagMs,
          event_loop_delay_ms: status.bounds.eventLoopDelayMs,
          in_flight_at_cap: status.bounds.inFlightAtCap,
        },
      },
    }
  }

  private async writeHealth(): Promise<void> {
    if (!this.database) return
    const stats = this.checking?.scheduler.stats()
    const processId = `${this.config.HOST_ID}:monitor`
    const pressure = this.pressure?.judge.status()
    const row = {
      processId,
      hostId: this.config.HOST_ID,
      role: 'monitor' as const,
      pid: process.pid,
      version: VERSION,
      state: this.state,
      // Under pressure the monitor runs, but its timeouts give no verdict: amber.
      health: this.state === 'running' && pressure?.state !== 'amber' ? ('green' as const) : ('amber' as const),
      stats: {
        rollout_mode: this.checking?.mode ?? this.config.ROLLOUT_MODE,
        buckets: describeRanges(this.checking?.leases.ranges ?? []) || 'none',
        endpoints: stats?.endpoints ?? 0,
        in_flight: stats?.inFlight ?? 0,
        max_in_flight: stats?.maxInFlight ?? 0,
        checks_per_sec: this.checksPerSecond(stats?.completed ?? 0),
        due_backlog: stats?.dueBacklog ?? 0,
        lag_p95_ms: stats?.lagMs.p95 ?? 0,
        rss: process.memoryUsage().rss,
        pressure: pressure?.signals ?? [],
        pressure_suppressed: pressure?.suppressed ?? 0,
        ...(this.options.workers ? { processes: this.options.workers.describe() } : {}),
      },
      startedAt: this.startedAt,
      updatedAt: new Date(),
    }
    await writeProcessHealth({ ctx: { db: this.database.db }, report: row })
  }

  /**
   * Drain: stop what started, in reverse order, within `timeoutMs` (30 s by default). The API stops
   * taking requests; dispatching stops and in-flight checks and confirmation rounds finish; the
   * buckets are released at once; the notifier and the history writer flush; the final health row
   * is written; then the delivery workers, the ops server, the alert sender and the pool close.
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return
    this.state = 'draining'
    const deadline = Date.now() + timeoutMs
    const left = () => Math.max(1_000, deadline - Date.now())
    this.logger.info('draining')
    for (const part of this.running.splice(0).reverse()) {
      await part
        .stop(left)
        .catch((error: unknown) => this.logger.warn({ err: error, part: part.name }, 'could not stop cleanly'))
    }
    this.state = 'stopped'
    this.logger.info('stopped')
  }

  /** Applies a new, valid configuration: intervals, thresholds, verifliers and limits. */
  reload(config: Jetmon2Config): void {
    const before = this.config
    const restartKeys = [
      'ROLLOUT_MODE',
      'ROLLOUT_POLL_SEC',
      'PINNED_BUCKET_MIN',
      'PINNED_BUCKET_MAX',
      'MONITOR_PROCESSES',
    ] as const
    for (const key of restartKeys) {
      if (config[key] !== before[key]) {
        this.logger.warn(
          { key, running: before[key], file: config[key] },
          `${key} changed in the configuration file: it applies at the next restart (jetmon2 drain, then start the service again); this process keeps its bucket ownership as it started`,
        )
      }
    }
    this.config = config
    this.checking?.reload(config)
    this.logger.info('configuration reloaded')
  }
}

/** What `/readyz` says when this host holds no bucket, by its rollout mode. */
function noBucketsHeld(mode: Jetmon2Config['ROLLOUT_MODE']): string {
  if (mode === 'standby') return 'none: standby checks nothing'
  if (mode === 'api-controlled') return 'none: no range activated for this host'
  return 'no buckets held'
}
