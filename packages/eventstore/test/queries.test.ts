/** The reads the API, the dashboard and delivery use. */
import type { Db } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { drizzle } from 'drizzle-orm/mysql2'
import { describe, expect, it } from 'vitest'
import {
  closeEvent,
  type Event,
  type EventFilter,
  type EventStoreContext,
  findOpenEvent,
  getEvent,
  getEventDetail,
  getEvents,
  linkEventCause,
  listEvents,
  listEventTransitions,
  listOpenEvents,
  listOpenEventsOfTypes,
  listTransitionsAfter,
  openEvent,
  promoteEvent,
  type Transition,
  updateEventSeverity,
  worstOpenEventPerSite,
} from '../src/index.js'
import { contextFor, newBlogId } from './_helpers.js'

const database = useTestDatabase()
const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
const ctx = (overrides: Partial<EventStoreContext> = {}) =>
  contextFor(database().db, { clock: time.now, projection: false, ...overrides })

const at = (iso: string) => new Date(iso)

describe('open events of a site and of an endpoint', () => {
  it('lists a site’s open events worst first, and an endpoint’s, leaving closed ones out', async () => {
    const blogId = newBlogId()
    const warning = await openEvent({
      ctx: ctx(),
      input: {
        blogId,
        endpointId: 1n,
        checkType: 'tls_expiry',
        state: 'Warning',
        startedAt: at('2026-01-01T00:00:00Z'),
      },
    })
    const down = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 2n, checkType: 'http', state: 'Down', startedAt: at('2026-01-03T00:00:00Z') },
    })
    const olderDown = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'http', state: 'Down', startedAt: at('2026-01-02T00:00:00Z') },
    })
    const closed = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'latency', state: 'Degraded' },
    })
    await closeEvent({ ctx: ctx(), input: { eventId: closed.event.id, reason: 'probe_cleared' } })
    await openEvent({ ctx: ctx(), input: { blogId: newBlogId(), endpointId: 1n, checkType: 'http', state: 'Down' } })

    const ids = (list: Event[]) => list.map((event) => event.id)
    expect(ids(await listOpenEvents({ ctx: ctx(), blogId }))).toEqual([
      olderDown.event.id,
      down.event.id,
      warning.event.id,
    ])
    expect(ids(await listOpenEvents({ ctx: ctx(), blogId, endpointId: 1n }))).toEqual([
      olderDown.event.id,
      warning.event.id,
    ])
    expect(ids(await listOpenEvents({ ctx: ctx(), blogId, checkType: 'tls_expiry' }))).toEqual([warning.event.id])
    expect(await listOpenEvents({ ctx: ctx(), blogId, endpointId: 1n })).toContainEqual(olderDown.event)
    await expect(listOpenEvents({ ctx: ctx() })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('finds the open event of an identity, and none once it closed', async () => {
    const blogId = newBlogId()
    const identity = { blogId, endpointId: 3n, checkType: 'latency', discriminator: 'api' }
    const { event } = await openEvent({ ctx: ctx(), input: { ...identity, state: 'Degraded' } })
    await openEvent({ ctx: ctx(), input: { ...identity, discriminator: null, state: 'Degraded' } })
    expect(await findOpenEvent({ ctx: ctx(), identity })).toEqual(event)
    await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'probe_cleared' } })
    expect(await findOpenEvent({ ctx: ctx(), identity })).toBeNull()
  })
})

