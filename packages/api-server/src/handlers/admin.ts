import { type adminRoutes, jsonId } from '@jetmon/api-client'
import { isApiKeyError, issueApiKey, keyToJson, listApiKeys, revokeApiKey, rotateApiKey } from '@jetmon/api-keys'
import { type AuditLogPosition, listAuditLog } from '@jetmon/read-models'
import { sql } from 'drizzle-orm'
import type { Handlers } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, notFound } from '../errors.js'
import { buildOpenApiDocument } from '../openapi.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'

const HEALTH_TIMEOUT_MS = 1_000

/** A refused key change as its API answer: 404 `key_not_found`, 409 `key_revoked` / `key_expired`. */
function rethrowKeyError(error: unknown): never {
  if (isApiKeyError(error, 'KEY_NOT_FOUND')) throw notFound('key', error.id)
  if (isApiKeyError(error, 'KEY_REVOKED')) {
    throw new ApiError(409, 'key_revoked', `key ${error.id} is already revoked; create a new key instead`)
  }
  if (isApiKeyError(error, 'KEY_EXPIRED')) {
    throw new ApiError(409, 'key_expired', `key ${error.id} has expired; create a new key instead`)
  }
  throw error
}

/**
 * API keys are the operator's, never a tenant's: a key made or rotated in a tenant context would
 * carry no tenant and see every tenant's rows. In a gateway tenant context the key routes are 403.
 */
function refuseTenant(tenantId: string | null): void {
  if (tenantId === null) return
  throw new ApiError(
    403,
    'forbidden_gateway_context',
    'API keys are managed by the operator, not in a tenant context: send this request without X-Jetmon-Tenant-ID',
  )
}

export const adminHandlers: Handlers<typeof adminRoutes> = {
  async health({ deps }) {
    let timer: NodeJS.Timeout | undefined
    const answered = await Promise.race([
      deps.db.execute(sql`SELECT 1`).then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)
      }),
    ]).finally(() => clearTimeout(timer))
    if (!answered) throw new ApiError(503, 'db_unavailable', 'the database did not answer within 1 s')
    return { status: 'ok' as const }
  },

  async openapi() {
    return buildOpenApiDocument()
  },

  async me({ principal, tenantId }) {
    return {
      consumer: principal.consumer,
      key_id: jsonId(principal.keyId),
      scope: principal.scope,
      rate_limit_per_minute: principal.rateLimitPerMinute,
      expires_at: principal.expiresAt?.toISOString() ?? null,
      revoked_at: principal.revokedAt?.toISOString() ?? null,
      tenant_id: tenantId,
    }
  },

  async 'keys.list'({ deps, query, now, tenantId }) {
    refuseTenant(tenantId)
    const limit = query.limit ?? DEFAULT_LIMIT
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ['id'])[0]
    const rows = await listApiKeys({ ctx: { db: deps.db }, before, limit: limit + 1 })
    return pageOf(
      rows,
      limit,
      (row) => keyToJson(row, now),
      (row) => [row.id.toString()],
    )
  },

  async 'keys.create'({ deps, body, principal, now, tenantId }) {
    refuseTenant(tenantId)
    if (body.expires_at && body.expires_at.getTime() <= now.getTime()) {
      throw new ApiError(422, 'invalid_expiry', 'expires_at must be in the future', {
        details: [{ path: 'expires_at', message: 'must be in the future' }],
      })
    }
    const { row, token } = await issueApiKey({
      ctx: { db: deps.db, clock: () => now },
      input: {
        consumer: body.consumer,
        scope: body.scope,
        rateLimitPerMinute: body.rate_limit_per_minute ?? null,
        expiresAt: body.expires_at ?? null,
        actor: `api:${principal.consumer}`,
      },
    })
    return new Reply({ key: keyToJson(row, now), token }, 201)
  },

  async 'keys.revoke'({ deps, params, principal, now, tenantId }) {
    refuseTenant(tenantId)
    const { row } = await revokeApiKey({
      ctx: { db: deps.db, clock: () => now },
      input: { id: params.id, actor: `api:${principal.consumer}` },
    }).catch(rethrowKeyError)
    return keyToJson(row, now)
  },

  async 'keys.rotate'({ deps, params, body, principal, now, tenantId }) {
    refuseTenant(tenantId)
    const { next } = await rotateApiKey({
      ctx: { db: deps.db, clock: () => now },
      input: { id: params.id, graceSeconds: body.grace_seconds, actor: `api:${principal.consumer}` },
    }).catch(rethrowKeyError)
    return new Reply({ key: keyToJson(next.row, now), token: next.token }, 201)
  },

  async 'audit.list'({ deps, query, tenantId }) {
    const limit = query.limit ?? DEFAULT_LIMIT
    let before: AuditLogPosition | undefined
    if (query.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(query.cursor, ['ms', 'id'])
      before = { createdAt, id }
    }
    const rows = await listAuditLog({
      ctx: { db: deps.db },
      filter: {
        // A tenant sees the rows of its own blogs only; fleet-wide rows (no blog) are the operator's.
        tenantId: tenantId ?? undefined,
        blogId: query.blog_id,
        eventTypes: query.event_type === undefined ? undefined : [query.event_type],
        since: query.since,
        until: query.until,
      },
      before,
      limit: limit + 1,
    })
    return pageOf(
      rows,
      limit,
      (row) => ({
        id: jsonId(row.id),
        blog_id: row.blogId === null ? null : jsonId(row.blogId),
        event_id: row.eventId === null ? null : jsonId(row.eventId),
        event_type: row.eventType,
        source: row.source,
        detail: row.detail,
        metadata: row.metadata ?? null,
        created_at: row.createdAt.toISOString(),
      }),
      (row) => [row.createdAt.getTime(), row.id.toString()],
    )
  },
}
