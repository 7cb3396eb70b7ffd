/**
 * The SLO routes against a real API server and database: CRUD and validation, tenancy, the status
 * of a hand-computed case, snapshots paging, and SLOs as code (OpenSLO export and apply).
 */
import { JetmonApiError, SLO_LOOKBACKS, SLO_WINDOWS, type Slo, type SloSnapshot } from '@jetmon/api-client'
import { monitorSites, siteTenants, sloDailySnapshots, sloObjectives, sloStreaks } from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent, promoteEvent } from '@jetmon/eventstore'
import { ALERT_LOOKBACKS, OBJECTIVE_WINDOWS, openSloDocuments } from '@jetmon/slo'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, type TestApi, useTestApi } from './_helpers.js'

const harness = useTestApi({ manualClock: true })

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A site with one endpoint, optionally mapped to a tenant. */
async function site(h: TestApi, tenant?: string): Promise<{ blogId: bigint; endpointId: bigint }> {
  const blogId = newBlogId()
  const [row] = await h.database.db
    .insert(monitorSites)
    .values({ blogId, monitorUrl: `https://${blogId}.example/` })
    .$returningId()
  if (tenant) await h.database.db.insert(siteTenants).values({ tenantId: tenant, blogId })
  return { blogId, endpointId: BigInt(row!.endpointId) }
}

const store = (h: TestApi, when: Date): EventStoreContext => ({
  db: h.database.db,
  source: 'monitor:test',
  clock: () => when,
})

/** An http incident: first failure at `start`, Down a minute later, closed at `end` (or still open). */
async function outage(h: TestApi, s: { blogId: bigint; endpointId: bigint }, start: Date, end: Date | null) {
  const { event } = await openEvent({
    ctx: store(h, start),
    input: { blogId: s.blogId, endpointId: s.endpointId, checkType: 'http', state: 'Seems Down', startedAt: start },
  })
  await promoteEvent({
    ctx: store(h, new Date(start.getTime() + MINUTE)),
    input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
  })
  if (end) await closeEvent({ ctx: store(h, end), input: { eventId: event.id, reason: 'verifier_cleared' } })
}

async function failure(promise: Promise<unknown>): Promise<JetmonApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof JetmonApiError)) throw new Error(`expected an API error, got ${String(error)}`)
  return error
}

const tenant = (id: string) => ({ headers: { 'x-jetmon-tenant-id': id } })
let names = 0
const uniqueName = (what: string) => `${what} ${++names}`

async function createSlo(h: TestApi, body: Record<string, unknown>, options = {}) {
  return h.client.write.call('slos.create', { body: body as never }, options)
}

describe('the route contract', () => {
  it('offers the windows and lookbacks the objectives are measured over', () => {
    expect([...SLO_WINDOWS]).toEqual([...OBJECTIVE_WINDOWS])
    expect([...SLO_LOOKBACKS]).toEqual([...ALERT_LOOKBACKS])
  })
})

