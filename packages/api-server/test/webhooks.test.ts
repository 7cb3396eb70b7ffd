import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { JetmonApiError } from '@jetmon/api-client'
import { siteTenants, webhookDeliveries, webhooks } from '@jetmon/db'
import { decryptSecret, isEncryptedSecret, verifySignature } from '@jetmon/webhooks'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, type TestApi, useTestApi } from './_helpers.js'

interface Received {
  headers: IncomingHttpHeaders
  body: string
  at: Date
}

/** A local webhook receiver on 127.0.0.1 that records requests and answers as told. */
function useReceiver() {
  const received: Received[] = []
  let answer = { status: 200, body: 'thanks' }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: new Date() })
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body)
    })
  })
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    received,
    port: () => (server.address() as AddressInfo).port,
    url: (path = '/hook') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    answer(status: number, body: string) {
      answer = { status, body }
    },
  }
}

const harness = useTestApi()
const receiver = useReceiver()
const tenant = (id: string) => ({ headers: { 'x-jetmon-tenant-id': id } })

async function createWebhook(h: TestApi, body: Record<string, unknown> = {}) {
  return h.client.write.call('webhooks.create', { body: { url: receiver.url(), ...body } as never })
}

async function failure(promise: Promise<unknown>): Promise<JetmonApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof JetmonApiError)) throw new Error(`expected an API error, got ${String(error)}`)
  return error
}

