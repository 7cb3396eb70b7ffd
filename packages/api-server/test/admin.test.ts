import { JetmonApiError } from '@jetmon/api-client'
import { createApiKey, hashToken } from '@jetmon/api-keys'
import { apiKeys, auditLog } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { envelopeOf, useTestApi } from './_helpers.js'

const harness = useTestApi()

describe('GET /health and /openapi.json', () => {
  it('answer without a token', async () => {
    const health = await harness().fetch('/health', { token: null })
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const openapi = await harness().fetch('/openapi.json', { token: null })
    expect(openapi.status).toBe(200)
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0')
  })
})

describe('GET /me', () => {
  it('describes the calling key', async () => {
    const { data } = await harness().client.read.call('me')
    expect(data).toMatchObject({
      consumer: 'test-read',
      scope: 'read',
      rate_limit_per_minute: 100_000,
      tenant_id: null,
    })
  })
})

describe('keys', () => {
  it('records a created key in the audit log with who made it and what it was granted', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000)
    const created = await harness().client.admin.call('keys.create', {
      body: { consumer: 'audited-bot', scope: 'read', rate_limit_per_minute: 30, expires_at: expiresAt.toISOString() },
    })
    const rows = await harness().database.db.select().from(auditLog).where(eq(auditLog.eventType, 'key_created'))
    const row = rows.find((r) => (r.metadata as { key_id?: string }).key_id === String(created.data.key.id))
    expect(row?.source).toMatch(/^api:/)
    expect(row?.metadata).toEqual({
      key_id: String(created.data.key.id),
      consumer: 'audited-bot',
      scope: 'read',
      rate_limit_per_minute: 30,
      expires_at: created.data.key.expires_at,
    })
  })

  it('creates a key whose token works once shown, lists it, rotates and revokes it', async () => {
    const admin = harness().client.admin
    const created = await admin.call('keys.create', { body: { consumer: 'ci-bot', scope: 'write' } })
    expect(created.status).toBe(201)
    expect(created.data.token).toMatch(/^jm_[A-Za-z0-9_-]{43}$/)
    expect(created.data.key).toMatchObject({
      consumer: 'ci-bot',
      scope: 'write',
      rate_limit_per_minute: 120,
      status: 'active',
    })
    // Only the hash is stored.
    const [row] = await harness()
      .database.db.select()
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hashToken(created.data.token)))
    expect(row?.consumerName).toBe('ci-bot')

    const bot = harness().clientFor(created.data.token)
    expect((await bot.call('me')).data.consumer).toBe('ci-bot')

    const listed = []
    for await (const key of admin.paginate<{ id: number; consumer: string }>({ path: '/keys', limit: 2 }))
      listed.push(key)
    expect(listed.map((key) => key.consumer)).toContain('ci-bot')

    const rotated = await admin.call('keys.rotate', {
      params: { id: created.data.key.id },
      body: { grace_seconds: 3600 },
    })
    expect(rotated.status).toBe(201)
    expect(rotated.data.token).not.toBe(created.data.token)
    // Inside the grace window both tokens work.
    expect((await bot.call('me')).data.revoked_at).not.toBeNull()
    expect((await harness().clientFor(rotated.data.token).call('me')).data.consumer).toBe('ci-bot')

    const revoked = await admin.call('keys.revoke', { params: { id: created.data.key.id } })
    expect(revoked.data.status).toBe('revoked')
    await expect(bot.call('me')).rejects.toMatchObject({ status: 401, code: 'token_revoked' })
    await expect(admin.call('keys.rotate', { params: { id: created.data.key.id } })).rejects.toMatchObject({
      status: 409,
      code: 'key_revoked',
    })
  })

  it('refuses to rotate an expired key with 409 key_expired', async () => {
    const { row } = await createApiKey({
      ctx: { db: harness().database.db },
      input: {
        consumer: 'lapsed',
        scope: 'read',
        expiresAt: new Date(Date.now() - 3_600_000),
        createdBy: 'test',
      },
    })
    await expect(harness().client.admin.call('keys.rotate', { params: { id: Number(row.id) } })).rejects.toMatchObject({
      status: 409,
      code: 'key_expired',
    })
  })

  it('answers 404 key_not_found and validates bodies with field paths', async () => {
    const admin = harness().client.admin
    await expect(admin.call('keys.revoke', { params: { id: 999_999 } })).rejects.toMatchObject({
      status: 404,
      code: 'key_not_found',
    })
    const error = await admin
      .call('keys.create', { body: { consumer: 'x', scope: 'root' as never, colour: 'red' } as never })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonApiError)
    expect((error as JetmonApiError).status).toBe(400)
    expect((error as JetmonApiError).details?.map((d) => d.path).sort()).toEqual(['colour', 'scope'])
  })
})

