/**
 * The legacy projection (docs/events.md, "Legacy projection"): jetpack_monitor_sites.site_status
 * and last_status_change follow the open http events of each endpoint, in the same transaction.
 */
import { monitorSites, withTransaction } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  closeEvent,
  type EventStoreContext,
  openEvent,
  promoteEvent,
  updateEventSeverity,
  updateEventState,
} from '../src/index.js'
import {
  contextFor,
  countRows,
  eventRowsOf,
  insertEndpoint,
  newBlogId,
  siteStatusOf,
  transitionRowsOf,
} from './_helpers.js'

const database = useTestDatabase()
const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
const ctx = (overrides: Partial<EventStoreContext> = {}) => contextFor(database().db, { clock: time.now, ...overrides })

/** DATETIME (whole seconds) as stored in last_status_change. */
const toSecond = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000)

describe('the legacy site_status projection', () => {
  it('follows an http incident on its endpoint row: 0 Seems Down, 2 Down, 1 after the close', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId, 'https://home.example')
    const sibling = await insertEndpoint(database().db, blogId, 'https://home.example/wp-login.php')

    const openedAt = time.advance(60_000)
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' },
    })
    expect(await siteStatusOf(database().db, endpointId)).toEqual({ siteStatus: 0, lastStatusChange: openedAt })

    const confirmedAt = time.advance(40_000)
    await promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' } })
    expect(await siteStatusOf(database().db, endpointId)).toEqual({ siteStatus: 2, lastStatusChange: confirmedAt })

    // A transition that leaves the status as it is keeps its last_status_change.
    time.advance(30_000)
    await updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 3 } })
    expect(await siteStatusOf(database().db, endpointId)).toEqual({ siteStatus: 2, lastStatusChange: confirmedAt })

    const recoveredAt = time.advance(60_500)
    await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'verifier_cleared' } })
    expect(await siteStatusOf(database().db, endpointId)).toEqual({
      siteStatus: 1,
      lastStatusChange: toSecond(recoveredAt),
    })

    // Keyed on the endpoint row, never on blog_id: the blog's other endpoint was never touched.
    expect(await siteStatusOf(database().db, sibling)).toEqual({ siteStatus: 1, lastStatusChange: null })
  })

  it('goes back to 0 when a Down event moves back to Seems Down', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId, checkType: 'http', state: 'Down' },
    })
    expect((await siteStatusOf(database().db, endpointId)).siteStatus).toBe(2)
    await updateEventState({ ctx: ctx(), input: { eventId: event.id, state: 'Seems Down' } })
    expect((await siteStatusOf(database().db, endpointId)).siteStatus).toBe(0)
  })

  it('reflects the worst of several open http events of one endpoint', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    const identity = { blogId, endpointId, checkType: 'http' }
    const a = await openEvent({ ctx: ctx(), input: { ...identity, discriminator: 'a', state: 'Seems Down' } })
    const b = await openEvent({ ctx: ctx(), input: { ...identity, discriminator: 'b', state: 'Down' } })
    expect((await siteStatusOf(database().db, endpointId)).siteStatus).toBe(2)
    await closeEvent({ ctx: ctx(), input: { eventId: b.event.id, reason: 'verifier_cleared' } })
    expect((await siteStatusOf(database().db, endpointId)).siteStatus).toBe(0)
    await closeEvent({ ctx: ctx(), input: { eventId: a.event.id, reason: 'probe_cleared' } })
    expect((await siteStatusOf(database().db, endpointId)).siteStatus).toBe(1)
  })

  it('is not touched by advisories, site-level events, or when switched off', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    const untouched = { siteStatus: 1, lastStatusChange: null }

    const tls = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId, checkType: 'tls_expiry', state: 'Degraded' },
    })
    await closeEvent({ ctx: ctx(), input: { eventId: tls.event.id, reason: 'probe_cleared' } })
    await openEvent({ ctx: ctx(), input: { blogId, endpointId, checkType: 'latency', state: 'Degraded' } })
    await openEvent({ ctx: ctx(), input: { blogId, endpointId: null, checkType: 'http', state: 'Down' } })
    expect(await siteStatusOf(database().db, endpointId)).toEqual(untouched)

    const off = ctx({ projection: false })
    const http = await openEvent({ ctx: off, input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' } })
    await promoteEvent({ ctx: off, input: { eventId: http.event.id, state: 'Down' } })
    expect(await siteStatusOf(database().db, endpointId)).toEqual(untouched)
    expect((await transitionRowsOf(database().db, blogId)).map((row) => row.reason)).toEqual([
      'opened',
      'probe_cleared',
      'opened',
      'opened',
      'opened',
      'state_change',
    ])
  })

  it('is not rewritten by a repeated open that finds the event already open', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    const identity = { blogId, endpointId, checkType: 'http', state: 'Seems Down' } as const
    await openEvent({ ctx: ctx(), input: identity })
    const first = await siteStatusOf(database().db, endpointId)
    time.advance(120_000)
    const again = await openEvent({ ctx: ctx(), input: identity })
    expect(again.opened).toBe(false)
    expect(await siteStatusOf(database().db, endpointId)).toEqual(first)
  })
})

