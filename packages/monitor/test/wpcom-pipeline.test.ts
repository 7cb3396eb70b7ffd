/**
 * The WordPress.com path end to end: the confirmation pipeline stores notices in the transaction of
 * the change, notifiers (one per "process") send them to a receiver on loopback, and processes
 * restart or run side by side on one database.
 */
import { auditLog, eventTransitions, monitorSites, wpcomOutbox } from '@jetmon/db'
import { markDownNotified, openEvent } from '@jetmon/eventstore'
import { asc, eq } from 'drizzle-orm'
import { Agent } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConfirmationPipeline } from '../src/pipeline.js'
import { WpcomNotifier, type WpcomNotifierOptions } from '../src/wpcom.js'
import { pipelineSettings, startWpcomReceiver, useCheckFixtures, type WpcomReceiver } from './fixtures.js'

const world = useCheckFixtures()
let receiver: WpcomReceiver

beforeAll(async () => {
  receiver = await startWpcomReceiver()
})
afterAll(async () => {
  await receiver?.close()
})

/** Sending is asynchronous: each expectation on its result waits up to this long. */
const settled = { timeout: 10_000 }

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  receiver.state.handler = () => 200
})

/** One monitor process: a pipeline (Down after 3 local failures, no verifliers) and its notifier. */
function monitor(host: string, options: Partial<WpcomNotifierOptions> = {}) {
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 })
  const notifier = new WpcomNotifier({
    url: receiver.url,
    authToken: 'wpcom-pipeline-token',
    enabled: true,
    db: world.db,
    hostId: host,
    dispatcher,
    pollMs: 50,
    retry: { baseMs: 50, maxMs: 200, maxAttempts: 1_000 },
    breaker: { failures: 1_000, openMs: 1_000 },
    ...options,
  })
  const pipeline = new ConfirmationPipeline({
    db: world.db,
    check: world.check,
    decide: () => 'confirmed',
    notify: (notice, tx) => notifier.enqueue(notice, tx),
    settings: pipelineSettings({ hostId: host, quorum: 2 }),
  })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await notifier.stop({ flush: false })
    await dispatcher.destroy()
  }
  cleanups.push(stop)
  notifier.start()
  return { pipeline, notifier, stop }
}

async function outboxOf(blogId: bigint) {
  return world.db
    .select({ statusId: wpcomOutbox.statusId, status: wpcomOutbox.status })
    .from(wpcomOutbox)
    .where(eq(wpcomOutbox.blogId, blogId))
    .orderBy(asc(wpcomOutbox.id))
}

async function auditsOf(blogId: bigint) {
  const rows = await world.db.select().from(auditLog).where(eq(auditLog.blogId, blogId)).orderBy(asc(auditLog.id))
  return rows.map((r) => [r.eventType, r.metadata?.status_id, r.metadata?.reason ?? null])
}

