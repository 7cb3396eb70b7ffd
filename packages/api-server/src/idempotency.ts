import { createHash } from 'node:crypto'
import { type Db, idempotencyKeys } from '@jetmon/db'
import { and, eq, lte, sql } from 'drizzle-orm'
import { ApiError } from './errors.js'

/** How long a finished request can be replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000
/** An `in_flight` record older than this belongs to a process that died mid-request; it is taken over. */
export const IN_FLIGHT_STALE_MS = 5 * 60_000
const MAX_KEY_LENGTH = 255

export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export type Claim = { kind: 'claimed' } | { kind: 'replay'; response: StoredResponse }

/**
 * Stored in place of the headers of an answer that carried a secret (an API token or a webhook
 * signing secret): such a body is never stored, and a replay is 409 `idempotency_replay_withheld`.
 */
const WITHHELD_MARKER = 'x-jetmon-body-withheld'

/**
 * The key a record is stored under: the client's key as sent, or, in a gateway tenant context, a
 * digest of the tenant and the key, so that tenants sharing the gateway's API key never meet each
 * other's records (no replay, no conflict). Fits the 255-character column whatever the lengths.
 */
export function idempotencyRecordKey(key: string, tenantId: string | null): string {
  if (tenantId === null) return key
  return `tenant:${createHash('sha256').update(tenantId).update('\n').update(key).digest('hex')}`
}

/** sha256 of method, path and body: what must match for a replay. */
export function requestHash(method: string, path: string, body: string): string {
  return createHash('sha256').update(`${method}\n${path}\n`).update(body).digest('hex')
}

/** Checks an `Idempotency-Key` header value; 400 when unusable. */
export function checkIdempotencyKey(value: string): string {
  if (value.length === 0 || value.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ApiError(400, 'invalid_request', `Idempotency-Key must be 1–${MAX_KEY_LENGTH} visible ASCII characters`, {
      details: [{ path: 'headers.idempotency-key', message: `must be 1–${MAX_KEY_LENGTH} visible ASCII characters` }],
    })
  }
  return value
}

/**
 * Durable idempotency (docs/api.md): the first request with a key claims it (`in_flight`); a later one
 * with the same key and the same request replays the stored answer, with a different request is
 * 409 `idempotency_conflict`, and while the first still runs is 409 `idempotency_in_progress`.
 */
export class IdempotencyStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  async claim(apiKeyId: bigint, key: string, method: string, path: string, hash: string): Promise<Claim> {
    const now = this.now()
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.db
        .insert(idempotencyKeys)
        .ignore()
        .values({
          apiKeyId,
          idemKey: key,
          method,
          path,
          requestHash: hash,
          state: 'in_flight',
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
        })
      if (affectedRows(inserted) === 1) return { kind: 'claimed' }

      const [row] = await this.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.apiKeyId, apiKeyId), eq(idempotencyKeys.idemKey, key)))
      if (!row) continue // finished with a 5xx and was deleted in between: claim again
      const expired = row.expiresAt.getTime() <= now.getTime()
      const stale = row.state === 'in_flight' && now.getTime() - row.createdAt.getTime() >= IN_FLIGHT_STALE_MS
      if (expired || stale) {
        await this.db
          .delete(idempotencyKeys)
          .where(
            and(
              eq(idempotencyKeys.apiKeyId, apiKeyId),
              eq(idempotencyKeys.idemKey, key),
              eq(idempotencyKeys.state, row.state),
              lte(idempotencyKeys.createdAt, row.createdAt),
            ),
          )
        continue
      }
      if (row.method !== method || row.path !== path || row.requestHash !== hash) {
        throw new ApiError(
          409,
          'idempotency_conflict',
          'this Idempotency-Key was already used for a different request; use a new key for a new request',
        )
      }
      if (row.state === 'done' && row.responseHeaders?.[WITHHELD_MARKER] !== undefined) {
        throw new ApiError(
          409,
          'idempotency_replay_withheld',
          `the request with this Idempotency-Key already succeeded (status ${row.statusCode ?? 200}), but its answer held a secret, which is never stored and cannot be replayed; list the resource to find what was created, and rotate it to get a new secret`,
        )
      }
      if (row.state === 'in_flight') {
        throw new ApiError(
          409,
          'idempotency_in_progress',
          'a request with this Idempotency-Key is still being processed; retry shortly',
          { headers: { 'retry-after': '1' } },
        )
      }
      return {
        kind: 'replay',
        response: {
          status: row.statusCode ?? 200,
          headers: row.responseHeaders ?? {},
          body: row.responseBody ?? Buffer.alloc(0),
        },
      }
    }
    throw new ApiError(409, 'idempotency_in_progress', 'this Idempotency-Key is contended; retry shortly', {
      headers: { 'retry-after': '1' },
    })
  }

  /**
   * Stores the answer (any status below 500) or, for a 5xx, forgets the key so a retry runs again.
   * With `withholdBody` (a success whose body carries a secret) only the status is stored, with a
   * marker: a replay is then 409 `idempotency_replay_withheld`, never the secret.
   */
  async finish(
    apiKeyId: bigint,
    key: string,
    response: StoredResponse,
    options: { withholdBody?: boolean } = {},
  ): Promise<void> {
    const where = and(
      eq(idempotencyKeys.apiKeyId, apiKeyId),
      eq(idempotencyKeys.idemKey, key),
      eq(idempotencyKeys.state, 'in_flight'),
    )
    if (response.status >= 500) {
      await this.db.delete(idempotencyKeys).where(where)
      return
    }
    await this.db
      .update(idempotencyKeys)
      .set(
        options.withholdBody
          ? {
              state: 'done',
              statusCode: response.status,
              responseHeaders: { [WITHHELD_MARKER]: '1' },
              responseBody: null,
            }
          : {
              state: 'done',
              statusCode: response.status,
              responseHeaders: response.headers,
              responseBody: response.body,
            },
      )
      .where(where)
  }

  /** Deletes expired records in batches; returns how many went. */
  async prune(batch = 1_000): Promise<number> {
    let total = 0
    for (;;) {
      const result = await this.db.execute(
        sql`DELETE FROM ${idempotencyKeys} WHERE ${idempotencyKeys.expiresAt} <= ${this.now()} LIMIT ${batch}`,
      )
      const deleted = affectedRows(result)
      total += deleted
      if (deleted < batch) return total
    }
  }
}

function affectedRows(result: unknown): number {
  const header = Array.isArray(result) ? result[0] : result
  return Number((header as { affectedRows?: number } | undefined)?.affectedRows ?? 0)
}