describe('objectives CRUD', () => {
  it('creates, reads, lists, updates and deletes (deactivates) an objective', async () => {
    const h = harness()
    const s = await site(h)
    const name = uniqueName('shop availability')
    const created = await createSlo(h, {
      name,
      blog_id: String(s.blogId),
      sli: 'availability',
      target: 99.9,
      window: '30d',
    })
    expect(created.status).toBe(201)
    const slo = created.data
    expect(slo).toMatchObject({
      name,
      blog_id: Number(s.blogId),
      endpoint_id: null,
      sli: 'availability',
      latency_threshold_ms: null,
      target: 99.9,
      window: '30d',
      alert_policy: null,
      budget_warn_percent: 25,
      budget_critical_percent: 10,
      active: true,
      created_by: 'test-write',
    })
    expect(slo).not.toHaveProperty('owner_tenant_id')

    expect((await h.client.read.call('slos.get', { params: { id: slo.id } })).data).toEqual(slo)
    const listed = await h.client.read.call('slos.list', { query: { blog_id: s.blogId } })
    expect(listed.data.data.map((item) => item.id)).toEqual([slo.id])
    expect((await h.client.read.call('slos.list', { query: { blog_id: s.blogId, sli: 'latency' } })).data.data).toEqual(
      [],
    )

    const updated = await h.client.write.call('slos.update', {
      params: { id: slo.id },
      body: {
        sli: 'latency',
        latency_threshold_ms: 800,
        endpoint_id: Number(s.endpointId),
        alert_policy: [{ long: '1h', short: '5m', burn_rate: 10, severity: 'page' }],
      },
    })
    expect(updated.data).toMatchObject({
      sli: 'latency',
      latency_threshold_ms: 800,
      endpoint_id: Number(s.endpointId),
      target: 99.9,
      alert_policy: [{ long: '1h', short: '5m', burn_rate: 10, severity: 'page' }],
    })

    const deleted = await h.client.write.call('slos.delete', { params: { id: slo.id } })
    expect(deleted.status).toBe(204)
    expect((await h.client.read.call('slos.get', { params: { id: slo.id } })).data.active).toBe(false)
    expect((await h.client.read.call('slos.list', { query: { blog_id: s.blogId } })).data.data).toEqual([])
    const inactive = await h.client.read.call('slos.list', { query: { blog_id: s.blogId, active: false } })
    expect(inactive.data.data.map((item) => item.id)).toEqual([slo.id])
    // Deleting again changes nothing; the name is free again.
    expect((await h.client.write.call('slos.delete', { params: { id: slo.id } })).status).toBe(204)
    const again = await createSlo(h, { name, blog_id: String(s.blogId), sli: 'availability', target: 99, window: '7d' })
    expect(again.data.id).not.toBe(slo.id)
  })

  it('refuses invalid fields with the path of each problem, a taken name, an unknown site, and a read key', async () => {
    const h = harness()
    const s = await site(h)
    const invalid = await failure(
      createSlo(h, { name: '', blog_id: String(s.blogId), sli: 'uptime', target: 100, window: '14d', colour: 'red' }),
    )
    expect(invalid.status).toBe(400)
    expect(invalid.code).toBe('invalid_request')
    expect(invalid.details?.map((detail) => detail.path).sort()).toEqual(['colour', 'name', 'sli', 'target', 'window'])

    // Rules between fields, checked by the objective itself.
    const between = await failure(
      createSlo(h, {
        name: uniqueName('x'),
        blog_id: String(s.blogId),
        sli: 'latency',
        target: 99.9,
        window: '7d',
        budget_warn_percent: 5,
        alert_policy: [{ long: '5m', short: '1h', burn_rate: 2, severity: 'page' }],
      }),
    )
    expect(between.status).toBe(400)
    expect(between.details?.map((detail) => detail.path)).toEqual([
      'latency_threshold_ms',
      'budget_warn_percent',
      'alert_policy.0.short',
    ])

    const name = uniqueName('taken')
    await createSlo(h, { name, blog_id: String(s.blogId), sli: 'availability', target: 99, window: '7d' })
    const taken = await failure(
      createSlo(h, {
        name: name.toUpperCase(),
        blog_id: String(s.blogId),
        sli: 'availability',
        target: 99,
        window: '7d',
      }),
    )
    expect([taken.status, taken.code]).toEqual([409, 'slo_name_taken'])

    const noSite = await failure(
      createSlo(h, {
        name: uniqueName('nowhere'),
        blog_id: String(newBlogId()),
        sli: 'availability',
        target: 99,
        window: '7d',
      }),
    )
    expect([noSite.status, noSite.code]).toEqual([404, 'site_not_found'])

    const readOnly = await failure(
      h.client.read.call('slos.create', {
        body: { name: uniqueName('r'), blog_id: String(s.blogId), sli: 'availability', target: 99, window: '7d' },
      }),
    )
    expect([readOnly.status, readOnly.code]).toEqual([403, 'insufficient_scope'])

    const missing = await failure(h.client.read.call('slos.get', { params: { id: 987_654_321 } }))
    expect([missing.status, missing.code]).toEqual([404, 'slo_not_found'])
  })
})

