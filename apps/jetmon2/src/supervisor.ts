/**
 * `jetmon2 serve` on every core: the supervisor side. The process an operator starts checks a share
 * of the host's buckets itself and forks `MONITOR_PROCESSES - 1` more `jetmon2 serve` processes that
 * only check. Each holds a lease of its own (`HOST_ID/w2`, `HOST_ID/w3`, …), so the host's buckets
 * are split between them by the same leases that split them between hosts; the supervisor alone
 * serves the API, the dashboard and `/metrics` (with its workers' metrics merged in), runs the
 * delivery workers and the objective evaluator. A worker that dies is restarted with backoff and its
 * lease is expired at once, so that its buckets go to the others meanwhile. Why processes and not
 * threads: docs/adr/0018-every-core-through-leased-worker-processes.md.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { createDatabase } from '@jetmon/db'
import type { Logger } from '@jetmon/logging'
import { BucketLeases } from '@jetmon/scheduler'
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client'
import type { Jetmon2Config } from './config.js'
import { checkingProcessLaunch } from './runtime.js'
import { VERSION } from './version.js'

/** The environment variable that tells a forked `jetmon2 serve` it is worker number N (2…). */
export const WORKER_ENV = 'JETMON_WORKER'

/** How many checking processes `serve` runs with this configuration, and why. */
export function plannedProcesses(
  config: Pick<Jetmon2Config, 'MONITOR_PROCESSES' | 'ROLLOUT_MODE' | 'PINNED_BUCKET_MIN' | 'PINNED_BUCKET_MAX'>,
  cores = availableParallelism(),
): { count: number; reason: string } {
  const wanted = config.MONITOR_PROCESSES === 'auto' ? cores : config.MONITOR_PROCESSES
  const source = config.MONITOR_PROCESSES === 'auto' ? `one per core, ${cores} here` : `MONITOR_PROCESSES is ${wanted}`
  if (wanted > 1 && config.ROLLOUT_MODE !== 'active')
    return { count: 1, reason: `one: ROLLOUT_MODE ${config.ROLLOUT_MODE} owns its buckets by host` }
  if (wanted > 1 && config.PINNED_BUCKET_MIN !== undefined && config.PINNED_BUCKET_MAX !== undefined)
    return { count: 1, reason: 'one: a pinned host checks its range in one process' }
  return { count: wanted, reason: source }
}

/** The lease name of worker `index` (1 is the supervisor itself, which keeps `HOST_ID`). */
export function workerHostId(hostId: string, index: number): string {
  return index === 1 ? hostId : `${hostId.slice(0, 248)}/w${index}`
}

/** One worker as `/readyz`, the health row and `jetmon2 status` show it. */
export interface WorkerView {
  worker: number
  host_id: string
  pid: number | null
  state: 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped'
  restarts: number
  since: string
}

/** Messages between the supervisor and a worker, over the fork's IPC channel. */
type ToWorker = { type: 'metrics'; id: number } | { type: 'drain' }
type FromWorker =
  | { type: 'ready' }
  | { type: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }

/** Restart backoff: 1 s, doubling to 30 s; a worker that ran a minute starts the count again. */
const BACKOFF_MIN_MS = 1_000
const BACKOFF_MAX_MS = 30_000
const STABLE_AFTER_MS = 60_000
/** A worker that does not answer a metrics request within this is left out of that scrape. */
const METRICS_TIMEOUT_MS = 2_000

interface Slot {
  index: number
  hostId: string
  child: ChildProcess | null
  state: WorkerView['state']
  restarts: number
  failures: number
  since: Date
  startedAt: number
  timer: NodeJS.Timeout | undefined
  exited: Promise<void>
}

export interface SupervisorOptions {
  config: Jetmon2Config
  databaseUrl: string
  count: number
  logger: Logger
  /** Default: this process's entry point and arguments (`jetmon2 serve …`). */
  entry?: { module: string; args: string[] }
}

export class Supervisor {
  readonly #options: SupervisorOptions
  readonly #log: Logger
  readonly #slots: Slot[] = []
  readonly #pending = new Map<number, (metrics: MetricObjectWithValues<MetricValue<string>>[] | null) => void>()
  #nextId = 0
  #stopping = false
  readonly #startedAt = new Date()
  readonly #seats = new Map<string, BucketLeases>()
  #seatsDb: ReturnType<typeof createDatabase> | null = null

