import { createHash, randomBytes } from 'node:crypto'
import type { ApiKey, Scope } from '@jetmon/api-client'
import { jsonId } from '@jetmon/api-client'
import { apiKeys, type DbOrTx } from '@jetmon/db'
import { eq } from 'drizzle-orm'

/** Requests per minute when a key names none (api.md, Rate limits). */
export const DEFAULT_RATE_LIMITS: Record<Scope, number> = { read: 600, write: 120, admin: 120 }
const SCOPE_RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 }

export type ApiKeyRow = typeof apiKeys.$inferSelect

/** A new token: `jm_` + 32 random bytes (256 bits) in base64url. */
export function generateToken(): string {
  return `jm_${randomBytes(32).toString('base64url')}`
}

/** The stored form of a token: sha256 hex. Tokens are never stored or logged. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Whether `held` covers `needed` (`read` < `write` < `admin`). */
export function scopeCovers(held: Scope, needed: Scope): boolean {
  return SCOPE_RANK[held] >= SCOPE_RANK[needed]
}

export function rateLimitOf(row: Pick<ApiKeyRow, 'scope' | 'rateLimitPerMinute'>): number {
  return row.rateLimitPerMinute ?? DEFAULT_RATE_LIMITS[row.scope]
}

/** Key status at `now`: half-open cutoffs, so a key is revoked or expired *at* its timestamp. */
export function keyStatus(row: Pick<ApiKeyRow, 'expiresAt' | 'revokedAt'>, now: Date): ApiKey['status'] {
  if (row.revokedAt !== null && row.revokedAt.getTime() <= now.getTime()) return 'revoked'
  if (row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime()) return 'expired'
  if (row.revokedAt !== null) return 'rotating'
  return 'active'
}

export interface CreateKeyInput {
  consumer: string
  scope: Scope
  rateLimitPerMinute?: number | null
  expiresAt?: Date | null
  createdBy: string
}

/** Inserts a key and returns its row and the token (the only time the token exists outside its holder). */
export async function createApiKey(db: DbOrTx, input: CreateKeyInput): Promise<{ row: ApiKeyRow; token: string }> {
  const token = generateToken()
  const [inserted] = await db
    .insert(apiKeys)
    .values({
      keyHash: hashToken(token),
      keyPrefix: token.slice(0, 10),
      consumerName: input.consumer,
      scope: input.scope,
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      expiresAt: input.expiresAt ?? null,
      createdBy: input.createdBy,
    })
    .$returningId()
  const id = BigInt(inserted!.id)
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id))
  return { row: row!, token }
}

/** The wire form of a key row. */
export function keyToJson(row: ApiKeyRow, now: Date): ApiKey {
  return {
    id: jsonId(row.id),
    consumer: row.consumerName,
    scope: row.scope,
    key_prefix: row.keyPrefix,
    rate_limit_per_minute: rateLimitOf(row),
    expires_at: row.expiresAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    status: keyStatus(row, now),
  }
}
