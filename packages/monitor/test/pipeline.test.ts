import { createChecker } from '@jetmon/checker'
import {
  auditLog,
  createDatabase,
  type Database,
  type Db,
  events,
  eventTransitions,
  type Logger,
  monitorSites,
  noopLogger,
} from '@jetmon/db'
import { closeEvent, getEvent, listOpenEvents, openEvent } from '@jetmon/eventstore'
import { manualClock, recordingLogger } from '@jetmon/testkit'
import { asc, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfirmationPipeline,
  type Decision,
  type DownNotice,
  isHardFailure,
  type MonitoredEndpoint,
  type PipelineSettings,
  type Vote,
} from '../src/pipeline.js'
import { MonitorProbe } from '../src/probe.js'
import { pipelineSettings, useCheckFixtures } from './fixtures.js'

const world = useCheckFixtures()

/** The quorum rule: Down needs `quorum` down votes; `quorum` usable answers otherwise make a false alarm. */
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

function pipeline(options: {
  verifliers?: Vote[][]
  settings?: Partial<PipelineSettings>
  maintenance?: () => boolean
  db?: Db
  logger?: Logger
}) {
  const notices: DownNotice[] = []
  const recorded: string[] = []
  const rounds = [...(options.verifliers ?? [])]
  const p = new ConfirmationPipeline({
    db: options.db ?? world.db,
    check: world.check,
    decide,
    // Every check reads what other writers did since the last one (the service's bound is a second).
    followEveryMs: 0,
    askVerifliers: options.verifliers ? async () => rounds.shift() ?? [] : undefined,
    record: (_e, result, vantage) => recorded.push(`${vantage}:${result.error ?? 'ok'}`),
    notify: (n) => notices.push(n),
    inMaintenance: options.maintenance,
    ...(options.logger ? { logger: options.logger } : {}),
    settings: pipelineSettings({ veriflierCount: options.verifliers ? 2 : 0, quorum: 2, ...options.settings }),
  })
  return { p, notices, recorded }
}

async function transitionsOf(endpointId: bigint) {
  return world.db
    .select()
    .from(eventTransitions)
    .where(eq(eventTransitions.endpointId, endpointId))
    .orderBy(asc(eventTransitions.id))
}

async function siteStatus(endpointId: bigint) {
  const [row] = await world.db.select().from(monitorSites).where(eq(monitorSites.endpointId, endpointId))
  return row?.siteStatus
}

