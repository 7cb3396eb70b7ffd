import { auditLog, endpointState, events, rerunDeadlockVictim, wpcomOutbox } from '@jetmon/db'
import { markDownNotified } from '@jetmon/eventstore'
import { type RecordingLogger, recordingLogger, useTestDatabase } from '@jetmon/testkit'
import { and, asc, eq, inArray } from 'drizzle-orm'
import { Agent } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { DownNotice, MonitoredEndpoint } from '../src/pipeline.js'
import { WpcomNotifier, type WpcomNotifierOptions } from '../src/wpcom.js'
import { claimWpcomNotices, enqueueWpcomNotice, finishWpcomNotice, pruneWpcomOutbox } from '../src/wpcom-outbox.js'
import { type ManualTime, manualTime, monitoredEndpoint, startWpcomReceiver } from './fixtures.js'

const TOKEN = 'wpcom-secret-token-7f3a9c'
const HOST = 'mon-test-1'
const T0 = Date.parse('2025-03-01T12:00:00.250Z')

const database = useTestDatabase()

// ── a notifier with a WordPress.com stand-in and time the tests drive (see fixtures.ts) ─────────

/** Every logger of the file, for the token check. */
const loggers: RecordingLogger[] = []

/** What the loggers were told, serialised as a logger would (errors with message, stack and cause). */
function logText(): string {
  return JSON.stringify(
    loggers.flatMap((logger) => logger.entries),
    (_key, v: unknown) =>
      v instanceof Error
        ? { message: v.message, stack: v.stack, cause: v.cause }
        : typeof v === 'bigint'
          ? String(v)
          : v,
  )
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  // The outbox is shared by every notifier on the database: each test starts with an empty one.
  await database().db.delete(wpcomOutbox)
})

async function setup(options: Partial<WpcomNotifierOptions> = {}) {
  const receiver = await startWpcomReceiver()
  const time = manualTime(T0)
  const logger = recordingLogger()
  loggers.push(logger)
  const dispatcher = new Agent({ keepAliveTimeout: 1_000 })
  const notifier = new WpcomNotifier({
    url: receiver.url,
    authToken: TOKEN,
    enabled: true,
    db: database().db,
    hostId: HOST,
    clock: time.clock.now,
    timers: time.timers,
    random: () => 0.5,
    logger,
    dispatcher,
    retry: { baseMs: 1_000, maxMs: 60_000, maxAttempts: 8 },
    ...options,
  })
  cleanups.push(async () => {
    await notifier.stop({ flush: false })
    await receiver.close()
    await dispatcher.destroy()
  })
  return { receiver, time, logger, notifier }
}

let nextId = 500n
function endpoint(extra: Partial<MonitoredEndpoint> = {}): MonitoredEndpoint {
  const id = nextId++
  return monitoredEndpoint({
    endpointId: id,
    blogId: 7_000_000n + id,
    url: `https://site-${id}.example.com/`,
    timeoutMs: 10_000,
    ...extra,
  })
}

/** Each endpoint's current incident: a Down notice opens one, a recovery notice ends it. */
const incidents = new Map<bigint, bigint>()

/** An incident row of the endpoint (closed, so that several can exist), as the event store would have written it. */
async function newIncident(ep: MonitoredEndpoint): Promise<bigint> {
  const at = new Date(T0)
  const [header] = await database().db.insert(events).values({
    blogId: ep.blogId,
    endpointId: ep.endpointId,
    checkType: 'http',
    severity: 4,
    state: 'Down',
    startedAt: at,
    endedAt: at,
    updatedAt: at,
  })
  const id = BigInt(header.insertId)
  incidents.set(ep.endpointId, id)
  return id
}

async function down(ep: MonitoredEndpoint, time: ManualTime): Promise<DownNotice> {
  return {
    endpoint: ep,
    eventId: await newIncident(ep),
    statusId: 2,
    statusType: 'server',
    lastCheck: new Date(time.clock.now().getTime() - 1_000),
    lastStatusChange: time.clock.now(),
    checks: [{ type: 1, host: HOST, status: 0, rtt: 120, code: 503 }],
  }
}