describe('WordPress.com notices from the pipeline', () => {
  it('a Down stored while WordPress.com fails survives a restart, and its recovery goes out after it', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    receiver.state.handler = () => 503
    const first = monitor('wpcom-host-a')
    for (let i = 0; i < 3; i++) await first.pipeline.runCheck(ep)
    await expect.poll(() => receiver.of(ep.blogId).length, settled).toBeGreaterThan(1)
    await first.stop() // the first process goes away while WordPress.com still fails

    // A new process on the same database; the site is back before WordPress.com is.
    const second = monitor('wpcom-host-a')
    world.sites.setSite(name, { status: 200 })
    await second.pipeline.runCheck(ep)
    const waiting = await outboxOf(ep.blogId)
    expect(waiting.map((row) => row.statusId)).toEqual([2, 1])
    expect(waiting.every((row) => row.status === 'pending' || row.status === 'sending')).toBe(true)
    receiver.state.handler = () => 200
    await expect
      .poll(() => outboxOf(ep.blogId), settled)
      .toEqual([
        { statusId: 2, status: 'sent' },
        { statusId: 1, status: 'sent' },
      ])
    // Failed attempts, then the Down once WordPress.com answered, then (only then) the recovery.
    const statuses = receiver.statusIds(ep.blogId)
    expect(statuses.slice(-2)).toEqual([2, 1])
    expect(statuses.filter((s) => s === 1)).toHaveLength(1)
  })

  it('a recovery of a Down that was never notified sends nothing', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    // Down confirmed while the WordPress.com path was off: no Down notice went out.
    const off = monitor('wpcom-host-off', { enabled: false })
    for (let i = 0; i < 3; i++) await off.pipeline.runCheck(ep)
    await off.stop()

    const on = monitor('wpcom-host-on')
    world.sites.setSite(name, { status: 200 })
    await on.pipeline.runCheck(ep)
    await expect.poll(() => auditsOf(ep.blogId), settled).toEqual([['alert_suppressed', 1, 'down_not_sent']])
    expect(receiver.statusIds(ep.blogId)).toEqual([])
    expect(await outboxOf(ep.blogId)).toEqual([{ statusId: 1, status: 'suppressed' }])
  })

  it('a Down refused with 410 is abandoned with an audit row, and its recovery after a restart sends nothing', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    receiver.state.handler = () => 410
    const first = monitor('wpcom-host-b')
    for (let i = 0; i < 3; i++) await first.pipeline.runCheck(ep)
    await expect.poll(() => auditsOf(ep.blogId), settled).toEqual([['wpcom_failed', 2, 'gone']])
    expect(await outboxOf(ep.blogId)).toEqual([{ statusId: 2, status: 'abandoned' }])
    await first.stop()

    receiver.state.handler = () => 200
    const second = monitor('wpcom-host-b')
    world.sites.setSite(name, { status: 200 })
    await second.pipeline.runCheck(ep)
    await expect
      .poll(() => auditsOf(ep.blogId), settled)
      .toEqual([
        ['wpcom_failed', 2, 'gone'],
        ['alert_suppressed', 1, 'down_not_sent'],
      ])
    expect(receiver.statusIds(ep.blogId)).toEqual([2])
    expect(await outboxOf(ep.blogId)).toEqual([
      { statusId: 2, status: 'abandoned' },
      { statusId: 1, status: 'suppressed' },
    ])
  })

  it('two monitors closing the same Down send one recovery', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const a = monitor('wpcom-host-c')
    const b = monitor('wpcom-host-d')
    for (let i = 0; i < 3; i++) await a.pipeline.runCheck(ep)
    await expect.poll(() => receiver.statusIds(ep.blogId), settled).toEqual([2])
    // The other monitor (after a handover) knows the open Down too.
    await b.pipeline.runCheck(ep)

    world.sites.setSite(name, { status: 200 })
    const closes = await Promise.all([a.pipeline.check(ep), b.pipeline.check(ep)])
    expect(closes.filter((c) => c.closedHttp)).toHaveLength(2) // each believes it closed it
    await expect.poll(() => receiver.statusIds(ep.blogId), settled).toEqual([2, 1])
    await a.notifier.settle()
    await b.notifier.settle()
    expect(receiver.statusIds(ep.blogId)).toEqual([2, 1])
    expect(await outboxOf(ep.blogId)).toEqual([
      { statusId: 2, status: 'sent' },
      { statusId: 1, status: 'sent' },
    ])
  })

  it('an incident holds at most one Down and one recovery notice, whoever asks', async () => {
    const { ep } = await world.endpoint({ status: 500 })
    const a = monitor('wpcom-host-e')
    for (let i = 0; i < 3; i++) await a.pipeline.runCheck(ep)
    const [row] = await world.db
      .select({ eventId: wpcomOutbox.eventId })
      .from(wpcomOutbox)
      .where(eq(wpcomOutbox.blogId, ep.blogId))
    const notice = {
      endpoint: ep,
      eventId: row!.eventId,
      statusType: 'success',
      lastCheck: new Date(),
      lastStatusChange: new Date(),
      checks: [],
    }
    expect(await a.notifier.enqueue({ ...notice, statusId: 1 })).toBe(true)
    expect(await a.notifier.enqueue({ ...notice, statusId: 1 })).toBe(false)
    expect(await a.notifier.enqueue({ ...notice, statusId: 2 })).toBe(false)
    await expect
      .poll(() => outboxOf(ep.blogId), settled)
      .toEqual([
        { statusId: 2, status: 'sent' },
        { statusId: 1, status: 'sent' },
      ])
    expect(receiver.statusIds(ep.blogId)).toEqual([2, 1])
  })
})