describe('webhooks CRUD', () => {
  it('creates a webhook, shows its secret once, and never again', async () => {
    const h = harness()
    const blog = newBlogId()
    const created = await createWebhook(h, {
      events: ['event.opened', 'event.closed', 'event.opened'],
      site_filter: { blog_ids: [Number(blog), '9007199254740993'] },
      state_filter: { states: ['Down', 'Resolved'] },
    })
    expect(created.status).toBe(201)
    const { webhook, secret } = created.data
    expect(secret).toMatch(/^whsec_[A-Z2-7]{52}$/)
    expect(webhook).toMatchObject({
      url: receiver.url(),
      active: true,
      events: ['event.opened', 'event.closed'],
      site_filter: { blog_ids: [Number(blog), '9007199254740993'] },
      state_filter: { states: ['Down', 'Resolved'] },
      secret_preview: secret.slice(-4),
      previous_secret_expires_at: null,
      created_by: 'api:test-write',
    })
    expect(webhook).not.toHaveProperty('owner_tenant_id')
    expect(JSON.stringify(webhook)).not.toContain(secret)

    const fetched = await h.fetch(`/webhooks/${webhook.id}`, { token: h.tokens.read })
    expect(fetched.status).toBe(200)
    const text = await fetched.text()
    expect(text).not.toContain(secret)
    expect(JSON.parse(text)).toEqual(webhook)

    const listed = await h.fetch('/webhooks?limit=200', { token: h.tokens.read })
    expect(await listed.text()).not.toContain(secret.slice(6))

    // Without a secrets key the secret is stored as it is (serve warns about that at startup).
    const [row] = await h.database.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, BigInt(webhook.id)))
    expect(row?.secret.toString('utf8')).toBe(secret)
    expect(row?.stateFilter).toEqual(['Down', 'Resolved'])
    expect(row?.siteFilter).toEqual({ blog_ids: [blog.toString(), '9007199254740993'] })
  })

  it('defaults: active, every event, every site, every state', async () => {
    const { data } = await createWebhook(harness())
    expect(data.webhook).toMatchObject({
      active: true,
      events: [],
      site_filter: { blog_ids: [] },
      state_filter: { states: [] },
    })
  })

  it('lists newest first with cursors', async () => {
    const h = harness()
    const ids = []
    for (let i = 0; i < 3; i++) ids.push((await createWebhook(h)).data.webhook.id)
    const first = await h.client.read.call('webhooks.list', { query: { limit: 2 } })
    expect(first.data.data).toHaveLength(2)
    expect(first.data.page.next).not.toBeNull()
    expect(first.data.data.map((w) => w.id)).toEqual([ids[2], ids[1]])
    const second = await h.client.read.call('webhooks.list', { query: { limit: 2, cursor: first.data.page.next } })
    expect(second.data.data[0]?.id).toBe(ids[0])
  })

  it('validates url, events and filters with field paths', async () => {
    const h = harness()
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://example.com/x' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'https://user:pass@example.com/x' }, 'url'],
      [{ url: `https://example.com/${'x'.repeat(2100)}` }, 'url'],
      [{ url: receiver.url(), events: ['event.opened', 'site.exploded'] }, 'events.1'],
      [{ url: receiver.url(), state_filter: { states: ['Sideways'] } }, 'state_filter.states.0'],
      [{ url: receiver.url(), site_filter: { blog_ids: [0] } }, 'site_filter.blog_ids.0'],
      [{ url: receiver.url(), site_filter: { sites: [1] } }, 'site_filter.sites'],
      [{ url: receiver.url(), secret: 'whsec_mine' }, 'secret'],
    ]
    for (const [body, path] of cases) {
      const error = await failure(h.client.write.call('webhooks.create', { body: body as never }))
      expect(error.status, JSON.stringify(body)).toBe(400)
      expect(error.code).toBe('invalid_request')
      expect(error.details?.map((d) => d.path)).toContain(path)
    }
    const missing = await failure(h.client.write.call('webhooks.create', { body: {} as never }))
    expect(missing.details).toEqual([{ path: 'url', message: 'is required' }])
  })

  it('updates given fields only; empty filters match everything again', async () => {
    const h = harness()
    const { webhook } = (
      await createWebhook(h, {
        events: ['event.opened'],
        site_filter: { blog_ids: [1] },
        state_filter: { states: ['Down'] },
      })
    ).data
    const updated = await h.client.write.call('webhooks.update', {
      params: { id: webhook.id },
      body: { active: false, url: receiver.url('/other') },
    })
    expect(updated.data).toMatchObject({
      active: false,
      url: receiver.url('/other'),
      events: ['event.opened'],
      site_filter: { blog_ids: [1] },
      state_filter: { states: ['Down'] },
      secret_preview: webhook.secret_preview,
    })
    expect(new Date(updated.data.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(webhook.updated_at).getTime())
    const cleared = await h.client.write.call('webhooks.update', {
      params: { id: webhook.id },
      body: { events: [], site_filter: {}, state_filter: { states: [] } },
    })
    expect(cleared.data).toMatchObject({ events: [], site_filter: { blog_ids: [] }, state_filter: { states: [] } })
    const invalid = await failure(
      h.client.write.call('webhooks.update', { params: { id: webhook.id }, body: { url: 'gopher://x' } }),
    )
    expect(invalid).toMatchObject({ status: 400, details: [{ path: 'url' }] })
  })

  it('deletes with 204; the webhook is then 404 everywhere', async () => {
    const h = harness()
    const { webhook } = (await createWebhook(h)).data
    const deleted = await h.fetch(`/webhooks/${webhook.id}`, { method: 'DELETE', token: h.tokens.write })
    expect(deleted.status).toBe(204)
    expect(await deleted.text()).toBe('')
    const params = { id: webhook.id }
    for (const call of [
      () => h.client.read.call('webhooks.get', { params }),
      () => h.client.write.call('webhooks.update', { params, body: { active: true } }),
      () => h.client.write.call('webhooks.delete', { params }),
      () => h.client.write.call('webhooks.rotateSecret', { params }),
      () => h.client.write.call('webhooks.test', { params }),
      () => h.client.read.call('webhooks.deliveries', { params }),
      () => h.client.write.call('webhooks.retryDelivery', { params: { ...params, delivery_id: 1 } }),
    ]) {
      expect(await failure(call())).toMatchObject({ status: 404, code: 'webhook_not_found' })
    }
  })

  it('needs the write scope to change anything', async () => {
    const h = harness()
    const error = await failure(h.client.read.call('webhooks.create', { body: { url: receiver.url() } }))
    expect(error).toMatchObject({ status: 403, code: 'insufficient_scope' })
  })
})

