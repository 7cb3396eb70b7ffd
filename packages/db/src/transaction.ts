import { is } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
import type { Db } from './connection.js'

/** An open transaction over the Jetmon schema. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** A database handle or an open transaction: verbs accept either. */
export type DbOrTx = Db | Tx

/**
 * Runs `fn` in a transaction: the caller's, when `handle` already is one (so verbs compose into a
 * larger unit of work), or a new one that commits when `fn` resolves and rolls back when it throws.
 */
export async function withTransaction<T>(handle: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (is(handle, MySqlTransaction)) return fn(handle as Tx)
  return (handle as Db).transaction(fn)
}

/** Whether `error` (or a cause it wraps, as drizzle does) is InnoDB's deadlock error: the transaction was rolled back. */
export function isDeadlock(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ER_LOCK_DEADLOCK') return true
  }
  return false
}

/**
 * Runs `unit` — one whole transaction, never a part of a caller's — and runs it again when InnoDB
 * rolled it back as a deadlock victim: nothing of it was committed, so it reads and decides again.
 * Up to `attempts` runs in all (default 3), after a short random pause that grows with each attempt
 * so that the same two transactions do not meet again in step. Any other error goes to the caller.
 */
export async function rerunDeadlockVictim<T>(
  unit: () => Promise<T>,
  options: { attempts?: number; onRerun?: (attempt: number, error: unknown) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3
  for (let attempt = 1; ; attempt++) {
    try {
      return await unit()
    } catch (error) {
      if (attempt >= attempts || !isDeadlock(error)) throw error
      options.onRerun?.(attempt, error)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt))
    }
  }
}