  constructor(options: SupervisorOptions) {
    this.#options = options
    this.#log = options.logger.child({ module: 'supervisor' })
    for (let index = 2; index <= options.count; index++) {
      this.#slots.push({
        index,
        hostId: workerHostId(options.config.HOST_ID, index),
        child: null,
        state: 'starting',
        restarts: 0,
        failures: 0,
        since: new Date(),
        startedAt: 0,
        timer: undefined,
        exited: Promise.resolve(),
      })
    }
  }

  /**
   * Takes a lease for every process of this host (the supervisor's own and each worker's) before
   * any of them checks, and keeps renewing each until its process has registered itself: each starts
   * with its final share, so no bucket is checked by two of them while the others join.
   */
  async reserveSeats(): Promise<void> {
    const { config, databaseUrl } = this.#options
    const database = createDatabase(databaseUrl, { connectionLimit: 2 })
    this.#seatsDb = database
    for (let index = 1; index <= this.#options.count; index++) {
      const hostId = workerHostId(config.HOST_ID, index)
      const seat = new BucketLeases({
        db: database.db,
        hostId,
        version: VERSION,
        bucketTotal: config.BUCKET_TOTAL,
        leaseMs: config.BUCKET_LEASE_SEC * 1000,
      })
      this.#seats.set(hostId, seat)
      await seat.start()
    }
  }

  /** The process holding lease `hostId` has registered (or is gone): its seat is no longer kept. */
  async releaseSeat(hostId: string): Promise<void> {
    this.#seats.get(hostId)?.stop()
    this.#seats.delete(hostId)
    if (this.#seats.size === 0 && this.#seatsDb) {
      const database = this.#seatsDb
      this.#seatsDb = null
      await database.close().catch(() => {})
    }
  }

  /** Forks every worker. */
  start(): void {
    for (const slot of this.#slots) this.#fork(slot)
    this.#log.info(
      { processes: this.#options.count, workers: this.#slots.map((s) => s.hostId) },
      'checking on every core: the host’s buckets are shared by this process and its workers',
    )
  }

  /** This process and its workers, for `/readyz` and the health row. */
  workers(): WorkerView[] {
    const self: WorkerView = {
      worker: 1,
      host_id: this.#options.config.HOST_ID,
      pid: process.pid,
      state: this.#stopping ? 'stopping' : 'running',
      restarts: 0,
      since: this.#startedAt.toISOString(),
    }
    return [
      self,
      ...this.#slots.map((slot) => ({
        worker: slot.index,
        host_id: slot.hostId,
        pid: slot.child?.pid ?? null,
        state: slot.state,
        restarts: slot.restarts,
        since: slot.since.toISOString(),
      })),
    ]
  }

  /** `N of M running` (the supervisor counted), for a person. */
  describe(): string {
    const running = this.#slots.filter((s) => s.state === 'running').length + 1
    return `${running} of ${this.#options.count} processes checking`
  }

  /** Each running worker's metrics, as prom-client JSON; a worker that does not answer is left out. */
  async collectMetrics(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    const answers = await Promise.all(
      this.#slots.map((slot) => {
        const child = slot.child
        if (!child?.connected || slot.state !== 'running') return null
        const id = ++this.#nextId
        return new Promise<MetricObjectWithValues<MetricValue<string>>[] | null>((resolve) => {
          const timer = setTimeout(() => {
            this.#pending.delete(id)
            resolve(null)
          }, METRICS_TIMEOUT_MS)
          this.#pending.set(id, (metrics) => {
            clearTimeout(timer)
            this.#pending.delete(id)
            resolve(metrics)
          })
          this.#send(child, { type: 'metrics', id })
        })
      }),
    )
    return answers.filter((a): a is MetricObjectWithValues<MetricValue<string>>[] => a !== null)
  }

  /** SIGHUP to every worker: each re-reads the configuration file as this process does. */
  reload(): void {
    for (const slot of this.#slots) slot.child?.kill('SIGHUP')
  }

  /** Drains every worker (each releases its lease) and waits for them, SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true
    for (const slot of this.#slots) {
      clearTimeout(slot.timer)
      if (slot.child && slot.child.exitCode === null && slot.child.signalCode === null) {
        slot.state = 'stopping'
        if (slot.child.connected) this.#send(slot.child, { type: 'drain' })
        else slot.child.kill('SIGTERM')
      } else slot.state = 'stopped'
    }
    await this.releaseSeat(this.#options.config.HOST_ID)
    const all = Promise.all(this.#slots.map((slot) => slot.exited))
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs)
    })
    if ((await Promise.race([all, late])) === 'late') {
      this.#log.warn('workers did not stop in time: killing them')
      for (const slot of this.#slots) slot.child?.kill('SIGKILL')
      await all
    }
    clearTimeout(timer)
  }

  #send(child: ChildProcess, message: ToWorker): void {
    try {
      child.send(message)
    } catch {
      // The channel closed: the exit handler takes it from here.
    }
  }

  #fork(slot: Slot): void {
    const { config } = this.#options
    const entry = this.#options.entry ?? { module: process.argv[1] ?? '', args: process.argv.slice(2) }
    // A worker starts with the runtime settings of a checking process (src/runtime.ts), as `serve` did.
    const launch = checkingProcessLaunch(process.execArgv, process.env)
    const child = fork(entry.module, entry.args, {
      execArgv: launch.execArgv,
      env: {
        ...launch.env,
        [WORKER_ENV]: String(slot.index),
        HOST_ID: slot.hostId,
        MONITOR_PROCESSES: '1',
        API_PORT: '0',
        DASHBOARD_PORT: '0',
        DELIVERY_WORKERS_ENABLE: 'false',
        SLO_EVALUATOR_ENABLE: 'false',
        BUCKET_TOTAL: String(config.BUCKET_TOTAL),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    slot.child = child
    slot.state = 'starting'
    slot.since = new Date()
    slot.startedAt = Date.now()
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        void this.releaseSeat(slot.hostId)
        slot.state = 'running'
        slot.since = new Date()
        this.#log.info({ worker: slot.index, hostId: slot.hostId, pid: child.pid }, 'worker checking')
      } else if (message.type === 'metrics') this.#pending.get(message.id)?.(message.metrics)
    })
    slot.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        slot.child = null
        void this.releaseSeat(slot.hostId).finally(resolve)
        if (this.#stopping) {
          slot.state = 'stopped'
          slot.since = new Date()
          return
        }
        void this.#restart(slot, code, signal)
      })
    })
  }

  async #restart(slot: Slot, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    slot.failures = Date.now() - slot.startedAt >= STABLE_AFTER_MS ? 1 : slot.failures + 1
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (slot.failures - 1))
    slot.state = 'restarting'
    slot.since = new Date()
    this.#log.error(
      { worker: slot.index, hostId: slot.hostId, code, signal, restartInMs: delayMs },
      'a worker exited: its buckets go to the other processes until it is restarted',
    )
    await this.#expireLease(slot.hostId).catch((error: unknown) =>
      this.#log.warn({ err: error, hostId: slot.hostId }, 'could not expire the lease of the exited worker'),
    )
    if (this.#stopping) return
    slot.timer = setTimeout(() => {
      if (this.#stopping) return
      slot.restarts++
      this.#fork(slot)
    }, delayMs)
  }

  /** The dead worker checks nothing: its lease ends now, and the others take its buckets at their next renewal. */
  async #expireLease(hostId: string): Promise<void> {
    const { config, databaseUrl } = this.#options
    const { db, close } = createDatabase(databaseUrl, { connectionLimit: 1 })
    try {
      await new BucketLeases({ db, hostId, version: VERSION, bucketTotal: config.BUCKET_TOTAL }).drain()
    } finally {
      await close()
    }
  }
}

