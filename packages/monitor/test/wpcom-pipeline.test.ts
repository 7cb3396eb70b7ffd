/**
 * The WordPress.com path end to end: the confirmation pipeline stores notices in the transaction of
 * the change, notifiers (one per "process") send them to a receiver on loopback, and processes
 * restart or run side by side on one database.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createChecker } from '@jetmon/checker'
import { auditLog, monitorSites, wpcomOutbox } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { asc, eq } from 'drizzle-orm'
import { Agent } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConfirmationPipeline, type MonitoredEndpoint } from '../src/pipeline.js'
import { WpcomNotifier, type WpcomNotifierOptions, type WpcomPayload } from '../src/wpcom.js'

let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let check: ReturnType<typeof createChecker>
let receiver: Awaited<ReturnType<typeof startReceiver>>

beforeAll(async () => {
  ;[t, sites, receiver] = await Promise.all([
    createTestDatabase(),
    startFixtureServer({ requestLogLimit: 0 }),
    startReceiver(),
  ])
  dns = await startDnsServer({ zone: sites.zone() })
  check = createChecker({ dnsServers: [dns.server], ca: sites.ca })
})
afterAll(async () => {
  await Promise.all([t?.drop(), sites?.close(), dns?.close(), receiver?.close()])
})

/** Sending is asynchronous: each expectation on its result waits up to this long. */
const settled = { timeout: 10_000 }

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  receiver.state.answer = () => 200
})

