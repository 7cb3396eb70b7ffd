/**
 * `jetmon2 deliver`: webhook and alert-contact delivery alone — both dispatchers and both workers
 * (@jetmon/delivery), for hosts that deliver without monitoring (`jetmon2 serve` is to start the
 * same in-process when DELIVERY_WORKERS_ENABLE is true). Any number of processes may deliver at once.
 */
import { createDatabase, type Database, type Db, migrationStatus, writeProcessHealth } from '@jetmon/db'
import { createLogger, type Logger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { parseInteger } from '../_args.js'
import { configArg, loadCommandConfig } from '../command-config.js'
import type { Jetmon2Config } from '../config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'
import { alertingFromConfig, startDeliveryWorkers } from '../monitor/delivery.js'
import { databaseReadiness, startOpsServer } from '../monitor/ops.js'
import { VERSION } from '../version.js'

/** How long a stop waits for sends in flight (a send takes at most 10 s). */
const STOP_TIMEOUT_MS = 15_000

/** The deliverer's pool, refused (and closed) while the database is unreachable or migrations are pending. */
async function openDatabase(resolved: { url: string; display: string }): Promise<Database> {
  const database = createDatabase(resolved.url, { connectionLimit: 10 })
  try {
    const status = await migrationStatus(database.pool)
    if (status.pending.length > 0) {
      throw new CommandError(
        `the database has ${status.pending.length} pending migration(s): run jetmon2 migrate first`,
      )
    }
  } catch (error) {
    await database.close()
    if (error instanceof CommandError) throw error
    throw new CommandError(`cannot reach the database at ${resolved.display}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return database
}

/** `/healthz`, `/readyz` (the database answers) and `/metrics` on `--ops-port`, or nothing when it is 0. */
async function startDelivererOps(input: {
  config: Jetmon2Config
  port: number
  database: Database
  registry: Registry
  logger: Logger
}) {
  if (input.port === 0) return null
  const { database, logger } = input
  const ops = await startOpsServer({
    bind: input.config.DASHBOARD_BIND,
    port: input.port,
    registry: input.registry,
    readiness: async () => {
      const state = await databaseReadiness(database.pool, logger)
      return { ok: state === 'ok', checks: { database: state } }
    },
  })
  logger.info({ port: ops.port }, 'ops endpoints: /healthz /readyz /metrics')
  return ops
}

/** One jetmon_process_health row, so that `jetmon2 status` lists this process; written every 5 s while running. */
function delivererHealth(input: { config: Jetmon2Config; db: Db; delivery: ReturnType<typeof startDeliveryWorkers> }) {
  const { config, db, delivery } = input
  const startedAt = new Date()
  const processId = `${config.HOST_ID}:deliverer`
  const write = async (state: 'running' | 'draining' | 'stopped') => {
    const stats = delivery.stats()
    const row = {
      processId,
      hostId: config.HOST_ID,
      role: 'deliverer' as const,
      pid: process.pid,
      version: VERSION,
      state,
      health: state === 'running' ? ('green' as const) : ('amber' as const),
      stats: {
        in_flight: stats.workers.reduce((sum, worker) => sum + worker.inFlight, 0),
        delivered: stats.workers.reduce((sum, worker) => sum + worker.delivered, 0),
        retried: stats.workers.reduce((sum, worker) => sum + worker.retried, 0),
        abandoned: stats.workers.reduce((sum, worker) => sum + worker.abandoned, 0),
        enqueued: stats.dispatchers.reduce((sum, dispatcher) => sum + dispatcher.pending, 0),
        rss: process.memoryUsage().rss,
      },
      startedAt,
      updatedAt: new Date(),
    }
    await writeProcessHealth({ ctx: { db }, report: row })
  }
  let timer: NodeJS.Timeout | null = null
  return {
    async start() {
      await write('running').catch(() => {})
      timer = setInterval(() => void write('running').catch(() => {}), 5_000)
      timer.unref()
    },
    /** Stops the periodic write; `draining` and `stopped` are written as the stop goes. */
    write: (state: 'draining' | 'stopped') => {
      if (timer) clearInterval(timer)
      return write(state).catch(() => {})
    },
  }
}

export default defineCommand({
  meta: {
    name: 'deliver',
    description:
      'Run webhook and alert-contact delivery only: turn new event transitions into deliveries and send them (SIGTERM/SIGINT stop it)',
  },
  args: {
    'ops-port': {
      type: 'string',
      valueHint: 'PORT',
      description: 'Serve /healthz, /readyz and /metrics on this port, on DASHBOARD_BIND (default: off)',
    },
    ...configArg,
  },
  async run({ args }) {
    const config = loadCommandConfig(args)
    const opsPort =
      args['ops-port'] === undefined ? 0 : parseInteger('--ops-port', args['ops-port'], { min: 1, max: 65_535 })
    const logger = createLogger({
      level: config.LOG_LEVEL,
      ...(config.LOG_FORMAT ? { format: config.LOG_FORMAT } : {}),
      name: 'jetmon2',
      base: { host: config.HOST_ID, role: 'deliverer' },
    })
    const resolved = resolveDatabase(config)
    const database = await openDatabase(resolved)
    const alerting = alertingFromConfig(config, logger)
    const { alertSender, secretsKey } = alerting
    const registry = new Registry()
    collectDefaultMetrics({ register: registry, prefix: 'jetmon_process_' })
    const delivery = startDeliveryWorkers({ config, db: database.db, logger, registry, alerting })
    const ops = await startDelivererOps({ config, port: opsPort, database, registry, logger })
    const health = delivererHealth({ config, db: database.db, delivery })
    await health.start()
    logger.info(
      { database: resolved.display, emailTransport: alertSender.emailTransport, encryptedSecrets: secretsKey !== null },
      'delivering webhooks and alerts',
    )

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    logger.info({ signal }, `stopping: finishing the sends in flight (up to ${STOP_TIMEOUT_MS / 1_000} s)`)
    await health.write('draining')
    await delivery.stop(STOP_TIMEOUT_MS)
    await health.write('stopped')
    await ops?.close()
    await alertSender.close()
    await database.close()
    logger.info(delivery.stats(), 'stopped')
  },
})
