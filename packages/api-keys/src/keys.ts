import { createHash, randomBytes } from 'node:crypto'
import type { ApiKey, Scope } from '@jetmon/api-client'
import { jsonId } from '@jetmon/api-client'
import { apiKeys, auditLog, type DbOrTx, type Tx, withTransaction } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { ApiKeyError } from './errors.js'

/** Requests per minute when a key names none (docs/api.md, Rate limits). */
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

/** What the key verbs need: the database (or the caller's transaction) and the clock. */
export interface KeyContext {
  db: DbOrTx
  /** The time of a revocation or rotation; defaults to the system clock. Key times keep whole seconds. */
  clock?: () => Date
}

export interface CreateKeyInput {
  consumer: string
  scope: Scope
  rateLimitPerMinute?: number | null
  expiresAt?: Date | null
  createdBy: string
}

/** Inserts a key and returns its row and the token (the only time the token exists outside its holder). */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: KeyContext
  input: CreateKeyInput
}): Promise<{ row: ApiKeyRow; token: string }> {
  const { db } = ctx
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

/** The key row, locked for the rest of the transaction; a missing key is `KEY_NOT_FOUND`. */
async function lockKey(tx: Tx, id: bigint): Promise<ApiKeyRow> {
  const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id)).for('update')
  if (!row) throw new ApiKeyError('KEY_NOT_FOUND', id, null)
  return row
}

const systemClock = () => new Date()

const revokedBy = (row: Pick<ApiKeyRow, 'revokedAt'>, now: Date) =>
  row.revokedAt !== null && row.revokedAt.getTime() <= now.getTime()

export interface RevokeKeyInput {
  id: bigint
  /** Who revokes: the audit row's `source` (`api:<consumer>`, `cli:<os user>`). */
  actor: string
}

export interface RevokeKeyResult {
  /** The row as it was, locked, before the change. */
  before: ApiKeyRow
  /** The row after the change (`before` itself when nothing changed). */
  row: ApiKeyRow
  /** False when the key was already revoked at `now`: nothing was written. */
  changed: boolean
}

/**
 * Revokes a key at `ctx.clock()` (stored as `revoked_at`), idempotently: a key already revoked stays as it is (no write, no audit
 * row); an active or rotating key gets `revoked_at = now` and a `key_revoked` audit row, in one
 * transaction (the caller's, when `ctx.db` is one). Throws {@link ApiKeyError} `KEY_NOT_FOUND`.
 */
export async function revokeApiKey({
  ctx,
  input,
}: {
  ctx: KeyContext
  input: RevokeKeyInput
}): Promise<RevokeKeyResult> {
  const { id, actor } = input
  const now = (ctx.clock ?? systemClock)()
  return withTransaction(ctx.db, async (tx) => {
    const before = await lockKey(tx, id)
    if (revokedBy(before, now)) return { before, row: before, changed: false }
    await tx.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, id))
    await tx.insert(auditLog).values({
      eventType: 'key_revoked',
      source: actor,
      detail: `key ${before.id} of ${before.consumerName} revoked`,
      metadata: { key_id: before.id.toString(), consumer: before.consumerName },
    })
    return { before, row: { ...before, revokedAt: now }, changed: true }
  })
}

export interface RotateKeyInput {
  id: bigint
  /** How long the old token keeps working (also recorded in the audit row). */
  graceSeconds: number
  /** Who rotates: the audit row's `source` and the new key's `created_by`. */
  actor: string
}

export interface RotateKeyResult {
  /** The old row as it was, locked, before the change. */
  before: ApiKeyRow
  /** The old row after the change: `revokedAt` is its cutoff. */
  old: ApiKeyRow
  /** The replacement key (same consumer, scope, rate limit and expiry) and its one-time token. */
  next: { row: ApiKeyRow; token: string }
  /** When the old token stops working. */
  cutoff: Date
  /** True when the key was already rotating to a cutoff earlier than `now + graceSeconds`, which it keeps. */
  keptEarlier: boolean
}

/**
 * Rotates a key at `now = ctx.clock()`: sets the old key's cutoff to `now + graceSeconds` (or keeps an earlier cutoff of
 * a key already rotating), creates its replacement and writes a `key_rotated` audit row, in one
 * transaction (the caller's, when `ctx.db` is one). Throws {@link ApiKeyError} `KEY_NOT_FOUND`,
 * `KEY_REVOKED` for a key revoked at `now`, and `KEY_EXPIRED` for a key expired at `now`.
 */
export async function rotateApiKey({
  ctx,
  input,
}: {
  ctx: KeyContext
  input: RotateKeyInput
}): Promise<RotateKeyResult> {
  const { id, graceSeconds, actor } = input
  const now = (ctx.clock ?? systemClock)()
  return withTransaction(ctx.db, async (tx) => {
    const before = await lockKey(tx, id)
    if (revokedBy(before, now)) throw new ApiKeyError('KEY_REVOKED', id, before)
    // Its replacement would inherit the expiry and be born expired: a new key is what is wanted.
    if (before.expiresAt !== null && before.expiresAt.getTime() <= now.getTime()) {
      throw new ApiKeyError('KEY_EXPIRED', id, before)
    }
    const requested = new Date(now.getTime() + graceSeconds * 1000)
    // A key already rotating keeps the earlier of its cutoffs.
    const cutoff = before.revokedAt !== null && before.revokedAt < requested ? before.revokedAt : requested
    await tx.update(apiKeys).set({ revokedAt: cutoff }).where(eq(apiKeys.id, id))
    const next = await createApiKey({
      ctx: { db: tx },
      input: {
        consumer: before.consumerName,
        scope: before.scope,
        rateLimitPerMinute: before.rateLimitPerMinute,
        expiresAt: before.expiresAt,
        createdBy: actor,
      },
    })
    await tx.insert(auditLog).values({
      eventType: 'key_rotated',
      source: actor,
      detail: `key ${before.id} of ${before.consumerName} rotated to ${next.row.id}; old key valid until ${cutoff.toISOString()}`,
      metadata: { key_id: before.id.toString(), new_key_id: next.row.id.toString(), grace_seconds: graceSeconds },
    })
    return { before, old: { ...before, revokedAt: cutoff }, next, cutoff, keptEarlier: cutoff < requested }
  })
}
