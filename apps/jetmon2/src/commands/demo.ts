import { relative } from 'node:path'
import { createDatabase, migrate, startEmbeddedMariadb } from '@jetmon/db'
import { defineCommand } from 'citty'
import { embeddedDataDir } from '../database.js'
import { CommandError } from '../errors.js'

/** Resolves on the first Ctrl-C or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve(signal)
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

export default defineCommand({
  meta: {
    name: 'demo',
    description: 'Start a local, self-contained Jetmon to look at and poke; Ctrl-C stops everything',
  },
  args: {
    dir: {
      type: 'string',
      description: 'Data folder of the embedded MariaDB (default: JETMON_DATA_DIR or .jetmon/mariadb)',
    },
  },
  async run({ args }) {
    const dir = args.dir ? embeddedDataDir({ JETMON_DATA_DIR: args.dir }) : embeddedDataDir()
    const say = (line: string) => process.stdout.write(`${line}\n`)
    say('Starting the Jetmon 2 demo …')
    const started = Date.now()
    const server = await startEmbeddedMariadb({ dir, mode: 'attached' }).catch((error: Error) => {
      throw new CommandError(error.message, { cause: error })
    })
    const database = createDatabase(server.url, { connectionLimit: 4 })
    try {
      const { applied } = await migrate(database.pool)
      say(
        `  ✓ MariaDB ${server.reused ? '(already running) ' : ''}on 127.0.0.1:${server.port}, data in ${relative(process.cwd(), dir) || dir}`,
      )
      say(`  ✓ schema migrated${applied.length ? ` (${applied.join(', ')})` : ' (already up to date)'}`)
      say(`  ready in ${Date.now() - started} ms\n`)
      say('What is running')
      say(`  database   mariadb --socket=${server.socketPath} -u root jetmon`)
      say('             (try: SHOW TABLES; SELECT * FROM jetmon_schema_migrations;)')
      say('  URL        jetmon2 db url --dir ' + dir)
      say('\nThe monitor, API and dashboard join this demo as they land. Press Ctrl-C to stop.')
      const signal = await untilSignal()
      say(`\n${signal} received: stopping …`)
    } finally {
      await database.close()
      await server.stop()
    }
    say(
      server.reused
        ? 'Stopped (the database started by `jetmon2 db start` keeps running).'
        : 'Stopped. Nothing is left running.',
    )
  },
})