describe('tenancy', () => {
  it("never shows or changes another tenant's objectives (404, not 403), nor creates them on its sites", async () => {
    const h = harness()
    const a = await site(h, 'tenant-a')
    const created = await h.client.gateway.call(
      'slos.create',
      { body: { name: 'mine', blog_id: String(a.blogId), sli: 'availability', target: 99.5, window: '28d' } },
      tenant('tenant-a'),
    )
    const slo = created.data
    expect(slo.owner_tenant_id).toBe('tenant-a')
    const id = { params: { id: slo.id } }

    const attempts = [
      () => h.client.gateway.call('slos.get', id, tenant('tenant-b')),
      () => h.client.gateway.call('slos.status', id, tenant('tenant-b')),
      () => h.client.gateway.call('slos.snapshots', id, tenant('tenant-b')),
      () => h.client.gateway.call('slos.openslo', id, tenant('tenant-b')),
      () => h.client.gateway.call('slos.update', { ...id, body: { target: 90 } }, tenant('tenant-b')),
      () => h.client.gateway.call('slos.delete', id, tenant('tenant-b')),
    ]
    for (const attempt of attempts) {
      const refused = await failure(attempt())
      expect([refused.status, refused.code]).toEqual([404, 'slo_not_found'])
    }
    const theirs = await h.client.gateway.call('slos.list', {}, tenant('tenant-b'))
    expect(theirs.data.data.map((item) => item.id)).not.toContain(slo.id)
    const onTheirSite = await failure(
      h.client.gateway.call(
        'slos.create',
        { body: { name: 'grab', blog_id: String(a.blogId), sli: 'availability', target: 99, window: '7d' } },
        tenant('tenant-b'),
      ),
    )
    expect([onTheirSite.status, onTheirSite.code]).toEqual([404, 'site_not_found'])
    const siteList = await failure(
      h.client.gateway.call('slos.site', { params: { blog_id: a.blogId } }, tenant('tenant-b')),
    )
    expect([siteList.status, siteList.code]).toEqual([404, 'site_not_found'])

    // Applying a document about the other tenant's site is an invalid document, with its path.
    const [document] = (await h.client.gateway.call('slos.openslo', id, tenant('tenant-a'))).data
    const applied = await failure(
      h.client.gateway.call('slos.apply', { body: [{ ...document, metadata: { name: 'copy' } }] }, tenant('tenant-b')),
    )
    expect(applied.status).toBe(400)
    expect(applied.details).toEqual([
      {
        path: '0.spec.indicator.spec.thresholdMetric.metricSource.spec.blogId',
        message: `site ${a.blogId} not found`,
      },
    ])

    // The owner's own export applies to its own objective (its names are its own), changing nothing.
    const mine = await h.client.gateway.call('slos.apply', { body: [document] }, tenant('tenant-a'))
    expect(mine.data.summary).toEqual({ create: 0, update: 0, unchanged: 1 })
    expect(mine.data.documents[0]?.objective).toMatchObject({ id: slo.id, owner_tenant_id: 'tenant-a' })
    // The operator's namespace is another: the same document would be a new objective of the operator's.
    const operator = await h.client.write.call('slos.apply', { query: { dry_run: true }, body: [document] })
    expect(operator.data.summary).toEqual({ create: 1, update: 0, unchanged: 0 })

    // The owner and the operator still see it unchanged.
    const own = await h.client.gateway.call('slos.get', id, tenant('tenant-a'))
    expect(own.data).toMatchObject({ target: 99.5, active: true })
    expect((await h.client.read.call('slos.get', id)).data.name).toBe('mine')
  })
})

