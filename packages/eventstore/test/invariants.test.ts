/**
 * The invariants of docs/events.md ("Identity and invariants"), one block each, on a real MariaDB.
 */
import { createDatabase, type Database } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  closeEvent,
  type Event,
  type EventStoreContext,
  getEventDetail,
  linkEventCause,
  openEvent,
  promoteEvent,
  replayTransitions,
  unlinkEventCause,
  updateEventSeverity,
  updateEventState,
} from '../src/index.js'
import { contextFor, countRows, eventRowsOf, newBlogId, transitionRowsOf } from './_helpers.js'

const database = useTestDatabase()
const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
const ctx = (overrides: Partial<EventStoreContext> = {}) =>
  contextFor(database().db, { clock: time.now, projection: false, ...overrides })

const httpIdentity = (blogId: bigint, endpointId = 1n) => ({ blogId, endpointId, checkType: 'http' as const })

describe('invariant 1: at most one open event per identity', () => {
  it('lets events of different identities of one site be open at once', async () => {
    const blogId = newBlogId()
    const opened = await Promise.all([
      openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId, 1n), state: 'Seems Down' } }),
      openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId, 2n), state: 'Seems Down' } }),
      openEvent({ ctx: ctx(), input: { blogId, endpointId: 1n, checkType: 'tls_expiry', state: 'Warning' } }),
      openEvent({ ctx: ctx(), input: { blogId, endpointId: 1n, checkType: 'latency', state: 'Degraded' } }),
      openEvent({
        ctx: ctx(),
        input: { blogId, endpointId: 1n, checkType: 'latency', discriminator: 'api', state: 'Degraded' },
      }),
      openEvent({ ctx: ctx(), input: { blogId, endpointId: null, checkType: 'http', state: 'Seems Down' } }),
    ])
    expect(opened.every((result) => result.opened)).toBe(true)
    const rows = await eventRowsOf(database().db, blogId)
    expect(rows).toHaveLength(6)
    expect(new Set(rows.map((row) => row.dedupKey)).size).toBe(6)
  })

  it('opens a new event for an identity right after its previous event closed', async () => {
    const blogId = newBlogId()
    const first = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    await closeEvent({ ctx: ctx(), input: { eventId: first.event.id, reason: 'probe_cleared' } })
    time.advance(1_000)
    const second = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })

    expect(second.opened).toBe(true)
    expect(second.event.id).not.toBe(first.event.id)
    expect(second.event.startedAt.getTime()).toBeGreaterThan(first.event.startedAt.getTime())
    const rows = await eventRowsOf(database().db, blogId)
    expect(rows.map((row) => [row.id, row.endedAt === null, row.dedupKey])).toEqual([
      [first.event.id, false, null],
      [second.event.id, true, `${blogId}:1:http:`],
    ])
  })
})

describe('invariant 2: every change writes exactly one transition, a no-op writes nothing', () => {
  it('writes one transition per change, in the same transaction as the event change', async () => {
    const blogId = newBlogId()
    const cause = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId, 9n), state: 'Seems Down' } })
    const { event } = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    const before = await countRows(database().db, blogId)
    const steps = [
      () => promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' } }),
      () => updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 3 } }),
      () => updateEventState({ ctx: ctx(), input: { eventId: event.id, state: 'Seems Down' } }),
      () => linkEventCause({ ctx: ctx(), input: { eventId: event.id, causeEventId: cause.event.id } }),
      () => unlinkEventCause({ ctx: ctx(), input: { eventId: event.id } }),
      () => closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'probe_cleared' } }),
    ]
    for (const [index, step] of steps.entries()) {
      const result = await step()
      expect(result.changed).toBe(true)
      expect(await countRows(database().db, blogId)).toEqual({
        events: before.events,
        transitions: before.transitions + index + 1,
      })
    }
  })

  it('reports changed: false and writes nothing (not even updated_at) for every kind of no-op', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    const [rowBefore] = await eventRowsOf(database().db, blogId)
    const countsBefore = await countRows(database().db, blogId)
    time.advance(5_000)

    const results = [
      await promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Seems Down' } }),
      await promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Seems Down', severity: 3 } }),
      await updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 3 } }),
      await updateEventState({
        ctx: ctx(),
        input: { eventId: event.id, state: 'Seems Down', eventMetadata: { ignored: true } },
      }),
      await unlinkEventCause({ ctx: ctx(), input: { eventId: event.id } }),
    ]
    for (const result of results) {
      expect(result.changed).toBe(false)
      expect(result.transition).toBeUndefined()
      expect(result.event).toEqual(results[0]!.event)
    }
    expect(await countRows(database().db, blogId)).toEqual(countsBefore)
    const [rowAfter] = await eventRowsOf(database().db, blogId)
    expect(rowAfter).toEqual(rowBefore)
  })
})

