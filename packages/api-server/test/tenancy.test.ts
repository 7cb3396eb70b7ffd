/**
 * Gateway tenancy across routes that create mappings or see fleet-wide rows: a tenant cannot take
 * over a blog that is already monitored, sees only its own blogs' audit rows, cannot manage API
 * keys, and has idempotency records of its own.
 */

import { createApiKey } from '@jetmon/api-keys'
import { apiKeys, auditLog, monitorSites, siteTenants } from '@jetmon/db'
import { and, eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

const harness = useTestApi()
let gatewayAdmin = ''

beforeAll(async () => {
  gatewayAdmin = (
    await createApiKey({
      ctx: { db: harness().database.db },
      input: {
        consumer: 'gateway',
        scope: 'admin',
        rateLimitPerMinute: 100_000,
        createdBy: 'test',
      },
    })
  ).token
})

function asTenant(tenant: string, path: string, init: RequestInit & { token?: string } = {}) {
  const h = harness()
  const headers = new Headers(init.headers)
  headers.set('x-jetmon-tenant-id', tenant)
  if (init.body !== undefined) headers.set('content-type', 'application/json')
  return h.fetch(path, { ...init, headers, token: init.token ?? h.tokens.gateway })
}

const url = (blogId: bigint, path = '') => `https://tenant-${blogId}.example/${path}`

describe('POST /sites in a tenant context', () => {
  it("cannot take over another tenant's blog, nor reactivate its paused URL", async () => {
    const h = harness()
    const blogId = newBlogId()
    const created = await asTenant('tenant-a', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId), check_interval_sec: 300 }),
    })
    expect(created.status).toBe(201)
    const paused = await asTenant('tenant-a', `/sites/${blogId}/pause`, { method: 'POST' })
    expect(paused.status).toBe(200)

    for (const monitorUrl of [url(blogId), url(blogId, 'other')]) {
      const taken = await asTenant('tenant-b', '/sites', {
        method: 'POST',
        body: JSON.stringify({ blog_id: String(blogId), monitor_url: monitorUrl, check_interval_sec: 60 }),
      })
      expect(taken.status).toBe(404)
      expect((await envelopeOf(taken)).code).toBe('site_not_found')
    }

    const mappings = await h.database.db.select().from(siteTenants).where(eq(siteTenants.blogId, blogId))
    expect(mappings.map((row) => row.tenantId)).toEqual(['tenant-a'])
    const rows = await h.database.db.select().from(monitorSites).where(eq(monitorSites.blogId, blogId))
    expect(rows).toHaveLength(1)
    expect(rows[0]!.monitorActive).toBe(0)
    expect((await asTenant('tenant-b', `/sites/${blogId}`)).status).toBe(404)
  })

  it('cannot claim a blog monitored outside any tenant', async () => {
    const h = harness()
    const blogId = newBlogId()
    const operator = await h.fetch('/sites', {
      method: 'POST',
      token: h.tokens.write,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId) }),
    })
    expect(operator.status).toBe(201)
    const claimed = await asTenant('tenant-c', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId, 'mine') }),
    })
    expect(claimed.status).toBe(404)
    expect((await envelopeOf(claimed)).code).toBe('site_not_found')
    expect(await h.database.db.select().from(siteTenants).where(eq(siteTenants.blogId, blogId))).toEqual([])
  })

  it('creates a new blog for the tenant and adds further URLs to its own blog', async () => {
    const blogId = newBlogId()
    const first = await asTenant('tenant-d', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId) }),
    })
    expect(first.status).toBe(201)
    const second = await asTenant('tenant-d', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId, 'second') }),
    })
    expect(second.status).toBe(201)
    const again = await asTenant('tenant-d', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId) }),
    })
    expect((await envelopeOf(again)).code).toBe('site_exists')
  })

  it('two tenants racing for one new blog: exactly one gets it', async () => {
    const h = harness()
    const blogId = newBlogId()
    const answers = await Promise.all(
      ['tenant-r1', 'tenant-r2', 'tenant-r3', 'tenant-r4'].map((tenant) =>
        asTenant(tenant, '/sites', {
          method: 'POST',
          body: JSON.stringify({ blog_id: String(blogId), monitor_url: url(blogId, tenant) }),
        }),
      ),
    )
    expect(answers.map((a) => a.status).sort()).toEqual([201, 404, 404, 404])
    const mappings = await h.database.db.select().from(siteTenants).where(eq(siteTenants.blogId, blogId))
    expect(mappings).toHaveLength(1)
    const rows = await h.database.db.select().from(monitorSites).where(eq(monitorSites.blogId, blogId))
    expect(rows).toHaveLength(1)
    expect(rows[0]!.monitorUrl).toBe(url(blogId, mappings[0]!.tenantId))
  })
})

