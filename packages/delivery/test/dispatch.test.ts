import { alertSummary } from '@jetmon/alerting'
import { dispatchCursors, dispatchGaps, siteTenants } from '@jetmon/db'
import { closeEvent, openEvent, promoteEvent } from '@jetmon/eventstore'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { buildWebhookPayload } from '@jetmon/webhooks'
import { eq } from 'drizzle-orm'
import { beforeEach, describe, expect, it } from 'vitest'
import { alertNotificationFromPayload, dispatchTransitions, TransitionDispatcher } from '../src/index.js'
import {
  alertRows,
  createAlertContact,
  createWebhook,
  cursorsAtNewest,
  eventContext,
  holdTransition,
  insertEndpoint,
  newBlogId,
  openHttpEvent,
  resetDelivery,
  webhookRows,
} from './_helpers.js'

const database = useTestDatabase()
const RECEIVER = 'http://127.0.0.1:9/hook'

async function cursorOf(consumer: 'webhooks' | 'alerts'): Promise<bigint | null> {
  const [row] = await database()
    .db.select({ last: dispatchCursors.lastTransitionId })
    .from(dispatchCursors)
    .where(eq(dispatchCursors.consumer, consumer))
  return row?.last ?? null
}

/** The transition ids a consumer keeps as gaps, ascending. */
async function gapsOf(consumer: 'webhooks' | 'alerts'): Promise<bigint[]> {
  const rows = await database()
    .db.select({ id: dispatchGaps.transitionId })
    .from(dispatchGaps)
    .where(eq(dispatchGaps.consumer, consumer))
    .orderBy(dispatchGaps.transitionId)
  return rows.map((row) => row.id)
}

/** (subscriber, transition) pairs of the rows, as strings, sorted. */
function pairs(rows: { transitionId: bigint }[], subscriber: (row: never) => bigint): string[] {
  return rows.map((row) => `${subscriber(row as never)}:${row.transitionId}`).sort()
}

