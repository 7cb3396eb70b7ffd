import { createDatabase, listProcessHealth } from '@jetmon/db'
import { defineCommand } from 'citty'
import { configArg, loadCommandConfig } from '../command-config.js'
import { resolveDatabase } from '../database.js'
import { CommandError, EXIT } from '../errors.js'
import { type MonitorCommand, monitorMismatch, readProcessIdentity } from '../process-health.js'

async function processes(configPath: string | undefined) {
  const config = loadCommandConfig({ config: configPath })
  const { db, close } = createDatabase(resolveDatabase(config).url, { connectionLimit: 1 })
  try {
    const rows = await listProcessHealth({ ctx: { db } })
    return { config, rows }
  } finally {
    await close()
  }
}

/** `jetmon2 status`: every jetmon process that reports to this database, with its health. */
export const status = defineCommand({
  meta: { name: 'status', description: "Show the running services' state (from their health rows)" },
  args: { ...configArg, json: { type: 'boolean', description: 'Print JSON' } },
  async run({ args }) {
    const { rows } = await processes(args.config)
    const now = Date.now()
    const view = rows.map((r) => ({
      process: r.processId,
      state: r.state,
      health: r.health,
      pid: r.pid,
      version: r.version ?? '',
      seen: `${Math.round((now - r.updatedAt.getTime()) / 1000)} s ago`,
      stats: r.stats ?? {},
    }))
    if (args.json) {
      process.stdout.write(`${JSON.stringify(view)}\n`)
      return
    }
    if (!view.length) {
      process.stdout.write('No jetmon process has reported to this database.\n')
      return
    }
    const columns = ['process', 'state', 'health', 'pid', 'version', 'seen'] as const
    const width = Object.fromEntries(
      columns.map((c) => [c, Math.max(c.length, ...view.map((v) => String(v[c]).length))]),
    )
    process.stdout.write(`${columns.map((c) => c.toUpperCase().padEnd(width[c] ?? 0)).join('  ')}  STATS\n`)
    for (const v of view) {
      const stats = Object.entries(v.stats)
        .map(([k, value]) => `${k}=${value}`)
        .join(' ')
      process.stdout.write(`${columns.map((c) => String(v[c]).padEnd(width[c] ?? 0)).join('  ')}  ${stats}\n`)
    }
  },
})

/**
 * Sends a signal to this host's running monitor, found through its health row. The pid is signalled
 * only when it is still that monitor: a jetmon2 process that started when the row says. A row left
 * by a monitor that died may name a pid that now belongs to something else.
 */
function signalCommand(
  name: 'drain' | 'reload',
  signal: NodeJS.Signals,
  description: string,
  commands: readonly MonitorCommand[],
) {
  return defineCommand({
    meta: { name, description },
    args: configArg,
    async run({ args }) {
      const { config, rows } = await processes(args.config)
      const mine = rows.find((r) => r.processId === `${config.HOST_ID}:monitor` && r.state !== 'stopped')
      if (!mine) throw new CommandError(`no running monitor of host ${config.HOST_ID} has reported to this database`)
      const mismatch = monitorMismatch(mine, readProcessIdentity(mine.pid), commands)
      if (mismatch)
        throw new CommandError(
          `not sending ${signal}: ${mismatch}. The health row of ${mine.processId} (state ${mine.state}, last ` +
            `seen ${mine.updatedAt.toISOString()}) is stale, or the monitor runs on another machine; ` +
            `see jetmon2 status, and run ${name} on the machine that runs the monitor.`,
          { exitCode: EXIT.failure },
        )
      try {
        process.kill(mine.pid, signal)
      } catch (error) {
        throw new CommandError(`could not signal pid ${mine.pid}: ${(error as Error).message}`)
      }
      process.stdout.write(`sent ${signal} to the monitor (pid ${mine.pid})\n`)
    },
  })
}

export const drain = signalCommand('drain', 'SIGTERM', 'Drain and stop the monitor running on this host', [
  'serve',
  'demo',
])
// Only `jetmon2 serve` re-reads its configuration on SIGHUP; the demo has none to re-read.
export const reload = signalCommand('reload', 'SIGHUP', 'Make the monitor on this host re-read its configuration', [
  'serve',
])
