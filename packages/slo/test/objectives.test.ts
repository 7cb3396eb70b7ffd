/**
 * The objectives' verbs against the real database: create, get, list, update and deactivate, the
 * validation paths, name uniqueness per owner and tenancy.
 */
import { monitorSites, siteTenants, sloObjectives } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createObjective,
  DEFAULT_ALERT_POLICY,
  deactivateObjective,
  deactivateObjectivesOfSite,
  getObjective,
  InvalidInputError,
  InvalidObjectiveError,
  listObjectives,
  ObjectiveNameTakenError,
  ObjectiveNotFoundError,
  SiteNotFoundError,
  updateObjective,
} from '../src/index.js'

const database = useTestDatabase()
const clock = manualClock(new Date('2030-03-01T12:00:00.000Z'))
const ctx = () => ({ db: database().db, clock: clock.now })

/** Blog ids of this file; each test uses its own, so tests do not see each other's objectives. */
let nextBlog = 1000n
const endpointOf = new Map<bigint, bigint>()

/** A site with one endpoint, optionally mapped to gateway tenants. */
async function site(...tenants: string[]): Promise<bigint> {
  const blogId = nextBlog++
  const [header] = await database()
    .db.insert(monitorSites)
    .values({ blogId, monitorUrl: `https://site-${blogId}.example` })
  endpointOf.set(blogId, BigInt(header.insertId))
  for (const tenantId of tenants) await database().db.insert(siteTenants).values({ tenantId, blogId })
  return blogId
}

const availability = (blogId: bigint, name = `availability of ${blogId}`) => ({
  name,
  blog_id: blogId,
  sli: 'availability',
  target: 99.9,
  window: '30d',
})

/** The issues an invalid create reports, as `path: message` lines. */
async function createIssues(fields: unknown): Promise<Array<{ path: string; message: string }>> {
  const error = await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields }).catch((e) => e)
  expect(error).toBeInstanceOf(InvalidObjectiveError)
  return (error as InvalidObjectiveError).issues.map((issue) => ({ path: issue.path, message: issue.message }))
}

let blogA: bigint
beforeAll(async () => {
  blogA = await site()
})

describe('createObjective and getObjective', () => {
  it('stores an availability objective with the defaults and reads it back', async () => {
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'cli:ops',
      fields: availability(blogA, 'checkout availability'),
    })
    expect(created).toEqual({
      id: expect.any(BigInt),
      name: 'checkout availability',
      blogId: blogA,
      endpointId: null,
      sli: 'availability',
      latencyThresholdMs: null,
      target: 99.9,
      window: '30d',
      alertPolicy: null,
      budgetWarnPercent: 25,
      budgetCriticalPercent: 10,
      active: true,
      ownerTenantId: null,
      createdBy: 'cli:ops',
      createdAt: clock.now(),
      updatedAt: clock.now(),
    })
    expect(await getObjective({ ctx: ctx(), tenantId: null, id: created.id })).toEqual(created)
  })

  it('stores a latency objective on one endpoint with its own policy and thresholds', async () => {
    const blogId = await site()
    const endpointId = endpointOf.get(blogId)!
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: {
        name: 'fast home page',
        blog_id: String(blogId),
        endpoint_id: Number(endpointId),
        sli: 'latency',
        latency_threshold_ms: 800,
        target: 99.125,
        window: 'quarter',
        alert_policy: [{ long: '1h', short: '5m', burn_rate: 10, severity: 'page' }],
        budget_warn_percent: 40,
        budget_critical_percent: 12.5,
      },
    })
    expect(created).toMatchObject({
      blogId,
      endpointId,
      sli: 'latency',
      latencyThresholdMs: 800,
      target: 99.125,
      window: 'quarter',
      alertPolicy: [{ severity: 'page', long: '1h', short: '5m', burnRate: 10 }],
      budgetWarnPercent: 40,
      budgetCriticalPercent: 12.5,
    })
    // Stored in the wire form of a rule.
    const [row] = await database().db.select().from(sloObjectives).where(eq(sloObjectives.id, created.id))
    expect(row!.alertPolicy).toEqual([{ long: '1h', short: '5m', burn_rate: 10, severity: 'page' }])
  })

  it('refuses a site that does not exist, and an endpoint of another site', async () => {
    const missing = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(999_999n),
    }).catch((e) => e)
    expect(missing).toBeInstanceOf(SiteNotFoundError)
    expect(missing.code).toBe('SITE_NOT_FOUND')

    const other = await site()
    expect(
      await createIssues({ ...availability(blogA, 'wrong endpoint'), endpoint_id: endpointOf.get(other)! }),
    ).toEqual([
      { path: 'endpoint_id', message: `endpoint ${endpointOf.get(other)} is not an endpoint of site ${blogA}` },
    ])
  })

  it('reports an unknown id as not found', async () => {
    const error = await getObjective({ ctx: ctx(), tenantId: null, id: 987_654_321n }).catch((e) => e)
    expect(error).toBeInstanceOf(ObjectiveNotFoundError)
    expect(error.code).toBe('NOT_FOUND')
  })
})