describe('status', () => {
  it('reports a hand-computed case: 30 minutes of open downtime against 99.9 % over 30 days', async () => {
    const h = harness()
    const now = h.clock.now()
    const s = await site(h)
    // Down from its first failure 30 minutes ago, still open.
    await outage(h, s, new Date(now.getTime() - 30 * MINUTE), null)
    const slo = (
      await createSlo(h, {
        name: uniqueName('hot'),
        blog_id: String(s.blogId),
        sli: 'availability',
        target: 99.9,
        window: '30d',
      })
    ).data

    const { data } = await h.client.read.call('slos.status', { params: { id: slo.id } })
    expect(data.objective).toEqual(slo)
    expect(data.unit).toBe('seconds')
    expect(data.window_start).toBe(new Date(now.getTime() - 30 * DAY).toISOString())
    expect(data.eligible_seconds).toBe(2_592_000) // 30 × 86 400
    expect(data.budget_consumed_seconds).toBe(1_800)
    expect(data.budget_total_seconds).toBeCloseTo(2_592, 9) // 0.1 % of the window
    expect(data.sli_percent).toBeCloseTo(100 * (1 - 1_800 / 2_592_000), 9) // 99.9306
    expect(data.budget_remaining_percent).toBeCloseTo(100 * (1 - 1_800 / 2_592), 9) // 30.56 %
    expect(data.exhausted).toBe(false)
    expect(data.is_breaching).toBe(false)
    expect(data.has_open_downtime).toBe(true)
    // Burn rate = (bad / eligible) / 0.001 over each lookback; all of it bad since 30 minutes ago.
    const rates = data.burn_rates
    expect(rates['5m']).toBeCloseTo(1000, 6)
    expect(rates['30m']).toBeCloseTo(1000, 6)
    expect(rates['1h']).toBeCloseTo(500, 6)
    expect(rates['6h']).toBeCloseTo(1800 / 21_600 / 0.001, 6)
    expect(rates['24h']).toBeCloseTo(1800 / 86_400 / 0.001, 6)
    expect(rates['3d']).toBeCloseTo(1800 / 259_200 / 0.001, 6)
    // Every default rule fires: 500 and 1000 > 14.4; 83.3 and 1000 > 6; 6.9 and 83.3 > 1.
    expect(data.firing).toEqual(
      [
        { severity: 'page', long: '1h', short: '5m', burn_rate: 14.4 },
        { severity: 'page', long: '6h', short: '30m', burn_rate: 6 },
        { severity: 'ticket', long: '3d', short: '6h', burn_rate: 1 },
      ].map((rule) => expect.objectContaining(rule)),
    )
    // 792 s of budget left, spent at 500 × 0.001 = 0.5 s per second: gone in 1 584 s.
    const exhaustedAt = Date.parse(data.budget_exhausted_at ?? '')
    expect(Math.abs(exhaustedAt - (now.getTime() + 1_584_000))).toBeLessThanOrEqual(1)
    expect([data.current_streak_days, data.best_streak_days]).toEqual([0, 0])

    // The site's list carries the same status; the list filters measure it too.
    const siteList = await h.client.read.call('slos.site', { params: { blog_id: s.blogId } })
    expect(siteList.data.data).toEqual([data])
    const low = await h.client.read.call('slos.list', {
      query: { blog_id: s.blogId, budget_remaining_percent__lt: 31 },
    })
    expect(low.data.data.map((item) => item.id)).toEqual([slo.id])
    const lower = await h.client.read.call('slos.list', {
      query: { blog_id: s.blogId, budget_remaining_percent__lt: 30 },
    })
    expect(lower.data.data).toEqual([])
    const breaching = await h.client.read.call('slos.list', { query: { blog_id: s.blogId, breaching: true } })
    expect(breaching.data.data).toEqual([])
  })

  it('pages the status filters through objectives in id order', async () => {
    const h = harness()
    const now = h.clock.now()
    const s = await site(h)
    await outage(h, s, new Date(now.getTime() - 2 * DAY), new Date(now.getTime() - 2 * DAY + 2 * HOUR))
    const ids: Slo['id'][] = []
    // Targets 99.9 and 99.99 are breached by two hours in 30 days (99.72 %), 95 is not.
    for (const target of [99.9, 95, 99.99, 95, 99.9]) {
      const body = { name: uniqueName('page'), blog_id: String(s.blogId), sli: 'availability', target, window: '30d' }
      ids.push((await createSlo(h, body)).data.id)
    }
    const first = await h.client.read.call('slos.list', { query: { blog_id: s.blogId, breaching: true, limit: 2 } })
    expect(first.data.data.map((item) => item.id)).toEqual([ids[0], ids[2]])
    expect(first.data.page.next).not.toBeNull()
    const second = await h.client.read.call('slos.list', {
      query: { blog_id: s.blogId, breaching: true, limit: 2, cursor: first.data.page.next },
    })
    expect(second.data.data.map((item) => item.id)).toEqual([ids[4]])
    expect(second.data.page.next).toBeNull()
    const met = await h.client.read.call('slos.list', { query: { blog_id: s.blogId, breaching: false } })
    expect(met.data.data.map((item) => item.id)).toEqual([ids[1], ids[3]])
  })
})

