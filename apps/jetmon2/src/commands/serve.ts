import { createDatabase, recordAudit } from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import { Registry } from 'prom-client'
import { configArg, loadCommandConfig } from '../command-config.js'
import { loadJetmon2Config } from '../config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'
import { MonitorService } from '../monitor/service.js'
import { limitHeapGrowth, relaunchTuned } from '../runtime.js'
import { plannedProcesses, SupervisedRegistry, Supervisor, workerChannel } from '../supervisor.js'

export default defineCommand({
  meta: {
    name: 'serve',
    description:
      'Run the monitor: scheduler, checks, confirmation, WPCOM notices, ops endpoints (SIGTERM drains, SIGHUP reloads); one checking process per core (MONITOR_PROCESSES)',
  },
  args: configArg,
  async run({ args }) {
    // A checking process holds its fleet in memory: the runtime settings that keep its heap near its
    // live data (re-executes this process once with them, before it opens anything).
    relaunchTuned()
    limitHeapGrowth()
    const config = loadCommandConfig(args)
    // Forked by a supervisor: this process only checks its own share of the host's buckets.
    const worker = workerChannel()
    const logger = createLogger({
      level: config.LOG_LEVEL,
      ...(config.LOG_FORMAT ? { format: config.LOG_FORMAT } : {}),
      name: 'jetmon2',
      base: { host: config.HOST_ID, ...(worker ? { worker: worker.index } : {}) },
    })
    const database = resolveDatabase(config)
    const plan = worker ? { count: 1, reason: 'a worker' } : plannedProcesses(config)
    if (!worker && plan.count === 1 && config.MONITOR_PROCESSES !== 1 && plan.reason.startsWith('one:'))
      logger.info({ reason: plan.reason }, 'checking in one process')
    const supervisor =
      plan.count > 1 ? new Supervisor({ config, databaseUrl: database.url, count: plan.count, logger }) : null
    const registry = supervisor ? new SupervisedRegistry(() => supervisor.collectMetrics()) : new Registry()
    // Several processes: every series says which one it comes from.
    if (supervisor) registry.setDefaultLabels({ worker: '1' })
    if (worker) registry.setDefaultLabels({ worker: String(worker.index) })
    const service = new MonitorService({
      config,
      databaseUrl: database.url,
      logger,
      registry,
      ...(supervisor ? { workers: { list: () => supervisor.workers(), describe: () => supervisor.describe() } } : {}),
    })
    try {
      if (supervisor) {
        // Every process of the host takes its lease before any checks: each starts with its own share.
        await supervisor.reserveSeats()
        supervisor.start()
      }
      await service.start()
      await supervisor?.releaseSeat(config.HOST_ID)
    } catch (error) {
      await Promise.all([service.drain(5_000).catch(() => {}), supervisor?.stop(5_000)])
      throw new CommandError(`the monitor could not start: ${(error as Error).message}`, { cause: error })
    }
    if (service.opsPort) logger.info({ port: service.opsPort }, 'ops endpoints: /healthz /readyz /metrics')
    worker?.ready(registry)

    process.on('SIGHUP', () => {
      const next = loadJetmon2Config(args.config ? { file: args.config } : {})
      if (!next.ok) {
        logger.error({ issues: next.issues }, 'configuration reload rejected: the old configuration stays')
        return
      }
      service.reload(next.config)
      supervisor?.reload()
      if (worker) return // the supervisor records the reload once for the host
      const { db, close } = createDatabase(database.url, { connectionLimit: 1 })
      void recordAudit({
        ctx: { db },
        entry: {
          eventType: 'config_reload',
          source: `monitor:${config.HOST_ID}`,
          detail: 'SIGHUP: configuration reloaded',
        },
      })
        .catch(() => {})
        .finally(() => close())
    })
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
      void worker?.drained.then(resolve)
    })
    logger.info({ signal }, 'draining on signal')
    await Promise.all([service.drain(30_000), supervisor?.stop(30_000)])
  },
})
