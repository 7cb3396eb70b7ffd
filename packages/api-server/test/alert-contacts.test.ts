import { randomBytes } from 'node:crypto'
import { ALERT_TRANSPORTS } from '@jetmon/alerting'
import { JetmonApiError } from '@jetmon/api-client'
import { alertContacts, alertDeliveries, siteTenants } from '@jetmon/db'
import { decryptSecret } from '@jetmon/webhooks'
import { count, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { ApiDeps } from '../src/index.js'
import { envelopeOf, newBlogId, type TestApi, useTestApi } from './_helpers.js'

type Tester = NonNullable<ApiDeps['alertTester']>
type TesterAnswer = Awaited<ReturnType<Tester['send']>>

/** A stand-in for the transports: records what it was asked to send and answers as told. */
function fakeTester() {
  const calls: { contact: Parameters<Tester['send']>[0]; now: Date }[] = []
  let next: TesterAnswer | Error = { ok: true, status_code: 202, response: 'queued' }
  const tester: Tester = {
    async send(contact, now) {
      calls.push({ contact, now })
      if (next instanceof Error) throw next
      return next
    },
  }
  return {
    tester,
    calls,
    answer(value: TesterAnswer | Error) {
      next = value
    },
  }
}

const fake = fakeTester()
/** Every log line of the server, as JSON text. */
const logged: string[] = []
const record = (...args: unknown[]) => {
  logged.push(JSON.stringify(args))
}
const harness = useTestApi({
  deps: { alertTester: fake.tester, logger: { debug: record, info: record, warn: record, error: record } },
})
const tenant = (id: string) => ({ headers: { 'x-jetmon-tenant-id': id } })

const PD_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6'
const DESTINATIONS = {
  email: { address: 'oncall@example.com' },
  pagerduty: { integration_key: PD_KEY },
  slack: { webhook_url: 'https://hooks.slack.com/services/T000/B000/XXXXsecret' },
  teams: { webhook_url: 'https://example.webhook.office.com/webhookb2/abc' },
} as const

async function createContact(h: TestApi, body: Record<string, unknown> = {}) {
  return h.client.write.call('alertContacts.create', {
    body: { label: 'On call', transport: 'email', destination: DESTINATIONS.email, ...body } as never,
  })
}

async function failure(promise: Promise<unknown>): Promise<JetmonApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof JetmonApiError)) throw new Error(`expected an API error, got ${String(error)}`)
  return error
}