describe('incidents adopted from v1', () => {
  /** What adoption leaves for an endpoint v1 reported as `site_status` 0 or 2 (see @jetmon/legacy). */
  async function adopt(ep: { blogId: bigint; endpointId: bigint }, siteStatus: 0 | 2) {
    const startedAt = new Date(Date.now() - 3_600_000)
    await world.db
      .update(monitorSites)
      .set({ siteStatus, lastStatusChange: startedAt })
      .where(eq(monitorSites.endpointId, ep.endpointId))
    const { event } = await openEvent({
      ctx: { db: world.db, source: 'cli:operator' },
      input: {
        blogId: ep.blogId,
        endpointId: ep.endpointId,
        checkType: 'http',
        state: siteStatus === 2 ? 'Down' : 'Seems Down',
        startedAt,
        reason: 'adopted',
        eventMetadata: { adopted_from: 'v1', site_status: siteStatus },
      },
    })
    if (siteStatus === 2) await markDownNotified({ ctx: { db: world.db }, eventId: event.id, at: startedAt })
    return event
  }

  async function transitionsOf(eventId: bigint) {
    const rows = await world.db
      .select({ reason: eventTransitions.reason, stateAfter: eventTransitions.stateAfter })
      .from(eventTransitions)
      .where(eq(eventTransitions.eventId, eventId))
      .orderBy(asc(eventTransitions.id))
    return rows.map((row) => `${row.reason}:${row.stateAfter}`)
  }

  it('an adopted Down stays Down while the site fails, with no new notice, and closes with one recovery', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const event = await adopt(ep, 2)
    const m = monitor('wpcom-host-adopt')
    await m.pipeline.preload(new Set([ep.endpointId]))
    for (let i = 0; i < 5; i++) {
      const outcome = await m.pipeline.check(ep)
      expect(outcome.openHttp).toBe(true)
    }
    expect(await transitionsOf(event.id)).toEqual(['adopted:Down'])
    expect(await outboxOf(ep.blogId)).toEqual([])

    world.sites.setSite(name, { status: 200 })
    expect((await m.pipeline.check(ep)).closedHttp).toBe(true)
    expect(await transitionsOf(event.id)).toEqual(['adopted:Down', 'verifier_cleared:Resolved'])
    await expect.poll(() => outboxOf(ep.blogId), settled).toEqual([{ statusId: 1, status: 'sent' }])
    await m.notifier.settle()
    expect(receiver.statusIds(ep.blogId)).toEqual([1])
  })

  it('an adopted Seems Down goes through confirmation like any other, then notifies its Down and recovery', async () => {
    const { ep, name } = await world.endpoint({ status: 500 })
    const event = await adopt(ep, 0)
    const m = monitor('wpcom-host-adopt-2')
    for (let i = 0; i < 2; i++) await m.pipeline.check(ep)
    expect(await transitionsOf(event.id)).toEqual(['adopted:Seems Down'])
    await m.pipeline.check(ep) // the third failure confirms it (local retries)
    expect(await transitionsOf(event.id)).toEqual(['adopted:Seems Down', 'state_change:Down'])
    await expect.poll(() => receiver.statusIds(ep.blogId), settled).toEqual([2])

    world.sites.setSite(name, { status: 200 })
    await m.pipeline.check(ep)
    await expect.poll(() => receiver.statusIds(ep.blogId), settled).toEqual([2, 1])
  })
})