describe('/audit and /keys in a tenant context', () => {
  it("/audit lists only the rows of the tenant's own blogs", async () => {
    const h = harness()
    const own = newBlogId()
    const foreign = newBlogId()
    await h.database.db.insert(siteTenants).values([
      { tenantId: 'tenant-audit', blogId: own },
      { tenantId: 'tenant-other', blogId: foreign },
    ])
    await h.database.db.insert(auditLog).values([
      { blogId: own, eventType: 'tenant_probe', source: 'test', detail: 'own' },
      { blogId: foreign, eventType: 'tenant_probe', source: 'test', detail: 'foreign' },
      { blogId: null, eventType: 'tenant_probe', source: 'test', detail: 'fleet' },
    ])
    const listed = await asTenant('tenant-audit', '/audit?event_type=tenant_probe', { token: gatewayAdmin })
    expect(listed.status).toBe(200)
    const body = (await listed.json()) as { data: { detail: string }[] }
    expect(body.data.map((row) => row.detail)).toEqual(['own'])
    const named = await asTenant('tenant-audit', `/audit?blog_id=${foreign}`, { token: gatewayAdmin })
    expect(((await named.json()) as { data: unknown[] }).data).toEqual([])
  })

  it('refuses key management: no listing, creating, revoking or rotating keys', async () => {
    const h = harness()
    const spare = await createApiKey({
      ctx: { db: h.database.db },
      input: { consumer: 'spare', scope: 'read', createdBy: 'test' },
    })
    const before = await h.database.db.select({ id: apiKeys.id }).from(apiKeys)
    const [gatewayRow] = await h.database.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.consumerName, 'gateway'), eq(apiKeys.scope, 'admin')))
    const attempts = [
      asTenant('tenant-keys', '/keys', { token: gatewayAdmin }),
      asTenant('tenant-keys', '/keys', {
        token: gatewayAdmin,
        method: 'POST',
        body: JSON.stringify({ consumer: 'escape', scope: 'admin' }),
      }),
      asTenant('tenant-keys', `/keys/${gatewayRow!.id}/rotate`, {
        token: gatewayAdmin,
        method: 'POST',
        body: JSON.stringify({ grace_seconds: 0 }),
      }),
      asTenant('tenant-keys', `/keys/${spare.row.id}/revoke`, { token: gatewayAdmin, method: 'POST' }),
    ]
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status).toBe(403)
      expect((await envelopeOf(answer)).code).toBe('forbidden_gateway_context')
    }
    const after = await h.database.db.select().from(apiKeys)
    expect(after).toHaveLength(before.length)
    expect(after.every((row) => row.revokedAt === null)).toBe(true)
  })
})

describe('idempotency records in a tenant context', () => {
  it("one tenant's key never replays another tenant's answer", async () => {
    const blogId = newBlogId()
    const own = { blog_id: String(blogId), monitor_url: url(blogId) }
    const first = await asTenant('tenant-i1', '/sites', {
      method: 'POST',
      body: JSON.stringify(own),
      headers: { 'idempotency-key': `shared-${blogId}` },
    })
    expect(first.status).toBe(201)
    const other = await asTenant('tenant-i2', '/sites', {
      method: 'POST',
      body: JSON.stringify(own),
      headers: { 'idempotency-key': `shared-${blogId}` },
    })
    expect(other.headers.get('idempotency-replayed')).toBeNull()
    expect(other.status).toBe(404)
    expect((await envelopeOf(other)).code).toBe('site_not_found')

    const otherBlog = newBlogId()
    const fresh = await asTenant('tenant-i2', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(otherBlog), monitor_url: url(otherBlog) }),
      headers: { 'idempotency-key': `shared-${blogId}-2` },
    })
    expect(fresh.status).toBe(201)
    const reuse = await asTenant('tenant-i1', '/sites', {
      method: 'POST',
      body: JSON.stringify({ blog_id: String(otherBlog), monitor_url: url(otherBlog, 'x') }),
      headers: { 'idempotency-key': `shared-${blogId}-2` },
    })
    expect((await envelopeOf(reuse)).code).not.toBe('idempotency_conflict')
  })
})