describe('snapshots', () => {
  it('pages the daily history newest first', async () => {
    const h = harness()
    const s = await site(h)
    const slo = (
      await createSlo(h, {
        name: uniqueName('days'),
        blog_id: String(s.blogId),
        sli: 'availability',
        target: 99,
        window: '7d',
      })
    ).data
    const days = ['2026-04-26', '2026-04-27', '2026-04-28', '2026-04-29', '2026-04-30']
    await h.database.db.insert(sloDailySnapshots).values(
      days.map((day, index) => ({
        objectiveId: BigInt(slo.id),
        day,
        sli: index === 2 ? null : 99.5 + index / 10,
        budgetConsumedSeconds: 60 * index,
        budgetRemainingPercent: index === 2 ? null : 90 - index,
        burnRate24h: index / 2,
        streakDays: index,
        incidents: index % 2,
      })),
    )
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: { data: SloSnapshot[]; page: { next: string | null } } = (
        await h.client.read.call('slos.snapshots', { params: { id: slo.id }, query: { limit: 2, cursor } })
      ).data
      seen.push(...page.data.map((snapshot) => snapshot.day))
      cursor = page.page.next
      pages++
    } while (cursor !== null)
    expect(seen).toEqual([...days].reverse())
    expect(pages).toBe(3)
    const { data } = await h.client.read.call('slos.snapshots', { params: { id: slo.id }, query: { limit: 3 } })
    expect(data.data[2]).toEqual({
      day: '2026-04-28',
      sli: null,
      budget_consumed_seconds: 120,
      budget_remaining_percent: null,
      burn_rate_24h: 1,
      streak_days: 2,
      incidents: 0,
    })
    const bad = await h.fetch(`/slos/${slo.id}/snapshots?cursor=bm9wZQ`, { token: h.tokens.read })
    expect(bad.status).toBe(400)
    expect((await envelopeOf(bad)).details?.[0]?.path).toBe('query.cursor')

    // The status carries the objective's streak, read with the objective, as the site's list does.
    await h.database.db
      .insert(sloStreaks)
      .values({ objectiveId: BigInt(slo.id), currentDays: 4, bestDays: 9, lastDay: '2026-04-30' })
    const status = (await h.client.read.call('slos.status', { params: { id: slo.id } })).data
    expect([status.current_streak_days, status.best_streak_days]).toEqual([4, 9])
    const listed = (await h.client.read.call('slos.site', { params: { blog_id: slo.blog_id } })).data.data
    expect(listed.map((one) => [one.current_streak_days, one.best_streak_days])).toEqual([[4, 9]])
  })
})