describe('open events of check types', () => {
  it('lists the fleet’s open events of the given types in id order, leaving closed ones and other types out', async () => {
    const [a, b] = [newBlogId(), newBlogId()]
    const burn = await openEvent({
      ctx: ctx(),
      input: { blogId: a, checkType: 'slo_burn', discriminator: '7', state: 'Degraded' },
    })
    const closed = await openEvent({
      ctx: ctx(),
      input: { blogId: a, checkType: 'slo_budget', discriminator: '7', state: 'Warning' },
    })
    await closeEvent({ ctx: ctx(), input: { eventId: closed.event.id, reason: 'budget_recovered' } })
    const budget = await openEvent({
      ctx: ctx(),
      input: { blogId: b, endpointId: 4n, checkType: 'slo_budget', discriminator: '8', state: 'Warning' },
    })
    await openEvent({ ctx: ctx(), input: { blogId: b, endpointId: 4n, checkType: 'latency', state: 'Degraded' } })
    const open = await listOpenEventsOfTypes({ ctx: ctx(), checkTypes: ['slo_burn', 'slo_budget'] })
    expect(open.map((event) => event.id)).toEqual([burn.event.id, budget.event.id])
    expect(open[1]).toMatchObject({ blogId: b, endpointId: 4n, discriminator: '8', state: 'Warning', severity: 1 })
    expect(await listOpenEventsOfTypes({ ctx: ctx(), checkTypes: [] })).toEqual([])
  })
})

describe('an event by id', () => {
  it('returns the event with its transitions, oldest first; null for an unknown id', async () => {
    const blogId = newBlogId()
    const cause = await openEvent({ ctx: ctx(), input: { blogId, endpointId: 1n, checkType: 'http', state: 'Down' } })
    const opened = await openEvent({
      ctx: ctx(),
      input: {
        blogId,
        endpointId: 1n,
        checkType: 'tls_expiry',
        state: 'Warning',
        eventMetadata: { days_until: 20 },
        transitionMetadata: { expires_at: '2026-03-21T00:00:00Z' },
      },
    })
    time.advance(1_000)
    const escalated = await updateEventSeverity({
      ctx: ctx(),
      input: { eventId: opened.event.id, severity: 2, eventMetadata: { days_until: 6 } },
    })
    const linked = await linkEventCause({
      ctx: ctx({ source: 'api:ops' }),
      input: { eventId: opened.event.id, causeEventId: cause.event.id, transitionMetadata: { note: 'same host' } },
    })
    const closed = await closeEvent({ ctx: ctx(), input: { eventId: opened.event.id, reason: 'superseded' } })

    const detail = await getEventDetail({ ctx: ctx(), eventId: opened.event.id })
    expect(detail?.event).toEqual(closed.event)
    expect(detail?.event).toMatchObject({
      state: 'Warning',
      severity: 2,
      causeEventId: cause.event.id,
      metadata: { days_until: 6 },
      resolutionReason: 'superseded',
    })
    expect(detail?.transitions).toEqual([opened.transition, escalated.transition, linked.transition, closed.transition])
    expect(linked.transition).toMatchObject({
      reason: 'cause_linked',
      source: 'api:ops',
      metadata: { cause_event_id_before: null, cause_event_id_after: cause.event.id.toString(), note: 'same host' },
    })
    expect(await getEvent({ ctx: ctx(), eventId: opened.event.id })).toEqual(closed.event)
    const both = await getEvents({ ctx: ctx(), eventIds: [cause.event.id, opened.event.id, 987_654_321n] })
    expect([...both.keys()].sort()).toEqual([cause.event.id, opened.event.id].sort())
    expect(await getEvent({ ctx: ctx(), eventId: 987_654_321n })).toBeNull()
    expect(await getEventDetail({ ctx: ctx(), eventId: 987_654_321n })).toBeNull()
  })

  it('pages through an event’s transitions oldest first', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({ ctx: ctx(), input: { blogId, checkType: 'latency', state: 'Degraded' } })
    for (const severity of [3, 2, 3, 2, 3] as const) {
      await updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity } })
    }
    const seen: Transition[] = []
    let cursor: string | null = null
    do {
      const page = await listEventTransitions({ ctx: ctx(), eventId: event.id, cursor, limit: 2 })
      seen.push(...page.items)
      cursor = page.next
    } while (cursor)
    const detail = await getEventDetail({ ctx: ctx(), eventId: event.id })
    expect(seen).toEqual(detail?.transitions)
    expect(seen).toHaveLength(6)
  })
})