describe('validation', () => {
  it('names each missing required field', async () => {
    expect(await createIssues({})).toEqual(
      ['name', 'blog_id', 'sli', 'target', 'window'].map((path) => ({ path, message: 'is required' })),
    )
  })

  it('names each invalid field by its path', async () => {
    const issues = await createIssues({
      name: 'x'.repeat(129),
      blog_id: 'abc',
      sli: 'throughput',
      target: 100,
      window: '14d',
      budget_warn_percent: 101,
      surprise: true,
    })
    expect(issues).toEqual([
      { path: 'name', message: 'must be at most 128 characters' },
      { path: 'blog_id', message: 'must be an id: a whole number or a decimal string' },
      { path: 'sli', message: 'must be one of availability, latency' },
      { path: 'target', message: 'must be less than 100' },
      { path: 'window', message: 'must be one of 7d, 28d, 30d, 90d, month, quarter' },
      { path: 'budget_warn_percent', message: 'must be at most 100' },
      { path: 'surprise', message: 'is not a field of an objective' },
    ])
  })

  it('holds the target strictly between 0 and 100 with at most three decimals', async () => {
    const target = async (value: unknown) => createIssues({ ...availability(blogA, `target ${value}`), target: value })
    expect(await target(0)).toEqual([{ path: 'target', message: 'must be greater than 0' }])
    expect(await target(99.9995)).toEqual([{ path: 'target', message: 'must have at most 3 decimals' }])
    expect(await target('99.9')).toEqual([{ path: 'target', message: 'must be a number' }])
    const ok = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: { ...availability(blogA, 'three decimals'), target: 0.001 },
    })
    expect(ok.target).toBe(0.001)
  })

  it('requires the latency threshold for a latency objective and only for it', async () => {
    expect(await createIssues({ ...availability(blogA, 'slow'), sli: 'latency' })).toEqual([
      { path: 'latency_threshold_ms', message: 'is required for a latency objective' },
    ])
    expect(await createIssues({ ...availability(blogA, 'odd'), latency_threshold_ms: 500 })).toEqual([
      { path: 'latency_threshold_ms', message: 'is only for a latency objective' },
    ])
  })

  it('checks each rule of an alert policy and keeps warn above critical', async () => {
    const issues = await createIssues({
      ...availability(blogA, 'policy'),
      alert_policy: [
        { long: '1h', short: '5m', burn_rate: 14.4, severity: 'page' },
        { long: '2h', short: '5m', burn_rate: 0, severity: 'sms', extra: 1 },
        'page',
      ],
    })
    expect(issues).toEqual([
      { path: 'alert_policy.1.long', message: 'must be one of 5m, 30m, 1h, 6h, 24h, 3d' },
      { path: 'alert_policy.1.burn_rate', message: 'must be greater than 0' },
      { path: 'alert_policy.1.severity', message: 'must be one of page, ticket' },
      { path: 'alert_policy.1.extra', message: 'is not a field of a rule' },
      { path: 'alert_policy.2', message: 'must be a rule: {long, short, burn_rate, severity}' },
    ])
    expect(
      await createIssues({
        ...availability(blogA, 'inverted'),
        alert_policy: [{ long: '5m', short: '1h', burn_rate: 2, severity: 'ticket' }],
        budget_warn_percent: 10,
        budget_critical_percent: 10,
      }),
    ).toEqual([
      { path: 'budget_warn_percent', message: 'must be greater than budget_critical_percent (10)' },
      { path: 'alert_policy.0.short', message: 'must be shorter than long (5m)' },
    ])
    expect(await createIssues({ ...availability(blogA, 'empty policy'), alert_policy: [] })).toEqual([
      { path: 'alert_policy', message: 'must have at least one rule (null for the default policy)' },
    ])
  })

  it('accepts the default policy written out, which matches the multiwindow table', async () => {
    expect(DEFAULT_ALERT_POLICY).toEqual([
      { severity: 'page', long: '1h', short: '5m', burnRate: 14.4 },
      { severity: 'page', long: '6h', short: '30m', burnRate: 6 },
      { severity: 'ticket', long: '3d', short: '6h', burnRate: 1 },
    ])
    const written = DEFAULT_ALERT_POLICY.map((r) => ({
      long: r.long,
      short: r.short,
      burn_rate: r.burnRate,
      severity: r.severity,
    }))
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: { ...availability(blogA, 'explicit default'), alert_policy: written },
    })
    expect(created.alertPolicy).toEqual(DEFAULT_ALERT_POLICY)
  })
})

