import { redactDatabaseUrl, runningEmbeddedMariadb, startEmbeddedMariadb, stopEmbeddedMariadb } from '@jetmon/db'
import { defineCommand } from 'citty'
import { embeddedDataDir } from '../database.js'
import { CommandError } from '../errors.js'

const dirArg = {
  dir: {
    type: 'string',
    description: 'Data folder of the embedded server (default: JETMON_DATA_DIR or .jetmon/mariadb)',
  },
} as const

const dirOf = (args: { dir?: string }) =>
  args.dir ? embeddedDataDir({ JETMON_DATA_DIR: args.dir }) : embeddedDataDir()

const start = defineCommand({
  meta: { name: 'start', description: 'Start the embedded MariaDB in the background' },
  args: dirArg,
  async run({ args }) {
    const dir = dirOf(args)
    const server = await startEmbeddedMariadb({ dir, mode: 'detached' }).catch((error: Error) => {
      throw new CommandError(error.message, { cause: error })
    })
    const verb = server.reused ? 'is already running' : 'started'
    process.stdout.write(
      `Embedded MariaDB ${verb}: pid ${server.pid}, 127.0.0.1:${server.port}, data in ${dir}\n` +
        `  URL:   ${redactDatabaseUrl(server.url)}   (full URL: jetmon2 db url)\n` +
        '  Stop:  jetmon2 db stop\n',
    )
  },
})

const stop = defineCommand({
  meta: { name: 'stop', description: 'Stop the embedded MariaDB' },
  args: dirArg,
  async run({ args }) {
    const stopped = await stopEmbeddedMariadb(dirOf(args))
    process.stdout.write(stopped ? 'Embedded MariaDB stopped.\n' : 'Embedded MariaDB was not running.\n')
  },
})

const status = defineCommand({
  meta: { name: 'status', description: 'Say whether the embedded MariaDB is running (exit 1 when it is not)' },
  args: { ...dirArg, json: { type: 'boolean', description: 'Print JSON' } },
  async run({ args }) {
    const dir = dirOf(args)
    const running = runningEmbeddedMariadb(dir)
    if (args.json) {
      const body = running
        ? { running: true, pid: running.state.pid, port: running.state.port, dir, startedAt: running.state.startedAt }
        : { running: false, dir }
      process.stdout.write(`${JSON.stringify(body)}\n`)
    } else if (running) {
      process.stdout.write(
        `running   pid ${running.state.pid}   127.0.0.1:${running.state.port}   since ${running.state.startedAt}\n` +
          `data      ${dir}\nsocket    ${running.state.socketPath}\n`,
      )
    } else {
      process.stdout.write(`not running (data folder ${dir}); start it with: jetmon2 db start\n`)
    }
    if (!running) process.exitCode = 1
  },
})

const url = defineCommand({
  meta: {
    name: 'url',
    description: 'Print the connection URL of the running embedded MariaDB (it contains the password)',
  },
  args: dirArg,
  async run({ args }) {
    const dir = dirOf(args)
    const running = runningEmbeddedMariadb(dir)
    if (!running) throw new CommandError(`no embedded MariaDB is running in ${dir}; start it with: jetmon2 db start`)
    process.stdout.write(`${running.url}\n`)
  },
})

export default defineCommand({
  meta: { name: 'db', description: 'Manage the embedded MariaDB used by the demo and for local development' },
  subCommands: { start, stop, status, url },
})
