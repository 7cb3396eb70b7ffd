import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2'
import mysql from 'mysql2/promise'
import { InvalidDatabaseUrlError } from './errors.js'
import * as schema from './schema.js'

/** Every table of the data model (`schema.ts`), as drizzle sees it. */
export type Schema = typeof schema
/** A drizzle handle typed with {@link Schema}: what verbs take as `ctx.db`. */
export type Db = MySql2Database<Schema>

/**
 * An open connection pool and its drizzle handle, from {@link createDatabase}. `pool` is there for
 * what drizzle cannot do (advisory locks, migrations, raw statements on one connection).
 */
export interface Database {
  db: Db
  pool: mysql.Pool
  /** Ends the pool once its connections are released. */
  close(): Promise<void>
}

/**
 * The database keys of a configuration file: `DATABASE_URL`, or the `DB_*` keys it is built from
 * when it is not set (see {@link databaseUrlFrom}).
 */
export interface DatabaseSettings {
  DATABASE_URL?: string | undefined
  DB_HOST?: string | undefined
  DB_PORT?: number | undefined
  DB_USER?: string | undefined
  DB_PASSWORD?: string | undefined
  DB_NAME?: string | undefined
}

/** `DATABASE_URL`, or one built from the `DB_*` keys; null when neither is configured. */
export function databaseUrlFrom(settings: DatabaseSettings): string | null {
  if (settings.DATABASE_URL) return settings.DATABASE_URL
  if (!settings.DB_HOST) return null
  const auth = settings.DB_USER
    ? `${encodeURIComponent(settings.DB_USER)}${settings.DB_PASSWORD ? `:${encodeURIComponent(settings.DB_PASSWORD)}` : ''}@`
    : ''
  return `mysql://${auth}${settings.DB_HOST}:${settings.DB_PORT ?? 3306}/${settings.DB_NAME ?? 'jetmon'}`
}

/** The URL with its password masked, safe for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable database URL)'
  }
}

/**
 * Pool options from `mysql://user:pass@host:port/db?socket=/path&ssl=true&connectionLimit=20`.
 * Every connection runs in UTC and returns BIGINTs that exceed 2^53 as strings, never rounded.
 */
export function poolOptionsFromUrl(url: string): mysql.PoolOptions {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidDatabaseUrlError(
      'DATABASE_URL is not a valid URL; expected mysql://user:password@host:3306/database',
    )
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new InvalidDatabaseUrlError(`DATABASE_URL must start with mysql:// or mariadb://, not ${parsed.protocol}//`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!database) throw new InvalidDatabaseUrlError('DATABASE_URL names no database (mysql://…/<database>)')
  const params = parsed.searchParams
  const socketPath = params.get('socket') ?? undefined
  return {
    ...(socketPath ? { socketPath } : { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 3306) }),
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    database,
    connectionLimit: Number(params.get('connectionLimit') ?? 10),
    ...(params.get('ssl') === 'true' ? { ssl: {} } : {}),
    timezone: 'Z',
    supportBigNumbers: true,
    // JSON documents come back as their text and each JSON column parses it (jsonColumn), as on
    // MariaDB: on Node.js 22+ mysql2 itself would turn a number past 2^53 - 1 inside a document
    // (2^53, an id still exact in JSON) into a string.
    jsonStrings: true,
    dateStrings: false,
    charset: 'utf8mb4_unicode_ci',
    enableKeepAlive: true,
    connectTimeout: 5_000,
    // No stack captured at each statement's call site (mysql2's `trace`): the capture, made for
    // every statement whether it fails or not, was among the largest CPU costs of an API request.
    // A failed statement's error keeps its code and message, and drizzle's error names the query.
    trace: false,
  }
}

/**
 * The mysql2 pool a handle from {@link createDatabase} runs on, for statements drizzle cannot
 * express cheaply (a multi-row insert bound to one `?`).
 */
export function poolOf(db: Db): mysql.Pool {
  return (db as Db & { $client: mysql.Pool }).$client
}

/** Opens a pool and the drizzle handle over it. Nothing connects until the first query. */
export function createDatabase(url: string, overrides: Partial<mysql.PoolOptions> = {}): Database {
  const pool = mysql.createPool({ ...poolOptionsFromUrl(url), ...overrides })
  // The session time zone matters for NOW() and CURRENT_TIMESTAMP defaults: all times are UTC.
  pool.pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'")
  })
  const db = drizzle(pool, { schema, mode: 'default' })
  return { db, pool, close: () => pool.end() }
}