describe('the confirmation pipeline', () => {
  it('leaves a healthy endpoint alone and records its checks', async () => {
    const { ep } = await world.endpoint({ status: 200 })
    const { p, recorded } = pipeline({})
    expect(await p.runCheck(ep)).toBeUndefined()
    expect(recorded).toEqual(['local:ok'])
    expect(await transitionsOf(ep.endpointId)).toEqual([])
  })

  it('without verifliers: Seems Down on the first failure, Down after NUM_OF_CHECKS, recovery closes', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const { p, notices } = pipeline({})
    expect(await p.runCheck(ep)).toBe(20_000) // re-checked sooner
    expect(await siteStatus(ep.endpointId)).toBe(0)
    expect(await p.runCheck(ep)).toBe(20_000)
    expect(await p.runCheck(ep)).toBe(60_000) // Down: checked every FAILED_CHECK_INTERVAL
    expect(await siteStatus(ep.endpointId)).toBe(2)
    expect(notices.map((n) => n.statusId)).toEqual([2])
    expect(await p.runCheck(ep)).toBe(60_000) // not re-escalated
    world.sites.setSite(name, { status: 200 })
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
    const { ep } = await world.endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'down'), vote('v2', 'down')]] })
    await p.runCheck(ep)
    await p.runCheck(ep)
    await p.settle()
    expect((await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId }))[0]?.state).toBe('Seems Down')
    await p.runCheck(ep) // third failure: the round starts off the scheduling path
    await p.settle()
    const [open] = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
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
    const { ep } = await world.endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'up'), vote('v2', 'up')]] })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    expect(await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })).toEqual([])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('false_alarm')
    expect(notices).toEqual([]) // nothing is sent for a false alarm
    // Within the flap window one failure is not enough to reopen: NUM_OF_CHECKS are.
    await p.runCheck(ep)
    await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })).toEqual([])
    await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })).toHaveLength(1)
  })

  it('stays Seems Down when no veriflier answers: never Down, never a false alarm', async () => {
    const { ep } = await world.endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [[vote('v1', 'error'), vote('v2', 'error')]] })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    await p.settle()
    const [open] = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
    expect(open?.state).toBe('Seems Down')
    expect(p.confirmationUnavailable(ep.endpointId)).toBe(true)
    expect(notices).toEqual([])
    const audit = await world.db.select().from(auditLog).where(eq(auditLog.eventId, open!.id))
    expect(audit[0]).toMatchObject({ eventType: 'veriflier_request', metadata: { outcome: 'inconclusive' } })
  })

  it('closes with probe_cleared when the site recovers before confirmation', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const { p, notices } = pipeline({ verifliers: [] })
    await p.runCheck(ep)
    world.sites.setSite(name, { status: 200 })
    await p.runCheck(ep)
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual(['opened', 'probe_cleared'])
    expect(notices).toEqual([]) // a Seems Down that was never notified sends no recovery
  })

  it('opens nothing inside a maintenance window and closes an open event when one begins', async () => {
    const { ep } = await world.endpoint({ status: 500 })
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
    const { ep } = await world.endpoint({ status: 200 }, { url: 'http://unresolvable.example/' })
    const blind = new ConfirmationPipeline({
      db: world.db,
      check: createChecker({ dnsServers: [`127.0.0.1:${world.sites.refusedPort}`], dnsTimeoutMs: 200 }),
      decide,
      settings: pipelineSettings({ numOfChecks: 1, retryIntervalMs: 1, failedCheckIntervalMs: 1, flapWindowMs: 0 }),
    })
    await blind.runCheck(ep)
    await blind.runCheck(ep)
    expect(await transitionsOf(ep.endpointId)).toEqual([])
  })

  it('runs the advisory lifecycles: expiring certificate (Degraded ≤ 7 days) and deprecated TLS (Warning)', async () => {
    const { ep } = await world.endpoint({ status: 200, tls: 'expiring' })
    const https = { ...ep, url: world.sites.url(`site-${ep.blogId}`, '/', { https: true }) }
    const { p } = pipeline({})
    await p.runCheck(https)
    const open = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
    expect(open.map((e) => [e.checkType, e.state, e.severity])).toEqual([['tls_expiry', 'Degraded', 2]])
    expect(open[0]?.metadata).toMatchObject({ days_until_expiry: expect.any(Number) })
    expect(await siteStatus(ep.endpointId)).toBe(1) // advisories never touch the projection

    const legacy = await world.endpoint({ status: 200 })
    const oldTls = { ...legacy.ep, url: world.sites.url(legacy.name, '/', { legacyTls: true }) }
    await p.runCheck(oldTls)
    const deprecated = await listOpenEvents({ ctx: { db: world.db }, endpointId: legacy.ep.endpointId })
    expect(deprecated.map((e) => [e.checkType, e.state])).toEqual([['tls_deprecated', 'Warning']])
    expect(deprecated[0]?.metadata).toMatchObject({ tls_version: expect.stringMatching(/^TLSv1(\.1)?$/) })
  })

  it('opens a latency advisory after NUM_OF_CHECKS slow checks and closes it after as many fast ones', async () => {
    const { ep, name } = await world.endpoint({ status: 200, ttfbMs: 120 }, { latencyThresholdMs: 60 })
    const { p } = pipeline({})
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    const open = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
    expect(open.map((e) => [e.checkType, e.state])).toEqual([['latency', 'Degraded']])
    world.sites.setSite(name, { status: 200 })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    expect(await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })).toEqual([])
  })

  it('picks up an open incident after a restart and still sends the recovery of a notified Down', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const first = pipeline({})
    for (let i = 0; i < 3; i++) await first.p.runCheck(ep)
    const second = pipeline({}) // a new process: no memory but the event store
    world.sites.setSite(name, { status: 200 })
    await second.p.runCheck(ep)
    expect(second.notices.map((n) => n.statusId)).toEqual([1])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('verifier_cleared')
  })

  it('after a preloaded restart, still closes the open incident and sends the recovery of a notified Down', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const first = pipeline({})
    for (let i = 0; i < 3; i++) await first.p.runCheck(ep)
    const second = pipeline({})
    await second.p.preload(new Set([ep.endpointId]))
    world.sites.setSite(name, { status: 200 })
    await second.p.runCheck(ep)
    expect(second.notices.map((n) => n.statusId)).toEqual([1])
    expect((await transitionsOf(ep.endpointId)).at(-1)?.reason).toBe('verifier_cleared')
  })

  it('a snapshot for every endpoint serves those first checked after it, but not one another writer changed since', async () => {
    const a = await world.endpoint({ status: 500 })
    const b = await world.endpoint({ status: 500 })
    const first = pipeline({})
    for (let i = 0; i < 3; i++) {
      await first.p.runCheck(a.ep)
      await first.p.runCheck(b.ep)
    }
    const second = pipeline({})
    await second.p.preload()
    const openOf = async (endpointId: bigint) =>
      (await listOpenEvents({ ctx: { db: world.db }, endpointId, checkType: 'http' })).map((e) => e.id)
    const [aEvent] = await openOf(a.ep.endpointId)
    const [bEvent] = await openOf(b.ep.endpointId)
    // Closed without a transition, which nobody follows: only a check that reads the store sees it.
    await world.db.execute(sql`UPDATE jetmon_events SET ended_at = NOW(3) WHERE id = ${aEvent!}`)
    // Closed by the operator: a transition the snapshot must give way to.
    await closeEvent({
      ctx: { db: world.db, source: 'api:operator' },
      input: { eventId: bEvent!, reason: 'manual_override' },
    })

    await second.p.runCheck(a.ep)
    expect(second.p.stats.stillDown).toBe(1) // from the snapshot: still Down, no new incident
    expect(await openOf(a.ep.endpointId)).toEqual([])
    // From the store: closed, so not Down any more (the flap guard then counts the failures anew).
    await second.p.runCheck(b.ep)
    expect(second.p.stats.stillDown).toBe(1)
  })

  it('a healthy endpoint keeps its streaks in its compact memory and sees an event another writer opened for it', async () => {
    const { ep } = await world.endpoint({ status: 200 }, { latencyThresholdMs: 60_000 })
    const { p } = pipeline({})
    for (let i = 0; i < 3; i++) await p.runCheck(ep) // three fast checks: enough to close a latency advisory
    const opened = await openEvent({
      ctx: { db: world.db, source: 'monitor:another-host' },
      input: { blogId: ep.blogId, endpointId: ep.endpointId, checkType: 'latency', state: 'Degraded', severity: 2 },
    })
    // A healthy endpoint's check does not wait for the transitions; the first check of another
    // endpoint does (the second of two such checks reads them after any poll that was running).
    for (let i = 0; i < 2; i++) await p.runCheck((await world.endpoint({ status: 200 })).ep)
    await p.runCheck(ep)
    expect((await getEvent({ ctx: { db: world.db }, eventId: opened.event.id }))?.resolutionReason).toBe(
      'probe_cleared',
    )
  })
})