describe('dispatch', () => {
  beforeEach(async () => {
    await resetDelivery(database().db)
  })

  it('creates a missing cursor at the newest transition, so history is never replayed', async () => {
    const { db } = database()
    const clock = manualClock()
    const history = await openHttpEvent(db, clock.now)
    await createWebhook(db, { url: RECEIVER })
    const dispatcher = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })

    const first = await dispatcher.runOnce()
    expect(first).toMatchObject({ outcome: 'cursor_created', cursor: history.transitionId })
    expect(await cursorOf('webhooks')).toBe(history.transitionId)
    expect(await dispatcher.runOnce()).toMatchObject({ outcome: 'dispatched', transitions: 0, late: 0 })
    expect(await webhookRows(db)).toHaveLength(0)

    const fresh = await openHttpEvent(db, clock.now)
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 1, enqueued: { pending: 1 } })
    expect((await webhookRows(db)).map((row) => row.transitionId)).toEqual([fresh.transitionId])
    expect(await cursorOf('webhooks')).toBe(fresh.transitionId)
  })

  it("creates both consumers' cursors at once without a deadlock", async () => {
    const { db } = database()
    const clock = manualClock()
    const newest = (await openHttpEvent(db, clock.now)).transitionId
    for (let round = 0; round < 30; round++) {
      await db.delete(dispatchCursors)
      const results = await Promise.all(
        (['webhooks', 'alerts', 'webhooks', 'alerts', 'webhooks', 'alerts', 'alerts', 'webhooks'] as const).map(
          (consumer) => dispatchTransitions({ ctx: { db, clock: clock.now }, consumer }),
        ),
      )
      const outcomes = results.map((r) => r.outcome)
      expect(outcomes.filter((o) => o === 'cursor_created')).toHaveLength(2)
      expect(outcomes.every((o) => o === 'cursor_created' || o === 'busy' || o === 'dispatched')).toBe(true)
      expect(await cursorOf('webhooks')).toBe(newest)
      expect(await cursorOf('alerts')).toBe(newest)
    }
  })

  it('inserts one row per matching webhook: events, site, state filters, active, tenant scoping', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    const blogA = newBlogId()
    const blogB = newBlogId()
    const blogC = newBlogId()
    await db.insert(siteTenants).values([
      { tenantId: 't1', blogId: blogA },
      { tenantId: 't2', blogId: blogB },
    ])
    const all = await createWebhook(db, { url: RECEIVER })
    const closedOnly = await createWebhook(db, { url: RECEIVER, events: ['event.closed'] })
    const siteB = await createWebhook(db, { url: RECEIVER, blogIds: [blogB] })
    const downOnly = await createWebhook(db, { url: RECEIVER, states: ['Down'] })
    await createWebhook(db, { url: RECEIVER, active: false })
    const tenant1 = await createWebhook(db, { url: RECEIVER, ownerTenantId: 't1' })
    const tenant2Resolved = await createWebhook(db, { url: RECEIVER, ownerTenantId: 't2', states: ['Resolved'] })
    // A tenant that owns nothing sees nothing, whatever its filter names.
    await createWebhook(db, { url: RECEIVER, ownerTenantId: 't3', blogIds: [blogC] })

    const a = await openHttpEvent(db, clock.now, { blogId: blogA })
    clock.advance(30_000)
    const promoted = await promoteEvent({
      ctx: eventContext(db, clock.now),
      input: { eventId: a.eventId, state: 'Down', reason: 'verifier_confirmed' },
    })
    const b = await openHttpEvent(db, clock.now, { blogId: blogB })
    clock.advance(60_000)
    const closedB = await closeEvent({
      ctx: eventContext(db, clock.now),
      input: { eventId: b.eventId, reason: 'probe_cleared' },
    })
    const c = await openHttpEvent(db, clock.now, { blogId: blogC })
    const promoteA = promoted.transition!.id
    const closeB = closedB.transition!.id

    const result = await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'webhooks' })
    expect(result).toMatchObject({ outcome: 'dispatched', transitions: 5, full: false })
    const rows = await webhookRows(db)
    const got = pairs(rows, (row: { webhookId: bigint }) => row.webhookId)
    const want = [
      ...[a.transitionId, promoteA, b.transitionId, closeB, c.transitionId].map((t) => `${all.id}:${t}`),
      `${closedOnly.id}:${closeB}`,
      `${siteB.id}:${b.transitionId}`,
      `${siteB.id}:${closeB}`,
      `${downOnly.id}:${promoteA}`,
      `${tenant1.id}:${a.transitionId}`,
      `${tenant1.id}:${promoteA}`,
      `${tenant2Resolved.id}:${closeB}`,
    ].sort()
    expect(got).toEqual(want)
    expect(rows.every((row) => row.status === 'pending' && row.attempt === 0)).toBe(true)
    expect(rows.every((row) => row.nextAttemptAt?.getTime() === clock.now().getTime())).toBe(true)
    expect(await cursorOf('webhooks')).toBe(c.transitionId)

    // The documented webhook payload, frozen: the event as it was right after each transition.
    const openRow = rows.find((row) => row.webhookId === all.id && row.transitionId === a.transitionId)!
    expect(openRow.eventType).toBe('event.opened')
    expect(openRow.payload).toEqual(
      buildWebhookPayload({
        deliveryId: openRow.id,
        transition: {
          id: a.transitionId,
          reason: 'opened',
          source: 'monitor:test-host',
          stateBefore: null,
          stateAfter: 'Seems Down',
          severityBefore: null,
          severityAfter: 3,
          changedAt: new Date('2030-03-01T12:00:00.000Z'),
        },
        event: {
          id: a.eventId,
          checkType: 'http',
          state: 'Seems Down', // the event is Down by now; the payload says what it was then
          severity: 3,
          startedAt: new Date('2030-03-01T12:00:00.000Z'),
          endedAt: null,
          resolutionReason: null,
        },
        site: { blogId: blogA, endpointId: a.endpointId, monitorUrl: `https://${blogA}.example/` },
      }),
    )
    expect((openRow.payload as { site: { blog_id: unknown } }).site.blog_id).toBe(String(blogA)) // > 2^53
    const closeRow = rows.find((row) => row.webhookId === all.id && row.transitionId === closeB)!
    expect(closeRow.eventType).toBe('event.closed')
    expect(closeRow.payload).toMatchObject({
      id: Number(closeRow.id),
      type: 'event.closed',
      transition: { reason: 'probe_cleared', state_after: 'Resolved' },
      event: {
        state: 'Seems Down',
        severity: 3,
        ended_at: '2030-03-01T12:01:30.000Z',
        resolution_reason: 'probe_cleared',
      },
    })
  })

  it('matches alert contacts on min_severity and recoveries, with tenant and site scoping', async () => {
    const { db } = database()
    const clock = manualClock(new Date('2030-04-01T08:00:00.000Z'))
    await cursorsAtNewest(db)
    const blogA = newBlogId()
    const blogB = newBlogId()
    await db.insert(siteTenants).values({ tenantId: 't1', blogId: blogA })
    const down = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'a@example.com' },
      label: 'Ops',
    })
    const seemsDown = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'b@example.com' },
      minSeverity: 3,
    })
    const tenant = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'c@example.com' },
      ownerTenantId: 't1',
    })
    const siteB = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'd@example.com' },
      minSeverity: 3,
      blogIds: [blogB],
    })
    await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'e@example.com' },
      active: false,
      minSeverity: 1,
    })

    const a = await openHttpEvent(db, clock.now, { blogId: blogA, url: 'https://a.example/' })
    clock.advance(45_000)
    const votes = [
      { veriflier: 'v-eu', region: 'eu', success: false, http_code: null, error_code: 7, rtt_ms: null },
      { veriflier: 'v-us', region: 'us', success: false, http_code: null, error_code: 7, rtt_ms: null },
    ]
    const promoted = await promoteEvent({
      ctx: eventContext(db, clock.now),
      input: {
        eventId: a.eventId,
        state: 'Down',
        reason: 'verifier_confirmed',
        transitionMetadata: { votes, quorum: 2 },
      },
    })
    clock.advance(5 * 60_000)
    const closedA = await closeEvent({
      ctx: eventContext(db, clock.now),
      input: { eventId: a.eventId, reason: 'verifier_cleared' },
    })
    const b = await openHttpEvent(db, clock.now, { blogId: blogB })
    const closedB = await closeEvent({
      ctx: eventContext(db, clock.now),
      input: { eventId: b.eventId, reason: 'probe_cleared' },
    })
    const [promoteA, closeA, closeB] = [promoted.transition!.id, closedA.transition!.id, closedB.transition!.id]

    const result = await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'alerts' })
    expect(result).toMatchObject({ outcome: 'dispatched', transitions: 5 })
    const rows = await alertRows(db)
    expect(pairs(rows, (row: { alertContactId: bigint }) => row.alertContactId)).toEqual(
      [
        `${down}:${promoteA}`,
        `${down}:${closeA}`,
        ...[a.transitionId, promoteA, closeA, b.transitionId, closeB].map((t) => `${seemsDown}:${t}`),
        `${tenant}:${promoteA}`,
        `${tenant}:${closeA}`,
        `${siteB}:${b.transitionId}`,
        `${siteB}:${closeB}`,
      ].sort(),
    )

    const trigger = rows.find((row) => row.alertContactId === down && row.transitionId === promoteA)!
    expect(trigger.eventType).toBe('event.state_changed')
    const notification = alertNotificationFromPayload(trigger.payload)
    expect(notification).toMatchObject({
      match: 'trigger',
      event: { id: a.eventId, state: 'Down', severity: 4, checkType: 'http' },
      site: { blogId: blogA, endpointId: a.endpointId, monitorUrl: 'https://a.example/' },
      cause: { errorName: 'connect_timeout', errorDetail: 'no answer within 10 s', votes },
      contactLabel: 'Ops',
    })
    expect(alertSummary(notification)).toBe(
      'Down: https://a.example/ — connect_timeout: no answer within 10 s; 2 of 2 verifliers saw it down (since 2030-04-01 08:00:00 UTC)',
    )
    const recovery = rows.find((row) => row.alertContactId === down && row.transitionId === closeA)!
    const recovered = alertNotificationFromPayload(recovery.payload)
    expect(recovered).toMatchObject({
      match: 'recovery',
      event: { state: 'Down', resolutionReason: 'verifier_cleared' },
    })
    expect(alertSummary(recovered)).toBe('Recovered: https://a.example/ — Down for 5m 45s')
  })

  it('delivers nothing for an incident adopted from v1, and its close to webhooks and alert contacts', async () => {
    const { db } = database()
    const clock = manualClock(new Date('2030-05-01T08:00:00.000Z'))
    await cursorsAtNewest(db)
    const webhook = await createWebhook(db, { url: RECEIVER })
    const contact = await createAlertContact(db, { transport: 'email', destination: { address: 'ops@example.com' } })
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(db, blogId, 'https://adopted.example/')
    const adopted = await openEvent({
      ctx: { ...eventContext(db, clock.now), source: 'cli:operator' },
      input: {
        blogId,
        endpointId,
        checkType: 'http',
        state: 'Down',
        reason: 'adopted',
        startedAt: new Date('2030-04-30T20:00:00.000Z'),
        eventMetadata: { adopted_from: 'v1', site_status: 2 },
      },
    })
    for (const consumer of ['webhooks', 'alerts'] as const) {
      expect(await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer })).toMatchObject({
        outcome: 'dispatched',
        transitions: 1,
      })
    }
    expect(await webhookRows(db)).toEqual([])
    expect(await alertRows(db)).toEqual([])

    clock.advance(60_000)
    const closed = await closeEvent({
      ctx: eventContext(db, clock.now),
      input: { eventId: adopted.event.id, reason: 'verifier_cleared' },
    })
    for (const consumer of ['webhooks', 'alerts'] as const) {
      await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer })
    }
    const [hook] = await webhookRows(db)
    expect(await webhookRows(db)).toHaveLength(1)
    expect(hook).toMatchObject({ webhookId: webhook.id, transitionId: closed.transition.id, eventType: 'event.closed' })
    const alerts = await alertRows(db)
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ alertContactId: contact, transitionId: closed.transition.id })
    expect(alertNotificationFromPayload(alerts[0]!.payload)).toMatchObject({
      match: 'recovery',
      event: { state: 'Down', resolutionReason: 'verifier_cleared' },
    })
  })

  it('suppresses alerts over max_per_hour, counted from the delivery table', async () => {
    const { db } = database()
    const clock = manualClock(new Date('2030-05-01T00:00:00.000Z'))
    await cursorsAtNewest(db)
    const contact = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'a@example.com' },
      minSeverity: 3,
      maxPerHour: 2,
    })
    const unlimited = await createAlertContact(db, {
      transport: 'email',
      destination: { address: 'b@example.com' },
      minSeverity: 3,
      maxPerHour: 0,
    })
    for (let i = 0; i < 3; i++) await openHttpEvent(db, clock.now)
    const first = await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'alerts' })
    expect(first).toMatchObject({ enqueued: { pending: 5, suppressed: 1 } })

    // A later pass — any process — counts the same rows.
    clock.advance(30 * 60_000)
    await openHttpEvent(db, clock.now)
    await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'alerts' })
    const capped = (await alertRows(db)).filter((row) => row.alertContactId === contact)
    expect(capped.map((row) => row.status)).toEqual(['pending', 'pending', 'suppressed', 'suppressed'])
    const suppressed = capped[2]!
    expect(suppressed.nextAttemptAt).toBeNull()
    expect(suppressed.lastResponse).toMatch(
      /^suppressed: alert contact \d+ already had 2 alerts in the hour .* \(max_per_hour 2\)/,
    )
    expect((await alertRows(db)).filter((row) => row.alertContactId === unlimited).map((row) => row.status)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ])

    // An hour after the first two, there is room again; suppressed rows never counted.
    clock.advance(31 * 60_000)
    await openHttpEvent(db, clock.now)
    await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'alerts' })
    const after = (await alertRows(db)).filter((row) => row.alertContactId === contact)
    expect(after.at(-1)?.status).toBe('pending')
  })

  it('redoes a batch harmlessly after a crash before the commit', async () => {
    const { db } = database()
    const clock = manualClock()
    const start = await cursorsAtNewest(db)
    const webhook = await createWebhook(db, { url: RECEIVER })
    const one = await openHttpEvent(db, clock.now)
    const two = await openHttpEvent(db, clock.now)

    const crash = new Error('the process died before COMMIT')
    await expect(
      db.transaction(async (tx) => {
        const result = await dispatchTransitions({ ctx: { db: tx, clock: clock.now }, consumer: 'webhooks' })
        expect(result).toMatchObject({ enqueued: { pending: 2 } })
        throw crash
      }),
    ).rejects.toBe(crash)
    expect(await webhookRows(db)).toHaveLength(0)
    expect(await cursorOf('webhooks')).toBe(start)

    await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'webhooks' })
    const rows = await webhookRows(db)
    expect(rows.map((row) => row.transitionId)).toEqual([one.transitionId, two.transitionId])
    expect(rows.map((row) => (row.payload as { id: unknown }).id)).toEqual(rows.map((row) => Number(row.id)))

    // The same batch once more (a cursor that did not move): nothing new, nothing changed.
    await db.update(dispatchCursors).set({ lastTransitionId: start }).where(eq(dispatchCursors.consumer, 'webhooks'))
    const again = await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'webhooks' })
    expect(again).toMatchObject({ transitions: 2, enqueued: { pending: 0 } })
    expect(await webhookRows(db)).toEqual(rows)
    expect(rows.every((row) => row.webhookId === webhook.id)).toBe(true)
  })

  it('does not replay on restart, even for a subscriber created after the dispatch', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    const early = await createWebhook(db, { url: RECEIVER })
    const first = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    await first.runOnce()
    const before = await openHttpEvent(db, clock.now)
    await first.runOnce()
    expect((await webhookRows(db)).map((row) => row.transitionId)).toEqual([before.transitionId])

    const late = await createWebhook(db, { url: RECEIVER })
    const restarted = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    expect(await restarted.runOnce()).toMatchObject({ outcome: 'dispatched', transitions: 0, late: 0 })
    expect(await restarted.runOnce()).toMatchObject({ outcome: 'dispatched', transitions: 0, late: 0 })
    expect(await webhookRows(db)).toHaveLength(1)

    const after = await openHttpEvent(db, clock.now)
    await restarted.runOnce()
    expect(pairs(await webhookRows(db), (row: { webhookId: bigint }) => row.webhookId)).toEqual(
      [
        `${early.id}:${before.transitionId}`,
        `${early.id}:${after.transitionId}`,
        `${late.id}:${after.transitionId}`,
      ].sort(),
    )
  })

  it('picks up a transition committed after a later one was dispatched (a gap behind the cursor)', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    await createWebhook(db, { url: RECEIVER })
    const dispatcher = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    await dispatcher.runOnce()

    const slow = await holdTransition(db, clock.now)
    const fast = await openHttpEvent(db, clock.now)
    expect(fast.transitionId).toBeGreaterThan(slow.transitionId)
    expect(await dispatcher.runOnce()).toMatchObject({
      transitions: 1,
      late: 0,
      cursorAfter: fast.transitionId,
      openGaps: 1,
    })
    expect((await webhookRows(db)).map((row) => row.transitionId)).toEqual([fast.transitionId])
    expect(await gapsOf('webhooks')).toEqual([slow.transitionId])
    expect(await gapsOf('alerts')).toEqual([])

    await slow.commit()
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 0, late: 1, enqueued: { pending: 1 }, openGaps: 0 })
    expect((await webhookRows(db)).map((row) => row.transitionId).sort()).toEqual(
      [slow.transitionId, fast.transitionId].sort(),
    )
    // Dispatched and forgotten: later passes leave it alone.
    expect(await gapsOf('webhooks')).toEqual([])
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 0, late: 0 })
  })

  it('forgets a gap that never fills (a rollback) once it is tailIds ids behind the cursor', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    await createWebhook(db, { url: RECEIVER })
    const dispatcher = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now, tailIds: 3 })
    await dispatcher.runOnce()

    const rolledBack = await holdTransition(db, clock.now)
    await rolledBack.rollback()
    const first = await openHttpEvent(db, clock.now)
    expect(first.transitionId).toBe(rolledBack.transitionId + 1n)
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 1, late: 0, openGaps: 1, droppedGaps: 0 })
    expect(await gapsOf('webhooks')).toEqual([rolledBack.transitionId])

    // Still looked up while within 3 ids of the cursor…
    await openHttpEvent(db, clock.now)
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 1, late: 0, openGaps: 1, droppedGaps: 0 })
    // …and forgotten once the cursor is 3 ids past it.
    await openHttpEvent(db, clock.now)
    expect(await dispatcher.runOnce()).toMatchObject({ transitions: 1, late: 0, openGaps: 0, droppedGaps: 1 })
    expect(await gapsOf('webhooks')).toEqual([])
    expect(dispatcher.stats()).toMatchObject({ transitions: 3, late: 0, droppedGaps: 1, openGaps: 0 })
    expect(await webhookRows(db)).toHaveLength(3)
  })

  it('delivers transitions that commit late around a restart, before or after the new process first passes', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    await createWebhook(db, { url: RECEIVER })
    const before = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    await before.runOnce()
    const commitsBeforeFirstPass = await holdTransition(db, clock.now)
    const commitsAfterFirstPass = await holdTransition(db, clock.now)
    const fast = await openHttpEvent(db, clock.now)
    expect(await before.runOnce()).toMatchObject({ transitions: 1, late: 0, cursorAfter: fast.transitionId })
    await before.stop()

    // The process is gone; a new one starts (nothing carried over in memory).
    await commitsBeforeFirstPass.commit()
    const after = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    expect(await after.runOnce()).toMatchObject({ outcome: 'dispatched', transitions: 0, late: 1 })
    await commitsAfterFirstPass.commit()
    expect(await after.runOnce()).toMatchObject({ transitions: 0, late: 1, enqueued: { pending: 1 } })
    expect(await after.runOnce()).toMatchObject({ transitions: 0, late: 0 })
    expect((await webhookRows(db)).map((row) => row.transitionId).sort()).toEqual(
      [commitsBeforeFirstPass.transitionId, commitsAfterFirstPass.transitionId, fast.transitionId].sort(),
    )
  })

  it('a late commit one process passed over is dispatched, once, by another after the first one stopped', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    await createWebhook(db, { url: RECEIVER })
    const a = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    const b = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    await a.runOnce()
    await b.runOnce()

    const slow = await holdTransition(db, clock.now)
    const fast = await openHttpEvent(db, clock.now)
    expect(await a.runOnce()).toMatchObject({ transitions: 1, late: 0, enqueued: { pending: 1 } })
    await a.stop()
    await slow.commit()

    expect(await b.runOnce()).toMatchObject({ transitions: 0, late: 1, enqueued: { pending: 1 } })
    expect((await webhookRows(db)).map((row) => row.transitionId).sort()).toEqual(
      [slow.transitionId, fast.transitionId].sort(),
    )
    // Both processes running: whichever passes next dispatches a late commit, and only once.
    const c = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    const slower = await holdTransition(db, clock.now)
    const next = await openHttpEvent(db, clock.now)
    expect(await b.runOnce()).toMatchObject({ transitions: 1, late: 0, enqueued: { pending: 1 } })
    await slower.commit()
    expect(await c.runOnce()).toMatchObject({ transitions: 0, late: 1, enqueued: { pending: 1 } })
    expect(await b.runOnce()).toMatchObject({ transitions: 0, late: 0, enqueued: { pending: 0 } })
    expect((await webhookRows(db)).map((row) => row.transitionId).sort()).toEqual(
      [slow.transitionId, fast.transitionId, slower.transitionId, next.transitionId].sort(),
    )
  })

  it('delivers a transition that was still uncommitted when the cursor was created, after a restart', async () => {
    const { db } = database()
    const clock = manualClock()
    await createWebhook(db, { url: RECEIVER })
    const slow = await holdTransition(db, clock.now)
    const newest = await openHttpEvent(db, clock.now)
    const first = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    expect(await first.runOnce()).toMatchObject({ outcome: 'cursor_created', cursor: newest.transitionId })
    await first.stop()
    await slow.commit()

    const second = new TransitionDispatcher({ consumer: 'webhooks', db, clock: clock.now })
    expect(await second.runOnce()).toMatchObject({ transitions: 0, late: 1, enqueued: { pending: 1 } })
    // History committed before the cursor existed is still never replayed.
    expect((await webhookRows(db)).map((row) => row.transitionId)).toEqual([slow.transitionId])
  })

  it('is busy, and does nothing, while another process holds the cursor', async () => {
    const { db } = database()
    const clock = manualClock()
    await cursorsAtNewest(db)
    await createWebhook(db, { url: RECEIVER })
    await openHttpEvent(db, clock.now)
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked!: () => void
    const lockedOnce = new Promise<void>((resolve) => {
      locked = resolve
    })
    const holder = db.transaction(async (tx) => {
      await tx.select().from(dispatchCursors).where(eq(dispatchCursors.consumer, 'webhooks')).for('update')
      locked()
      await released
    })
    await lockedOnce
    expect(await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'webhooks' })).toEqual({
      outcome: 'busy',
    })
    release()
    await holder
    expect(await dispatchTransitions({ ctx: { db, clock: clock.now }, consumer: 'webhooks' })).toMatchObject({
      outcome: 'dispatched',
      enqueued: { pending: 1 },
    })
  })
})
