import type mysql from 'mysql2/promise'

/** What {@link withNamedLock} needs: the pool, since the lock belongs to one of its connections. */
export interface NamedLockContext {
  pool: mysql.Pool
}

/** What {@link withNamedLock} did: ran the unit and got its result, or did not get the lock. */
export type NamedLockOutcome<T> = { acquired: true; result: T } | { acquired: false }

/**
 * Runs `unit` while this process holds the MariaDB/MySQL advisory lock `name` (`GET_LOCK`), so that
 * of several hosts running the same periodic work one does it at a time. The lock is taken and
 * released on one pooled connection held for the whole unit; when another session holds it and
 * `waitSeconds` (default 0: do not wait) passes, `unit` does not run and the outcome says so. The
 * lock is released when `unit` settles, whether it resolved or threw; its error goes to the caller.
 */
export async function withNamedLock<T>(input: {
  ctx: NamedLockContext
  name: string
  waitSeconds?: number
  unit: () => Promise<T>
}): Promise<NamedLockOutcome<T>> {
  const { ctx, name, unit } = input
  const conn = await ctx.pool.getConnection()
  try {
    const [rows] = (await conn.query('SELECT GET_LOCK(?, ?) AS got', [name, input.waitSeconds ?? 0])) as unknown as [
      { got: number | null }[],
    ]
    if (rows[0]?.got !== 1) return { acquired: false }
    try {
      return { acquired: true, result: await unit() }
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [name])
    }
  } finally {
    conn.release()
  }
}
