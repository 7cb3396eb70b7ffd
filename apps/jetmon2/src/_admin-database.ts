import { createDatabase, type Db, DbError } from '@jetmon/db'
import { UsageError } from './_args.js'
import { loadCommandConfig } from './command-config.js'
import type { Jetmon2Config } from './config.js'
import { resolveDatabase } from './database.js'
import { CommandError } from './errors.js'

// Node's socket codes (ECONNREFUSED), the server's (ER_…) and mysql2's own (PROTOCOL_…).
const DRIVER_CODE = /^(?:E[A-Z]+|ER_[A-Z0-9_]+|PROTOCOL_[A-Z_]+)$/

/** The driver's error (`ECONNREFUSED`, `ER_NO_SUCH_TABLE`…), looking through drizzle's wrapper. */
function driverError(error: unknown): (Error & { code: string }) | null {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && DRIVER_CODE.test(code) && current instanceof Error) {
      return current as Error & { code: string }
    }
  }
  return null
}

/** A database failure in an operator's words: what happened and what to do. */
export function describeDatabaseFailure(error: unknown, display: string): string {
  const driver = driverError(error)
  switch (driver?.code) {
    case 'ECONNREFUSED':
      return `cannot connect to the database at ${display}: connection refused. Is the server running, and are the host and port right?`
    case 'ENOTFOUND':
      return `cannot connect to the database at ${display}: its host name does not resolve.`
    case 'ETIMEDOUT':
      return `cannot connect to the database at ${display}: the connection timed out.`
    case 'ER_ACCESS_DENIED_ERROR':
      return `the database at ${display} refused the user name or password.`
    case 'ER_BAD_DB_ERROR':
      return `the database named in ${display} does not exist; create it (CREATE DATABASE …) and run jetmon2 migrate.`
    case 'ER_NO_SUCH_TABLE':
      return `${driver.message}: the schema is not migrated; run jetmon2 migrate.`
    default:
      return `database error at ${display}: ${driver?.message ?? (error as Error)?.message ?? String(error)}`
  }
}

/**
 * Runs `fn` with a drizzle handle on the database the command's configuration names (`--config`,
 * DATABASE_URL or DB_*, else the embedded server), and that configuration, and always closes the
 * pool. Database failures become a {@link CommandError} (exit 1) with an operator's message; the
 * password never shows.
 */
export async function withAdminDatabase<T>(
  args: { config?: string | undefined },
  fn: (db: Db, config: Jetmon2Config) => Promise<T>,
): Promise<T> {
  const config = loadCommandConfig(args)
  const target = resolveDatabase(config)
  let database: ReturnType<typeof createDatabase>
  try {
    database = createDatabase(target.url, { connectionLimit: 2 })
  } catch (error) {
    if (error instanceof DbError) throw new CommandError(error.message, { cause: error })
    throw error
  }
  try {
    return await fn(database.db, config)
  } catch (error) {
    if (error instanceof CommandError || error instanceof UsageError) throw error
    if (driverError(error)) throw new CommandError(describeDatabaseFailure(error, target.display), { cause: error })
    throw error
  } finally {
    await database.close()
  }
}