describe('an incident changed behind the monitor’s back', () => {
  const openHttp = async (endpointId: bigint) =>
    (await listOpenEvents({ ctx: { db: world.db }, endpointId, checkType: 'http' })).map((e) => ({
      id: e.id,
      state: e.state,
    }))
  /** The API's operator close: the event store verb with the operator as source. */
  const operatorClose = (eventId: bigint) =>
    closeEvent({
      ctx: { db: world.db, source: 'api:operator' },
      input: { eventId, reason: 'manual_override', transitionMetadata: { note: 'closed by hand' } },
    })

  it('an operator closes a Seems Down while the site keeps failing: a new incident opens and reaches Down', async () => {
    const { ep } = await world.endpoint({ status: 503 })
    const { p, notices } = pipeline({})
    await p.runCheck(ep)
    const [first] = await openHttp(ep.endpointId)
    await operatorClose(first!.id)
    // The flap guard counts the close: the failures in a row (two now) must reach NUM_OF_CHECKS.
    expect(await p.runCheck(ep)).toBe(20_000)
    expect(await openHttp(ep.endpointId)).toEqual([])
    expect(await p.runCheck(ep)).toBe(60_000) // the third failure in a row: a new incident, confirmed
    const [second] = await openHttp(ep.endpointId)
    expect(second).toEqual({ id: expect.any(BigInt), state: 'Down' })
    expect(second!.id).not.toBe(first!.id)
    expect(notices.map((n) => [n.statusId, n.eventId])).toEqual([[2, second!.id]])
    expect(await siteStatus(ep.endpointId)).toBe(2)
  })

  it('an operator closes a Down while the site keeps failing: the next check opens a new incident, Down again', async () => {
    const { ep } = await world.endpoint({ status: 503 })
    const { p, notices } = pipeline({})
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    const [down] = await openHttp(ep.endpointId)
    expect(down?.state).toBe('Down')
    await operatorClose(down!.id)
    await p.runCheck(ep)
    const [again] = await openHttp(ep.endpointId)
    expect(again).toEqual({ id: expect.any(BigInt), state: 'Down' })
    expect(again!.id).not.toBe(down!.id)
    expect(notices.map((n) => [n.statusId, n.eventId])).toEqual([
      [2, down!.id],
      [2, again!.id],
    ])
  })

  it('a pause and a resume between two checks close the incident; the failing site opens a new one and reaches Down', async () => {
    const { ep } = await world.endpoint({ status: 503 })
    const { p } = pipeline({ verifliers: [[vote('v1', 'down'), vote('v2', 'down')]] })
    await p.runCheck(ep)
    const [first] = await openHttp(ep.endpointId)
    // What the API's pause writes (its events closed with manual_override, then the row), and its resume.
    await world.db.transaction(async (tx) => {
      await closeEvent({
        ctx: { db: tx, source: 'api:operator' },
        input: { eventId: first!.id, reason: 'manual_override', transitionMetadata: { note: 'paused' } },
      })
      await tx.update(monitorSites).set({ monitorActive: 0 }).where(eq(monitorSites.endpointId, ep.endpointId))
    })
    await world.db.update(monitorSites).set({ monitorActive: 1 }).where(eq(monitorSites.endpointId, ep.endpointId))
    await p.runCheck(ep)
    await p.runCheck(ep) // the third failure in a row: the verifliers are asked about the new incident
    await p.settle()
    const [second] = await openHttp(ep.endpointId)
    expect(second).toEqual({ id: expect.any(BigInt), state: 'Down' })
    expect(second!.id).not.toBe(first!.id)
    expect((await transitionsOf(ep.endpointId)).map((tr) => [tr.eventId === first!.id, tr.reason])).toEqual([
      [true, 'opened'],
      [true, 'manual_override'],
      [false, 'opened'],
      [false, 'verifier_confirmed'],
    ])
  })

  it('trigger-now on a host that does not own the endpoint closes it; the owner opens a new incident and reaches Down', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const { p } = pipeline({})
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    const [down] = await openHttp(ep.endpointId)
    const elsewhere = new MonitorProbe({
      db: world.db,
      check: world.check,
      pipeline: pipeline({}).p,
      owned: () => undefined,
      defaults: () => ({ timeoutMs: 2_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 }),
      projection: () => true,
      logger: noopLogger,
    })
    // The site answers the other host once, then fails again.
    world.sites.setSite(name, { status: 200 })
    const [answer] = await elsewhere.probe([{ endpointId: ep.endpointId, blogId: ep.blogId }], 'api:operator')
    expect(answer?.outcome).toBe('closed_events')
    world.sites.setSite(name, { status: 503 })
    await p.runCheck(ep)
    const [again] = await openHttp(ep.endpointId)
    expect(again).toEqual({ id: expect.any(BigInt), state: 'Down' })
    expect(again!.id).not.toBe(down!.id)
  })
})

