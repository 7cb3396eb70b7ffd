import { createLogger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import { configArg, loadCommandConfig } from '../_command-config.js'
import { checkerFromConfig } from '../checker.js'
import { describeConfig } from '../config.js'
import { CheckerSetupError, CommandError, EXIT, TlsSetupError } from '../errors.js'
import { createVeriflierServer } from '../server.js'
import { VERSION } from '../version.js'

/** Resolves with the first of SIGTERM/SIGINT; a second one ends the process at once. */
function firstSignal(onSecond: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false
    const handler = (signal: NodeJS.Signals) => {
      if (received) onSecond(signal)
      received = true
      resolve(signal)
    }
    process.on('SIGTERM', handler)
    process.on('SIGINT', handler)
  })
}

export default defineCommand({
  meta: {
    name: 'serve',
    description: 'Run the veriflier service; SIGTERM or SIGINT stops it after running checks are answered',
  },
  args: configArg,
  async run({ args }) {
    const config = loadCommandConfig(args)
    const logger = createLogger({
      level: config.LOG_LEVEL,
      ...(config.LOG_FORMAT !== undefined && { format: config.LOG_FORMAT }),
      name: 'veriflier2',
      base: { veriflier: config.VERIFLIER_ID, region: config.VERIFLIER_REGION },
    })

    let checker: ReturnType<typeof checkerFromConfig>
    try {
      checker = checkerFromConfig(config, logger.child({ module: 'checker' }))
    } catch (error) {
      if (error instanceof CheckerSetupError) {
        throw new CommandError(
          `the configuration has 1 problem(s):\n${error.path ? `${error.path}: ` : ''}${error.message}`,
        )
      }
      throw error
    }
    let server: ReturnType<typeof createVeriflierServer>
    try {
      server = createVeriflierServer({ config, checker, logger: logger.child({ module: 'http' }) })
    } catch (error) {
      if (error instanceof TlsSetupError) {
        throw new CommandError(`the configuration has 1 problem(s):\n${error.path}: ${error.message}`)
      }
      throw error
    }
    const stop = firstSignal((signal) => {
      logger.warn({ signal }, 'second signal: exiting without waiting for running checks')
      process.exit(EXIT.failure)
    })

    let address: Awaited<ReturnType<typeof server.listen>>
    try {
      address = await server.listen()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const where = `${config.BIND}:${config.PORT}`
      const reason =
        code === 'EADDRINUSE'
          ? 'the port is already in use (another veriflier running?); stop it or choose another PORT'
          : code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges); choose a PORT of 1024 or above'
            : code === 'EADDRNOTAVAIL'
              ? 'this machine has no such address; check BIND'
              : (error as Error).message
      throw new CommandError(`cannot listen on ${where}: ${reason}`, { cause: error })
    }
    logger.info(
      {
        version: VERSION,
        address: address.host,
        port: address.port,
        url: address.url,
        tls: address.tls,
        max_concurrency: config.MAX_CONCURRENCY,
        tokens: config.VERIFLIER_TOKENS.length,
        config: describeConfig(config),
      },
      `listening on ${address.url}`,
    )

    const signal = await stop
    logger.info({ signal, in_flight: server.inFlight }, 'stopping: no new connections, answering running checks')
    const { drained } = await server.close()
    logger.info({ drained }, drained ? 'stopped' : 'stopped after the drain timeout; some checks were cut short')
  },
})