describe('alert contacts CRUD', () => {
  it('creates a contact per transport; the destination is write-only', async () => {
    const h = harness()
    for (const transport of ALERT_TRANSPORTS) {
      const destination = DESTINATIONS[transport]
      const created = await createContact(h, { label: ` ${transport} team `, transport, destination })
      expect(created.status).toBe(201)
      const value = Object.values(destination)[0] as string
      expect(created.data).toMatchObject({
        label: `${transport} team`,
        active: true,
        transport,
        destination_preview: value.slice(-4),
        site_filter: { blog_ids: [] },
        min_severity: 'Down',
        max_per_hour: 60,
        created_by: 'api:test-write',
      })
      expect(created.data).not.toHaveProperty('destination')
      expect(created.data).not.toHaveProperty('owner_tenant_id')
      expect(JSON.stringify(created.data)).not.toContain(value)

      const fetched = await h.fetch(`/alert-contacts/${created.data.id}`, { token: h.tokens.read })
      const text = await fetched.text()
      expect(text).not.toContain(value)
      expect(JSON.parse(text)).toEqual(created.data)

      // Without a secrets key the destination is stored as given.
      const [row] = await h.database.db
        .select()
        .from(alertContacts)
        .where(eq(alertContacts.id, BigInt(created.data.id)))
      expect(row?.destination).toEqual(destination)
      expect(row?.minSeverity).toBe(4)
    }
  })

  it('stores min_severity as its number and shows its name', async () => {
    const h = harness()
    const blog = newBlogId()
    const { data } = await createContact(h, {
      min_severity: 'Seems Down',
      max_per_hour: 0,
      active: false,
      site_filter: { blog_ids: [String(blog)] },
    })
    expect(data).toMatchObject({
      min_severity: 'Seems Down',
      max_per_hour: 0,
      active: false,
      site_filter: { blog_ids: [Number(blog)] },
    })
    const [row] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(data.id)))
    expect(row).toMatchObject({ minSeverity: 3, maxPerHour: 0, siteFilter: { blog_ids: [blog.toString()] } })
    for (const [name, number] of [
      ['Warning', 1],
      ['Degraded', 2],
      ['Down', 4],
    ] as const) {
      const updated = await h.client.write.call('alertContacts.update', {
        params: { id: data.id },
        body: { min_severity: name },
      })
      expect(updated.data.min_severity).toBe(name)
      const [after] = await h.database.db
        .select()
        .from(alertContacts)
        .where(eq(alertContacts.id, BigInt(data.id)))
      expect(after?.minSeverity).toBe(number)
    }
  })

  it('validates destinations per transport, with field paths', async () => {
    const h = harness()
    const cases: [string, unknown, string][] = [
      ['email', { address: 'oncall@example' }, 'destination.address'],
      ['email', { address: 'a@b.com\r\nBcc: x@y.com' }, 'destination.address'],
      ['email', { webhook_url: 'https://example.com' }, 'destination.webhook_url'],
      ['pagerduty', { integration_key: 'short' }, 'destination.integration_key'],
      ['slack', { webhook_url: 'http://hooks.slack.com/services/x' }, 'destination.webhook_url'],
      ['teams', {}, 'destination.webhook_url'],
      ['teams', 'https://example.com', 'destination'],
    ]
    for (const [transport, destination, path] of cases) {
      const error = await failure(createContact(h, { transport, destination }))
      expect(error.status, `${transport} ${JSON.stringify(destination)}`).toBe(400)
      expect(error.code).toBe('invalid_request')
      expect(error.details?.map((d) => d.path)).toContain(path)
    }
    const email = await failure(createContact(h, { destination: { address: 'oncall@example' } }))
    expect(email.details).toEqual([
      { path: 'destination.address', message: 'must be an email address such as oncall@example.com' },
    ])

    const body: [Record<string, unknown>, string][] = [
      [{ transport: 'sms' }, 'transport'],
      [{ label: '' }, 'label'],
      [{ label: 'x'.repeat(129) }, 'label'],
      [{ min_severity: 'SeemsDown' }, 'min_severity'],
      [{ min_severity: 'Up' }, 'min_severity'],
      [{ max_per_hour: -1 }, 'max_per_hour'],
      [{ max_per_hour: 1.5 }, 'max_per_hour'],
      [{ owner_tenant_id: 't9' }, 'owner_tenant_id'],
    ]
    for (const [fields, path] of body) {
      const error = await failure(createContact(h, fields))
      expect(error.status, JSON.stringify(fields)).toBe(400)
      expect(error.details?.map((d) => d.path)).toContain(path)
    }
  })

  it('updates given fields; the destination is checked against the existing transport', async () => {
    const h = harness()
    const contact = (await createContact(h, { transport: 'slack', destination: DESTINATIONS.slack })).data
    const updated = await h.client.write.call('alertContacts.update', {
      params: { id: contact.id },
      body: {
        label: 'Renamed',
        active: false,
        transport: 'slack',
        destination: { webhook_url: 'https://hooks.slack.com/services/T1/B1/NEWWzz9' },
        max_per_hour: 5,
        site_filter: { blog_ids: [3] },
      },
    })
    expect(updated.data).toMatchObject({
      label: 'Renamed',
      active: false,
      transport: 'slack',
      destination_preview: 'Wzz9',
      max_per_hour: 5,
      site_filter: { blog_ids: [3] },
      min_severity: 'Down',
    })
    const [row] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(contact.id)))
    expect(row?.destination).toEqual({ webhook_url: 'https://hooks.slack.com/services/T1/B1/NEWWzz9' })

    const cleared = await h.client.write.call('alertContacts.update', {
      params: { id: contact.id },
      body: { site_filter: { blog_ids: [] } },
    })
    expect(cleared.data.site_filter).toEqual({ blog_ids: [] })

    const wrongShape = await failure(
      h.client.write.call('alertContacts.update', {
        params: { id: contact.id },
        body: { destination: { address: 'oncall@example.com' } },
      }),
    )
    expect(wrongShape).toMatchObject({ status: 400, code: 'invalid_request' })
    expect(wrongShape.details?.map((d) => d.path).sort()).toEqual(['destination.address', 'destination.webhook_url'])
  })

  it('refuses to change the transport with 422 transport_immutable', async () => {
    const h = harness()
    const contact = (await createContact(h)).data
    const error = await failure(
      h.client.write.call('alertContacts.update', {
        params: { id: contact.id },
        body: { transport: 'pagerduty', destination: { integration_key: PD_KEY }, label: 'x' },
      }),
    )
    expect(error).toMatchObject({ status: 422, code: 'transport_immutable', details: [{ path: 'transport' }] })
    expect(error.message).toContain('email')
    // Nothing was applied.
    const after = await h.client.read.call('alertContacts.get', { params: { id: contact.id } })
    expect(after.data).toEqual(contact)
  })

  it('opts a contact in and out of the weekly objective digest; PagerDuty cannot opt in', async () => {
    const h = harness()
    const contact = (await createContact(h)).data
    expect(contact.slo_digest).toBeNull()
    const weekly = await createContact(h, { transport: 'slack', destination: DESTINATIONS.slack, slo_digest: 'weekly' })
    expect(weekly.data.slo_digest).toBe('weekly')
    const on = await h.client.write.call('alertContacts.update', {
      params: { id: contact.id },
      body: { slo_digest: 'weekly' },
    })
    expect(on.data.slo_digest).toBe('weekly')
    const off = await h.client.write.call('alertContacts.update', {
      params: { id: contact.id },
      body: { slo_digest: null },
    })
    expect(off.data.slo_digest).toBeNull()
    const [row] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(contact.id)))
    expect(row?.sloDigest).toBeNull()

    const invalid = await failure(createContact(h, { slo_digest: 'daily' }))
    expect(invalid).toMatchObject({ status: 400, details: [{ path: 'slo_digest' }] })
    const pager = await failure(
      createContact(h, { transport: 'pagerduty', destination: DESTINATIONS.pagerduty, slo_digest: 'weekly' }),
    )
    expect(pager).toMatchObject({ status: 422, code: 'digest_not_supported', details: [{ path: 'slo_digest' }] })
    const paging = (await createContact(h, { transport: 'pagerduty', destination: DESTINATIONS.pagerduty })).data
    const refused = await failure(
      h.client.write.call('alertContacts.update', { params: { id: paging.id }, body: { slo_digest: 'weekly' } }),
    )
    expect(refused).toMatchObject({ status: 422, code: 'digest_not_supported' })
  })

  it('lists newest first with cursors', async () => {
    const h = harness()
    const ids = []
    for (let i = 0; i < 3; i++) ids.push((await createContact(h)).data.id)
    const first = await h.client.read.call('alertContacts.list', { query: { limit: 2 } })
    expect(first.data.data.map((c) => c.id)).toEqual([ids[2], ids[1]])
    const second = await h.client.read.call('alertContacts.list', { query: { limit: 2, cursor: first.data.page.next } })
    expect(second.data.data[0]?.id).toBe(ids[0])
  })

  it('deletes with 204; the contact is then 404 everywhere', async () => {
    const h = harness()
    const contact = (await createContact(h)).data
    const deleted = await h.fetch(`/alert-contacts/${contact.id}`, { method: 'DELETE', token: h.tokens.write })
    expect(deleted.status).toBe(204)
    const params = { id: contact.id }
    for (const call of [
      () => h.client.read.call('alertContacts.get', { params }),
      () => h.client.write.call('alertContacts.update', { params, body: { active: true } }),
      () => h.client.write.call('alertContacts.delete', { params }),
      () => h.client.write.call('alertContacts.test', { params }),
      () => h.client.read.call('alertContacts.deliveries', { params }),
      () => h.client.write.call('alertContacts.retryDelivery', { params: { ...params, delivery_id: 1 } }),
    ]) {
      expect(await failure(call())).toMatchObject({ status: 404, code: 'alert_contact_not_found' })
    }
  })
})

