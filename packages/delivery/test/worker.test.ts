import { randomBytes } from 'node:crypto'
import { createDatabase, webhookDeliveries, webhooks } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { generateWebhookSecret, signatureHeader, verifySignature } from '@jetmon/webhooks'
import { eq, inArray, ne } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  claimDeliveries,
  createWebhookSender,
  DeliveryWorker,
  MAX_ATTEMPTS,
  RETRY_DELAYS_SECONDS,
  recordAttempt,
  SendPool,
} from '../src/index.js'
import {
  createWebhook,
  eventually,
  insertWebhookDeliveries,
  type Receiver,
  resetDelivery,
  startReceiver,
} from './_helpers.js'

const database = useTestDatabase()
let receiver: Receiver

beforeEach(async () => {
  await resetDelivery(database().db)
  receiver = await startReceiver()
})
afterEach(async () => {
  await receiver.close()
})

async function row(id: bigint) {
  const [found] = await database().db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id))
  if (!found) throw new Error(`no delivery ${id}`)
  return found
}

function worker(options: { clock?: () => Date; pool?: SendPool; perSubscriberLimit?: number; key?: Buffer } = {}) {
  const { db } = database()
  return new DeliveryWorker({
    db,
    sender: createWebhookSender({
      allowPrivateTargets: true,
      secretsKey: options.key ?? null,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.perSubscriberLimit ? { perSubscriberLimit: options.perSubscriberLimit } : {}),
    pollMs: 20,
  })
}

describe('delivery worker', () => {
  // Its own waits (all sent, all recorded) allow 45 s on a loaded machine.
  it('two workers racing over 1 000 deliveries send each exactly once', { timeout: 60_000 }, async () => {
    const { db, url } = database()
    const hooks = await Promise.all(
      Array.from({ length: 10 }, (_, n) => createWebhook(db, { url: `${receiver.origin}/hook/${n}` })),
    )
    const ids = (
      await Promise.all(hooks.map((hook) => insertWebhookDeliveries(db, hook.id, 100, new Date(Date.now() - 1_000))))
    ).flat()
    // Two "processes": each worker has a pool of connections of its own.
    const first = createDatabase(url, { connectionLimit: 5 })
    const second = createDatabase(url, { connectionLimit: 5 })
    const workers = [first, second].map(
      (handle) =>
        new DeliveryWorker({
          db: handle.db,
          sender: createWebhookSender({ allowPrivateTargets: true }),
          pollMs: 10,
        }),
    )
    try {
      for (const w of workers) w.start()
      await receiver.waitFor(1_000, 30_000)
      await eventually(
        async () =>
          (
            await db
              .select({ id: webhookDeliveries.id })
              .from(webhookDeliveries)
              .where(eq(webhookDeliveries.status, 'delivered'))
          ).length === 1_000,
        15_000,
        'all deliveries recorded as delivered',
      )
    } finally {
      await Promise.all(workers.map((w) => w.stop()))
      await Promise.all([first.close(), second.close()])
    }
    expect(receiver.requests).toHaveLength(1_000)
    expect([...receiver.hits.keys()].sort()).toEqual(ids.map(String).sort())
    expect([...receiver.hits.values()].every((hits) => hits === 1)).toBe(true)
    const [a, b] = workers.map((w) => w.stats())
    expect(a!.claimed + b!.claimed).toBe(1_000)
    expect(a!.claimed).toBeGreaterThan(0)
    expect(b!.claimed).toBeGreaterThan(0)
    expect(a!.delivered + b!.delivered).toBe(1_000)
  })

  it('re-sends a row whose worker died mid-delivery once its lease has expired', async () => {
    const { db } = database()
    const clock = manualClock()
    const hook = await createWebhook(db, { url: `${receiver.origin}/hook` })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())

    // The "killed" worker: claimed, then never sent nor recorded anything.
    const [claim] = await claimDeliveries({ ctx: { db, clock: clock.now }, consumer: 'webhooks', limit: 10 })
    expect(claim?.id).toBe(id)
    expect(await row(id!)).toMatchObject({
      status: 'delivering',
      leaseExpiresAt: new Date(clock.now().getTime() + 60_000),
    })

    const survivor = worker({ clock: clock.now })
    clock.advance(59_999)
    expect(await survivor.runOnce()).toBe(0)
    expect(receiver.requests).toHaveLength(0)
    clock.advance(1)
    expect(await survivor.runOnce()).toBe(1)
    expect(receiver.hits.get(String(id))).toBe(1)
    // Two attempts: the dead worker's (outcome unknown) and the survivor's.
    expect(await row(id!)).toMatchObject({ status: 'delivered', attempt: 2, leaseExpiresAt: null, lastStatusCode: 200 })

    // The dead worker's outcome, should it ever come, is fenced out by its lost lease.
    const late = await recordAttempt({
      ctx: { db, clock: clock.now },
      delivery: claim!,
      outcome: { kind: 'failed', statusCode: 500, response: 'late', retryable: true },
    })
    expect(late.recorded).toBe(false)
    expect(await row(id!)).toMatchObject({ status: 'delivered', attempt: 2 })
    await survivor.stop()
  })

  it('counts an attempt each time a worker dies mid-send, and abandons the delivery after the last one', async () => {
    const { db } = database()
    const clock = manualClock()
    const hook = await createWebhook(db, { url: `${receiver.origin}/hook` })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    const [other] = await insertWebhookDeliveries(db, hook.id, 1, new Date(clock.now().getTime() + 3_600_000))

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Each time a worker claims it and dies before it can record anything: the lease runs out.
      const claimed = await claimDeliveries({ ctx: { db, clock: clock.now }, consumer: 'webhooks', limit: 10 })
      expect(claimed.map((c) => ({ id: c.id, attempt: c.attempt }))).toEqual([{ id, attempt: attempt - 1 }])
      expect(await row(id!)).toMatchObject({ status: 'delivering', attempt: attempt - 1 })
      if (attempt > 1) expect((await row(id!)).lastResponse).toMatch(/^lease expired: /)
      clock.advance(60_000)
    }

    // The 6th attempt's lease expired too: that was the last rung.
    const survivor = worker({ clock: clock.now })
    expect(await survivor.runOnce()).toBe(0)
    const abandoned = await row(id!)
    expect(abandoned).toMatchObject({
      status: 'abandoned',
      attempt: MAX_ATTEMPTS,
      nextAttemptAt: null,
      leaseExpiresAt: null,
      lastStatusCode: null,
    })
    expect(abandoned.lastResponse).toMatch(/^abandoned: the lease of attempt 6 expired without an outcome/)
    expect(survivor.stats()).toMatchObject({ claimed: 0, abandoned: 1, leaseExpired: 1 })
    clock.advance(7 * 3_600_000)
    expect(await survivor.runOnce()).toBe(1) // only the other row, now due
    expect(receiver.hits.get(String(other))).toBe(1)
    expect(receiver.hits.has(String(id))).toBe(false)
    expect(await row(id!)).toMatchObject({ status: 'abandoned', attempt: MAX_ATTEMPTS })
    await survivor.stop()
  })

  it('walks a failing receiver through the whole retry ladder, then delivers after a retry by hand', async () => {
    const { db } = database()
    const clock = manualClock()
    const hook = await createWebhook(db, { url: `${receiver.origin}/hook` })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    receiver.answer((_request, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`é${'x'.repeat(5_000)}`)
    })
    const w = worker({ clock: clock.now })
    const timestamps: string[] = []
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const sentAt = clock.now()
      expect(await w.runOnce()).toBe(1)
      const signature = String(receiver.requests.at(-1)?.headers['x-jetmon-signature'])
      timestamps.push(signature.split(',')[0]!)
      expect(signature.startsWith(`t=${Math.floor(sentAt.getTime() / 1000)},`)).toBe(true)
      const state = await row(id!)
      expect(state.attempt).toBe(attempt)
      expect(state.lastStatusCode).toBe(500)
      // The first 2 KiB (bytes, not characters; `é` is two bytes).
      expect(state.lastResponse).toBe(`é${'x'.repeat(2_046)}`)
      expect(state.lastAttemptAt).toEqual(sentAt)
      if (attempt === MAX_ATTEMPTS) {
        expect(state).toMatchObject({ status: 'abandoned', nextAttemptAt: null, leaseExpiresAt: null })
        break
      }
      expect(state.status).toBe('pending')
      const delay = state.nextAttemptAt!.getTime() - sentAt.getTime()
      const base = RETRY_DELAYS_SECONDS[attempt - 1]! * 1_000
      expect(delay).toBeGreaterThanOrEqual(base * 0.9)
      expect(delay).toBeLessThanOrEqual(base * 1.1)
      // Not due a millisecond early.
      clock.set(new Date(state.nextAttemptAt!.getTime() - 1))
      expect(await w.runOnce()).toBe(0)
      clock.advance(1)
    }
    expect(receiver.hits.get(String(id))).toBe(MAX_ATTEMPTS)
    expect(new Set(timestamps).size).toBe(MAX_ATTEMPTS) // signed afresh on every attempt
    clock.advance(7 * 3_600_000)
    expect(await w.runOnce()).toBe(0)

    // What POST /webhooks/{id}/deliveries/{delivery_id}/retry does.
    await db
      .update(webhookDeliveries)
      .set({ status: 'pending', attempt: 0, nextAttemptAt: clock.now(), leaseExpiresAt: null })
      .where(eq(webhookDeliveries.id, id!))
    receiver.answer((_request, res) => {
      res.writeHead(204).end()
    })
    expect(await w.runOnce()).toBe(1)
    expect(await row(id!)).toMatchObject({
      status: 'delivered',
      attempt: 1,
      lastStatusCode: 204,
      lastResponse: '',
      deliveredAt: clock.now(),
    })
    expect(receiver.hits.get(String(id))).toBe(MAX_ATTEMPTS + 1)
    await w.stop()
  })

  it('records transport errors as "transport: …" and retries them', async () => {
    const { db } = database()
    const clock = manualClock()
    const closed = await startReceiver()
    await closed.close() // a port nobody listens on any more
    const hook = await createWebhook(db, { url: `${closed.origin}/hook` })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    const w = worker({ clock: clock.now })
    await w.runOnce()
    const state = await row(id!)
    expect(state).toMatchObject({ status: 'pending', attempt: 1, lastStatusCode: null })
    expect(state.lastResponse).toMatch(/^transport: .*ECONNREFUSED/)
    await w.stop()
  })

  it('abandons at once, with the reason, the deliveries of a deactivated or deleted webhook', async () => {
    const { db } = database()
    const clock = manualClock()
    const inactive = await createWebhook(db, { url: `${receiver.origin}/a` })
    const deleted = await createWebhook(db, { url: `${receiver.origin}/b` })
    const [a] = await insertWebhookDeliveries(db, inactive.id, 1, clock.now())
    const [b] = await insertWebhookDeliveries(db, deleted.id, 1, clock.now())
    await db.update(webhooks).set({ active: false }).where(eq(webhooks.id, inactive.id))
    await db.delete(webhooks).where(eq(webhooks.id, deleted.id))
    const w = worker({ clock: clock.now })
    expect(await w.runOnce()).toBe(2)
    expect(receiver.requests).toHaveLength(0)
    expect(await row(a!)).toMatchObject({
      status: 'abandoned',
      attempt: 0,
      nextAttemptAt: null,
      lastResponse: `abandoned: webhook ${inactive.id} is deactivated (active = false)`,
    })
    expect(await row(b!)).toMatchObject({
      status: 'abandoned',
      attempt: 0,
      lastResponse: `abandoned: webhook ${deleted.id} was deleted`,
    })
    expect(w.stats()).toMatchObject({ abandoned: 2, delivered: 0 })
    await w.stop()
  })

  it('signs with both secrets during a rotation grace period (new first), then with the new one only', async () => {
    const { db } = database()
    const clock = manualClock()
    const key = randomBytes(32)
    const oldSecret = generateWebhookSecret()
    const newSecret = generateWebhookSecret()
    const hook = await createWebhook(db, {
      url: `${receiver.origin}/hook`,
      key,
      secret: newSecret,
      previousSecret: oldSecret,
      previousSecretExpiresAt: new Date(clock.now().getTime() + 3_600_000),
    })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    const w = worker({ clock: clock.now, key })
    await w.runOnce()
    const request = receiver.requests[0]!
    const header = request.headers['x-jetmon-signature']
    const now = clock.now()
    expect(header).toBe(
      signatureHeader({ secrets: [newSecret, oldSecret], body: request.body, timestamp: now.getTime() / 1000 }),
    )
    expect(String(header).match(/v1=/g)).toHaveLength(2)
    for (const secret of [oldSecret, newSecret]) {
      expect(verifySignature({ secret, header, body: request.body, now })).toMatchObject({ ok: true })
    }
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'x-jetmon-event': 'event.opened',
      'x-jetmon-delivery': String(id),
    })
    expect(request.headers['user-agent']).toMatch(/^Jetmon-Webhooks\//)
    expect(request.json).toMatchObject({ id: Number(id), type: 'event.opened' })

    // After the grace period only the new secret signs.
    clock.advance(3_600_001)
    const [next] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    await w.runOnce()
    const after = receiver.requests[1]!
    expect(after.deliveryId).toBe(String(next))
    const later = clock.now()
    expect(String(after.headers['x-jetmon-signature']).match(/v1=/g)).toHaveLength(1)
    expect(
      verifySignature({ secret: newSecret, header: after.headers['x-jetmon-signature'], body: after.body, now: later }),
    ).toMatchObject({ ok: true })
    expect(
      verifySignature({ secret: oldSecret, header: after.headers['x-jetmon-signature'], body: after.body, now: later }),
    ).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    })
    await w.stop()
  })

  it('fails, and retries, when the secret cannot be decrypted', async () => {
    const { db } = database()
    const clock = manualClock()
    const hook = await createWebhook(db, { url: `${receiver.origin}/hook`, key: randomBytes(32) })
    const [id] = await insertWebhookDeliveries(db, hook.id, 1, clock.now())
    const w = worker({ clock: clock.now }) // no SECRETS_KEY
    await w.runOnce()
    expect(receiver.requests).toHaveLength(0)
    const state = await row(id!)
    expect(state).toMatchObject({ status: 'pending', attempt: 1 })
    expect(state.lastResponse).toMatch(
      /^secrets: the signing secret of webhook \d+ is stored encrypted but SECRETS_KEY is not configured/,
    )
    await w.stop()
  })

  it('keeps at most 3 sends in flight per webhook without starving the others', async () => {
    const { db } = database()
    const slow = await createWebhook(db, { url: `${receiver.origin}/slow` })
    const fast = await createWebhook(db, { url: `${receiver.origin}/fast` })
    await insertWebhookDeliveries(db, slow.id, 12, new Date(Date.now() - 1_000))
    const [fastId] = await insertWebhookDeliveries(db, fast.id, 1, new Date())
    const held: (() => void)[] = []
    receiver.answer((request, res) => {
      const answer = () => res.writeHead(200).end('ok')
      if (request.path === '/slow') held.push(answer)
      else answer()
    })
    const w = worker({ pool: new SendPool(50) })
    w.start()
    try {
      await eventually(async () => receiver.hits.has(String(fastId)), 5_000, 'the fast webhook delivered')
      expect(receiver.maxConcurrent.get('/slow')).toBe(3)
      expect(held).toHaveLength(3)
      // Release the slow receiver's answers one by one: never more than 3 at once.
      const undelivered = async () =>
        (await db.select().from(webhookDeliveries).where(ne(webhookDeliveries.status, 'delivered'))).length
      while ((await undelivered()) > 0) {
        held.shift()?.()
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    } finally {
      receiver.answer((_request, res) => {
        res.writeHead(200).end('ok')
      })
      for (const answer of held) answer()
      await w.stop()
    }
    expect(receiver.maxConcurrent.get('/slow')).toBe(3)
    expect(receiver.requests.filter((r) => r.path === '/slow')).toHaveLength(12)
  })

  it('releases unfinished claims when stopped, so another worker sends them', async () => {
    const { db } = database()
    const hook = await createWebhook(db, { url: `${receiver.origin}/hang` })
    const ids = await insertWebhookDeliveries(db, hook.id, 2, new Date(Date.now() - 1_000))
    receiver.answer(() => {}) // never answers
    const w = worker()
    w.start()
    await receiver.waitFor(2)
    const started = Date.now()
    await w.stop(200)
    expect(Date.now() - started).toBeLessThan(5_000)
    const rows = await db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids))
    expect(rows.map((r) => ({ status: r.status, attempt: r.attempt, lease: r.leaseExpiresAt }))).toEqual([
      { status: 'pending', attempt: 0, lease: null },
      { status: 'pending', attempt: 0, lease: null },
    ])
    expect(w.stats().released).toBe(2)
  })
})