describe('the worst open event per site', () => {
  it('picks the highest severity, then the earliest start, for a page of sites in one query', async () => {
    const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => newBlogId()) as [
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
    ]
    const open = async (blogId: bigint, endpointId: bigint, checkType: string, state: Event['state'], iso: string) =>
      (await openEvent({ ctx: ctx(), input: { blogId, endpointId, checkType, state, startedAt: at(iso) } })).event
    // a: Down beats an earlier Seems Down.
    await open(a, 1n, 'http', 'Seems Down', '2026-02-01T00:00:00Z')
    const aWorst = await open(a, 2n, 'http', 'Down', '2026-02-02T00:00:00Z')
    // b: two Down events, the earlier start wins.
    await open(b, 1n, 'http', 'Down', '2026-02-03T00:00:00Z')
    const bWorst = await open(b, 2n, 'http', 'Down', '2026-02-01T00:00:00Z')
    // c: Degraded beats Warning; a closed Down does not count.
    await open(c, 1n, 'tls_expiry', 'Warning', '2026-01-01T00:00:00Z')
    const cWorst = await open(c, 1n, 'latency', 'Degraded', '2026-02-05T00:00:00Z')
    const cClosed = await open(c, 1n, 'http', 'Down', '2026-01-01T00:00:00Z')
    await closeEvent({ ctx: ctx(), input: { eventId: cClosed.id, reason: 'verifier_cleared' } })
    // d: same severity and start: the lower id, so the answer is stable.
    const dWorst = await open(d, 1n, 'http', 'Seems Down', '2026-02-01T00:00:00Z')
    await open(d, 2n, 'http', 'Seems Down', '2026-02-01T00:00:00Z')
    // e: only a closed event; f: nothing at all.
    const eClosed = await open(e, 1n, 'http', 'Down', '2026-02-01T00:00:00Z')
    await closeEvent({ ctx: ctx(), input: { eventId: eClosed.id, reason: 'false_alarm' } })
    // severity moved within a state counts by severity: a Warning event escalated to 2 ties Degraded.
    const g = newBlogId()
    const gWorst = await open(g, 1n, 'tls_expiry', 'Warning', '2026-01-01T00:00:00Z')
    await open(g, 1n, 'latency', 'Degraded', '2026-02-01T00:00:00Z')
    const gEscalated = await updateEventSeverity({ ctx: ctx(), input: { eventId: gWorst.id, severity: 2 } })

    const queries: string[] = []
    const counted = drizzle(database().pool, {
      mode: 'default',
      logger: { logQuery: (query) => queries.push(query) },
    }) as unknown as Db
    const worst = await worstOpenEventPerSite({ ctx: { db: counted }, blogIds: [a, b, c, d, e, f, g, a] })

    expect(queries).toHaveLength(1)
    expect(new Map([...worst].map(([blogId, event]) => [blogId, event.id]))).toEqual(
      new Map([
        [a, aWorst.id],
        [b, bWorst.id],
        [c, cWorst.id],
        [d, dWorst.id],
        [g, gWorst.id],
      ]),
    )
    expect(worst.get(g)).toEqual(gEscalated.event)
    expect(await worstOpenEventPerSite({ ctx: ctx(), blogIds: [] })).toEqual(new Map())
  })
})