describe('POST /webhooks/{id}/test', () => {
  it("sends a signed ping and returns the receiver's answer", async () => {
    const h = harness()
    const { webhook, secret } = (await createWebhook(h, { active: false })).data
    receiver.answer(202, 'accepted')
    const before = receiver.received.length
    const { status, data } = await h.client.write.call('webhooks.test', { params: { id: webhook.id } })
    expect(status).toBe(200)
    expect(data).toMatchObject({ status_code: 202, response_excerpt: 'accepted', error: null })
    expect(data.duration_ms).toBeGreaterThanOrEqual(0)
    expect(receiver.received.length).toBe(before + 1)

    const request = receiver.received.at(-1)!
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['user-agent']).toMatch(/^Jetmon-Webhooks\/\d+\.\d+\.\d+/)
    expect(request.headers['x-jetmon-event']).toBe('ping')
    const payload = JSON.parse(request.body) as Record<string, unknown>
    expect(payload).toMatchObject({ type: 'ping', webhook: { id: webhook.id } })
    expect(request.headers['x-jetmon-delivery']).toBe(payload.id)
    expect(payload.id).toMatch(/^ping_[0-9a-f]{32}$/)
    const header = request.headers['x-jetmon-signature'] as string
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(verifySignature({ secret, header, body: request.body, now: request.at })).toMatchObject({ ok: true })
    expect(verifySignature({ secret: 'whsec_other', header, body: request.body }).ok).toBe(false)
  })

  it('returns a non-2xx answer with the first 2 KiB of its body', async () => {
    const h = harness()
    const { webhook } = (await createWebhook(h)).data
    receiver.answer(500, `boom ${'x'.repeat(5000)}`)
    const { status, data } = await h.client.write.call('webhooks.test', { params: { id: webhook.id } })
    expect(status).toBe(200)
    expect(data.status_code).toBe(500)
    expect(data.response_excerpt).toBe(`boom ${'x'.repeat(2043)}`)
  })

  it('answers 502 webhook_unreachable when nothing answers', async () => {
    const h = harness()
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const { webhook } = (await createWebhook(h, { url: `http://127.0.0.1:${port}/gone` })).data
    const response = await h.fetch(`/webhooks/${webhook.id}/test`, { method: 'POST', token: h.tokens.write })
    expect(response.status).toBe(502)
    const envelope = await envelopeOf(response)
    expect(envelope.code).toBe('webhook_unreachable')
    expect(envelope.message).toContain(`127.0.0.1:${port}`)
    expect(envelope.message).toContain('ECONNREFUSED')
  })

  it('signs with the new and the previous secret during a rotation grace period', async () => {
    const h = harness()
    const { webhook, secret: oldSecret } = (await createWebhook(h)).data
    receiver.answer(200, 'ok')
    const before = Date.now()
    const rotated = await h.client.write.call('webhooks.rotateSecret', {
      params: { id: webhook.id },
      body: { grace_seconds: 3600 },
    })
    expect(rotated.status).toBe(200)
    const newSecret = rotated.data.secret
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(oldSecret)
    expect(rotated.data.webhook.secret_preview).toBe(newSecret.slice(-4))
    const expires = new Date(rotated.data.webhook.previous_secret_expires_at!).getTime()
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000)
    const fetched = await h.fetch(`/webhooks/${webhook.id}`)
    const text = await fetched.text()
    expect(text).not.toContain(newSecret)
    expect(text).not.toContain(oldSecret)

    await h.client.write.call('webhooks.test', { params: { id: webhook.id } })
    const request = receiver.received.at(-1)!
    const header = request.headers['x-jetmon-signature'] as string
    const [t, first, second, ...rest] = header.split(',')
    expect(rest).toEqual([])
    expect(first).toMatch(/^v1=/)
    expect(second).toMatch(/^v1=/)
    // Either secret verifies the request; the new one signs the first entry.
    for (const secret of [newSecret, oldSecret]) {
      expect(verifySignature({ secret, header, body: request.body }).ok).toBe(true)
    }
    expect(verifySignature({ secret: newSecret, header: `${t},${first}`, body: request.body }).ok).toBe(true)
    expect(verifySignature({ secret: oldSecret, header: `${t},${second}`, body: request.body }).ok).toBe(true)

    // A rotation without grace drops the outgoing secret at once.
    const again = await h.client.write.call('webhooks.rotateSecret', {
      params: { id: webhook.id },
      body: { grace_seconds: 0 },
    })
    expect(again.data.webhook.previous_secret_expires_at).toBeNull()
    await h.client.write.call('webhooks.test', { params: { id: webhook.id } })
    const last = receiver.received.at(-1)!
    const single = last.headers['x-jetmon-signature'] as string
    expect(single.split(',')).toHaveLength(2)
    expect(verifySignature({ secret: again.data.secret, header: single, body: last.body }).ok).toBe(true)
    expect(verifySignature({ secret: newSecret, header: single, body: last.body }).ok).toBe(false)
  })

  it('rotates with a default grace period of a day', async () => {
    const h = harness()
    const { webhook } = (await createWebhook(h)).data
    const before = Date.now()
    const rotated = await h.client.write.call('webhooks.rotateSecret', { params: { id: webhook.id } })
    const expires = new Date(rotated.data.webhook.previous_secret_expires_at!).getTime()
    expect(expires - before).toBeGreaterThanOrEqual(86_400_000 - 1000)
    expect(expires - before).toBeLessThanOrEqual(86_400_000 + 5000)
    const invalid = await failure(
      h.client.write.call('webhooks.rotateSecret', { params: { id: webhook.id }, body: { grace_seconds: -1 } }),
    )
    expect(invalid).toMatchObject({ status: 400, details: [{ path: 'grace_seconds' }] })
  })
})

