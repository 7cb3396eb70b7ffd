import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { createDatabase, type Database } from './connection.js'
import { migrate } from './migrate.js'

/** A throw-away database from {@link createScratchDatabase}, with its own pool. */
export interface ScratchDatabase extends Database {
  /** URL of the new database. */
  url: string
  name: string
  /** Closes the pool and drops the database. */
  drop(): Promise<void>
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/**
 * Creates a new, uniquely named database on the server behind `serverUrl` (migrated unless told
 * otherwise) and returns a handle that can drop it again. Tests use one per file; nothing is shared.
 */
export async function createScratchDatabase(
  serverUrl: string,
  options: { prefix?: string; migrate?: boolean } = {},
): Promise<ScratchDatabase> {
  const name = `${options.prefix ?? 'jt_'}${randomBytes(6).toString('hex')}`
  const admin = await mysql.createConnection({ uri: serverUrl })
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await admin.end()
  }
  const url = withDatabaseName(serverUrl, name)
  const database = createDatabase(url)
  if (options.migrate !== false) await migrate(database.pool)
  return {
    ...database,
    url,
    name,
    async drop() {
      await database.close()
      const conn = await mysql.createConnection({ uri: serverUrl })
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await conn.end()
      }
    },
  }
}