describe('POST /alert-contacts/{id}/test', () => {
  async function deliveryRows(h: TestApi): Promise<number> {
    const [row] = await h.database.db.select({ n: count() }).from(alertDeliveries)
    return row?.n ?? 0
  }

  it("sends through the contact's transport and returns its answer, writing no delivery row", async () => {
    const h = harness()
    const contact = (
      await createContact(h, {
        label: 'Pager',
        transport: 'pagerduty',
        destination: DESTINATIONS.pagerduty,
        active: false,
        min_severity: 'Down',
      })
    ).data
    const rowsBefore = await deliveryRows(h)
    fake.answer({ ok: true, status_code: 202, response: '{"status":"success"}' })
    const { status, data } = await h.client.write.call('alertContacts.test', { params: { id: contact.id } })
    expect(status).toBe(200)
    expect(data).toMatchObject({ transport: 'pagerduty', status_code: 202, response: '{"status":"success"}' })
    expect(data.duration_ms).toBeGreaterThanOrEqual(0)
    expect(fake.calls.at(-1)?.contact).toEqual({
      transport: 'pagerduty',
      destination: DESTINATIONS.pagerduty,
      label: 'Pager',
    })
    expect(fake.calls.at(-1)?.now).toBeInstanceOf(Date)
    expect(await deliveryRows(h)).toBe(rowsBefore)

    fake.answer({ ok: true })
    const bare = await h.client.write.call('alertContacts.test', { params: { id: contact.id } })
    expect(bare.data).toMatchObject({ status_code: null, response: null })
  })

  it("answers 502 alert_send_failed with the transport's error", async () => {
    const h = harness()
    const contact = (await createContact(h, { transport: 'slack', destination: DESTINATIONS.slack })).data
    fake.answer({ ok: false, status_code: 404, response: 'no_service', error: 'status 404: no_service' })
    const response = await h.fetch(`/alert-contacts/${contact.id}/test`, { method: 'POST', token: h.tokens.write })
    expect(response.status).toBe(502)
    const envelope = await envelopeOf(response)
    expect(envelope.code).toBe('alert_send_failed')
    expect(envelope.message).toContain('status 404: no_service')
    expect(envelope.message).toContain('(status 404)')

    // Whatever a transport says, the destination is not repeated back.
    fake.answer({ ok: false, error: `could not POST to ${DESTINATIONS.slack.webhook_url}: ECONNRESET` })
    const quoting = await envelopeOf(
      await h.fetch(`/alert-contacts/${contact.id}/test`, { method: 'POST', token: h.tokens.write }),
    )
    expect(quoting.code).toBe('alert_send_failed')
    expect(quoting.message).toContain('could not POST to [destination]: ECONNRESET')
    expect(quoting.message).not.toContain('XXXXsecret')

    fake.answer(new Error(`socket hang up posting to ${DESTINATIONS.slack.webhook_url}`))
    const thrown = await h.fetch(`/alert-contacts/${contact.id}/test`, { method: 'POST', token: h.tokens.write })
    expect(thrown.status).toBe(502)
    const unexpected = await envelopeOf(thrown)
    expect(unexpected.code).toBe('alert_send_failed')
    expect(unexpected.message).toContain(unexpected.request_id)
    expect(unexpected.message).not.toContain('XXXXsecret')
    // The log has what the transport said, without the destination.
    const line = logged.find((entry) => entry.includes(unexpected.request_id))
    expect(line).toContain('socket hang up posting to [destination]')
    expect(logged.join('\n')).not.toContain('XXXXsecret')
  })

  describe('without transports', () => {
    const bare = useTestApi()

    it('answers 503 alert_transport_unavailable', async () => {
      const h = bare()
      const contact = (await createContact(h)).data
      const error = await failure(h.client.write.call('alertContacts.test', { params: { id: contact.id } }))
      expect(error).toMatchObject({ status: 503, code: 'alert_transport_unavailable' })
    })
  })
})