describe('webhook deliveries', () => {
  async function seedDeliveries(h: TestApi, webhookId: bigint, statuses: string[]) {
    const blogId = newBlogId()
    const ids: bigint[] = []
    for (const [index, status] of statuses.entries()) {
      const [row] = await h.database.db
        .insert(webhookDeliveries)
        .values({
          webhookId,
          transitionId: BigInt(1000 + index),
          eventId: 77n,
          blogId,
          eventType: 'event.opened',
          payload: { id: index, type: 'event.opened' },
          status: status as 'pending',
          attempt: status === 'abandoned' ? 6 : 1,
          nextAttemptAt: status === 'pending' ? new Date('2026-05-01T12:00:00.000Z') : null,
          lastStatusCode: status === 'abandoned' ? 503 : 200,
          lastResponse: status === 'abandoned' ? 'transport: ECONNRESET' : 'ok',
          lastAttemptAt: new Date('2026-05-01T11:00:00.000Z'),
          deliveredAt: status === 'delivered' ? new Date('2026-05-01T11:00:00.000Z') : null,
        })
        .$returningId()
      ids.push(BigInt(row!.id))
    }
    return { ids, blogId }
  }

  it('lists deliveries newest first, filtered by status, paginated', async () => {
    const h = harness()
    const { webhook } = (await createWebhook(h)).data
    const { ids, blogId } = await seedDeliveries(h, BigInt(webhook.id), [
      'delivered',
      'abandoned',
      'pending',
      'abandoned',
      'suppressed',
    ])
    // Another webhook's deliveries never show up.
    const other = (await createWebhook(h)).data.webhook
    await seedDeliveries(h, BigInt(other.id), ['abandoned'])

    const all = await h.client.read.call('webhooks.deliveries', { params: { id: webhook.id } })
    expect(all.data.data.map((d) => d.id)).toEqual([...ids].reverse().map(Number))
    expect(all.data.data[0]).toEqual({
      id: Number(ids[4]),
      transition_id: 1004,
      event_id: 77,
      blog_id: Number(blogId),
      event_type: 'event.opened',
      status: 'suppressed',
      attempt: 1,
      next_attempt_at: null,
      last_status_code: 200,
      last_response: 'ok',
      last_attempt_at: '2026-05-01T11:00:00.000Z',
      delivered_at: null,
      created_at: expect.any(String),
    })

    const abandoned = await h.client.read.call('webhooks.deliveries', {
      params: { id: webhook.id },
      query: { status: 'abandoned' },
    })
    expect(abandoned.data.data.map((d) => d.id)).toEqual([Number(ids[3]), Number(ids[1])])

    const page1 = await h.client.read.call('webhooks.deliveries', { params: { id: webhook.id }, query: { limit: 2 } })
    expect(page1.data.data.map((d) => d.id)).toEqual([Number(ids[4]), Number(ids[3])])
    const page2 = await h.client.read.call('webhooks.deliveries', {
      params: { id: webhook.id },
      query: { limit: 2, cursor: page1.data.page.next },
    })
    expect(page2.data.data.map((d) => d.id)).toEqual([Number(ids[2]), Number(ids[1])])
    const page3 = await h.client.read.call('webhooks.deliveries', {
      params: { id: webhook.id },
      query: { limit: 2, cursor: page2.data.page.next },
    })
    expect(page3.data.data.map((d) => d.id)).toEqual([Number(ids[0])])
    expect(page3.data.page.next).toBeNull()

    const bad = await h.fetch(`/webhooks/${webhook.id}/deliveries?status=failed`)
    expect(bad.status).toBe(400)
    expect((await envelopeOf(bad)).details?.[0]?.path).toBe('query.status')
  })

  it('retries only abandoned deliveries of this webhook', async () => {
    const h = harness()
    const { webhook } = (await createWebhook(h)).data
    const { ids } = await seedDeliveries(h, BigInt(webhook.id), ['abandoned', 'delivered', 'pending'])
    const other = (await createWebhook(h)).data.webhook
    const { ids: otherIds } = await seedDeliveries(h, BigInt(other.id), ['abandoned'])

    const before = Date.now()
    const retried = await h.client.write.call('webhooks.retryDelivery', {
      params: { id: webhook.id, delivery_id: Number(ids[0]) },
    })
    expect(retried.status).toBe(200)
    expect(retried.data).toMatchObject({ id: Number(ids[0]), status: 'pending', attempt: 0 })
    expect(new Date(retried.data.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(before - 1000)
    const [row] = await h.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, ids[0]!))
    expect(row).toMatchObject({ status: 'pending', attempt: 0, leaseExpiresAt: null })
    expect(row?.nextAttemptAt?.toISOString()).toBe(retried.data.next_attempt_at)

    // Now pending: not retryable again; nor are delivered ones.
    for (const id of [ids[0], ids[1], ids[2]]) {
      const error = await failure(
        h.client.write.call('webhooks.retryDelivery', { params: { id: webhook.id, delivery_id: Number(id) } }),
      )
      expect(error).toMatchObject({ status: 409, code: 'delivery_not_retryable' })
    }
    const foreign = await failure(
      h.client.write.call('webhooks.retryDelivery', { params: { id: webhook.id, delivery_id: Number(otherIds[0]) } }),
    )
    expect(foreign).toMatchObject({ status: 404, code: 'delivery_not_found' })
    const [untouched] = await h.database.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, otherIds[0]!))
    expect(untouched?.status).toBe('abandoned')
  })
})