describe('invariant 3: started_at never changes', () => {
  it('keeps started_at through Seems Down → Down, severity changes and the close', async () => {
    const blogId = newBlogId()
    const firstFailure = time.advance(60_000)
    const { event } = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    time.advance(20_000)
    const down = await promoteEvent({
      ctx: ctx(),
      input: { eventId: event.id, state: 'Down', reason: 'verifier_confirmed' },
    })
    expect(down.event).toMatchObject({ id: event.id, state: 'Down', severity: 4, startedAt: firstFailure })
    time.advance(60_000)
    const closed = await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'verifier_cleared' } })

    const [row] = await eventRowsOf(database().db, blogId)
    expect(row?.startedAt).toEqual(firstFailure)
    expect(row?.endedAt).toEqual(closed.event.endedAt)
    expect(row!.endedAt!.getTime() - row!.startedAt.getTime()).toBe(80_000)
  })

  it('takes the caller-given start (the first failed check) and keeps it', async () => {
    const blogId = newBlogId()
    const firstFailure = new Date(time.now().getTime() - 45_000)
    const { event } = await openEvent({
      ctx: ctx(),
      input: { ...httpIdentity(blogId), state: 'Seems Down', startedAt: firstFailure },
    })
    await promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Down' } })
    const [row] = await eventRowsOf(database().db, blogId)
    expect(row?.startedAt).toEqual(firstFailure)
  })
})

describe('invariant 4: closed events are immutable, unknown ids are not found', () => {
  const mutations = (eventId: bigint, causeEventId: bigint) =>
    [
      ['promoteEvent', () => promoteEvent({ ctx: ctx(), input: { eventId, state: 'Down' } })],
      ['updateEventSeverity', () => updateEventSeverity({ ctx: ctx(), input: { eventId, severity: 4 } })],
      ['updateEventState', () => updateEventState({ ctx: ctx(), input: { eventId, state: 'Down' } })],
      ['linkEventCause', () => linkEventCause({ ctx: ctx(), input: { eventId, causeEventId } })],
      ['unlinkEventCause', () => unlinkEventCause({ ctx: ctx(), input: { eventId } })],
      ['closeEvent', () => closeEvent({ ctx: ctx(), input: { eventId, reason: 'manual_override' } })],
    ] as const

  it('rejects every mutation of a closed event with EVENT_CLOSED and writes nothing', async () => {
    const blogId = newBlogId()
    const cause = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId, 7n), state: 'Seems Down' } })
    const { event } = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    await linkEventCause({ ctx: ctx(), input: { eventId: event.id, causeEventId: cause.event.id } })
    await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'false_alarm' } })
    const rowsBefore = await eventRowsOf(database().db, blogId)
    const countsBefore = await countRows(database().db, blogId)

    for (const [name, mutation] of mutations(event.id, cause.event.id)) {
      await expect(mutation(), name).rejects.toMatchObject({
        code: 'EVENT_CLOSED',
        eventId: event.id,
        resolutionReason: 'false_alarm',
      })
    }
    expect(await eventRowsOf(database().db, blogId)).toEqual(rowsBefore)
    expect(await countRows(database().db, blogId)).toEqual(countsBefore)
  })

  it('rejects every mutation of an unknown id with EVENT_NOT_FOUND', async () => {
    const blogId = newBlogId()
    const cause = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    const unknown = 999_999_999_999n
    for (const [name, mutation] of mutations(unknown, cause.event.id)) {
      await expect(mutation(), name).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND', eventId: unknown })
    }
    // A link to an unknown cause is refused the same way, naming the cause.
    await expect(
      linkEventCause({ ctx: ctx(), input: { eventId: cause.event.id, causeEventId: unknown } }),
    ).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND', eventId: unknown })
  })
})