describe('alert deliveries', () => {
  async function seed(h: TestApi, contactId: bigint, statuses: string[]) {
    const ids: bigint[] = []
    for (const [index, status] of statuses.entries()) {
      const [row] = await h.database.db
        .insert(alertDeliveries)
        .values({
          alertContactId: contactId,
          transitionId: BigInt(500 + index),
          eventId: 9n,
          blogId: 42n,
          eventType: 'event.state_changed',
          payload: {},
          status: status as 'pending',
          attempt: status === 'abandoned' ? 6 : 0,
          lastStatusCode: status === 'suppressed' ? null : 500,
          lastResponse: status === 'suppressed' ? 'over max_per_hour=60' : 'status 500',
        })
        .$returningId()
      ids.push(BigInt(row!.id))
    }
    return ids
  }

  it('lists, filters and retries abandoned deliveries only', async () => {
    const h = harness()
    const contact = (await createContact(h)).data
    const ids = await seed(h, BigInt(contact.id), ['abandoned', 'suppressed', 'delivered'])
    const other = (await createContact(h)).data
    const otherIds = await seed(h, BigInt(other.id), ['abandoned'])

    const listed = await h.client.read.call('alertContacts.deliveries', { params: { id: contact.id } })
    expect(listed.data.data.map((d) => d.id)).toEqual([...ids].reverse().map(Number))
    expect(listed.data.data[1]).toMatchObject({
      status: 'suppressed',
      event_type: 'event.state_changed',
      transition_id: 501,
      event_id: 9,
      blog_id: 42,
      last_response: 'over max_per_hour=60',
    })
    const suppressed = await h.client.read.call('alertContacts.deliveries', {
      params: { id: contact.id },
      query: { status: 'suppressed' },
    })
    expect(suppressed.data.data.map((d) => d.id)).toEqual([Number(ids[1])])

    const retried = await h.client.write.call('alertContacts.retryDelivery', {
      params: { id: contact.id, delivery_id: Number(ids[0]) },
    })
    expect(retried.data).toMatchObject({ status: 'pending', attempt: 0, last_response: 'status 500' })
    const [row] = await h.database.db.select().from(alertDeliveries).where(eq(alertDeliveries.id, ids[0]!))
    expect(row).toMatchObject({ status: 'pending', attempt: 0 })
    expect(row?.nextAttemptAt).not.toBeNull()

    for (const id of ids) {
      const error = await failure(
        h.client.write.call('alertContacts.retryDelivery', { params: { id: contact.id, delivery_id: Number(id) } }),
      )
      expect(error).toMatchObject({ status: 409, code: 'delivery_not_retryable' })
    }
    const foreign = await failure(
      h.client.write.call('alertContacts.retryDelivery', {
        params: { id: contact.id, delivery_id: Number(otherIds[0]) },
      }),
    )
    expect(foreign).toMatchObject({ status: 404, code: 'delivery_not_found' })
  })
})

