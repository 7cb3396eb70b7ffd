import { createDatabase, processHealth } from '@jetmon/db'
import { defineCommand } from 'citty'
import { asc } from 'drizzle-orm'
import { configArg, loadCommandConfig } from '../command-config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'

async function processes(configPath: string | undefined) {
  const config = loadCommandConfig({ config: configPath })
  const { db, close } = createDatabase(resolveDatabase(config).url, { connectionLimit: 1 })
  try {
    const rows = await db.select().from(processHealth).orderBy(asc(processHealth.processId))
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

/** Sends a signal to this host's running monitor (found through its health row). */
function signalCommand(name: 'drain' | 'reload', signal: NodeJS.Signals, description: string) {
  return defineCommand({
    meta: { name, description },
    args: configArg,
    async run({ args }) {
      const { config, rows } = await processes(args.config)
      const mine = rows.find((r) => r.processId === `${config.HOST_ID}:monitor` && r.state !== 'stopped')
      if (!mine) throw new CommandError(`no running monitor of host ${config.HOST_ID} has reported to this database`)
      try {
        process.kill(mine.pid, signal)
      } catch (error) {
        throw new CommandError(
          `could not signal pid ${mine.pid}: ${(error as Error).message} (is it running on this machine?)`,
        )
      }
      process.stdout.write(`sent ${signal} to the monitor (pid ${mine.pid})\n`)
    },
  })
}

export const drain = signalCommand('drain', 'SIGTERM', 'Drain and stop the monitor running on this host')
export const reload = signalCommand('reload', 'SIGHUP', 'Make the monitor on this host re-read its configuration')
