import { auditLog, withTransaction } from '@jetmon/db'
import { type ApiKeyRow, type CreateKeyInput, createApiKey, type KeyContext, rateLimitOf } from './keys.js'

export interface IssueKeyInput extends Omit<CreateKeyInput, 'createdBy'> {
  /** Who issues the key: its `created_by` and the audit row's `source` (`cli:<os user>`). */
  actor: string
}

/**
 * Creates a key and records it: the `key_created` audit row (with the key's effective rate limit
 * and expiry, so the record says what was granted without a join) is written in the same
 * transaction as the key (the caller's, when `ctx.db` is one), so there is never a key without
 * its record nor a record of a key that was rolled back. {@link createApiKey} alone writes no
 * audit row: rotation creates keys under its own `key_rotated` row.
 */
export async function issueApiKey({
  ctx,
  input,
}: {
  ctx: KeyContext
  input: IssueKeyInput
}): Promise<{ row: ApiKeyRow; token: string }> {
  const { actor, ...key } = input
  return withTransaction(ctx.db, async (tx) => {
    const created = await createApiKey({ ctx: { db: tx }, input: { ...key, createdBy: actor } })
    await tx.insert(auditLog).values({
      eventType: 'key_created',
      source: actor,
      detail: `key ${created.row.id} for ${created.row.consumerName} (${created.row.scope})`,
      metadata: {
        key_id: created.row.id.toString(),
        consumer: created.row.consumerName,
        scope: created.row.scope,
        rate_limit_per_minute: rateLimitOf(created.row),
        expires_at: created.row.expiresAt?.toISOString() ?? null,
      },
    })
    return created
  })
}
