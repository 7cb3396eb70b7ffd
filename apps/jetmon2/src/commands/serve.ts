import { createDatabase, recordAudit } from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import { configArg, loadCommandConfig } from '../command-config.js'
import { loadJetmon2Config } from '../config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'
import { MonitorService } from '../monitor/service.js'

export default defineCommand({
  meta: {
    name: 'serve',
    description:
      'Run the monitor: scheduler, checks, confirmation, WPCOM notices, ops endpoints (SIGTERM drains, SIGHUP reloads)',
  },
  args: configArg,
  async run({ args }) {
    const config = loadCommandConfig(args)
    const logger = createLogger({
      level: config.LOG_LEVEL,
      ...(config.LOG_FORMAT ? { format: config.LOG_FORMAT } : {}),
      name: 'jetmon2',
      base: { host: config.HOST_ID },
    })
    const database = resolveDatabase(config)
    const service = new MonitorService({ config, databaseUrl: database.url, logger })
    try {
      await service.start()
    } catch (error) {
      await service.drain(5_000).catch(() => {})
      throw new CommandError(`the monitor could not start: ${(error as Error).message}`, { cause: error })
    }
    if (service.opsPort) logger.info({ port: service.opsPort }, 'ops endpoints: /healthz /readyz /metrics')

    process.on('SIGHUP', () => {
      const next = loadJetmon2Config(args.config ? { file: args.config } : {})
      if (!next.ok) {
        logger.error({ issues: next.issues }, 'configuration reload rejected: the old configuration stays')
        return
      }
      service.reload(next.config)
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
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    logger.info({ signal }, 'draining on signal')
    await service.drain(30_000)
  },
})