describe('webhook tenancy (gateway mode)', () => {
  it('shows each tenant only its own webhooks, and all of them without a tenant', async () => {
    const h = harness()
    const gw = h.client.gateway
    const mine = await gw.call('webhooks.create', { body: { url: receiver.url('/t1') } }, tenant('t1'))
    expect(mine.data.webhook.owner_tenant_id).toBe('t1')
    const theirs = await gw.call('webhooks.create', { body: { url: receiver.url('/t2') } }, tenant('t2'))
    const [row] = await h.database.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, BigInt(theirs.data.webhook.id)))
    expect(row?.ownerTenantId).toBe('t2')

    const listed = await gw.call('webhooks.list', { query: { limit: 200 } }, tenant('t1'))
    const ids = listed.data.data.map((w) => w.id)
    expect(ids).toContain(mine.data.webhook.id)
    expect(ids).not.toContain(theirs.data.webhook.id)
    expect(listed.data.data.every((w) => w.owner_tenant_id === 't1')).toBe(true)

    const params = { id: theirs.data.webhook.id }
    for (const call of [
      () => gw.call('webhooks.get', { params }, tenant('t1')),
      () => gw.call('webhooks.update', { params, body: { active: false } }, tenant('t1')),
      () => gw.call('webhooks.delete', { params }, tenant('t1')),
      () => gw.call('webhooks.rotateSecret', { params }, tenant('t1')),
      () => gw.call('webhooks.test', { params }, tenant('t1')),
      () => gw.call('webhooks.deliveries', { params }, tenant('t1')),
      () => gw.call('webhooks.retryDelivery', { params: { ...params, delivery_id: 1 } }, tenant('t1')),
    ]) {
      expect(await failure(call())).toMatchObject({ status: 404, code: 'webhook_not_found' })
    }
    // Untouched by the attempts above.
    expect((await gw.call('webhooks.get', { params }, tenant('t2'))).data.active).toBe(true)

    // Without a tenant every webhook is visible, without the owner field.
    const all = await h.client.read.call('webhooks.get', { params })
    expect(all.data).not.toHaveProperty('owner_tenant_id')
  })

  it("refuses a site filter naming another tenant's site", async () => {
    const h = harness()
    const own = newBlogId()
    const foreign = newBlogId()
    await h.database.db.insert(siteTenants).values([
      { tenantId: 't1', blogId: own },
      { tenantId: 't2', blogId: foreign },
    ])
    const ok = await h.client.gateway.call(
      'webhooks.create',
      { body: { url: receiver.url(), site_filter: { blog_ids: [Number(own)] } } },
      tenant('t1'),
    )
    expect(ok.data.webhook.site_filter.blog_ids).toEqual([Number(own)])
    const refused = await failure(
      h.client.gateway.call(
        'webhooks.create',
        { body: { url: receiver.url(), site_filter: { blog_ids: [Number(own), Number(foreign)] } } },
        tenant('t1'),
      ),
    )
    expect(refused).toMatchObject({
      status: 404,
      code: 'site_not_found',
      details: [{ path: 'site_filter.blog_ids.1' }],
    })
    const update = await failure(
      h.client.gateway.call(
        'webhooks.update',
        { params: { id: ok.data.webhook.id }, body: { site_filter: { blog_ids: [Number(foreign)] } } },
        tenant('t1'),
      ),
    )
    expect(update).toMatchObject({ status: 404, code: 'site_not_found' })
  })
})