describe('alert contact tenancy (gateway mode)', () => {
  it('shows each tenant only its own contacts', async () => {
    const h = harness()
    const gw = h.client.gateway
    const body = { label: 'x', transport: 'email' as const, destination: DESTINATIONS.email }
    const mine = await gw.call('alertContacts.create', { body }, tenant('t1'))
    expect(mine.data.owner_tenant_id).toBe('t1')
    const theirs = await gw.call('alertContacts.create', { body }, tenant('t2'))

    const listed = await gw.call('alertContacts.list', { query: { limit: 200 } }, tenant('t1'))
    expect(listed.data.data.map((c) => c.id)).toContain(mine.data.id)
    expect(listed.data.data.map((c) => c.id)).not.toContain(theirs.data.id)

    const params = { id: theirs.data.id }
    for (const call of [
      () => gw.call('alertContacts.get', { params }, tenant('t1')),
      () => gw.call('alertContacts.update', { params, body: { label: 'stolen' } }, tenant('t1')),
      () => gw.call('alertContacts.delete', { params }, tenant('t1')),
      () => gw.call('alertContacts.test', { params }, tenant('t1')),
      () => gw.call('alertContacts.deliveries', { params }, tenant('t1')),
      () => gw.call('alertContacts.retryDelivery', { params: { ...params, delivery_id: 1 } }, tenant('t1')),
    ]) {
      expect(await failure(call())).toMatchObject({ status: 404, code: 'alert_contact_not_found' })
    }
    expect((await gw.call('alertContacts.get', { params }, tenant('t2'))).data.label).toBe('x')
    const all = await h.client.read.call('alertContacts.list', { query: { limit: 200 } })
    expect(all.data.data.map((c) => c.id)).toEqual(expect.arrayContaining([mine.data.id, theirs.data.id]))
  })

  it("refuses a site filter naming another tenant's site", async () => {
    const h = harness()
    const own = newBlogId()
    const foreign = newBlogId()
    await h.database.db.insert(siteTenants).values([
      { tenantId: 't1', blogId: own },
      { tenantId: 't2', blogId: foreign },
    ])
    const body = { label: 'x', transport: 'email' as const, destination: DESTINATIONS.email }
    const ok = await h.client.gateway.call(
      'alertContacts.create',
      { body: { ...body, site_filter: { blog_ids: [Number(own)] } } },
      tenant('t1'),
    )
    expect(ok.status).toBe(201)
    const refused = await failure(
      h.client.gateway.call(
        'alertContacts.create',
        { body: { ...body, site_filter: { blog_ids: [Number(foreign)] } } },
        tenant('t1'),
      ),
    )
    expect(refused).toMatchObject({
      status: 404,
      code: 'site_not_found',
      details: [{ path: 'site_filter.blog_ids.0' }],
    })
  })
})