describe('a close whose database write fails', () => {
  let other: Database
  let owner: Database
  beforeAll(() => {
    other = createDatabase(world.database.url)
    owner = createDatabase(world.database.url)
  })
  afterAll(async () => {
    await Promise.all([other?.close(), owner?.close()])
  })

  // INNODB_TRX is served from a cache that refreshes only when it was not read for 100 ms: probe slower.
  async function waitingThread(): Promise<number> {
    for (let probe = 0; probe < 100; probe++) {
      const [rows] = (await world.db.execute(
        sql`SELECT trx_mysql_thread_id AS thread FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'`,
      )) as unknown as [{ thread: number | string }[]]
      if (rows[0]) return Number(rows[0].thread)
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    throw new Error('the close never waited for the other transaction')
  }

  /** Another process holds the endpoint's row (which the close's legacy projection writes) until released. */
  function holdEndpointRow(
    endpointId: bigint,
    then: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<void>,
  ) {
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked!: () => void
    const holding = new Promise<void>((resolve) => {
      locked = resolve
    })
    const done = other.db
      .transaction(async (tx) => {
        await tx.update(monitorSites).set({ siteStatus: 0 }).where(eq(monitorSites.endpointId, endpointId))
        // Ballast: the heavier transaction is the one InnoDB spares in a deadlock.
        await tx.insert(auditLog).values(
          Array.from({ length: 20 }, () => ({
            blogId: 1n,
            eventType: 'api_write',
            source: 'api:rival',
            detail: 'ballast',
          })),
        )
        locked()
        await released
        await then(tx)
        throw new Error('the other transaction rolls back')
      })
      .catch(() => undefined)
    return { holding, release, done }
  }

  it('a lost connection: the incident stays remembered, a warning says so, and the check comes back at the retry interval to close it', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const logger = recordingLogger()
    const { p } = pipeline({ db: owner.db, logger })
    await p.runCheck(ep)
    const [open] = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
    world.sites.setSite(name, { status: 200 })
    const rival = holdEndpointRow(ep.endpointId, async () => {})
    await rival.holding
    const recovering = p.runCheck(ep)
    try {
      await world.db.execute(sql`KILL CONNECTION ${sql.raw(String(await waitingThread()))}`)
    } finally {
      rival.release()
    }
    // Not a bug in the pipeline: the database failed. The endpoint is checked again soon, not a whole interval later.
    expect(await recovering).toBe(20_000)
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toEqual([
      {
        level: 'warn',
        obj: expect.objectContaining({ endpointId: String(ep.endpointId), err: expect.any(Error) }),
        msg: expect.stringMatching(/^could not record this check's outcome in the event store .*20 s/),
      },
    ])
    await rival.done
    expect((await getEvent({ ctx: { db: world.db }, eventId: open!.id }))?.endedAt).toBeNull()
    await p.runCheck(ep)
    expect(await getEvent({ ctx: { db: world.db }, eventId: open!.id })).toMatchObject({
      endedAt: expect.any(Date),
      resolutionReason: 'probe_cleared',
    })
    expect(await siteStatus(ep.endpointId)).toBe(1)
  })

  it('a deadlock victim: the close of a notified Down runs again and commits, with its recovery notice', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const { p, notices } = pipeline({ db: owner.db })
    for (let i = 0; i < 3; i++) await p.runCheck(ep)
    const [down] = await listOpenEvents({ ctx: { db: world.db }, endpointId: ep.endpointId })
    world.sites.setSite(name, { status: 200 })
    let rivalGotEvent = false
    const rival = holdEndpointRow(ep.endpointId, async (tx) => {
      await tx.select({ id: events.id }).from(events).where(eq(events.id, down!.id)).for('update')
      rivalGotEvent = true
    })
    await rival.holding
    const recovering = p.runCheck(ep)
    try {
      await waitingThread()
    } finally {
      rival.release()
    }
    await rival.done
    await recovering
    expect(rivalGotEvent).toBe(true) // InnoDB rolled the close back once
    expect(await getEvent({ ctx: { db: world.db }, eventId: down!.id })).toMatchObject({
      endedAt: expect.any(Date),
      resolutionReason: 'verifier_cleared',
    })
    expect(notices.map((n) => n.statusId)).toEqual([2, 1])
  })
})

