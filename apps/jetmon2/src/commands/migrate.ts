import { createDatabase, loadMigrations, migrate, migrationStatus } from '@jetmon/db'
import { defineCommand } from 'citty'
import { configArg, loadCommandConfig } from '../command-config.js'
import { resolveDatabase } from '../database.js'
import { CommandError } from '../errors.js'

export default defineCommand({
  meta: { name: 'migrate', description: 'Apply the pending database migrations (safe to run again)' },
  args: {
    ...configArg,
    status: { type: 'boolean', description: 'Only list applied and pending migrations; change nothing' },
  },
  async run({ args }) {
    const config = loadCommandConfig(args)
    const target = resolveDatabase(config)
    process.stdout.write(`database  ${target.display}\n`)
    const { pool, close } = createDatabase(target.url, { connectionLimit: 2 })
    try {
      if (args.status) {
        const status = await migrationStatus(pool)
        for (const m of status.applied) process.stdout.write(`applied   ${m.tag}  (${m.appliedAt.toISOString()})\n`)
        for (const m of status.pending) process.stdout.write(`pending   ${m.tag}\n`)
        process.stdout.write(
          status.pending.length ? `${status.pending.length} pending: run jetmon2 migrate\n` : 'schema is up to date\n',
        )
        return
      }
      let started = 0
      const result = await migrate(pool, {
        onMigration(migration, index, total) {
          started = Date.now()
          process.stdout.write(
            `applying  ${migration.tag} (${index + 1}/${total}, ${migration.statements.length} statements) … `,
          )
        },
      }).catch((error: Error & { code?: string }) => {
        if (started) process.stdout.write('failed\n')
        throw new CommandError(databaseProblem(error), { cause: error })
      })
      if (started) process.stdout.write(`done in ${Date.now() - started} ms\n`)
      const total = loadMigrations().length
      process.stdout.write(
        result.applied.length
          ? `${result.applied.length} migration(s) applied; schema is up to date (${total} in all)\n`
          : `nothing to do: all ${total} migration(s) already applied\n`,
      )
    } finally {
      await close()
    }
  },
})

/** A database error in an operator's words (connection problems are the usual first failure). */
export function databaseProblem(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'cannot connect to the database: connection refused. Is the server running, and are the host and port right?'
    case 'ENOTFOUND':
      return 'cannot connect to the database: its host name does not resolve.'
    case 'ER_ACCESS_DENIED_ERROR':
      return 'the database refused the user name or password.'
    case 'ER_BAD_DB_ERROR':
      return 'the database named in the URL does not exist; create it (CREATE DATABASE …) and run again.'
    case 'ETIMEDOUT':
      return 'cannot connect to the database: the connection timed out.'
    default:
      return error.message
  }
}