describe('invariant 5: replaying the transitions reconstructs the event', () => {
  it('rebuilds severity and state after every step of an advisory and an http lifecycle', async () => {
    const blogId = newBlogId()
    const tls = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'tls_expiry', state: 'Warning' },
    })
    const http = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    const steps = [
      () => updateEventSeverity({ ctx: ctx(), input: { eventId: tls.event.id, severity: 2 } }),
      () => updateEventState({ ctx: ctx(), input: { eventId: tls.event.id, state: 'Degraded' } }),
      () =>
        promoteEvent({ ctx: ctx(), input: { eventId: http.event.id, state: 'Down', reason: 'verifier_confirmed' } }),
      () => linkEventCause({ ctx: ctx(), input: { eventId: tls.event.id, causeEventId: http.event.id } }),
      () => updateEventSeverity({ ctx: ctx(), input: { eventId: http.event.id, severity: 3 } }),
      () => closeEvent({ ctx: ctx(), input: { eventId: http.event.id, reason: 'verifier_cleared' } }),
    ]
    for (const step of steps) {
      await step()
      for (const eventId of [tls.event.id, http.event.id]) {
        const detail = await getEventDetail({ ctx: ctx(), eventId })
        const replayed = replayTransitions(detail!.transitions)
        expect(replayed).toEqual({
          severity: detail!.event.severity,
          state: detail!.event.state,
          closed: detail!.event.endedAt !== null,
          resolutionReason: detail!.event.resolutionReason,
        })
      }
    }
    const closed = await getEventDetail({ ctx: ctx(), eventId: http.event.id })
    expect(closed!.event).toMatchObject({ state: 'Down', severity: 3, resolutionReason: 'verifier_cleared' })
    expect(closed!.transitions.at(-1)).toMatchObject({
      stateBefore: 'Down',
      stateAfter: 'Resolved',
      severityBefore: 3,
      severityAfter: null,
      reason: 'verifier_cleared',
    })
  })
})