describe('secrets at rest with SECRETS_KEY', () => {
  const secretsKey = randomBytes(32)
  const encrypted = useTestApi({ deps: { secretsKey } })

  it('stores the secret encrypted and still signs with it', async () => {
    const h = encrypted()
    const { webhook, secret } = (await h.client.write.call('webhooks.create', { body: { url: receiver.url() } })).data
    const [row] = await h.database.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, BigInt(webhook.id)))
    expect(row).toBeDefined()
    const stored = row!.secret
    expect(stored.toString('utf8')).not.toBe(secret)
    expect(stored.includes(Buffer.from(secret))).toBe(false)
    expect(isEncryptedSecret(stored)).toBe(true)
    expect(decryptSecret(stored, secretsKey)).toBe(secret)

    const rotated = await h.client.write.call('webhooks.rotateSecret', { params: { id: webhook.id } })
    const [after] = await h.database.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, BigInt(webhook.id)))
    expect(decryptSecret(after!.secret, secretsKey)).toBe(rotated.data.secret)
    expect(decryptSecret(after!.previousSecret!, secretsKey)).toBe(secret)

    await h.client.write.call('webhooks.test', { params: { id: webhook.id } })
    const request = receiver.received.at(-1)!
    const header = request.headers['x-jetmon-signature'] as string
    expect(verifySignature({ secret: rotated.data.secret, header, body: request.body }).ok).toBe(true)
    expect(verifySignature({ secret, header, body: request.body }).ok).toBe(true)
  })
})

describe('SSRF guard (private targets not allowed)', () => {
  const guarded = useTestApi({ deps: { allowPrivateTargets: false } })

  it('refuses a private IP literal when the webhook is created or changed', async () => {
    const h = guarded()
    for (const url of [
      receiver.url(),
      'http://[::1]:8080/',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/',
    ]) {
      const error = await failure(h.client.write.call('webhooks.create', { body: { url } }))
      expect(error, url).toMatchObject({ status: 422, code: 'target_not_allowed', details: [{ path: 'url' }] })
    }
    const { webhook } = (await h.client.write.call('webhooks.create', { body: { url: 'https://example.com/hook' } }))
      .data
    const error = await failure(
      h.client.write.call('webhooks.update', { params: { id: webhook.id }, body: { url: 'http://192.168.1.1/' } }),
    )
    expect(error).toMatchObject({ status: 422, code: 'target_not_allowed' })
  })

  it('refuses a host name that resolves to loopback at connection time', async () => {
    const h = guarded()
    const url = `http://localhost:${receiver.port()}/hook`
    const { webhook } = (await h.client.write.call('webhooks.create', { body: { url } })).data
    const before = receiver.received.length
    const response = await h.fetch(`/webhooks/${webhook.id}/test`, { method: 'POST', token: h.tokens.write })
    expect(response.status).toBe(422)
    const envelope = await envelopeOf(response)
    expect(envelope.code).toBe('target_not_allowed')
    expect(envelope.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/)
    expect(receiver.received.length).toBe(before)
  })
})
