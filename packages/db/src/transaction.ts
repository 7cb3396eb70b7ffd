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