describe('invariant 6: open is idempotent, also across processes', () => {
  it('returns the open event with opened: false and writes nothing', async () => {
    const blogId = newBlogId()
    const first = await openEvent({
      ctx: ctx(),
      input: { ...httpIdentity(blogId), state: 'Seems Down', eventMetadata: { http_code: 500 } },
    })
    await promoteEvent({ ctx: ctx(), input: { eventId: first.event.id, state: 'Down' } })
    const counts = await countRows(database().db, blogId)
    time.advance(1_000)

    const again = await openEvent({
      ctx: ctx(),
      input: { ...httpIdentity(blogId), state: 'Seems Down', eventMetadata: { http_code: 502 } },
    })
    expect(again.opened).toBe(false)
    expect(again.transition).toBeUndefined()
    // The existing event as it is now: re-detection does not overwrite severity, state or metadata.
    expect(again.event).toMatchObject({ id: first.event.id, state: 'Down', severity: 4, metadata: { http_code: 500 } })
    expect(await countRows(database().db, blogId)).toEqual(counts)
  })

  describe('with two processes (two separate pools)', () => {
    let other: Database
    beforeAll(() => {
      other = createDatabase(database().url)
    })
    afterAll(async () => {
      await other.close()
    })

    it('yields exactly one open event when both open the same identities at once', async () => {
      const blogIds = Array.from({ length: 8 }, () => newBlogId())
      const attempts = blogIds.flatMap((blogId) =>
        [database().db, other.db, database().db, other.db].map((db, n) =>
          openEvent({
            ctx: contextFor(db, { source: `monitor:host-${n}`, projection: false }),
            input: { ...httpIdentity(blogId), state: 'Seems Down' },
          }).then((result) => ({ blogId, result })),
        ),
      )
      const outcomes = await Promise.all(attempts)
      for (const blogId of blogIds) {
        const mine = outcomes.filter((outcome) => outcome.blogId === blogId).map((outcome) => outcome.result)
        expect(mine.filter((result) => result.opened)).toHaveLength(1)
        expect(new Set(mine.map((result) => result.event.id)).size).toBe(1)
        expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
      }
    })

    // INNODB_TRX is served from a cache that refreshes only when it was not read for 100 ms: probe slower.
    const waitForLockWait = async (waiting = 1) => {
      for (let probe = 0; probe < 100; probe++) {
        const [rows] = (await database().db.execute(
          sql`SELECT COUNT(*) AS waiting FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'`,
        )) as unknown as [{ waiting: number | string }[]]
        if (Number(rows[0]?.waiting) >= waiting) return
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
      throw new Error('the second open never waited for the first one')
    }

    for (const outcome of ['commits', 'rolls back'] as const) {
      it(`makes a concurrent open wait for the first one, which then ${outcome}`, async () => {
        const blogId = newBlogId()
        let release!: () => void
        const held = new Promise<void>((resolve) => {
          release = resolve
        })
        let firstEvent: Event | undefined
        const first = database()
          .db.transaction(async (tx) => {
            const result = await openEvent({
              ctx: contextFor(tx),
              input: { ...httpIdentity(blogId), state: 'Seems Down' },
            })
            firstEvent = result.event
            await held
            if (outcome === 'rolls back') throw new Error('first process gives up')
          })
          .catch(() => undefined)
        while (firstEvent === undefined) await new Promise((resolve) => setTimeout(resolve, 5))

        const second = openEvent({
          ctx: contextFor(other.db, { source: 'monitor:other' }),
          input: { ...httpIdentity(blogId), state: 'Seems Down' },
        })
        try {
          await waitForLockWait()
        } finally {
          release()
        }
        await first
        const result = await second

        if (outcome === 'commits') {
          // Read under a shared lock once the first committed: the whole event, as the first wrote it.
          expect(result).toEqual({ opened: false, event: firstEvent })
        } else {
          expect(result.opened).toBe(true)
          expect(result.event.id).not.toBe(firstEvent.id)
        }
        expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
      })
    }

    it('still yields one event when an opener rolls back under two waiting ones (they deadlock and retry)', async () => {
      const blogId = newBlogId()
      const third = createDatabase(database().url)
      try {
        let release!: () => void
        const held = new Promise<void>((resolve) => {
          release = resolve
        })
        let holding = false
        const first = database()
          .db.transaction(async (tx) => {
            await openEvent({ ctx: contextFor(tx), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
            holding = true
            await held
            throw new Error('first process gives up')
          })
          .catch(() => undefined)
        while (!holding) await new Promise((resolve) => setTimeout(resolve, 5))
        const waiters = [other.db, third.db].map((db) =>
          openEvent({ ctx: contextFor(db), input: { ...httpIdentity(blogId), state: 'Seems Down' } }),
        )
        try {
          await waitForLockWait(2)
        } finally {
          release()
        }
        await first
        const results = await Promise.all(waiters)
        expect(results.filter((result) => result.opened)).toHaveLength(1)
        expect(new Set(results.map((result) => result.event.id)).size).toBe(1)
        expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
      } finally {
        await third.close()
      }
    })
  })
})

describe('invariant 7: severity and state are separate', () => {
  it('moves severity within a state: an expiring certificate escalates and stays Warning', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'tls_expiry', state: 'Warning', eventMetadata: { days_until: 30 } },
    })
    expect(event).toMatchObject({ state: 'Warning', severity: 1 })
    const escalated = await updateEventSeverity({
      ctx: ctx(),
      input: { eventId: event.id, severity: 2, eventMetadata: { days_until: 7 } },
    })
    expect(escalated.event).toMatchObject({ state: 'Warning', severity: 2, metadata: { days_until: 7 } })
    expect(escalated.transition).toMatchObject({
      reason: 'severity_escalation',
      stateBefore: 'Warning',
      stateAfter: 'Warning',
      severityBefore: 1,
      severityAfter: 2,
    })
    const eased = await updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 1 } })
    expect(eased.transition).toMatchObject({ reason: 'severity_deescalation', severityAfter: 1, stateAfter: 'Warning' })
    // And state can move without severity.
    const moved = await updateEventState({ ctx: ctx(), input: { eventId: event.id, state: 'Degraded' } })
    expect(moved.event).toMatchObject({ state: 'Degraded', severity: 1 })
    expect(moved.transition).toMatchObject({ reason: 'state_change', severityBefore: 1, severityAfter: 1 })
  })
})

describe('invariant 8: monitor-side trouble never opens or upgrades an incident', () => {
  it('refuses to open an event in a site-level state (Unknown, Up, Paused, Maintenance)', async () => {
    const blogId = newBlogId()
    for (const state of ['Unknown', 'Up', 'Paused', 'Maintenance', 'Resolved']) {
      await expect(
        // @ts-expect-error: not an event state, which is the point
        openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state } }),
      ).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    }
    expect(await countRows(database().db, blogId)).toEqual({ events: 0, transitions: 0 })
  })

  it('refuses to move an open event into Unknown or any other non-event state', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({ ctx: ctx(), input: { ...httpIdentity(blogId), state: 'Seems Down' } })
    for (const state of ['Unknown', 'Up', 'Maintenance']) {
      // @ts-expect-error: not an event state
      await expect(promoteEvent({ ctx: ctx(), input: { eventId: event.id, state } })).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      })
      // @ts-expect-error: not an event state
      await expect(updateEventState({ ctx: ctx(), input: { eventId: event.id, state } })).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      })
    }
    const rows = await transitionRowsOf(database().db, blogId)
    expect(rows.map((row) => row.reason)).toEqual(['opened'])
    expect((await eventRowsOf(database().db, blogId))[0]).toMatchObject({ state: 'Seems Down', severity: 3 })
  })
})
