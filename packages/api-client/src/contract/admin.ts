/** Health, identity, API keys and the audit log. */
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { Id, IdParam, listOf, PageQuery, SCOPES, Timestamp, TimestampInput } from './schema.js'

export const ApiKey = v.object({
  id: Id,
  consumer: v.string(),
  scope: v.picklist(SCOPES),
  /** The first characters of the token, to recognise it. */
  key_prefix: v.string(),
  rate_limit_per_minute: v.number(),
  expires_at: v.nullable(Timestamp),
  revoked_at: v.nullable(Timestamp),
  last_used_at: v.nullable(Timestamp),
  created_by: v.string(),
  created_at: Timestamp,
  status: v.pipe(
    v.picklist(['active', 'rotating', 'expired', 'revoked']),
    v.description('`rotating`: a future `revoked_at` (rotation grace window).'),
  ),
})
export type ApiKey = v.InferOutput<typeof ApiKey>

const CreatedKey = v.object({
  key: ApiKey,
  token: v.pipe(v.string(), v.description('The token, shown this once: store it now.')),
})

const ConsumerName = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'must be 1–128 letters, digits, ".", "_", "@" or "-"'),
)
const GraceSeconds = v.pipe(v.number(), v.safeInteger('must be whole seconds'), v.minValue(0), v.maxValue(30 * 86_400))

export const health = defineRoute({
  method: 'GET',
  path: '/health',
  scope: 'none',
  tag: 'admin',
  summary: 'Whether the API and its database answer (503 db_unavailable when the database does not within 1 s)',
  status: 200,
  response: v.object({ status: v.picklist(['ok']) }),
  errors: ['db_unavailable'],
})

export const openapi = defineRoute({
  method: 'GET',
  path: '/openapi.json',
  scope: 'none',
  tag: 'admin',
  summary: 'This OpenAPI 3.1 document',
  status: 200,
  response: v.record(v.string(), v.unknown()),
})

export const me = defineRoute({
  method: 'GET',
  path: '/me',
  scope: 'read',
  tag: 'admin',
  summary: 'The calling key: consumer, scope, rate limit and expiry',
  status: 200,
  response: v.object({
    consumer: v.string(),
    key_id: Id,
    scope: v.picklist(SCOPES),
    rate_limit_per_minute: v.number(),
    expires_at: v.nullable(Timestamp),
    revoked_at: v.nullable(Timestamp),
    tenant_id: v.nullable(v.string()),
  }),
})

export const listKeys = defineRoute({
  method: 'GET',
  path: '/keys',
  scope: 'admin',
  tag: 'keys',
  summary: 'API keys, newest first',
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(ApiKey),
})

export const createKey = defineRoute({
  method: 'POST',
  path: '/keys',
  scope: 'admin',
  tag: 'keys',
  summary: 'Create an API key; the token is returned once',
  body: v.strictObject({
    consumer: ConsumerName,
    scope: v.optional(v.picklist(SCOPES, `must be one of ${SCOPES.join(', ')}`), 'read'),
    rate_limit_per_minute: v.optional(
      v.pipe(v.number(), v.safeInteger('must be a whole number'), v.minValue(1), v.maxValue(1_000_000)),
    ),
    expires_at: v.optional(v.nullable(TimestampInput)),
  }),
  status: 201,
  response: CreatedKey,
  errors: ['invalid_expiry'],
  idempotent: true,
})

export const revokeKey = defineRoute({
  method: 'POST',
  path: '/keys/{id}/revoke',
  scope: 'admin',
  tag: 'keys',
  summary: 'Revoke a key now (idempotent: a revoked key is returned as it is)',
  params: v.object({ id: IdParam }),
  status: 200,
  response: ApiKey,
  errors: ['key_not_found'],
  idempotent: true,
})

export const rotateKey = defineRoute({
  method: 'POST',
  path: '/keys/{id}/rotate',
  scope: 'admin',
  tag: 'keys',
  summary: 'Issue a replacement key; the old one keeps working for grace_seconds (default 86400)',
  params: v.object({ id: IdParam }),
  body: v.optional(v.strictObject({ grace_seconds: v.optional(GraceSeconds, 86_400) }), {}),
  status: 201,
  response: CreatedKey,
  errors: ['key_not_found', 'key_revoked', 'key_expired'],
  idempotent: true,
})

export const AuditEntry = v.object({
  id: Id,
  blog_id: v.nullable(Id),
  event_id: v.nullable(Id),
  event_type: v.string(),
  source: v.string(),
  detail: v.nullable(v.string()),
  metadata: v.nullable(v.unknown()),
  created_at: Timestamp,
})

export const listAudit = defineRoute({
  method: 'GET',
  path: '/audit',
  scope: 'admin',
  tag: 'admin',
  summary: 'The audit log, newest first',
  query: v.strictObject({
    ...PageQuery,
    blog_id: v.optional(IdParam),
    event_type: v.optional(v.pipe(v.string(), v.maxLength(64))),
    since: v.optional(TimestampInput),
    until: v.optional(TimestampInput),
  }),
  status: 200,
  response: listOf(AuditEntry),
})

export const adminRoutes = {
  health,
  openapi,
  me,
  'keys.list': listKeys,
  'keys.create': createKey,
  'keys.revoke': revokeKey,
  'keys.rotate': rotateKey,
  'audit.list': listAudit,
}