/** A WordPress.com stand-in: records each notice's (blog, status) and answers what `answer` says. */
async function startReceiver() {
  const received: { blogId: string; statusId: number }[] = []
  const state = { answer: (_body: WpcomPayload): number => 200 }
  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      raw += chunk
    })
    req.on('end', () => {
      const body = JSON.parse(raw) as WpcomPayload
      received.push({ blogId: String(body.blog_id), statusId: body.status_id })
      res.writeHead(state.answer(body), { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/wpcom/v2/jetpack-monitor/status-change`,
    state,
    /** The status ids WordPress.com received for this blog, in order. */
    of: (blogId: bigint) => received.filter((r) => r.blogId === String(blogId)).map((r) => r.statusId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

let nextBlog = 91_000n
async function endpoint(status: number) {
  const blogId = nextBlog++
  const name = `wpcom-${blogId}`
  sites.setSite(name, { status })
  const url = sites.url(name)
  const [row] = await t.db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
  const ep: MonitoredEndpoint = {
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
  }
  return { ep, name }
}

/** One monitor process: a pipeline (Down after 3 local failures, no verifliers) and its notifier. */
function monitor(host: string, options: Partial<WpcomNotifierOptions> = {}) {
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 })
  const notifier = new WpcomNotifier({
    url: receiver.url,
    authToken: 'wpcom-pipeline-token',
    enabled: true,
    db: t.db,
    hostId: host,
    dispatcher,
    pollMs: 50,
    retry: { baseMs: 50, maxMs: 200, maxAttempts: 1_000 },
    breaker: { failures: 1_000, openMs: 1_000 },
    ...options,
  })
  const pipeline = new ConfirmationPipeline({
    db: t.db,
    check,
    decide: () => 'confirmed',
    notify: (notice, tx) => notifier.enqueue(notice, tx),
    settings: {
      hostId: host,
      numOfChecks: 3,
      retryIntervalMs: 20_000,
      failedCheckIntervalMs: 60_000,
      flapWindowMs: 900_000,
      veriflierCount: 0,
      quorum: 2,
      projection: true,
    },
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
  return t.db
    .select({ statusId: wpcomOutbox.statusId, status: wpcomOutbox.status })
    .from(wpcomOutbox)
    .where(eq(wpcomOutbox.blogId, blogId))
    .orderBy(asc(wpcomOutbox.id))
}

async function auditsOf(blogId: bigint) {
  const rows = await t.db.select().from(auditLog).where(eq(auditLog.blogId, blogId)).orderBy(asc(auditLog.id))
  return rows.map((r) => [r.eventType, r.metadata?.status_id, r.metadata?.reason ?? null])
}

describe('WordPress.com notices from the pipeline', () => {
  it('a Down stored while WordPress.com fails survives a restart, and its recovery goes out after it', async () => {
    const { ep, name } = await endpoint(500)
    receiver.state.answer = () => 503
    const first = monitor('wpcom-host-a')
    for (let i = 0; i < 3; i++) await first.pipeline.runCheck(ep)
    await expect.poll(() => receiver.of(ep.blogId).length, settled).toBeGreaterThan(1)
    await first.stop() // the first process goes away while WordPress.com still fails

    // A new process on the same database; the site is back before WordPress.com is.
    const second = monitor('wpcom-host-a')
    sites.setSite(name, { status: 200 })
    await second.pipeline.runCheck(ep)
    const waiting = await outboxOf(ep.blogId)
    expect(waiting.map((row) => row.statusId)).toEqual([2, 1])
    expect(waiting.every((row) => row.status === 'pending' || row.status === 'sending')).toBe(true)
    receiver.state.answer = () => 200
    await expect
      .poll(() => outboxOf(ep.blogId), settled)
      .toEqual([
        { statusId: 2, status: 'sent' },
        { statusId: 1, status: 'sent' },
      ])
    // Failed attempts, then the Down once WordPress.com answered, then (only then) the recovery.
    const statuses = receiver.of(ep.blogId)
    expect(statuses.slice(-2)).toEqual([2, 1])
    expect(statuses.filter((s) => s === 1)).toHaveLength(1)
  })

  it('a recovery of a Down that was never notified sends nothing', async () => {
    const { ep, name } = await endpoint(500)
    // Down confirmed while the WordPress.com path was off: no Down notice went out.
    const off = monitor('wpcom-host-off', { enabled: false })
    for (let i = 0; i < 3; i++) await off.pipeline.runCheck(ep)
    await off.stop()

    const on = monitor('wpcom-host-on')
    sites.setSite(name, { status: 200 })
    await on.pipeline.runCheck(ep)
    await expect.poll(() => auditsOf(ep.blogId), settled).toEqual([['alert_suppressed', 1, 'down_not_sent']])
    expect(receiver.of(ep.blogId)).toEqual([])
    expect(await outboxOf(ep.blogId)).toEqual([{ statusId: 1, status: 'suppressed' }])
  })

  it('a Down refused with 410 is abandoned with an audit row, and its recovery after a restart sends nothing', async () => {
    const { ep, name } = await endpoint(500)
    receiver.state.answer = () => 410
    const first = monitor('wpcom-host-b')
    for (let i = 0; i < 3; i++) await first.pipeline.runCheck(ep)
    await expect.poll(() => auditsOf(ep.blogId), settled).toEqual([['wpcom_failed', 2, 'gone']])
    expect(await outboxOf(ep.blogId)).toEqual([{ statusId: 2, status: 'abandoned' }])
    await first.stop()

    receiver.state.answer = () => 200
    const second = monitor('wpcom-host-b')
    sites.setSite(name, { status: 200 })
    await second.pipeline.runCheck(ep)
    await expect
      .poll(() => auditsOf(ep.blogId), settled)
      .toEqual([
        ['wpcom_failed', 2, 'gone'],
        ['alert_suppressed', 1, 'down_not_sent'],
      ])
    expect(receiver.of(ep.blogId)).toEqual([2])
    expect(await outboxOf(ep.blogId)).toEqual([
      { statusId: 2, status: 'abandoned' },
      { statusId: 1, status: 'suppressed' },
    ])
  })

  it('two monitors closing the same Down send one recovery', async () => {
    const { ep, name } = await endpoint(500)
    const a = monitor('wpcom-host-c')
    const b = monitor('wpcom-host-d')
    for (let i = 0; i < 3; i++) await a.pipeline.runCheck(ep)
    await expect.poll(() => receiver.of(ep.blogId), settled).toEqual([2])
    // The other monitor (after a handover) knows the open Down too.
    await b.pipeline.runCheck(ep)

    sites.setSite(name, { status: 200 })
    const closes = await Promise.all([a.pipeline.check(ep), b.pipeline.check(ep)])
    expect(closes.filter((c) => c.closedHttp)).toHaveLength(2) // each believes it closed it
    await expect.poll(() => receiver.of(ep.blogId), settled).toEqual([2, 1])
    await a.notifier.settle()
    await b.notifier.settle()
    expect(receiver.of(ep.blogId)).toEqual([2, 1])
    expect(await outboxOf(ep.blogId)).toEqual([
      { statusId: 2, status: 'sent' },
      { statusId: 1, status: 'sent' },
    ])
  })

  it('an incident holds at most one Down and one recovery notice, whoever asks', async () => {
    const { ep } = await endpoint(500)
    const a = monitor('wpcom-host-e')
    for (let i = 0; i < 3; i++) await a.pipeline.runCheck(ep)
    const [row] = await t.db
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
    expect(receiver.of(ep.blogId)).toEqual([2, 1])
  })
})
