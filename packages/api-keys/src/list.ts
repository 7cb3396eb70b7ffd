import { apiKeys, type DbOrTx } from '@jetmon/db'
import { desc } from 'drizzle-orm'
import type { ApiKeyRow } from './keys.js'

/**
 * Every API key, newest first, for an operator's overview (`jetmon2 keys list`). Revoked and
 * expired keys are included: the list is where an operator sees why a token is refused. The rows
 * hold the hash and prefix, never the token; render them with `keyToJson` or `keyStatus`. A fleet
 * has a handful of keys, so there is no paging here (the REST API pages its own listing).
 */
export async function listApiKeys({ ctx }: { ctx: { db: DbOrTx } }): Promise<ApiKeyRow[]> {
  return ctx.db.select().from(apiKeys).orderBy(desc(apiKeys.id))
}
