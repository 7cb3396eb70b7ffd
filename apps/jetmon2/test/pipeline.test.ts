import { createChecker } from '@jetmon/checker'
import { auditLog, eventTransitions, monitorSites } from '@jetmon/db'
import { listOpenEvents } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfirmationPipeline,
  type Decision,
  type DownNotice,
  type MonitoredEndpoint,
  type PipelineSettings,
  type Vote,
} from '../src/monitor/pipeline.js'

let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let check: ReturnType<typeof createChecker>

beforeAll(async () => {
  ;[t, sites] = await Promise.all([createTestDatabase(), startFixtureServer({ requestLogLimit: 0 })])
  dns = await startDnsServer({ zone: sites.zone() })
  check = createChecker({ dnsServers: [dns.server], ca: sites.ca })
})
afterAll(async () => {
  await Promise.all([t?.drop(), sites?.close(), dns?.close()])
})

/** The spec's quorum rule (monitor.md, Confirmation step 3). */
function decide(votes: Vote[], quorum: number): Decision {
  const down = votes.filter((v) => v.vote === 'down').length
  const up = votes.filter((v) => v.vote === 'up').length
  if (down >= quorum) return 'confirmed'
  if (up + down >= quorum) return 'false_alarm'
  return 'inconclusive'
}

const vote = (name: string, v: Vote['vote']): Vote => ({
  veriflier: name,
  region: `region-${name}`,
  vote: v,
  httpStatus: v === 'error' ? null : v === 'up' ? 200 : 500,
  errorCode: v === 'down' ? 10 : null,
  rttMs: 12,
})

let nextBlog = 1000n
/** A site with one endpoint in the sites table, served by a fixture site of its own. */
async function endpoint(behaviour: Parameters<FixtureServer['setSite']>[1], extra: Partial<MonitoredEndpoint> = {}) {
  const blogId = nextBlog++
  const name = `site-${blogId}`
  sites.setSite(name, behaviour)
  const url = extra.url ?? sites.url(name)
  const [row] = await t.db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
  const ep: MonitoredEndpoint = {
    // drizzle returns auto-increment ids as numbers here; they are small, but the model says bigint.
    endpointId: BigInt(row!.endpointId),
    blogId,
    url,
    intervalMs: 60_000,
    timeoutMs: 2_000,
    method: 'GET',
    redirectPolicy: 'follow',
    maxRedirects: 10,
    keyword: null,
    forbiddenKeywords: null,
    keywordCaseSensitive: true,
    customHeaders: null,
    latencyThresholdMs: null,
    tlsExpiryWarnDays: 30,
    alertCooldownMinutes: null,
    ...extra,
  }
  return { ep, name }
}

function pipeline(options: {
  verifliers?: Vote[][]
  settings?: Partial<PipelineSettings>
  maintenance?: () => boolean
}) {
  const notices: DownNotice[] = []
  const recorded: string[] = []
  const rounds = [...(options.verifliers ?? [])]
  const p = new ConfirmationPipeline({
    db: t.db,
    check,
    decide,
    askVerifliers: options.verifliers ? async () => rounds.shift() ?? [] : undefined,
    record: (_e, result, vantage) => recorded.push(`${vantage}:${result.error ?? 'ok'}`),
    notify: (n) => notices.push(n),
    inMaintenance: options.maintenance,
    settings: {
      hostId: 'test-host',
      numOfChecks: 3,
      retryIntervalMs: 20_000,
      failedCheckIntervalMs: 60_000,
      flapWindowMs: 900_000,
      veriflierCount: options.verifliers ? 2 : 0,
      quorum: 2,
      projection: true,
      ...options.settings,
    },
  })
  return { p, notices, recorded }
}

async function transitionsOf(endpointId: bigint) {
  return t.db
    .select()
    .from(eventTransitions)
    .where(eq(eventTransitions.endpointId, endpointId))
    .orderBy(asc(eventTransitions.id))
}

async function siteStatus(endpointId: bigint) {
  const [row] = await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, endpointId))
  return row?.siteStatus
}

