import type mysql from 'mysql2/promise'

/**
 * The database server's version string (`SELECT VERSION()`, e.g. `10.11.8-MariaDB` or `8.0.36`).
 * A configuration check asks for it as the cheapest round trip that proves the server answers,
 * and shows it so an operator sees which server, and which kind, the configuration reaches. It
 * takes the pool, like `migrationStatus`, so a failure rejects with the driver's own error
 * (`ECONNREFUSED`, `ER_ACCESS_DENIED_ERROR`…) for the caller to put in its own words, not with a
 * query wrapper around it.
 */
export async function serverVersion({ ctx }: { ctx: { pool: mysql.Pool } }): Promise<string> {
  const [rows] = (await ctx.pool.query('SELECT VERSION() AS version')) as unknown as [{ version: string }[]]
  return rows[0]?.version ?? '?'
}

/**
 * One round trip (`SELECT 1`) that proves the server answers: what a readiness probe asks before it
 * calls a process ready. Rejects with the driver's own error, as {@link serverVersion} does.
 */
export async function pingDatabase({ ctx }: { ctx: { pool: Pick<mysql.Pool, 'query'> } }): Promise<void> {
  await ctx.pool.query('SELECT 1')
}