describe('names', () => {
  it('are unique per owner among active objectives; two tenants may use the same name', async () => {
    const blogId = await site('tenant-a', 'tenant-b')
    const fields = availability(blogId, 'api availability')
    await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields })
    const taken = await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields }).catch((e) => e)
    expect(taken).toBeInstanceOf(ObjectiveNameTakenError)
    expect(taken.code).toBe('NAME_TAKEN')

    const a = await createObjective({ ctx: ctx(), tenantId: 'tenant-a', createdBy: 'test', fields })
    const b = await createObjective({ ctx: ctx(), tenantId: 'tenant-b', createdBy: 'test', fields })
    expect([a.ownerTenantId, b.ownerTenantId]).toEqual(['tenant-a', 'tenant-b'])
    await expect(createObjective({ ctx: ctx(), tenantId: 'tenant-a', createdBy: 'test', fields })).rejects.toThrow(
      ObjectiveNameTakenError,
    )

    // Deactivating frees the name; reactivating the old one then conflicts.
    await deactivateObjective({ ctx: ctx(), tenantId: 'tenant-a', id: a.id })
    const again = await createObjective({ ctx: ctx(), tenantId: 'tenant-a', createdBy: 'test', fields })
    expect(again.id).not.toBe(a.id)
    await expect(
      updateObjective({ ctx: ctx(), tenantId: 'tenant-a', id: a.id, changes: { active: true } }),
    ).rejects.toThrow(ObjectiveNameTakenError)
  })

  it('are compared as the database compares text: case-insensitively', async () => {
    const blogId = await site()
    await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(blogId, 'Shop Uptime'),
    })
    await expect(
      createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields: availability(blogId, 'shop uptime') }),
    ).rejects.toThrow(ObjectiveNameTakenError)
  })

  it('cannot be renamed onto another active objective of the owner', async () => {
    const blogId = await site()
    await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields: availability(blogId, 'first') })
    const second = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(blogId, 'second'),
    })
    const error = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: second.id,
      changes: { name: 'first' },
    }).catch((e) => e)
    expect(error).toBeInstanceOf(ObjectiveNameTakenError)
    expect((await getObjective({ ctx: ctx(), tenantId: null, id: second.id })).name).toBe('second')
  })
})