describe('SLOs as code (OpenSLO v1)', () => {
  it('exports as JSON or YAML, and applying the export changes nothing', async () => {
    const h = harness()
    const s = await site(h)
    const a = (
      await createSlo(h, {
        name: uniqueName('code a'),
        blog_id: String(s.blogId),
        sli: 'availability',
        target: 99.95,
        window: 'month',
      })
    ).data
    const b = (
      await createSlo(h, {
        name: uniqueName('code b'),
        blog_id: String(s.blogId),
        endpoint_id: String(s.endpointId),
        sli: 'latency',
        latency_threshold_ms: 750,
        target: 99,
        window: '7d',
        alert_policy: [{ long: '6h', short: '30m', burn_rate: 3, severity: 'ticket' }],
        budget_warn_percent: 50,
        budget_critical_percent: 20,
      })
    ).data

    const json = await h.client.read.call('slos.openslo', { params: { id: a.id } })
    expect(json.data).toHaveLength(1)
    expect(json.data[0]).toMatchObject({ apiVersion: 'openslo/v1', kind: 'SLO', metadata: { name: a.name } })

    const yamlAnswer = await h.fetch(`/slos/${b.id}/openslo`, {
      token: h.tokens.read,
      headers: { accept: 'application/yaml' },
    })
    expect(yamlAnswer.status).toBe(200)
    expect(yamlAnswer.headers.get('content-type')).toMatch(/^application\/yaml/)
    const yaml = await yamlAnswer.text()
    expect(yaml).toMatch(/^apiVersion: openslo\/v1\nkind: SLO\n/)
    expect(openSloDocuments(yaml)).toEqual([
      (await h.client.read.call('slos.openslo', { params: { id: b.id } })).data[0],
    ])

    // Round trip: the YAML stream of both, applied, is reported unchanged and changes no row.
    const before = await h.database.db.select().from(sloObjectives).where(eq(sloObjectives.blogId, s.blogId))
    const stream = `${await (await h.fetch(`/slos/${a.id}/openslo`, { token: h.tokens.read, headers: { accept: 'application/yaml' } })).text()}---\n${yaml}`
    const applied = await h.fetch('/slos/apply', {
      method: 'POST',
      token: h.tokens.write,
      headers: { 'content-type': 'application/yaml' },
      body: stream,
    })
    expect(applied.status).toBe(200)
    const report = (await applied.json()) as {
      dry_run: boolean
      summary: unknown
      documents: { action: string; changes: unknown[] }[]
    }
    expect(report.dry_run).toBe(false)
    expect(report.summary).toEqual({ create: 0, update: 0, unchanged: 2 })
    expect(report.documents.map((document) => [document.action, document.changes])).toEqual([
      ['unchanged', []],
      ['unchanged', []],
    ])
    h.clock.advance(SECOND)
    const after = await h.database.db.select().from(sloObjectives).where(eq(sloObjectives.blogId, s.blogId))
    expect(after).toEqual(before)
  })

  it('creates and updates by name, idempotently; a dry run changes nothing', async () => {
    const h = harness()
    const s = await site(h)
    const existing = (
      await createSlo(h, {
        name: uniqueName('apply'),
        blog_id: String(s.blogId),
        sli: 'availability',
        target: 99.9,
        window: '30d',
      })
    ).data
    const [document] = (await h.client.read.call('slos.openslo', { params: { id: existing.id } })).data
    const changed = structuredClone(document) as { spec: { objectives: { target: number }[] } }
    changed.spec.objectives = [{ target: 0.995 }]
    const fresh = { ...structuredClone(document), metadata: { name: uniqueName('new from code') } }

    // A dry run is not an idempotency record: the same key then applies for real.
    const key = { idempotencyKey: `apply-${existing.id}` }
    const dry = await h.client.write.call('slos.apply', { query: { dry_run: true }, body: [changed, fresh] }, key)
    expect(dry.data.dry_run).toBe(true)
    expect(dry.data.summary).toEqual({ create: 1, update: 1, unchanged: 0 })
    expect(dry.data.documents[0]).toMatchObject({
      action: 'update',
      objective: { id: existing.id, target: 99.9 },
      changes: [{ field: 'target', from: 99.9, to: 99.5 }],
    })
    expect(dry.data.documents[1]).toMatchObject({ action: 'create', objective: null })
    expect((await h.client.read.call('slos.get', { params: { id: existing.id } })).data.target).toBe(99.9)
    expect((await h.client.read.call('slos.list', { query: { blog_id: s.blogId } })).data.data).toHaveLength(1)

    const done = await h.client.write.call('slos.apply', { body: [changed, fresh] }, key)
    expect(done.idempotencyReplayed).toBe(false)
    expect(done.data.summary).toEqual({ create: 1, update: 1, unchanged: 0 })
    expect(done.data.documents[0]?.objective).toMatchObject({ id: existing.id, target: 99.5 })
    expect(done.data.documents[1]?.objective).toMatchObject({
      name: fresh.metadata.name,
      target: 99.9,
      created_by: 'test-write',
    })
    const again = await h.client.write.call('slos.apply', { body: [changed, fresh] })
    expect(again.data.summary).toEqual({ create: 0, update: 0, unchanged: 2 })
    expect((await h.client.read.call('slos.list', { query: { blog_id: s.blogId } })).data.data).toHaveLength(2)
  })

  it('refuses invalid documents with 400 and the path of each problem, writing nothing', async () => {
    const h = harness()
    const s = await site(h)
    const name = uniqueName('invalid')
    const good = {
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      metadata: { name },
      spec: {
        indicator: {
          spec: {
            thresholdMetric: {
              metricSource: { type: 'Jetmon', spec: { sli: 'availability', blogId: String(s.blogId) } },
            },
          },
        },
        timeWindow: [{ duration: '30d', isRolling: true }],
        objectives: [{ target: 0.999 }],
      },
    }
    const bad = structuredClone(good) as { metadata: { name: string }; spec: Record<string, unknown> }
    bad.metadata.name = uniqueName('other')
    bad.spec.timeWindow = [{ duration: '2w' }]
    bad.spec.objectives = [{ target: 99.9 }]
    const yaml = `${JSON.stringify(good)}\n---\nkind: SLO\napiVersion: openslo/v2\n`
    for (const [send, expected] of [
      [
        { json: [good, bad] },
        [
          '1.spec.timeWindow.0.duration: must be one of 7d, 28d, 30d, 90d (rolling) or 1M, 1Q (calendar, UTC)',
          '1.spec.objectives.0.target: must be a fraction between 0 and 1 (0.999 for 99.9 %)',
        ],
      ],
      [{ yaml }, ['1.apiVersion: must be openslo/v1', '1.metadata: is required', '1.spec: is required']],
      [{ yaml: 'a: [' }, [expect.stringMatching(/^: is not valid YAML or JSON/)]],
    ] as const) {
      const answer = await h.fetch('/slos/apply', {
        method: 'POST',
        token: h.tokens.write,
        headers: { 'content-type': 'json' in send ? 'application/json' : 'application/yaml' },
        body: 'json' in send ? JSON.stringify(send.json) : send.yaml,
      })
      expect(answer.status).toBe(400)
      const envelope = await envelopeOf(answer)
      expect(envelope.code).toBe('invalid_request')
      expect(envelope.details?.map((detail) => `${detail.path}: ${detail.message}`)).toEqual(expected)
    }
    expect((await h.client.read.call('slos.list', { query: { blog_id: s.blogId } })).data.data).toEqual([])
    const empty = await h.fetch('/slos/apply', { method: 'POST', token: h.tokens.write })
    expect(empty.status).toBe(400)
  })
})
