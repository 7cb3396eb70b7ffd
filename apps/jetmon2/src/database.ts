import { resolve } from 'node:path'
import { type DatabaseSettings, databaseUrlFrom, redactDatabaseUrl, runningEmbeddedMariadb } from '@jetmon/db'
import { CommandError } from './errors.js'

/** Folder of the embedded MariaDB used by `jetmon2 db …` and the demo. */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.JETMON_DATA_DIR ?? '.jetmon/mariadb')
}

export interface ResolvedDatabase {
  url: string
  /** Safe to print. */
  display: string
  source: 'config' | 'embedded'
}

/**
 * The database a command talks to: the configured one (DATABASE_URL or DB_*), else the embedded
 * server started by `jetmon2 db start`, else an error that says how to get either.
 */
export function resolveDatabase(settings: DatabaseSettings, env: NodeJS.ProcessEnv = process.env): ResolvedDatabase {
  const configured = databaseUrlFrom(settings)
  if (configured) return { url: configured, display: redactDatabaseUrl(configured), source: 'config' }
  const running = runningEmbeddedMariadb(embeddedDataDir(env))
  if (running) return { url: running.url, display: redactDatabaseUrl(running.url), source: 'embedded' }
  throw new CommandError(
    'no database configured. Set DATABASE_URL (mysql://user:password@host:3306/jetmon) in the config file or ' +
      'the environment, or start the embedded one with `jetmon2 db start`.',
  )
}