describe('quick confirmation: a quick second look, the verifliers asked on hard evidence', () => {
  /**
   * A pipeline with two verifliers whose rounds answer from `rounds` in turn, on a manual clock that
   * a test moves by the delay each check asks for: the scheduler's part, without waiting.
   */
  function quick(rounds: Vote[][]) {
    const clock = manualClock(Date.now())
    let asked = 0
    const p = new ConfirmationPipeline({
      db: world.db,
      check: world.check,
      decide,
      followEveryMs: 0,
      clock: clock.now,
      askVerifliers: async () => {
        asked++
        return rounds.shift() ?? []
      },
      settings: pipelineSettings({
        veriflierCount: 2,
        quorum: 2,
        retryIntervalMs: 10_000,
        quickRecheckMs: 3_000,
        hardFailureChecks: 2,
        falseAlarmBackoff: true,
      }),
    })
    /** One check as the scheduler runs it: the delay it asked for, the clock moved by it. */
    const step = async (ep: MonitoredEndpoint) => {
      const delay = await p.runCheck(ep)
      await p.settle()
      clock.advance(delay ?? ep.intervalMs)
      return delay
    }
    return { p, step, asked: () => asked }
  }
  const stateOf = async (endpointId: bigint) =>
    (await listOpenEvents({ ctx: { db: world.db }, endpointId })).find((e) => e.checkType === 'http')?.state ?? null

  it('re-checks the failure that opened Seems Down after the quick delay, later ones at the retry interval', async () => {
    const { ep } = await world.endpoint({ abort: 'reset' }) // a reset: soft evidence
    const { step, asked } = quick([])
    expect(await step(ep)).toBe(3_000)
    expect(await step(ep)).toBe(10_000)
    expect(asked()).toBe(0) // two soft failures are not enough
    expect(await step(ep)).toBe(10_000) // NUM_OF_CHECKS: the verifliers are asked
    expect(asked()).toBe(1)
  })

  it('asks the verifliers at the second hard failure, and only their quorum makes it Down', async () => {
    const { ep } = await world.endpoint({ status: 503 })
    const { step, asked } = quick([[vote('v1', 'down'), vote('v2', 'down')]])
    await step(ep)
    expect(asked()).toBe(0)
    expect(await stateOf(ep.endpointId)).toBe('Seems Down')
    expect(await step(ep)).toBe(10_000) // the local re-checks go on at their pace beside the round
    expect(asked()).toBe(1)
    expect(await stateOf(ep.endpointId)).toBe('Down')
    const confirmed = (await transitionsOf(ep.endpointId)).at(-1)
    expect(confirmed?.reason).toBe('verifier_confirmed')
    expect(confirmed?.metadata).toMatchObject({ confirmed_by: 'verifliers', quorum: 2 })
  })

  it('never goes Down on local evidence alone: the verifliers see it up (false alarm) or do not answer (Seems Down)', async () => {
    const { ep } = await world.endpoint({ status: 503 })
    const { step, asked } = quick([[vote('v1', 'up'), vote('v2', 'up')]])
    await step(ep)
    await step(ep)
    expect(asked()).toBe(1)
    expect(await stateOf(ep.endpointId)).toBeNull()
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual(['opened', 'false_alarm'])

    const { ep: unanswered } = await world.endpoint({ status: 503 })
    const second = quick([[vote('v1', 'error'), vote('v2', 'error')]])
    for (let i = 0; i < 4; i++) await second.step(unanswered)
    expect(await stateOf(unanswered.endpointId)).toBe('Seems Down')
    expect((await transitionsOf(unanswered.endpointId)).map((tr) => tr.stateAfter)).toEqual(['Seems Down'])
  })

  it('a flap after a recovery opens nothing: re-checks keep the retry interval and no veriflier is asked', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const { step, asked } = quick([[vote('v1', 'down'), vote('v2', 'down')]])
    await step(ep)
    await step(ep)
    expect(await stateOf(ep.endpointId)).toBe('Down')
    world.sites.setSite(name, { status: 200 })
    await step(ep) // recovered: closed
    expect(await stateOf(ep.endpointId)).toBeNull()
    // Two hard failures within the flap window, then healthy again.
    world.sites.setSite(name, { status: 503 })
    expect(await step(ep)).toBe(10_000)
    expect(await step(ep)).toBe(10_000)
    world.sites.setSite(name, { status: 200 })
    await step(ep)
    expect(asked()).toBe(1)
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual([
      'opened',
      'verifier_confirmed',
      'verifier_cleared',
    ])
  })
  it('after a false alarm, a site still failing locally needs twice NUM_OF_CHECKS failures before it opens again', async () => {
    const { ep, name } = await world.endpoint({ status: 503 })
    const up = [vote('v1', 'up'), vote('v2', 'up')]
    const { step, asked } = quick([up, up, up])
    await step(ep)
    await step(ep) // hard evidence: asked, the verifliers see it up
    expect(asked()).toBe(1)
    for (let i = 0; i < 5; i++) expect(await step(ep)).toBe(10_000)
    expect(await stateOf(ep.endpointId)).toBeNull()
    await step(ep) // the sixth: a new incident, asked at once, a false alarm again
    expect(asked()).toBe(2)
    for (let i = 0; i < 11; i++) await step(ep)
    expect(asked()).toBe(2) // after two in a row: four times NUM_OF_CHECKS
    await step(ep)
    expect(asked()).toBe(3)
    // A passing check ends the streak: the guard is back to NUM_OF_CHECKS.
    world.sites.setSite(name, { status: 200 })
    await step(ep)
    world.sites.setSite(name, { status: 503 })
    for (let i = 0; i < 2; i++) await step(ep)
    expect(await stateOf(ep.endpointId)).toBeNull()
    await step(ep)
    expect(await stateOf(ep.endpointId)).toBe('Seems Down')
    expect((await transitionsOf(ep.endpointId)).map((tr) => tr.reason)).toEqual([
      'opened',
      'false_alarm',
      'opened',
      'false_alarm',
      'opened',
      'false_alarm',
      'opened',
    ])
  })
})

describe('isHardFailure', () => {
  it('holds answers (HTTP error, refused connection, NXDOMAIN) as hard and hiccups (reset, SERVFAIL, timeout) as soft', async () => {
    const { ep: error } = await world.endpoint({ status: 503 })
    const { ep: reset } = await world.endpoint({ abort: 'reset' })
    const { ep: hanging } = await world.endpoint({ ttfbMs: Number.POSITIVE_INFINITY })
    const check = (url: string, timeoutMs = 2_000) => world.check({ url, method: 'GET', timeoutMs })
    const results = await Promise.all([
      check(error.url),
      check('http://127.0.0.1:1/'),
      check('http://nxdomain.dns.test/'),
      check(reset.url),
      check('http://servfail.dns.test/'),
      check(hanging.url, 200),
    ])
    expect(results.map((r) => [r.error, r.dns?.failureClass ?? null, isHardFailure(r)])).toEqual([
      ['http_status', null, true],
      ['connect', null, true],
      ['dns', 'nxdomain', true],
      ['connect', null, false],
      ['dns', 'servfail', false],
      ['timeout', null, false],
    ])
  })
})