describe('filtered, paginated event lists', () => {
  /** Twelve events of one site, several sharing a start time, some closed. */
  async function seedSite() {
    const blogId = newBlogId()
    const specs = [
      ['2026-04-01T00:00:00Z', 'http', 'Seems Down', 1n],
      ['2026-04-02T00:00:00Z', 'http', 'Down', 1n],
      ['2026-04-02T00:00:00Z', 'tls_expiry', 'Warning', 1n],
      ['2026-04-02T00:00:00Z', 'latency', 'Degraded', 1n],
      ['2026-04-02T00:00:00Z', 'http', 'Down', 2n],
      ['2026-04-03T00:00:00Z', 'tls_deprecated', 'Warning', 2n],
      ['2026-04-04T00:00:00Z', 'http', 'Seems Down', 2n],
      ['2026-04-04T00:00:00Z', 'latency', 'Degraded', 2n],
      ['2026-04-05T00:00:00Z', 'http', 'Down', 3n],
      ['2026-04-05T00:00:00Z', 'http', 'Seems Down', 4n],
      ['2026-04-05T00:00:00Z', 'tls_expiry', 'Warning', 3n],
      ['2026-04-06T00:00:00Z', 'http', 'Down', 5n],
    ] as const
    const created: Event[] = []
    for (const [index, [iso, checkType, state, endpointId]] of specs.entries()) {
      const { event } = await openEvent({
        ctx: ctx(),
        input: { blogId, endpointId, checkType, state, discriminator: String(index), startedAt: at(iso) },
      })
      // Every third event is closed (as a false alarm), keeping its last state.
      if (index % 3 === 0) {
        created.push((await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'false_alarm' } })).event)
      } else {
        created.push(event)
      }
    }
    return { blogId, created }
  }

  const newestFirst = (list: Event[]) =>
    [...list].sort((x, y) => y.startedAt.getTime() - x.startedAt.getTime() || (y.id > x.id ? 1 : y.id < x.id ? -1 : 0))

  async function walk(filter: EventFilter, limit: number) {
    const seen: Event[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await listEvents({ ctx: ctx(), filter, cursor, limit })
      expect(page.items.length).toBeLessThanOrEqual(limit)
      seen.push(...page.items)
      cursor = page.next
      pages++
    } while (cursor)
    return { seen, pages }
  }

  it('pages newest first with no duplicates or misses, also across equal start times', async () => {
    const { blogId, created } = await seedSite()
    for (const limit of [1, 2, 3, 5, 12, 50]) {
      const { seen, pages } = await walk({ blogId }, limit)
      expect(seen.map((event) => event.id)).toEqual(newestFirst(created).map((event) => event.id))
      expect(pages).toBe(Math.max(1, Math.ceil(created.length / limit)))
    }
    const { seen } = await walk({ blogId }, 4)
    expect(seen).toEqual(newestFirst(created))
  })

  it('keeps its place when new events arrive between pages', async () => {
    const { blogId, created } = await seedSite()
    const first = await listEvents({ ctx: ctx(), filter: { blogId }, limit: 5 })
    await openEvent({
      ctx: ctx(),
      input: { blogId, checkType: 'http', state: 'Down', startedAt: at('2026-05-01T00:00:00Z') },
    })
    const rest: Event[] = []
    let cursor = first.next
    while (cursor) {
      const page = await listEvents({ ctx: ctx(), filter: { blogId }, limit: 5, cursor })
      rest.push(...page.items)
      cursor = page.next
    }
    expect([...first.items, ...rest].map((event) => event.id)).toEqual(newestFirst(created).map((event) => event.id))
  })

  it('filters by state, check type, severity, open or closed, endpoint and start time', async () => {
    const { blogId, created } = await seedSite()
    const cases: [EventFilter, (event: Event) => boolean][] = [
      [{ state: 'Down' }, (event) => event.state === 'Down'],
      [{ state: ['Warning', 'Degraded'] }, (event) => event.state === 'Warning' || event.state === 'Degraded'],
      [{ checkType: 'http' }, (event) => event.checkType === 'http'],
      [{ checkType: ['tls_expiry', 'tls_deprecated'] }, (event) => event.checkType.startsWith('tls_')],
      [{ minSeverity: 3 }, (event) => event.severity >= 3],
      [{ open: true }, (event) => event.endedAt === null],
      [{ open: false }, (event) => event.endedAt !== null],
      [{ endpointId: 2n }, (event) => event.endpointId === 2n],
      [
        { startedFrom: at('2026-04-02T00:00:00Z'), startedBefore: at('2026-04-05T00:00:00Z') },
        (event) => event.startedAt >= at('2026-04-02T00:00:00Z') && event.startedAt < at('2026-04-05T00:00:00Z'),
      ],
      [
        { checkType: 'http', open: true, minSeverity: 4 },
        (event) => event.checkType === 'http' && event.endedAt === null && event.severity === 4,
      ],
      [{ state: [] }, () => false],
    ]
    for (const [index, [filter, keep]] of cases.entries()) {
      const expected = newestFirst(created.filter(keep))
      const { seen } = await walk({ ...filter, blogId }, 2)
      expect(
        seen.map((event) => event.id),
        `filter #${index}`,
      ).toEqual(expected.map((event) => event.id))
    }
    // Sanity: the filters above are not trivially empty or total.
    expect(created.filter((event) => event.endedAt === null).length).toBe(8)
  })

  it('lists fleet-wide across sites with the same ordering and filters', async () => {
    const siteA = await seedSite()
    const siteB = await seedSite()
    // Only this test's sites started in this window.
    const window = { startedFrom: at('2026-04-01T00:00:00Z'), startedBefore: at('2026-04-07T00:00:00Z') }
    const mine = new Set([siteA.blogId, siteB.blogId])
    const { seen } = await walk({ ...window, state: 'Down', open: true }, 3)
    const expected = newestFirst(
      [...siteA.created, ...siteB.created].filter((event) => event.state === 'Down' && event.endedAt === null),
    )
    expect(seen.filter((event) => mine.has(event.blogId)).map((event) => event.id)).toEqual(
      expected.map((event) => event.id),
    )
    expect(new Set(seen.map((event) => event.id)).size).toBe(seen.length)
  })

  it('rejects foreign or corrupt cursors and bad filters with typed errors', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({ ctx: ctx(), input: { blogId, checkType: 'latency', state: 'Degraded' } })
    await updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 3 } })
    const transitions = await listEventTransitions({ ctx: ctx(), eventId: event.id, limit: 1 })
    expect(transitions.next).not.toBeNull()

    for (const cursor of [transitions.next!, 'garbage', Buffer.from('["e","x","1"]').toString('base64url')]) {
      await expect(listEvents({ ctx: ctx(), filter: { blogId }, cursor })).rejects.toMatchObject({
        code: 'INVALID_CURSOR',
      })
    }
    await expect(listEvents({ ctx: ctx(), limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'limit' })
    await expect(listEvents({ ctx: ctx(), limit: 5000 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    // @ts-expect-error: not an event state
    await expect(listEvents({ ctx: ctx(), filter: { state: 'Up' } })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    })
  })
})

