import { createAlertSender } from '@jetmon/alerting'
import { webhookDeliveries } from '@jetmon/db'
import { promoteEvent } from '@jetmon/eventstore'
import { useTestDatabase } from '@jetmon/testkit'
import { verifySignature } from '@jetmon/webhooks'
import { eq } from 'drizzle-orm'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { refreshQueueMetrics, registerDeliveryMetrics, startDelivery } from '../src/index.js'
import {
  alertRows,
  createAlertContact,
  createWebhook,
  cursorsAtNewest,
  eventContext,
  eventually,
  openHttpEvent,
  type Receiver,
  resetDelivery,
  startReceiver,
  webhookRows,
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

describe('startDelivery', () => {
  it('delivers new transitions to webhooks and alert contacts until stopped, with metrics', async () => {
    const { db } = database()
    await cursorsAtNewest(db)
    const webhook = await createWebhook(db, { url: `${receiver.origin}/hook` })
    await createAlertContact(db, { transport: 'slack', destination: { webhook_url: `${receiver.origin}/slack/x/y/z` } })
    const alertSender = createAlertSender({ allowInsecureHttp: true, allowPrivateTargets: true })
    const registry = new Registry()
    const delivery = startDelivery({
      db,
      secretsKey: null,
      allowPrivateTargets: true,
      alertSender,
      registry,
      dispatchIntervalMs: 50,
      pollMs: 50,
    })
    const clock = () => new Date()
    try {
      const site = await openHttpEvent(db, clock)
      await promoteEvent({
        ctx: eventContext(db, clock),
        input: { eventId: site.eventId, state: 'Down', reason: 'verifier_confirmed' },
      })
      await receiver.waitFor(3, 10_000)
      await eventually(
        async () =>
          (await webhookRows(db)).every((row) => row.status === 'delivered') &&
          (await alertRows(db)).every((row) => row.status === 'delivered'),
        10_000,
        'every delivery recorded',
      )
    } finally {
      await delivery.stop(5_000)
      await alertSender.close()
    }
    const hooks = receiver.requests.filter((r) => r.path === '/hook')
    expect(hooks.map((r) => (r.json as { type: string }).type)).toEqual(
      expect.arrayContaining(['event.opened', 'event.state_changed']),
    )
    for (const request of hooks) {
      expect(
        verifySignature({ secret: webhook.secret, header: request.headers['x-jetmon-signature'], body: request.body }),
      ).toMatchObject({ ok: true })
    }
    expect(receiver.requests.filter((r) => r.path === '/slack/x/y/z')).toHaveLength(1) // Down only (min_severity 4)
    expect(delivery.stats().workers.map((w) => [w.consumer, w.delivered])).toEqual([
      ['webhooks', 2],
      ['alerts', 1],
    ])

    // The metrics are in the process's registry, registered once.
    expect(registerDeliveryMetrics(registry)).toBe(delivery.metrics)
    await refreshQueueMetrics({ ctx: { db }, metrics: delivery.metrics! })
    const text = await registry.metrics()
    expect(text).toContain('jetmon_delivery_attempts_total{consumer="webhooks",outcome="delivered"} 2')
    expect(text).toContain('jetmon_delivery_attempts_total{consumer="alerts",outcome="delivered"} 1')
    expect(text).toContain('jetmon_delivery_enqueued_total{consumer="webhooks",status="pending"} 2')
    expect(text).toContain('jetmon_delivery_send_seconds_count{consumer="webhooks"} 2')
    expect(text).toContain('jetmon_delivery_queue_depth{consumer="webhooks",status="pending"} 0')
    expect(text).toContain('jetmon_delivery_oldest_pending_age_seconds{consumer="alerts"} 0')

    // Stopped: nothing more is dispatched or sent.
    const before = receiver.requests.length
    await openHttpEvent(db, clock)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(receiver.requests).toHaveLength(before)
    expect(await webhookRows(db)).toHaveLength(2)
  })

  it('reports the queue: depth by status and how overdue the oldest pending row is', async () => {
    const { db } = database()
    const registry = new Registry()
    const metrics = registerDeliveryMetrics(registry)
    const webhook = await createWebhook(db, { url: `${receiver.origin}/hook` })
    const now = new Date('2030-01-01T00:10:00.000Z')
    await db.insert(webhookDeliveries).values(
      [
        { status: 'pending' as const, nextAttemptAt: new Date('2030-01-01T00:00:00.000Z') },
        { status: 'pending' as const, nextAttemptAt: new Date('2030-01-01T01:00:00.000Z') }, // not due yet
        { status: 'abandoned' as const, nextAttemptAt: null },
      ].map((row, n) => ({
        webhookId: webhook.id,
        transitionId: BigInt(n + 1),
        eventId: 1n,
        blogId: 1n,
        eventType: 'event.opened',
        payload: {},
        ...row,
      })),
    )
    await refreshQueueMetrics({ ctx: { db, clock: () => now }, metrics })
    const text = await registry.metrics()
    expect(text).toContain('jetmon_delivery_queue_depth{consumer="webhooks",status="pending"} 2')
    expect(text).toContain('jetmon_delivery_queue_depth{consumer="webhooks",status="abandoned"} 1')
    expect(text).toContain('jetmon_delivery_queue_depth{consumer="webhooks",status="delivering"} 0')
    expect(text).toContain('jetmon_delivery_oldest_pending_age_seconds{consumer="webhooks"} 600')
    await db.delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhook.id))
  })
})
