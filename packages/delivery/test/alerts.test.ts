import { randomBytes } from 'node:crypto'
import { type AlertSender, createAlertSender } from '@jetmon/alerting'
import { alertContacts, alertDeliveries } from '@jetmon/db'
import { closeEvent, promoteEvent } from '@jetmon/eventstore'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAlertContactSender, DeliveryWorker, TransitionDispatcher } from '../src/index.js'
import {
  alertRows,
  createAlertContact,
  cursorsAtNewest,
  eventContext,
  openHttpEvent,
  type Receiver,
  resetDelivery,
  startReceiver,
} from './_helpers.js'

const database = useTestDatabase()
const INTEGRATION_KEY = 'a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6'
let receiver: Receiver
let sender: AlertSender

beforeEach(async () => {
  await resetDelivery(database().db)
  receiver = await startReceiver()
  sender = createAlertSender({
    pagerDutyEventsUrl: `${receiver.origin}/pagerduty/v2/enqueue`,
    allowInsecureHttp: true,
    // The receiver is on loopback.
    allowPrivateTargets: true,
    dashboardUrl: 'https://jetmon.example',
    email: { transport: 'stub' },
  })
})
afterEach(async () => {
  await sender.close()
  await receiver.close()
})

function alertWorker(clock: () => Date, key: Buffer | null = null) {
  return new DeliveryWorker({
    db: database().db,
    sender: createAlertContactSender({ alertSender: sender, secretsKey: key }),
    clock,
  })
}