describe('cross-cutting rules', () => {
  it('auth: missing, malformed, unknown, expired tokens and insufficient scope', async () => {
    const h = harness()
    expect(await envelopeOf(await h.fetch('/me', { token: null }))).toMatchObject({ code: 'missing_token' })
    expect(await envelopeOf(await h.fetch('/me', { token: 'nope' }))).toMatchObject({ code: 'invalid_token' })
    expect(await envelopeOf(await h.fetch('/me', { token: `jm_${'A'.repeat(43)}` }))).toMatchObject({
      code: 'invalid_token',
    })
    const expiresAt = Date.now() + 1500
    const expiring = await h.client.admin.call('keys.create', {
      body: { consumer: 'short', expires_at: new Date(expiresAt).toISOString() },
    })
    const client = h.clientFor(expiring.data.token)
    expect((await client.call('me')).status).toBe(200)
    // expires_at is stored to the second (truncated by MariaDB, rounded by MySQL): wait past both.
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(expiresAt / 1000) * 1000 + 100 - Date.now()))
    await expect(client.call('me')).rejects.toMatchObject({ status: 401, code: 'token_expired' })

    const forbidden = await h.fetch('/keys', { token: h.tokens.write })
    expect(forbidden.status).toBe(403)
    const envelope = await envelopeOf(forbidden)
    expect(envelope.code).toBe('insufficient_scope')
    expect(envelope.message).toContain('admin')
    expect(envelope.message).toContain('write')
  })

  it('every answer has the envelope and a request id; 404, 405 and 413 included', async () => {
    const h = harness()
    const missing = await h.fetch('/no-such-thing')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-request-id')).toMatch(/^req_/)
    expect(await envelopeOf(missing)).toMatchObject({
      code: 'route_not_found',
      request_id: missing.headers.get('x-request-id'),
    })

    const wrongMethod = await h.fetch('/me', { method: 'DELETE' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('GET')
    expect((await envelopeOf(wrongMethod)).code).toBe('method_not_allowed')

    const echoed = await h.fetch('/me', { headers: { 'x-request-id': 'trace-1234-abcd' } })
    expect(echoed.headers.get('x-request-id')).toBe('trace-1234-abcd')
    const insane = await h.fetch('/me', { headers: { 'x-request-id': 'a b' } })
    expect(insane.headers.get('x-request-id')).toMatch(/^req_/)

    const big = await h.fetch('/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ consumer: 'x'.repeat(1024 * 1024) }),
    })
    expect(big.status).toBe(413)
    expect((await envelopeOf(big)).code).toBe('payload_too_large')

    const badJson = await h.fetch('/keys', {
      method: 'POST',
      body: '{"consumer":',
      headers: { 'content-type': 'application/json' },
    })
    expect(badJson.status).toBe(400)
    expect(await envelopeOf(badJson)).toMatchObject({ code: 'invalid_request', details: [{ path: 'body' }] })

    const unknownQuery = await h.fetch('/keys?colour=red')
    expect(unknownQuery.status).toBe(400)
    expect((await envelopeOf(unknownQuery)).details).toEqual([
      { path: 'query.colour', message: 'is not a known field' },
    ])

    const badCursor = await h.fetch('/keys?cursor=bm9wZQ')
    expect(badCursor.status).toBe(400)
    expect((await envelopeOf(badCursor)).details?.[0]?.path).toBe('query.cursor')
  })

  it('writes an api_access audit row per authenticated request without waiting for it', async () => {
    const h = harness()
    const response = await h.client.read.call('me', undefined, { headers: { 'x-request-id': 'audit-check-0001' } })
    expect(response.status).toBe(200)
    await h.api.audit.flush()
    const rows = await h.database.db.select().from(auditLog).where(eq(auditLog.eventType, 'api_access'))
    const row = rows.find((r) => (r.metadata as { request_id?: string }).request_id === 'audit-check-0001')
    expect(row).toBeDefined()
    expect(row?.source).toBe('api:test-read')
    expect(row?.metadata).toMatchObject({ method: 'GET', path: '/api/v1/me', status: 200, consumer: 'test-read' })
    expect(row?.detail).toBe('GET /api/v1/me 200')
    expect(row?.blogId).toBeNull()
    // The request's own time, in UTC, to the millisecond.
    expect(Math.abs(row!.createdAt.getTime() - Date.now())).toBeLessThan(60_000)
  })

  it('only the gateway key may send a tenant header', async () => {
    const h = harness()
    const refused = await h.fetch('/me', { token: h.tokens.admin, headers: { 'x-jetmon-tenant-id': 't1' } })
    expect(refused.status).toBe(403)
    expect((await envelopeOf(refused)).code).toBe('forbidden_gateway_context')
    const { data } = await h.client.gateway.call('me', undefined, { headers: { 'x-jetmon-tenant-id': 't1' } })
    expect(data.tenant_id).toBe('t1')
  })
})