describe('destinations at rest with SECRETS_KEY', () => {
  const secretsKey = randomBytes(32)
  const encrypted = useTestApi({ deps: { secretsKey, alertTester: fake.tester } })

  it('stores the destination encrypted and hands the transport the plaintext', async () => {
    const h = encrypted()
    const contact = (await createContact(h, { transport: 'slack', destination: DESTINATIONS.slack })).data
    expect(contact.destination_preview).toBe('cret')
    const [row] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(contact.id)))
    const stored = row?.destination as { encrypted: string }
    expect(Object.keys(stored)).toEqual(['encrypted'])
    expect(JSON.stringify(stored)).not.toContain('hooks.slack.com')
    const bytes = Buffer.from(stored.encrypted, 'base64')
    expect(bytes.toString('utf8')).not.toContain('XXXXsecret')
    expect(JSON.parse(decryptSecret(bytes, secretsKey))).toEqual(DESTINATIONS.slack)

    fake.answer({ ok: true, status_code: 200, response: 'ok' })
    await h.client.write.call('alertContacts.test', { params: { id: contact.id } })
    expect(fake.calls.at(-1)?.contact.destination).toEqual(DESTINATIONS.slack)

    const replaced = { webhook_url: 'https://hooks.slack.com/services/T2/B2/other' }
    await h.client.write.call('alertContacts.update', { params: { id: contact.id }, body: { destination: replaced } })
    const [after] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(contact.id)))
    const sealed = after?.destination as { encrypted: string }
    expect(JSON.parse(decryptSecret(Buffer.from(sealed.encrypted, 'base64'), secretsKey))).toEqual(replaced)
  })
})

describe('SSRF guard (private targets not allowed)', () => {
  const guarded = useTestApi({ deps: { allowPrivateTargets: false, alertTester: fake.tester } })

  it('refuses a Slack or Teams URL whose host is a private IP literal, as webhooks do', async () => {
    const h = guarded()
    const refusedUrls = [
      ['slack', 'https://127.0.0.1/services/T000/B000/XXXXsecret'],
      ['slack', 'https://169.254.169.254/latest/meta-data'],
      ['teams', 'https://[::1]/webhookb2/abc'],
      ['teams', 'https://10.1.2.3/webhookb2/abc'],
    ] as const
    for (const [transport, url] of refusedUrls) {
      const error = await failure(createContact(h, { transport, destination: { webhook_url: url } }))
      expect(error, url).toMatchObject({
        status: 422,
        code: 'target_not_allowed',
        details: [{ path: 'destination.webhook_url' }],
      })
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('XXXXsecret')
    }
    const [{ value: rows = 0 } = {}] = await h.database.db.select({ value: count() }).from(alertContacts)
    expect(rows).toBe(0)

    const { data: contact } = await createContact(h, { transport: 'slack', destination: DESTINATIONS.slack })
    const error = await failure(
      h.client.write.call('alertContacts.update', {
        params: { id: contact.id },
        body: { destination: { webhook_url: 'https://192.168.1.1/services/T1/B1/other' } },
      }),
    )
    expect(error).toMatchObject({ status: 422, code: 'target_not_allowed' })
    const [row] = await h.database.db
      .select()
      .from(alertContacts)
      .where(eq(alertContacts.id, BigInt(contact.id)))
    expect(row?.destination).toEqual(DESTINATIONS.slack)
  })

  it('leaves host names to connection time', async () => {
    const h = guarded()
    const created = await createContact(h, {
      transport: 'slack',
      destination: { webhook_url: 'https://localhost/services/T000/B000/XXXXsecret' },
    })
    expect(created.status).toBe(201)
  })
})