describe('the delivery feed', () => {
  it('returns the transitions after a cursor id, in id order, a batch at a time', async () => {
    let start = 0n
    for (let batch = await listTransitionsAfter({ ctx: ctx(), afterId: start }); batch.length > 0; ) {
      start = batch.at(-1)!.id
      batch = await listTransitionsAfter({ ctx: ctx(), afterId: start })
    }
    const blogId = newBlogId()
    const written: Transition[] = []
    const { event, transition } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'http', state: 'Seems Down' },
    })
    written.push(transition!)
    const promoted = await promoteEvent({
      ctx: ctx(),
      input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
    })
    written.push(promoted.transition!)
    const other = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 2n, checkType: 'http', state: 'Seems Down' },
    })
    written.push(other.transition!)
    written.push(
      (await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'verifier_cleared' } })).transition,
    )
    written.push(
      (await closeEvent({ ctx: ctx(), input: { eventId: other.event.id, reason: 'false_alarm' } })).transition,
    )

    const fed: Transition[] = []
    let cursor = start
    for (;;) {
      const batch = await listTransitionsAfter({ ctx: ctx(), afterId: cursor, limit: 2 })
      if (batch.length === 0) break
      expect(batch.length).toBeLessThanOrEqual(2)
      fed.push(...batch)
      cursor = batch.at(-1)!.id
    }
    expect(fed).toEqual(written)
    expect(fed.map((t) => t.reason)).toEqual([
      'opened',
      'verifier_confirmed',
      'opened',
      'verifier_cleared',
      'false_alarm',
    ])
    await expect(listTransitionsAfter({ ctx: ctx(), afterId: -1n })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})
