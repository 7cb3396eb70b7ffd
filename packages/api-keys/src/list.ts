import { apiKeys, type DbOrTx } from '@jetmon/db'
import { desc, lt } from 'drizzle-orm'
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
  const query = ctx.db
    .select()
    .from(apiKeys)
    .where(before === undefined ? undefined : lt(apiKeys.id, before))
    .orderBy(desc(apiKeys.id))
  return limit === undefined ? query : query.limit(limit)
}