describe('alert delivery', () => {
  it('tells Slack and PagerDuty that a site is down and that it recovered, through real HTTP', async () => {
    const { db } = database()
    const clock = manualClock(new Date('2030-06-01T09:00:00.000Z'))
    const key = randomBytes(32)
    await cursorsAtNewest(db)
    const slackPath = '/slack/services/T000/B000/s3cr3tPath'
    const slack = await createAlertContact(db, {
      transport: 'slack',
      destination: { webhook_url: `${receiver.origin}${slackPath}` },
      label: 'Web team',
      key, // stored encrypted, as the API does with SECRETS_KEY
    })
    const pagerDuty = await createAlertContact(db, {
      transport: 'pagerduty',
      destination: { integration_key: INTEGRATION_KEY },
    })
    const email = await createAlertContact(db, { transport: 'email', destination: { address: 'oncall@example.com' } })
    const dispatcher = new TransitionDispatcher({ consumer: 'alerts', db, clock: clock.now })
    const worker = alertWorker(clock.now, key)

    const site = await openHttpEvent(db, clock.now, { url: 'https://shop.example/' })
    clock.advance(40_000)
    await promoteEvent({
      ctx: eventContext(db, clock.now),
      input: {
        eventId: site.eventId,
        state: 'Down',
        reason: 'verifier_confirmed',
        transitionMetadata: {
          votes: [
            { veriflier: 'v-eu', region: 'eu', success: false, http_code: null, error_code: 2, rtt_ms: null },
            { veriflier: 'v-us', region: 'us', success: true, http_code: 200, error_code: 0, rtt_ms: 120 },
            { veriflier: 'v-ap', region: 'ap', success: false, http_code: null, error_code: 2, rtt_ms: null },
          ],
        },
      },
    })
    await dispatcher.runOnce()
    expect(await worker.runOnce()).toBe(3)

    const slackTrigger = receiver.requests.find((r) => r.path === slackPath)
    expect(slackTrigger).toBeDefined()
    const slackBody = slackTrigger!.json as { text: string; blocks: unknown[] }
    expect(slackBody.text).toContain('https://shop.example/')
    expect(slackBody.text).toMatch(/Down/i)
    expect(JSON.stringify(slackBody.blocks)).toContain('2 of 3 saw it down')
    expect(JSON.stringify(slackBody.blocks)).toContain(`https://jetmon.example/events/${site.eventId}`)
    const trigger = receiver.requests.find((r) => r.path === '/pagerduty/v2/enqueue')!.json
    expect(trigger).toMatchObject({
      routing_key: INTEGRATION_KEY,
      event_action: 'trigger',
      dedup_key: `jetmon-event-${site.eventId}`,
    })

    clock.advance(12 * 60_000 + 5_000)
    await closeEvent({ ctx: eventContext(db, clock.now), input: { eventId: site.eventId, reason: 'verifier_cleared' } })
    await dispatcher.runOnce()
    expect(await worker.runOnce()).toBe(3)
    const resolve = receiver.requests.filter((r) => r.path === '/pagerduty/v2/enqueue')[1]!.json as {
      event_action: string
      dedup_key: string
      payload: { summary: string }
    }
    expect(resolve).toMatchObject({ event_action: 'resolve', dedup_key: `jetmon-event-${site.eventId}` })
    expect(resolve.payload.summary).toBe('Recovered: https://shop.example/ — Down for 12m 45s')
    const slackRecovery = receiver.requests.filter((r) => r.path === slackPath)[1]!.json as { text: string }
    expect(slackRecovery.text).toContain('12m 45s')

    const rows = await alertRows(db)
    const byContact = (id: bigint) => rows.filter((row) => row.alertContactId === id)
    for (const id of [slack, pagerDuty]) {
      expect(byContact(id).map((row) => [row.status, row.attempt])).toEqual([
        ['delivered', 1],
        ['delivered', 1],
      ])
    }
    // The stub email transport can never deliver: abandoned at once, with the reason.
    expect(byContact(email).map((row) => row.status)).toEqual(['abandoned', 'abandoned'])
    expect(byContact(email)[0]!.lastResponse).toMatch(/^transport: email: not delivered: EMAIL_TRANSPORT is stub/)
    await worker.stop()
  })

  it('retries a receiver that answers 5xx, abandons one that answers 4xx, and a deactivated contact', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    const flaky = await createAlertContact(db, {
      transport: 'teams',
      destination: { webhook_url: `${receiver.origin}/teams/flaky` },
      minSeverity: 3,
    })
    const gone = await createAlertContact(db, {
      transport: 'slack',
      destination: { webhook_url: `${receiver.origin}/slack/gone` },
      minSeverity: 3,
    })
    const paused = await createAlertContact(db, {
      transport: 'slack',
      destination: { webhook_url: `${receiver.origin}/slack/paused` },
      minSeverity: 3,
    })
    receiver.answer((request, res) => {
      if (request.path === '/teams/flaky') res.writeHead(503).end('busy')
      else res.writeHead(404).end('no_service')
    })
    const dispatcher = new TransitionDispatcher({ consumer: 'alerts', db, clock: clock.now })
    await openHttpEvent(db, clock.now)
    await dispatcher.runOnce()
    await db.update(alertContacts).set({ active: false }).where(eq(alertContacts.id, paused))
    const worker = alertWorker(clock.now)
    expect(await worker.runOnce()).toBe(3)

    const [flakyRow] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.alertContactId, flaky))
    expect(flakyRow).toMatchObject({ status: 'pending', attempt: 1, lastStatusCode: 503, lastResponse: 'busy' })
    expect(flakyRow!.nextAttemptAt!.getTime() - clock.now().getTime()).toBeGreaterThanOrEqual(54_000)
    const [goneRow] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.alertContactId, gone))
    expect(goneRow).toMatchObject({ status: 'abandoned', attempt: 1, lastStatusCode: 404, lastResponse: 'no_service' })
    const [pausedRow] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.alertContactId, paused))
    expect(pausedRow).toMatchObject({
      status: 'abandoned',
      attempt: 0,
      lastResponse: `abandoned: alert contact ${paused} is deactivated (active = false)`,
    })
    expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/slack/gone', '/teams/flaky'])

    // The flaky one gets through on its next attempt.
    receiver.answer((_request, res) => {
      res.writeHead(200).end('1')
    })
    clock.set(flakyRow!.nextAttemptAt!)
    expect(await worker.runOnce()).toBe(1)
    const [retried] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.alertContactId, flaky))
    expect(retried).toMatchObject({ status: 'delivered', attempt: 2, lastStatusCode: 200 })
    await worker.stop()
  })

  it('abandons at once a Slack URL the SSRF guard refuses, and sends nothing', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    const contact = await createAlertContact(db, {
      transport: 'slack',
      destination: { webhook_url: `${receiver.origin}/slack/T1/B1/guardsecret` },
      minSeverity: 3,
    })
    // allowPrivateTargets left at its default (false): the loopback receiver is refused.
    const guarded = createAlertSender({ allowInsecureHttp: true, email: { transport: 'stub' } })
    const worker = new DeliveryWorker({
      db,
      sender: createAlertContactSender({ alertSender: guarded, secretsKey: null }),
      clock: clock.now,
    })
    try {
      await openHttpEvent(db, clock.now)
      await new TransitionDispatcher({ consumer: 'alerts', db, clock: clock.now }).runOnce()
      expect(await worker.runOnce()).toBe(1)
    } finally {
      await worker.stop()
      await guarded.close()
    }
    const [row] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.alertContactId, contact))
    expect(row).toMatchObject({ status: 'abandoned', attempt: 1, lastStatusCode: null })
    expect(row!.lastResponse).toMatch(/^transport: slack: 127\.0\.0\.1 is a loopback address/)
    expect(row!.lastResponse).not.toContain('guardsecret')
    expect(receiver.requests).toHaveLength(0)
  })
})