async function recovery(ep: MonitoredEndpoint, time: ManualTime): Promise<DownNotice> {
  const eventId = incidents.get(ep.endpointId) ?? (await newIncident(ep))
  incidents.delete(ep.endpointId)
  return {
    endpoint: ep,
    eventId,
    statusId: 1,
    statusType: 'success',
    lastCheck: time.clock.now(),
    lastStatusChange: time.clock.now(),
    checks: [{ type: 1, host: HOST, status: 1, rtt: 80, code: 200 }],
  }
}

function audits(...blogIds: bigint[]) {
  return database().db.select().from(auditLog).where(inArray(auditLog.blogId, blogIds)).orderBy(asc(auditLog.id))
}

// ── the contract ────────────────────────────────────────────────────────────────────────────────

describe('WpcomNotifier', () => {
  it('POSTs the legacy payload with the bearer token, and records the delivery', async () => {
    const { receiver, time, notifier } = await setup()
    const big = endpoint({ blogId: 2n ** 53n + 1n, url: 'https://big.example.com/shop' })
    const small = endpoint({ blogId: 2n ** 53n })
    const notice: DownNotice = {
      endpoint: big,
      eventId: await newIncident(big),
      statusId: 2,
      statusType: 'server',
      lastCheck: new Date('2025-03-01T11:59:58.900Z'),
      lastStatusChange: new Date('2025-03-01T11:59:30.000Z'),
      checks: [
        { type: 1, host: HOST, status: 0, rtt: 1234.6, code: 503 },
        { type: 2, host: 'veriflier-eu:7803', status: 0, rtt: 310, code: 503 },
        { type: 2, host: 'veriflier-us:7803', status: 1, rtt: null, code: null },
      ],
    }
    await notifier.enqueue(notice)
    await notifier.enqueue(await down(small, time))
    await notifier.settle()

    expect(receiver.requests).toHaveLength(2)
    const [request] = receiver.of(big.blogId)
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/wpcom/v2/jetpack-monitor/status-change')
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers['user-agent']).toMatch(new RegExp(`^jetmon2/\\S+ \\(${HOST}\\)$`))
    expect(request?.body).toStrictEqual({
      blog_id: '9007199254740993',
      monitor_url: 'https://big.example.com/shop',
      status_id: 2,
      status_type: 'server',
      last_check: '2025-03-01T11:59:58Z',
      last_status_change: '2025-03-01T11:59:30Z',
      checks: [
        { type: 1, host: HOST, status: 0, rtt: 1235, code: 503 },
        { type: 2, host: 'veriflier-eu:7803', status: 0, rtt: 310, code: 503 },
        { type: 2, host: 'veriflier-us:7803', status: 1, rtt: 0, code: 0 },
      ],
    })
    // 2^53 is still exact in JSON: a number, not a string.
    expect(receiver.of(small.blogId)[0]?.raw).toContain('"blog_id":9007199254740992,')

    const rows = await audits(big.blogId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      eventType: 'wpcom_sent',
      source: `monitor:${HOST}`,
      metadata: { status_id: 2, endpoint_id: String(big.endpointId), http_status: 200, attempts: 1 },
    })
    expect(rows[0]?.detail).toContain('status=2')

    const [state] = await database().db.select().from(endpointState).where(eq(endpointState.endpointId, big.endpointId))
    expect(state?.lastAlertSentAt?.toISOString()).toBe('2025-03-01T12:00:00.000Z')
    expect(notifier.stats()).toMatchObject({ queued: 0, sent: 2, failed: 0, retries: 0, breaker: 'closed' })
  })

  it('delivers a Down and then its recovery, the recovery waiting behind a retried Down', async () => {
    const { receiver, time, notifier } = await setup()
    const ep = endpoint()
    let first = true
    receiver.state.handler = () => {
      if (!first) return 200
      first = false
      return 503
    }
    await notifier.enqueue(await down(ep, time))
    await notifier.enqueue(await recovery(ep, time))
    await notifier.settle()
    // The Down failed and waits for its retry; the recovery must not overtake it.
    expect(receiver.statusIds(ep.blogId)).toEqual([2])
    expect(notifier.stats()).toMatchObject({ queued: 2, inFlight: 0, retries: 1 })

    time.advance(1_000)
    await notifier.settle()
    expect(receiver.statusIds(ep.blogId)).toEqual([2, 2, 1])
    const rows = await audits(ep.blogId)
    expect(rows.map((r) => [r.eventType, r.metadata?.status_id, r.metadata?.attempts])).toEqual([
      ['wpcom_sent', 2, 2],
      ['wpcom_sent', 1, 1],
    ])
  })

  it('retries 5xx answers with exponential backoff, then records the number of attempts', async () => {
    const { receiver, time, notifier } = await setup()
    const ep = endpoint()
    const replies = [500, 502, 200]
    receiver.state.handler = () => replies.shift() ?? 200
    await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    expect(receiver.of(ep.blogId)).toHaveLength(1)
    expect(notifier.stats().lastError).toMatch(/^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/wpcom/)

    // Attempt 2 after 1 s × (½ + ½·jitter) = 750 ms; attempt 3 after 2 s × ¾ = 1500 ms.
    time.advance(749)
    await notifier.settle()
    expect(receiver.of(ep.blogId)).toHaveLength(1)
    time.advance(1)
    await notifier.settle()
    expect(receiver.of(ep.blogId)).toHaveLength(2)
    time.advance(1_499)
    await notifier.settle()
    expect(receiver.of(ep.blogId)).toHaveLength(2)
    time.advance(1)
    await notifier.settle()
    expect(receiver.of(ep.blogId)).toHaveLength(3)

    const rows = await audits(ep.blogId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      eventType: 'wpcom_sent',
      metadata: { status_id: 2, http_status: 200, attempts: 3 },
    })
    expect(notifier.stats()).toMatchObject({ sent: 1, retries: 2, failed: 0, breaker: 'closed' })
  })

  it('honours Retry-After on 429, and gives up after maxAttempts with a wpcom_failed row', async () => {
    const { receiver, time, notifier } = await setup({ retry: { baseMs: 1_000, maxMs: 60_000, maxAttempts: 3 } })
    const limited = endpoint()
    const broken = endpoint()
    let limitedCalls = 0
    receiver.state.handler = (r) => {
      if (r.body.blog_id === Number(broken.blogId)) return 503
      return limitedCalls++ === 0 ? { status: 429, headers: { 'retry-after': '30' } } : 200
    }
    await notifier.enqueue(await down(limited, time))
    await notifier.settle()
    time.advance(29_999)
    await notifier.settle()
    expect(receiver.of(limited.blogId)).toHaveLength(1)
    time.advance(1)
    await notifier.settle()
    expect(receiver.of(limited.blogId)).toHaveLength(2)

    await notifier.enqueue(await down(broken, time))
    for (let i = 0; i < 5; i++) {
      await notifier.settle()
      time.advance(60_000)
    }
    await notifier.settle()
    expect(receiver.of(broken.blogId)).toHaveLength(3)
    const rows = await audits(broken.blogId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      eventType: 'wpcom_failed',
      metadata: { status_id: 2, http_status: 503, attempts: 3, reason: 'retries_exhausted' },
    })
    expect(notifier.stats()).toMatchObject({ sent: 1, failed: 1, queued: 0 })
  })

  it('treats 404, 410 and other 4xx as permanent: not retried, and the breaker neither counts nor forgets them', async () => {
    const { receiver, time, notifier } = await setup({
      breaker: { failures: 2, openMs: 60_000 },
      retry: { baseMs: 1_000, maxMs: 60_000, maxAttempts: 1 },
    })
    const failing = endpoint()
    const gone404 = endpoint()
    const gone410 = endpoint()
    const invalid = endpoint()
    const failingAgain = endpoint()
    const answers = new Map<string, number>([
      [String(failing.blogId), 500],
      [String(gone404.blogId), 404],
      [String(gone410.blogId), 410],
      [String(invalid.blogId), 400],
      [String(failingAgain.blogId), 500],
    ])
    receiver.state.handler = (r) => answers.get(String(r.body.blog_id)) ?? 200

    await notifier.enqueue(await down(failing, time))
    await notifier.settle()
    expect(notifier.stats().breaker).toBe('closed')
    await notifier.enqueue(await down(gone404, time))
    await notifier.enqueue(await down(gone410, time))
    await notifier.enqueue(await down(invalid, time))
    await notifier.settle()
    // Counted, these would have opened the breaker (threshold 2).
    expect(notifier.stats()).toMatchObject({ breaker: 'closed', permanent: 3 })
    // Not forgotten either: the 404/410/400 did not reset the count of consecutive failures.
    await notifier.enqueue(await down(failingAgain, time))
    await notifier.settle()
    expect(notifier.stats().breaker).toBe('open')

    time.advance(30 * 60_000)
    await notifier.settle()
    for (const ep of [gone404, gone410, invalid]) expect(receiver.of(ep.blogId)).toHaveLength(1)
    // Sent concurrently: the rows come in any order.
    const rows = (await audits(gone404.blogId, gone410.blogId, invalid.blogId)).sort((x, y) =>
      Number((x.blogId ?? 0n) - (y.blogId ?? 0n)),
    )
    expect(
      rows.map((r) => [r.blogId, r.eventType, r.metadata?.http_status, r.metadata?.reason, r.metadata?.attempts]),
    ).toEqual([
      [gone404.blogId, 'wpcom_failed', 404, 'gone', 1],
      [gone410.blogId, 'wpcom_failed', 410, 'gone', 1],
      [invalid.blogId, 'wpcom_failed', 400, 'rejected', 1],
    ])
  })

  it('opens the breaker after 5 consecutive failures, queues meanwhile, then half-opens with one trial and drains', async () => {
    const { receiver, time, notifier } = await setup()
    let healthy = false
    let release: () => void = () => {}
    let holdNext = false
    receiver.state.handler = () => {
      if (holdNext) {
        holdNext = false
        return { status: healthy ? 200 : 500, hold: new Promise<void>((resolve) => (release = resolve)) }
      }
      return healthy ? 200 : 500
    }
    const first = [endpoint(), endpoint(), endpoint(), endpoint(), endpoint()]
    for (const ep of first) await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    expect(receiver.requests).toHaveLength(5)
    expect(notifier.stats()).toMatchObject({ breaker: 'open', queued: 5, retries: 5 })

    // While open: new notices queue and nothing reaches the receiver, retries included.
    const later = [endpoint(), endpoint(), endpoint()]
    for (const ep of later) await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    expect(notifier.stats()).toMatchObject({ queued: 8, inFlight: 0 })
    time.advance(59_999)
    await notifier.settle()
    expect(receiver.requests).toHaveLength(5)
    expect(notifier.stats()).toMatchObject({ breaker: 'open', queued: 8, inFlight: 0 })

    // Half-open, still failing: exactly one trial, and the breaker opens again.
    time.advance(1)
    await notifier.settle()
    expect(receiver.requests).toHaveLength(6)
    expect(notifier.stats().breaker).toBe('open')
    time.advance(59_999)
    await notifier.settle()
    expect(receiver.requests).toHaveLength(6)

    // Half-open, healthy: one trial in flight and nothing else until it answers.
    healthy = true
    holdNext = true
    time.advance(1)
    await expect.poll(() => receiver.requests.length).toBe(7)
    expect(notifier.stats()).toMatchObject({ breaker: 'half_open', inFlight: 1, queued: 8 })
    release()
    await notifier.settle()
    expect(notifier.stats()).toMatchObject({ breaker: 'closed', queued: 0, sent: 8 })
    expect(receiver.requests).toHaveLength(6 + 8)
    for (const ep of [...first, ...later]) expect(receiver.statusIds(ep.blogId).at(-1)).toBe(2)
    const sent = await audits(...[...first, ...later].map((ep) => ep.blogId))
    expect(sent.filter((r) => r.eventType === 'wpcom_sent')).toHaveLength(8)
  })

  it('drops the oldest waiting notices when the outbox is over its bound, counting and auditing the drops', async () => {
    const { receiver, time, notifier } = await setup({ maxQueue: 3, breaker: { failures: 1, openMs: 60_000 } })
    let healthy = false
    receiver.state.handler = () => (healthy ? 200 : 500)
    const [a, b, c, d, e] = [endpoint(), endpoint(), endpoint(), endpoint(), endpoint()] as const
    await notifier.enqueue(await down(a, time))
    await notifier.settle()
    expect(notifier.stats().breaker).toBe('open')
    for (const ep of [b, c, d, e]) await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    expect(notifier.stats()).toMatchObject({ queued: 3, dropped: 2 })

    const drops = (await audits(a.blogId, b.blogId, c.blogId, d.blogId, e.blogId)).filter(
      (r) => r.metadata?.reason === 'queue_full',
    )
    expect(drops[0]).toMatchObject({
      blogId: a.blogId,
      eventType: 'wpcom_failed',
      metadata: { reason: 'queue_full', max_queue: 3, status_id: 2, endpoint_id: String(a.endpointId) },
    })
    expect(drops.reduce((sum, r) => sum + Number(r.metadata?.dropped), 0)).toBe(2)

    healthy = true
    time.advance(60_000)
    await notifier.settle()
    expect([a, b, c, d, e].map((ep) => receiver.statusIds(ep.blogId))).toEqual([[2], [], [2], [2], [2]])
    // A's Down was dropped: there is nothing for its recovery to recover from.
    await notifier.enqueue(await recovery(a, time))
    await notifier.settle()
    expect(receiver.statusIds(a.blogId)).toEqual([2])
    expect((await audits(a.blogId)).at(-1)).toMatchObject({
      eventType: 'alert_suppressed',
      metadata: { status_id: 1, reason: 'down_not_sent', down: 'abandoned' },
    })
    expect(notifier.stats()).toMatchObject({ queued: 0, dropped: 2, suppressed: 1 })
  })

  it('suppresses a repeated Down within the cooldown, never the recovery of a sent Down', async () => {
    const { receiver, time, notifier } = await setup({ cooldownMinutes: 30 })
    const ep = endpoint()
    await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    time.advance(5 * 60_000)
    await notifier.enqueue(await recovery(ep, time)) // within the cooldown, after a sent Down: sent
    await notifier.settle()
    time.advance(5 * 60_000)
    await notifier.enqueue(await down(ep, time)) // 10 min after the last Down: suppressed
    await notifier.settle()
    time.advance(60_000)
    await notifier.enqueue(await recovery(ep, time)) // its Down was not sent: nothing to recover from
    await notifier.settle()
    expect(receiver.statusIds(ep.blogId)).toEqual([2, 1])

    time.advance(20 * 60_000) // 31 min after the last sent Down
    await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    expect(receiver.statusIds(ep.blogId)).toEqual([2, 1, 2])

    const rows = await audits(ep.blogId)
    expect(rows.map((r) => [r.eventType, r.metadata?.status_id, r.metadata?.reason ?? null])).toEqual([
      ['wpcom_sent', 2, null],
      ['wpcom_sent', 1, null],
      ['alert_suppressed', 2, 'cooldown'],
      ['alert_suppressed', 1, 'down_not_sent'],
      ['wpcom_sent', 2, null],
    ])
    expect(rows[2]?.metadata).toMatchObject({ cooldown_minutes: 30, last_sent_at: '2025-03-01T12:00:00.000Z' })
    expect(notifier.stats()).toMatchObject({ sent: 3, suppressed: 2 })

    // The endpoint's own cooldown wins over the default: 5 min here.
    const short = endpoint({ alertCooldownMinutes: 5 })
    await notifier.enqueue(await down(short, time))
    await notifier.settle()
    time.advance(6 * 60_000)
    await notifier.enqueue(await recovery(short, time))
    await notifier.enqueue(await down(short, time))
    await notifier.settle()
    expect(receiver.statusIds(short.blogId)).toEqual([2, 1, 2])
  })

  it('a finished notice makes the next one due even while a claim is pushing that one back', async () => {
    // The claim that saw the Down still sending pushes the recovery back a second, in a transaction
    // of its own; the Down's outcome commits meanwhile. Whatever the interleaving, the recovery must
    // end up due at once (with a clock that stands still, a second is forever).
    const ep = endpoint()
    const at = new Date(T0)
    const eventId = await newIncident(ep)
    const entry = { eventId, blogId: ep.blogId, endpointId: ep.endpointId, payload: {}, cooldownMinutes: null }
    await enqueueWpcomNotice(database().db, { ...entry, statusId: 2 }, at)
    await enqueueWpcomNotice(database().db, { ...entry, statusId: 1 }, at)
    const [claimed] = await claimWpcomNotices(database().db, { now: at, limit: 4 })
    expect(claimed?.statusId).toBe(2)
    const [waiting] = await database()
      .db.select()
      .from(wpcomOutbox)
      .where(and(eq(wpcomOutbox.endpointId, ep.endpointId), eq(wpcomOutbox.statusId, 1)))
    if (!claimed || !waiting) throw new Error('expected a claimed Down and a waiting recovery')

    // The claim as claimWpcomNotices runs it: lock the waiting row, see the Down still sending, push
    // the row back. A deadlock victim runs again and then sees the Down's outcome.
    let finished: Promise<boolean> | undefined
    await rerunDeadlockVictim(
      () =>
        database().db.transaction(
          async (tx) => {
            await tx
              .select({ id: wpcomOutbox.id })
              .from(wpcomOutbox)
              .where(eq(wpcomOutbox.id, waiting.id))
              .for('update')
            const [head] = await tx
              .select({ status: wpcomOutbox.status })
              .from(wpcomOutbox)
              .where(eq(wpcomOutbox.id, claimed.id))
            finished ??= finishWpcomNotice(database().db, claimed, { kind: 'sent', statusCode: 200 }, at, null)
            await new Promise((resolve) => setTimeout(resolve, 300))
            if (head?.status !== 'sending') return
            await tx
              .update(wpcomOutbox)
              .set({ nextAttemptAt: new Date(T0 + 1_000) })
              .where(eq(wpcomOutbox.id, waiting.id))
          },
          { isolationLevel: 'read committed' },
        ),
      { attempts: 3 },
    )
    expect(await finished).toBe(true)
    const [after] = await database().db.select().from(wpcomOutbox).where(eq(wpcomOutbox.id, waiting.id))
    expect(after?.nextAttemptAt?.getTime()).toBeLessThanOrEqual(T0)
  })

  it('reads the last sent Down back from jetmon_endpoint_state after a restart', async () => {
    const ep = endpoint()
    const before = await setup({ cooldownMinutes: 30 })
    await before.notifier.enqueue(await down(ep, before.time))
    await before.notifier.settle()
    await before.notifier.stop()
    expect(before.receiver.statusIds(ep.blogId)).toEqual([2])

    // A new process (or another host after a handover), 10 minutes later.
    const after = await setup({ cooldownMinutes: 30 })
    after.time.advance(10 * 60_000)
    await after.notifier.enqueue(await down(ep, after.time))
    await after.notifier.settle()
    expect(after.receiver.of(ep.blogId)).toHaveLength(0)
    expect(after.notifier.stats().suppressed).toBe(1)
    // A recovery of an incident whose Down went out before (here: marked as notified, as an adoption
    // of an incident an older monitor notified does) is sent, though this process never saw the Down.
    const inherited = endpoint()
    const incident = await newIncident(inherited)
    await markDownNotified({ ctx: { db: database().db }, eventId: incident, at: new Date(T0) })
    await after.notifier.enqueue(await recovery(inherited, after.time))
    await after.notifier.settle()
    expect(after.receiver.statusIds(inherited.blogId)).toEqual([1])

    after.time.advance(21 * 60_000)
    await after.notifier.enqueue(await down(ep, after.time))
    await after.notifier.settle()
    expect(after.receiver.statusIds(ep.blogId)).toEqual([2])
    const [state] = await database().db.select().from(endpointState).where(eq(endpointState.endpointId, ep.endpointId))
    expect(state?.lastAlertSentAt?.toISOString()).toBe('2025-03-01T12:31:00.000Z')
  })

  it('sends nothing and records nothing when disabled', async () => {
    const { receiver, time, notifier } = await setup({ enabled: false, url: '', authToken: '' })
    const ep = endpoint()
    await notifier.enqueue(await down(ep, time))
    await notifier.enqueue(await recovery(ep, time))
    await notifier.settle()
    time.advance(60 * 60_000)
    await notifier.settle()
    expect(receiver.requests).toHaveLength(0)
    expect(await audits(ep.blogId)).toHaveLength(0)
    expect(notifier.stats()).toMatchObject({ disabled: 2, queued: 0, sent: 0 })
  })

  it('refuses to start enabled without a URL or a token', async () => {
    const base = { enabled: true, db: database().db, hostId: HOST }
    expect(() => new WpcomNotifier({ ...base, url: '', authToken: TOKEN })).toThrow(/WPCOM_NOTIFY_URL/)
    expect(() => new WpcomNotifier({ ...base, url: 'https://example.com/x', authToken: '' })).toThrow(/AUTH_TOKEN/)
  })

  it('times out a request without an answer and retries it; a refused connection is retried too', async () => {
    const { receiver, time, notifier } = await setup({ timeoutMs: 5_000 })
    const ep = endpoint()
    let calls = 0
    receiver.state.handler = () => (calls++ === 0 ? { status: 200, hold: new Promise<void>(() => {}) } : 200)
    await notifier.enqueue(await down(ep, time))
    await expect.poll(() => receiver.requests.length).toBe(1)
    time.advance(5_000)
    await notifier.settle()
    expect(notifier.stats()).toMatchObject({
      retries: 1,
      lastError: expect.stringContaining('no answer within 5000 ms'),
    })
    time.advance(1_000)
    await notifier.settle()
    expect((await audits(ep.blogId))[0]?.metadata).toMatchObject({ attempts: 2, http_status: 200 })

    // Nothing listening: a transport error, retried like a 5xx.
    const closed = await startWpcomReceiver()
    await closed.close()
    const refused = await setup({ url: closed.url })
    await refused.notifier.enqueue(await down(endpoint(), refused.time))
    await refused.notifier.settle()
    expect(refused.notifier.stats()).toMatchObject({
      retries: 1,
      queued: 1,
      lastError: expect.stringMatching(/ECONNREFUSED/),
    })
  })

  it('stop() sends what is due; a Down still failing stays in the outbox and the next notifier sends it', async () => {
    const before = await setup({ retry: { baseMs: 600_000, maxMs: 600_000, maxAttempts: 8 } })
    const slow = endpoint()
    before.receiver.state.handler = (r) => (r.body.blog_id === Number(slow.blogId) ? 503 : 200)
    await before.notifier.enqueue(await down(slow, before.time))
    await before.notifier.settle()
    expect(before.notifier.stats()).toMatchObject({ queued: 1, retries: 1 })
    const others = [endpoint(), endpoint(), endpoint()]
    for (const ep of others) await before.notifier.enqueue(await down(ep, before.time))
    await before.notifier.stop({ flush: true, timeoutMs: 5_000 })
    expect(before.notifier.stats()).toMatchObject({ sent: 3, failed: 0 })
    for (const ep of others) expect(before.receiver.statusIds(ep.blogId)).toEqual([2])
    expect(before.logger.entries.some((e) => e.msg.includes('wait in the outbox') && e.obj.left === 1)).toBe(true)

    // A new process on the same database, WordPress.com answering again: the Down goes out once it is due.
    const after = await setup()
    after.notifier.start()
    await after.notifier.settle()
    expect(after.receiver.of(slow.blogId)).toHaveLength(0)
    after.time.advance(600_000)
    await after.notifier.settle()
    expect(after.receiver.statusIds(slow.blogId)).toEqual([2])
    expect((await audits(slow.blogId)).map((r) => [r.eventType, r.source, r.metadata?.attempts])).toEqual([
      ['wpcom_sent', `monitor:${HOST}`, 2],
    ])
    expect(after.notifier.stats()).toMatchObject({ queued: 0, sent: 1 })
  })

  it('stop() gives what is in flight back to the outbox after its timeout; nothing is lost', async () => {
    const { receiver, time, logger, notifier } = await setup()
    receiver.state.handler = () => ({ status: 200, hold: new Promise<void>(() => {}) })
    const eps = [endpoint(), endpoint()]
    for (const ep of eps) await notifier.enqueue(await down(ep, time))
    await expect.poll(() => receiver.requests.length).toBe(2)
    const stopping = notifier.stop({ flush: true, timeoutMs: 1_000 })
    time.advance(1_000)
    await stopping
    expect(notifier.stats()).toMatchObject({ inFlight: 0, sent: 0, failed: 0, retries: 0 })
    expect(logger.entries.some((e) => e.msg.includes('wait in the outbox') && e.obj.left === 2)).toBe(true)
    expect(await audits(...eps.map((ep) => ep.blogId))).toEqual([])

    const next = await setup()
    next.time.advance(1_000)
    next.notifier.start()
    await next.notifier.settle()
    for (const ep of eps) expect(next.receiver.statusIds(ep.blogId)).toEqual([2])
  })

  it('a notice claimed by a monitor that died is sent by another once the claim has expired', async () => {
    const dead = await setup({ leaseMs: 60_000 })
    dead.receiver.state.handler = () => ({ status: 200, hold: new Promise<void>(() => {}) })
    const ep = endpoint()
    await dead.notifier.enqueue(await down(ep, dead.time))
    await expect.poll(() => dead.receiver.requests.length).toBe(1)
    // The first monitor hangs (as if killed): no answer, no stop. Another one starts.
    const other = await setup()
    other.notifier.start()
    await other.notifier.settle()
    expect(other.receiver.of(ep.blogId)).toHaveLength(0)
    other.time.advance(60_000)
    await other.notifier.settle()
    expect(other.receiver.statusIds(ep.blogId)).toEqual([2])
    expect((await audits(ep.blogId)).map((r) => r.eventType)).toEqual(['wpcom_sent'])
  })

  it('pruning deletes old finished notices and keeps those still waiting', async () => {
    const { receiver, time, notifier } = await setup()
    const sent = endpoint()
    const waiting = endpoint()
    receiver.state.handler = (r) => (r.body.blog_id === Number(waiting.blogId) ? 503 : 200)
    await notifier.enqueue(await down(sent, time))
    await notifier.enqueue(await down(waiting, time))
    await notifier.settle()
    const rows = async () =>
      (await database().db.select().from(wpcomOutbox))
        .map((r) => [r.blogId, r.status])
        .sort((x, y) => Number(x[0]) - Number(y[0]))
    expect(await rows()).toEqual([
      [sent.blogId, 'sent'],
      [waiting.blogId, 'pending'],
    ])
    expect(await pruneWpcomOutbox(database().db, new Date(Date.now() - 60_000))).toBe(0)
    expect(await pruneWpcomOutbox(database().db, new Date(Date.now() + 60_000), 1)).toBe(1)
    expect(await rows()).toEqual([[waiting.blogId, 'pending']])
  })

  it('never logs or stores the auth token, even when WordPress.com echoes it back', async () => {
    const { receiver, time, notifier } = await setup()
    receiver.state.handler = (r) => ({ status: 400, body: `bad request from ${r.headers.authorization}` })
    const ep = endpoint()
    await notifier.enqueue(await down(ep, time))
    await notifier.settle()
    const [row] = await audits(ep.blogId)
    expect(row?.metadata?.answer).toBe('bad request from Bearer [redacted]')

    // Every audit row of this file's database and every log line of this file.
    const everything = await database().db.select().from(auditLog)
    expect(everything.length).toBeGreaterThan(20)
    const stored = JSON.stringify(everything, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
    expect(stored).not.toContain(TOKEN)
    expect(loggers.flatMap((logger) => logger.entries).length).toBeGreaterThan(10)
    expect(logText()).not.toContain(TOKEN)
  })
})