describe('the confirmation pipeline', () => {
  it('leaves a healthy endpoint alone and records its checks', async () => {
    const { ep } = await endpoint({ status: 200 })
    const { p, recorded } = pipeline({})
    expect(await p.runCheck(ep)).toBeUndefined()
    expect(recorded).toEqual(['local:ok'])
    expect(await transitionsOf(ep.endpointId)).toEqual([])
  })

  it('without verifliers: Seems Down on the first failure, Down after NUM_OF_CHECKS, recovery closes', async () => {
    const { ep, name } = await endpoint({ status: 503 })
    const { p, notices } = pipeline({})
    expect(await p.runCheck(ep)).toBe(20_000) // re-checked sooner
    expect(await siteStatus(ep.endpointId)).toBe(0)
    expect(await p.runCheck(ep)).toBe(20_000)
    expect(await p.runCheck(ep)).toBe(60_000) // Down: checked every FAILED_CHECK_INTERVAL
    expect(await siteStatus(ep.endpointId)).toBe(2)
    expect(notices.map((n) => n.statusId)).toEqual([2])
    expect(await p.runCheck(ep)).toBe(60_000) // not re-escalated
    sites.setSite(name, { status: 200 })
    expect(await p.runCheck(ep)).toBeUndefined()
    expect(await siteStatus(ep.endpointId)).toBe(1)
    expect(notices.map((n) => n.statusId)).toEqual([2, 1])
    const transitions = await transitionsOf(ep.endpointId)
    expect(transitions.map((tr) => [tr.reason, tr.stateAfter])).toEqual([
      ['opened', 'Seems Down'],
      ['state_change', 'Down'],
      ['verifier_cleared', 'Resolved'],
    ])
    // started_at survived Seems Down → Down: the one event carries the first failure's time.
    expect(new Set(transitions.map((tr) => tr.eventId)).size).toBe(1)
  })

  it('asks the verifliers after NUM_OF_CHECKS failures and goes Down when a quorum sees it down', async () => {
    const { ep } = await endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'down'), vote('v2', 'down')]] })
    await p.runCheck(ep)
    await p.runCheck(ep)
    await p.settle()
    expect((await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId }))[0]?.state).toBe('Seems Down')
    await p.runCheck(ep) // third failure: the round starts off the scheduling path
    await p.settle()
    const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })
    expect(open?.state).toBe('Down')
    const confirmed = (await transitionsOf(ep.endpointId)).at(-1)
    expect(confirmed?.reason).toBe('verifier_confirmed')
    expect(confirmed?.metadata).toMatchObject({
      quorum: 2,
      votes: [
        { veriflier: 'v1', region: 'region-v1', success: false, http_code: 500 },
        { veriflier: 'v2', success: false },
      ],
    })
    expect(notices[0]?.checks.map((c) => c.type)).toEqual([1, 2, 2])
  })

  it('closes as a false alarm when the verifliers see the site up, then guards against flapping', async () => {
    const { ep } = await endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'up'), vote('v2', 'up')]] })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    expect(await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })).toEqual([])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('false_alarm')
    expect(notices).toEqual([]) // nothing is sent for a false alarm
    // Within the flap window one failure is not enough to reopen: NUM_OF_CHECKS are.
    await p.runCheck(ep)
    await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })).toEqual([])
    await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })).toHaveLength(1)
  })

  it('stays Seems Down when no veriflier answers: never Down, never a false alarm', async () => {
    const { ep } = await endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'error'), vote('v2', 'error')]] })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })
    expect(open?.state).toBe('Seems Down')
    expect(p.confirmationUnavailable(ep.endpointId)).toBe(true)
    expect(notices).toEqual([])
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.eventId, open!.id))
    expect(audit[0]).toMatchObject({ eventType: 'veriflier_request', metadata: { outcome: 'inconclusive' } })
  })

  it('closes with probe_cleared when the site recovers before confirmation', async () => {
    const { ep, name } = await endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [] })
    await p.runCheck(ep)
    sites.setSite(name, { status: 200 })
    await p.runCheck(ep)
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual(['opened', 'probe_cleared'])
    expect(notices).toEqual([]) // a Seems Down that was never notified sends no recovery
  })

  it('opens nothing inside a maintenance window and closes an open event when one begins', async () => {
    const { ep } = await endpoint({ status: 500 })
    let maintenance = false
    const { p } = pipeline({ maintenance: () => maintenance })
    await p.runCheck(ep)
    maintenance = true
    await p.runCheck(ep)
    await p.runCheck(ep)
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual(['opened', 'maintenance_swallowed'])
    expect(await siteStatus(ep.endpointId)).toBe(1)
  })

  it('never opens an incident for our own trouble (monitor_error)', async () => {
    const { ep } = await endpoint({ status: 200 }, { url: 'http://unresolvable.example/' })
    const blind = new ConfirmationPipeline({
      db: t.db,
      check: createChecker({ dnsServers: [`127.0.0.1:${sites.refusedPort}`], dnsTimeoutMs: 200 }),
      decide,
      settings: {
        hostId: 'test-host',
        numOfChecks: 1,
        retryIntervalMs: 1,
        failedCheckIntervalMs: 1,
        flapWindowMs: 0,
        veriflierCount: 0,
        quorum: 1,
        projection: true,
      },
    })
    await blind.runCheck(ep)
    await blind.runCheck(ep)
    expect(await transitionsOf(ep.endpointId)).toEqual([])
  })

  it('runs the advisory lifecycles: expiring certificate (Degraded ≤ 7 days) and deprecated TLS (Warning)', async () => {
    const { ep } = await endpoint({ status: 200, tls: 'expiring' })
    const https = { ...ep, url: sites.url(`site-${ep.blogId}`, '/', { https: true }) }
    const { p } = pipeline({})
    await p.runCheck(https)
    const open = await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })
    expect(open.map((e) => [e.checkType, e.state, e.severity])).toEqual([['tls_expiry', 'Degraded', 2]])
    expect(open[0]?.metadata).toMatchObject({ days_until_expiry: expect.any(Number) })
    expect(await siteStatus(ep.endpointId)).toBe(1) // advisories never touch the projection

    const legacy = await endpoint({ status: 200 })
    const oldTls = { ...legacy.ep, url: sites.url(legacy.name, '/', { legacyTls: true }) }
    await p.runCheck(oldTls)
    const deprecated = await listOpenEvents({ ctx: { db: t.db }, endpointId: legacy.ep.endpointId })
    expect(deprecated.map((e) => [e.checkType, e.state])).toEqual([['tls_deprecated', 'Warning']])
    expect(deprecated[0]?.metadata).toMatchObject({ tls_version: expect.stringMatching(/^TLSv1(\.1)?$/) })
  })

  it('opens a latency advisory after NUM_OF_CHECKS slow checks and closes it after as many fast ones', async () => {
    const { ep, name } = await endpoint({ status: 200, ttfbMs: 120 }, { latencyThresholdMs: 60 })
    const { p } = pipeline({})
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    const open = await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })
    expect(open.map((e) => [e.checkType, e.state])).toEqual([['latency', 'Degraded']])
    sites.setSite(name, { status: 200 })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: t.db }, endpointId: ep.endpointId })).toEqual([])
  })

  it('picks up an open incident after a restart and still sends the recovery of a notified Down', async () => {
    const { ep, name } = await endpoint({ status: 500 })
    const first = pipeline({})
    for (let i = 0; i < 3; i++) await first.p.runCheck(ep)
    const second = pipeline({}) // a new process: no memory but the event store
    sites.setSite(name, { status: 200 })
    await second.p.runCheck(ep)
    expect(second.notices.map((n) => n.statusId)).toEqual([1])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('verifier_cleared')
  })

  it('after a preloaded restart, still closes the open incident and sends the recovery of a notified Down', async () => {
    const { ep, name } = await endpoint({ status: 500 })
    const first = pipeline({})
    for (let i = 0; i < 3; i++) await first.p.runCheck(ep)
    const second = pipeline({})
    await second.p.preload(new Set([ep.endpointId]))
    sites.setSite(name, { status: 200 })
    await second.p.runCheck(ep)
    expect(second.notices.map((n) => n.statusId)).toEqual([1])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('verifier_cleared')
  })
})
