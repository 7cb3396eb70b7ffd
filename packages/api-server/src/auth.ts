/**
 * Bearer authentication of `/api/v1`: the token's sha256 is looked up in `jetmon_api_keys`; a
 * revoked or expired key is refused with its own code; `last_used_at` is written at most once a
 * minute per key, without holding the request.
 *
 * A key row read from the database is kept for {@link KEY_CACHE_MS} (by the request clock), so a
 * busy client costs one lookup every few seconds instead of one per request. The cut-offs are
 * still judged at each request's time against the kept row; a change to a key made through this
 * process (create, revoke, rotate) drops every kept row at once, and one made elsewhere (the CLI,
 * another API process) is seen within {@link KEY_CACHE_MS}. Unknown tokens are never kept.
 */

import type { RouteDefinition, Scope } from '@jetmon/api-client'
import { hashToken, keyStatus, rateLimitOf, scopeCovers } from '@jetmon/api-keys'
import { apiKeys, type DbOrTx, type Logger } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import type { Context } from 'hono'
import type { Principal } from './context.js'
import { ApiError } from './errors.js'
import type { RateLimiter } from './rate-limit.js'

const LAST_USED_EVERY_MS = 60_000
/** How long a key row read from the database answers for its token (request clock). */
export const KEY_CACHE_MS = 5_000
/** Kept rows at most; past it the cache starts afresh. */
const KEY_CACHE_MAX = 10_000

/** Resolves the request's `Authorization: Bearer jm_…` header to the key's principal at `at`, or throws a 401. */
export interface Authenticate {
  (c: Context, at: Date): Promise<Principal>
  /** Drops every kept key row: the next request of each token reads its key again. */
  forget(): void
}

type KeyRow = typeof apiKeys.$inferSelect

export function createAuthenticator(deps: { db: DbOrTx; logger: Logger }): Authenticate {
  const lastUsedWritten = new Map<bigint, number>()
  const kept = new Map<string, { row: KeyRow; readAt: number }>()
  // Bumped by forget(): a read that started before it is not kept.
  let generation = 0
  async function keyOf(hash: string, at: Date): Promise<KeyRow | undefined> {
    const hit = kept.get(hash)
    const age = hit ? at.getTime() - hit.readAt : -1
    if (hit && age >= 0 && age < KEY_CACHE_MS) return hit.row
    const readIn = generation
    const [row] = await deps.db.select().from(apiKeys).where(eq(apiKeys.keyHash, hash))
    if (!row) {
      kept.delete(hash)
      return undefined
    }
    if (readIn === generation) {
      if (kept.size >= KEY_CACHE_MAX) kept.clear()
      kept.set(hash, { row, readAt: at.getTime() })
    }
    return row
  }
  async function authenticate(c: Context, at: Date): Promise<Principal> {
    const header = c.req.header('authorization')
    if (header === undefined || header.trim() === '') {
      throw new ApiError(401, 'missing_token', 'this route needs an API key: send Authorization: Bearer jm_…', {
        headers: { 'www-authenticate': 'Bearer' },
      })
    }
    const match = /^Bearer\s+(jm_[A-Za-z0-9_-]{16,128})\s*$/.exec(header)
    const invalid = () =>
      new ApiError(401, 'invalid_token', 'the API key is not valid', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      })
    if (!match) throw invalid()
    const row = await keyOf(hashToken(match[1]!), at)
    if (!row) throw invalid()
    const status = keyStatus(row, at)
    if (status === 'revoked') throw new ApiError(401, 'token_revoked', 'the API key has been revoked')
    if (status === 'expired') throw new ApiError(401, 'token_expired', 'the API key has expired')
    const last = lastUsedWritten.get(row.id) ?? 0
    if (at.getTime() - last >= LAST_USED_EVERY_MS) {
      lastUsedWritten.set(row.id, at.getTime())
      void deps.db
        .update(apiKeys)
        .set({ lastUsedAt: at })
        .where(eq(apiKeys.id, row.id))
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not record last_used_at'))
    }
    return {
      keyId: row.id,
      consumer: row.consumerName,
      scope: row.scope,
      rateLimitPerMinute: rateLimitOf(row),
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
    }
  }
  return Object.assign(authenticate, {
    forget: () => {
      generation++
      kept.clear()
    },
  })
}

/**
 * The route's scope and the key's rate limit: 403 when the key's scope does not cover the route's,
 * 429 (with `Retry-After`) past the limit. Sets the `X-RateLimit-*` headers either way.
 */
export function authorize(c: Context, route: RouteDefinition, principal: Principal, limiter: RateLimiter): void {
  if (!scopeCovers(principal.scope, route.scope as Scope)) {
    throw new ApiError(
      403,
      'insufficient_scope',
      `this route needs the ${route.scope} scope; this key has ${principal.scope}`,
    )
  }
  const rate = limiter.take(principal.keyId.toString(), principal.rateLimitPerMinute)
  c.header('X-RateLimit-Limit', String(rate.limit))
  c.header('X-RateLimit-Remaining', String(rate.remaining))
  c.header('X-RateLimit-Reset', String(rate.resetAt))
  if (!rate.allowed) {
    throw new ApiError(
      429,
      'rate_limited',
      `rate limit of ${rate.limit} requests per minute reached; retry in ${rate.retryAfter} s`,
      { headers: { 'retry-after': String(rate.retryAfter) } },
    )
  }
}
