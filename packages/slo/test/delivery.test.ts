/**
 * Objective alerts reach webhooks and alert contacts through the ordinary delivery path: the
 * dispatchers read the evaluator's transitions like any other, a webhook subscribed to
 * `event.opened` receives the opening over HTTP, and alert contacts get it by their `min_severity`.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { alertContacts, alertDeliveries, monitorSites, webhookDeliveries, webhooks } from '@jetmon/db'
import { createWebhookSender, DeliveryWorker, dispatchTransitions } from '@jetmon/delivery'
import { closeEvent, type EventStoreContext, openEvent } from '@jetmon/eventstore'
import { useTestDatabase, waitFor } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createObjective, evaluateObjectives } from '../src/index.js'

const database = useTestDatabase()

const MINUTE = 60_000
const NOW = Date.parse('2026-05-20T12:00:00Z')
const at = (ms: number) => new Date(NOW + ms)

interface Received {
  headers: IncomingMessage['headers']
  body: Record<string, unknown>
}
const received: Received[] = []
const server = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk) => {
    body += chunk
  })
  req.on('end', () => {
    received.push({ headers: req.headers, body: JSON.parse(body) })
    res.end('ok')
  })
})
let origin = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const store = (when: Date): EventStoreContext => ({ db: database().db, source: 'monitor:test', clock: () => when })

describe('objective alerts through delivery', () => {
  it('a webhook subscribed to event.opened receives the opening; alert contacts get it by min_severity', async () => {
    const db = database().db
    // Both dispatch cursors exist before the alert, so it is new to them.
    for (const consumer of ['webhooks', 'alerts'] as const) {
      expect((await dispatchTransitions({ ctx: { db }, consumer })).outcome).toBe('cursor_created')
    }
    const blogId = 990_001n
    const [row] = await db.insert(monitorSites).values({ blogId, monitorUrl: 'https://shop.example/' }).$returningId()
    const endpointId = BigInt(row!.endpointId)
    await createObjective({
      ctx: { db, clock: () => at(-40 * 86_400_000) },
      tenantId: null,
      createdBy: 'test',
      fields: { name: 'shop', blog_id: blogId, sli: 'availability', target: 99.9, window: '30d' },
    })
    const subscriber = async (events: string[]) => {
      const [header] = await db.insert(webhooks).values({
        url: `${origin}/hook`,
        events,
        secret: Buffer.from('whsec_test'),
        secretPreview: 'test',
        createdBy: 'test',
      })
      return BigInt(header.insertId)
    }
    const opened = await subscriber(['event.opened'])
    const closedOnly = await subscriber(['event.closed'])
    const contact = async (minSeverity: number) => {
      const [header] = await db.insert(alertContacts).values({
        label: `min ${minSeverity}`,
        transport: 'slack',
        destination: { webhook_url: 'https://hooks.slack.com/services/T/B/x' },
        destinationPreview: 'xxxx',
        minSeverity,
        createdBy: 'test',
      })
      return BigInt(header.insertId)
    }
    const degradedContact = await contact(2)
    const downContact = await contact(4)

    // Down for the last two minutes: the 1 h / 5 min page rule fires, the alert opens Degraded.
    const start = at(-2 * MINUTE)
    const { event } = await openEvent({
      ctx: store(start),
      input: { blogId, endpointId, checkType: 'http', state: 'Down', startedAt: start },
    })
    await closeEvent({ ctx: store(at(0)), input: { eventId: event.id, reason: 'verifier_cleared' } })
    await evaluateObjectives({ ctx: { db, source: 'slo:test' }, now: at(0) })

    for (const consumer of ['webhooks', 'alerts'] as const) {
      expect((await dispatchTransitions({ ctx: { db }, consumer })).outcome).toBe('dispatched')
    }
    const hooks = await db.select().from(webhookDeliveries)
    const sloHooks = hooks.filter((h) => (h.payload.event as { check_type?: string }).check_type === 'slo_burn')
    expect(sloHooks.map((h) => [h.webhookId, h.eventType])).toEqual([[opened, 'event.opened']])
    expect(hooks.some((h) => h.webhookId === closedOnly)).toBe(true) // the http close, not the alert
    const alerts = await db.select().from(alertDeliveries).where(eq(alertDeliveries.eventId, sloHooks[0]!.eventId))
    expect(alerts.map((a) => a.alertContactId)).toEqual([degradedContact])
    expect(alerts.some((a) => a.alertContactId === downContact)).toBe(false)

    // The webhook worker sends it like any other delivery.
    const worker = new DeliveryWorker({ db, sender: createWebhookSender({ allowPrivateTargets: true }) })
    await worker.runOnce()
    const isAlert = (r: Received) => (r.body.event as { check_type?: string }).check_type === 'slo_burn'
    const request = await waitFor('the alert’s webhook request', () => received.find(isAlert))
    expect(received.filter(isAlert)).toHaveLength(1)
    expect(request.headers['x-jetmon-event']).toBe('event.opened')
    expect(request.body).toMatchObject({
      type: 'event.opened',
      event: { check_type: 'slo_burn', state: 'Degraded', severity: 2, ended_at: null },
      site: { blog_id: Number(blogId), endpoint_id: null, monitor_url: 'https://shop.example/' },
    })
    expect(String(request.headers['x-jetmon-signature'])).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
  })
})