describe('the event change and its projection commit or roll back together', () => {
  it('leaves nothing behind when the caller’s transaction fails after an open', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    let seenInside: unknown
    await expect(
      withTransaction(database().db, async (tx) => {
        const result = await openEvent({
          ctx: contextFor(tx, { clock: time.now }),
          input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' },
        })
        await promoteEvent({
          ctx: contextFor(tx, { clock: time.now }),
          input: { eventId: result.event.id, state: 'Down' },
        })
        // Inside the transaction every write is there…
        seenInside = { rows: await countRows(tx, blogId), status: (await siteStatusOf(tx, endpointId)).siteStatus }
        throw new Error('the delivery enqueue failed')
      }),
    ).rejects.toThrow('the delivery enqueue failed')

    expect(seenInside).toEqual({ rows: { events: 1, transitions: 2 }, status: 2 })
    // …and after the rollback none is.
    expect(await countRows(database().db, blogId)).toEqual({ events: 0, transitions: 0 })
    expect(await siteStatusOf(database().db, endpointId)).toEqual({ siteStatus: 1, lastStatusChange: null })
  })

  it('keeps the previous event and projection when a promotion’s transaction fails', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId)
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' },
    })
    const eventsBefore = await eventRowsOf(database().db, blogId)
    const statusBefore = await siteStatusOf(database().db, endpointId)
    time.advance(30_000)

    await expect(
      database().db.transaction(async (tx) => {
        await promoteEvent({ ctx: contextFor(tx, { clock: time.now }), input: { eventId: event.id, state: 'Down' } })
        throw new Error('crash after the event write')
      }),
    ).rejects.toThrow('crash after the event write')

    expect(await eventRowsOf(database().db, blogId)).toEqual(eventsBefore)
    expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
    expect(await siteStatusOf(database().db, endpointId)).toEqual(statusBefore)
  })

  it('rolls the event back when the projection write itself fails', async () => {
    const blogId = newBlogId()
    const endpointId = await insertEndpoint(database().db, blogId, 'https://refuses-projection.example')
    // A trigger makes the projection UPDATE of this one row fail, after the event and transition inserts.
    await database().db.execute(
      sql.raw(`
        CREATE TRIGGER refuse_projection BEFORE UPDATE ON jetpack_monitor_sites FOR EACH ROW
        BEGIN
          IF NEW.monitor_url = 'https://refuses-projection.example' THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'projection write refused';
          END IF;
        END`),
    )
    try {
      await expect(
        openEvent({ ctx: ctx(), input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' } }),
      ).rejects.toMatchObject({ cause: { message: 'projection write refused' } })
      expect(await countRows(database().db, blogId)).toEqual({ events: 0, transitions: 0 })
      expect(await siteStatusOf(database().db, endpointId)).toEqual({ siteStatus: 1, lastStatusChange: null })

      // With the projection off the same open succeeds: it was the projection that failed.
      const result = await openEvent({
        ctx: ctx({ projection: false }),
        input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' },
      })
      expect(result.opened).toBe(true)
    } finally {
      await database().db.execute(sql`DROP TRIGGER refuse_projection`)
    }
    const [row] = await database()
      .db.select({ url: monitorSites.monitorUrl })
      .from(monitorSites)
      .where(eq(monitorSites.endpointId, endpointId))
    expect(row?.url).toBe('https://refuses-projection.example')
  })
})
