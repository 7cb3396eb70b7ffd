import { apiKeys, type DbOrTx, preparedPerDatabase } from '@jetmon/db'
import { desc, lt, sql } from 'drizzle-orm'
import type { ApiKeyRow } from './keys.js'

/**
 * API keys, newest first, for an operator's overview (`jetmon2 keys list`, `GET /keys`). Revoked
 * and expired keys are included: the list is where an operator sees why a token is refused. The
 * rows hold the hash and prefix, never the token; render them with `keyToJson` or `keyStatus`.
 * Without `limit` every key is listed (a fleet has a handful); a paging caller passes `limit` and,
 * from the second page on, `before`: the id of the last key it served.
 */
export async function listApiKeys({
  ctx,
  before,
  limit,
}: {
  ctx: { db: DbOrTx }
  /** Only keys with a lower id than this one (the keyset cursor of the previous page). */
  before?: bigint
  /** At most this many keys. */
  limit?: number
}): Promise<ApiKeyRow[]> {
  const shape = `${before === undefined ? '' : 'before'}:${limit === undefined ? '' : 'limit'}`
  return keyList(ctx.db, shape).execute({ before, limit })
}

/** The list's query, by whether it has a cursor and a limit: built once, then bound. */
const keyList = preparedPerDatabase((db: DbOrTx, shape: string) => {
  const [before, limit] = shape.split(':')
  const query = db
    .select()
    .from(apiKeys)
    .where(before ? lt(apiKeys.id, sql.placeholder('before')) : undefined)
    .orderBy(desc(apiKeys.id))
  return (limit ? query.limit(sql.placeholder('limit')) : query).prepare()
})