describe('updateObjective', () => {
  it('changes the given fields, clears those given as null and stamps updated_at', async () => {
    const blogId = await site()
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: {
        ...availability(blogId, 'to change'),
        alert_policy: [{ long: '6h', short: '30m', burn_rate: 6, severity: 'page' }],
      },
    })
    clock.advance(60_000)
    const updated = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: created.id,
      changes: { target: 99.5, window: 'month', alert_policy: null, endpoint_id: endpointOf.get(blogId)! },
    })
    expect(updated).toEqual({
      ...created,
      target: 99.5,
      window: 'month',
      alertPolicy: null,
      endpointId: endpointOf.get(blogId),
      updatedAt: clock.now(),
    })
  })

  it('checks the rules between fields on the merged objective', async () => {
    const blogId = await site()
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(blogId, 'merge'),
    })
    const switchOnly = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: created.id,
      changes: { sli: 'latency' },
    }).catch((e) => e)
    expect(switchOnly).toBeInstanceOf(InvalidObjectiveError)
    expect(switchOnly.issues).toEqual([
      { path: 'latency_threshold_ms', message: 'is required for a latency objective' },
    ])
    const warn = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: created.id,
      changes: { budget_critical_percent: 30 },
    }).catch((e) => e)
    expect(warn.issues).toEqual([
      { path: 'budget_warn_percent', message: 'must be greater than budget_critical_percent (30)' },
    ])
    const latency = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: created.id,
      changes: { sli: 'latency', latency_threshold_ms: 300 },
    })
    expect(latency).toMatchObject({ sli: 'latency', latencyThresholdMs: 300 })
    const back = await updateObjective({
      ctx: ctx(),
      tenantId: null,
      id: created.id,
      changes: { sli: 'availability', latency_threshold_ms: null },
    })
    expect(back).toMatchObject({ sli: 'availability', latencyThresholdMs: null })
  })
})

describe('listObjectives', () => {
  it('filters by site, SLI and activity and pages in id order', async () => {
    const blogId = await site()
    const other = await site()
    const made = []
    for (let i = 0; i < 5; i++) {
      const fields =
        i % 2 === 0
          ? availability(blogId, `list ${i}`)
          : { ...availability(blogId, `list ${i}`), sli: 'latency', latency_threshold_ms: 500 }
      made.push(await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields }))
    }
    await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields: availability(other, 'elsewhere') })
    await deactivateObjective({ ctx: ctx(), tenantId: null, id: made[4]!.id })

    const ids = (page: { objectives: { id: bigint }[] }) => page.objectives.map((o) => o.id)
    const first = await listObjectives({ ctx: ctx(), tenantId: null, blogId, limit: 2 })
    expect(ids(first)).toEqual([made[0]!.id, made[1]!.id])
    expect(first.nextAfter).toBe(made[1]!.id)
    const second = await listObjectives({ ctx: ctx(), tenantId: null, blogId, limit: 2, after: first.nextAfter })
    expect(ids(second)).toEqual([made[2]!.id, made[3]!.id])
    const last = await listObjectives({ ctx: ctx(), tenantId: null, blogId, limit: 2, after: second.nextAfter })
    expect(ids(last)).toEqual([made[4]!.id])
    expect(last.nextAfter).toBeNull()

    expect(ids(await listObjectives({ ctx: ctx(), tenantId: null, blogId, sli: 'latency' }))).toEqual([
      made[1]!.id,
      made[3]!.id,
    ])
    expect(ids(await listObjectives({ ctx: ctx(), tenantId: null, blogId, active: true }))).toEqual(
      made.slice(0, 4).map((o) => o.id),
    )
    expect(ids(await listObjectives({ ctx: ctx(), tenantId: null, blogId, active: false }))).toEqual([made[4]!.id])
  })

  it('refuses a page size out of range', async () => {
    for (const limit of [0, 1001, 2.5]) {
      await expect(listObjectives({ ctx: ctx(), tenantId: null, limit })).rejects.toThrow(InvalidInputError)
    }
  })
})