/** A registry whose `/metrics` text adds the workers' metrics (each series keeps its `worker` label). */
export class SupervisedRegistry extends Registry {
  constructor(private readonly others: () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>) {
    super()
  }

  override async metrics(): Promise<string> {
    const [own, others] = await Promise.all([this.getMetricsAsJSON(), this.others()])
    return AggregatorRegistry.aggregate([own, ...others]).metrics()
  }
}

/**
 * The worker side: when this process was forked by a supervisor, answers its metrics requests and
 * tells it when checking started; `drained` resolves when the supervisor asks for a drain or goes
 * away (a worker never outlives its supervisor). Null when this process is not a worker.
 */
export function workerChannel(): {
  index: number
  ready(registry: Registry): void
  drained: Promise<'drain' | 'supervisor gone'>
} | null {
  const index = Number(process.env[WORKER_ENV])
  if (!Number.isInteger(index) || index < 2 || typeof process.send !== 'function') return null
  let registry: Registry | null = null
  const drained = new Promise<'drain' | 'supervisor gone'>((resolve) => {
    process.on('message', (message: ToWorker) => {
      if (message.type === 'drain') resolve('drain')
      else if (message.type === 'metrics') {
        void (registry?.getMetricsAsJSON() ?? Promise.resolve([])).then(
          (metrics) => process.send?.({ type: 'metrics', id: message.id, metrics } satisfies FromWorker),
          () => process.send?.({ type: 'metrics', id: message.id, metrics: [] } satisfies FromWorker),
        )
      }
    })
    process.once('disconnect', () => resolve('supervisor gone'))
  })
  return {
    index,
    ready(r) {
      registry = r
      process.send?.({ type: 'ready' } satisfies FromWorker)
    },
    drained,
  }
}
