import * as schema from '@jetmon/db'
import { createDatabase } from '@jetmon/db'
import { drizzle } from 'drizzle-orm/mysql2'

/** A statement as drizzle sent it. */
export interface LoggedStatement {
  query: string
  params: unknown[]
}

/**
 * A one-connection handle on `url` whose drizzle database records every statement it sends (to
 * count them, or to EXPLAIN them on `pool`). Close it with `close`.
 */
export function loggedDatabase(url: string) {
  const statements: LoggedStatement[] = []
  const { pool, close } = createDatabase(url, { connectionLimit: 1 })
  const db = drizzle(pool, {
    schema,
    mode: 'default',
    logger: { logQuery: (query, params) => statements.push({ query, params }) },
  })
  return { db, pool, statements, close }
}