describe('tenancy', () => {
  it('a tenant sees and changes only its own objectives, and creates them only on its sites', async () => {
    const shared = await site('tenant-c')
    const foreign = await site('tenant-d')
    const own = await createObjective({
      ctx: ctx(),
      tenantId: 'tenant-c',
      createdBy: 'test',
      fields: availability(shared, 'mine'),
    })
    const operators = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(shared, 'operator'),
    })

    await expect(
      createObjective({ ctx: ctx(), tenantId: 'tenant-c', createdBy: 'test', fields: availability(foreign, 'theirs') }),
    ).rejects.toThrow(SiteNotFoundError)

    const listed = await listObjectives({ ctx: ctx(), tenantId: 'tenant-c' })
    expect(listed.objectives.map((o) => o.id)).toEqual([own.id])
    const all = await listObjectives({ ctx: ctx(), tenantId: null, blogId: shared })
    expect(all.objectives.map((o) => o.id)).toEqual([own.id, operators.id])

    for (const verb of [
      () => getObjective({ ctx: ctx(), tenantId: 'tenant-c', id: operators.id }),
      () => updateObjective({ ctx: ctx(), tenantId: 'tenant-c', id: operators.id, changes: { target: 99 } }),
      () => deactivateObjective({ ctx: ctx(), tenantId: 'tenant-c', id: operators.id }),
      () => getObjective({ ctx: ctx(), tenantId: 'tenant-d', id: own.id }),
    ]) {
      await expect(verb()).rejects.toThrow(ObjectiveNotFoundError)
    }
    expect((await getObjective({ ctx: ctx(), tenantId: null, id: operators.id })).active).toBe(true)

    // A tenant cannot move its objective onto another tenant's site.
    await expect(
      updateObjective({ ctx: ctx(), tenantId: 'tenant-c', id: own.id, changes: { blog_id: foreign } }),
    ).rejects.toThrow(SiteNotFoundError)
  })
})

describe('deactivation', () => {
  it('deactivates one objective, idempotently', async () => {
    const blogId = await site()
    const created = await createObjective({
      ctx: ctx(),
      tenantId: null,
      createdBy: 'test',
      fields: availability(blogId, 'to delete'),
    })
    clock.advance(1000)
    const gone = await deactivateObjective({ ctx: ctx(), tenantId: null, id: created.id })
    expect(gone).toEqual({ ...created, active: false, updatedAt: clock.now() })
    clock.advance(1000)
    expect(await deactivateObjective({ ctx: ctx(), tenantId: null, id: created.id })).toEqual(gone)
  })

  it("deactivates every active objective of a deleted site, whoever owns it, and no other site's", async () => {
    const blogId = await site('tenant-e')
    const other = await site()
    const mine = await createObjective({
      ctx: ctx(),
      tenantId: 'tenant-e',
      createdBy: 'test',
      fields: availability(blogId, 'a'),
    })
    const ops = await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields: availability(blogId) })
    const kept = await createObjective({ ctx: ctx(), tenantId: null, createdBy: 'test', fields: availability(other) })
    expect(await deactivateObjectivesOfSite({ ctx: ctx(), blogId })).toBe(2)
    expect(await deactivateObjectivesOfSite({ ctx: ctx(), blogId })).toBe(0)
    for (const id of [mine.id, ops.id]) {
      expect((await getObjective({ ctx: ctx(), tenantId: null, id })).active).toBe(false)
    }
    expect((await getObjective({ ctx: ctx(), tenantId: null, id: kept.id })).active).toBe(true)
  })
})
