/** The verbs in detail: defaults, reasons, metadata, validation, composition and locking. */
import { auditLog, createDatabase, type Database, events, monitorSites, withTransaction } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  closeEvent,
  EventClosedError,
  EventNotFoundError,
  type EventStoreContext,
  getEvent,
  getEventDetail,
  InvalidCursorError,
  isEventStoreError,
  linkEventCause,
  listEvents,
  openEvent,
  promoteEvent,
  replayTransitions,
  unlinkEventCause,
  updateEventSeverity,
  updateEventState,
} from '../src/index.js'
import { contextFor, countRows, insertEndpoint, newBlogId } from './_helpers.js'

const database = useTestDatabase()
const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
const ctx = (overrides: Partial<EventStoreContext> = {}) =>
  contextFor(database().db, { clock: time.now, projection: false, ...overrides })

const openHttp = async (blogId: bigint, state: 'Seems Down' | 'Down' = 'Seems Down') =>
  (await openEvent({ ctx: ctx(), input: { blogId, endpointId: 1n, checkType: 'http', state } })).event

describe('openEvent', () => {
  it('opens with the state’s severity, the clock’s time, the metadata and an `opened` transition', async () => {
    const blogId = 9_007_199_254_740_993n // beyond 2^53: must stay exact
    const now = time.advance(1_234)
    const result = await openEvent({
      ctx: ctx({ source: 'monitor:host-a' }),
      input: {
        blogId,
        endpointId: 42n,
        checkType: 'http',
        state: 'Seems Down',
        eventMetadata: { url: 'https://big.example', http_code: 503 },
        transitionMetadata: { attempt: 1 },
      },
    })
    expect(result.opened).toBe(true)
    expect(result.event).toEqual({
      id: expect.any(BigInt),
      blogId,
      endpointId: 42n,
      checkType: 'http',
      discriminator: null,
      severity: 3,
      state: 'Seems Down',
      startedAt: now,
      endedAt: null,
      resolutionReason: null,
      causeEventId: null,
      metadata: { url: 'https://big.example', http_code: 503 },
      updatedAt: now,
    })
    expect(result.transition).toEqual({
      id: expect.any(BigInt),
      eventId: result.event.id,
      blogId,
      endpointId: 42n,
      severityBefore: null,
      severityAfter: 3,
      stateBefore: null,
      stateAfter: 'Seems Down',
      reason: 'opened',
      source: 'monitor:host-a',
      metadata: { attempt: 1 },
      changedAt: now,
    })
    // What it returns is exactly what a later read returns.
    expect(await getEventDetail({ ctx: ctx(), eventId: result.event.id })).toEqual({
      event: result.event,
      transitions: [result.transition],
    })
  })

  it('opens with the reason `adopted` when asked, and an open identity stays one event', async () => {
    const blogId = newBlogId()
    const startedAt = new Date('2026-02-27T08:00:00.000Z')
    const adopted = await openEvent({
      ctx: ctx({ source: 'system:adopt' }),
      input: { blogId, endpointId: 5n, checkType: 'http', state: 'Down', startedAt, reason: 'adopted' },
    })
    expect(adopted).toMatchObject({
      opened: true,
      event: { state: 'Down', severity: 4, startedAt },
      transition: { reason: 'adopted', stateBefore: null, stateAfter: 'Down', severityAfter: 4 },
    })
    const again = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 5n, checkType: 'http', state: 'Down', reason: 'adopted' },
    })
    expect(again).toMatchObject({ opened: false, event: { id: adopted.event.id } })
    const detail = await getEventDetail({ ctx: ctx(), eventId: adopted.event.id })
    expect(replayTransitions(detail?.transitions ?? [])).toMatchObject({ state: 'Down', severity: 4, closed: false })
  })

  it('takes an explicit severity, and treats an empty discriminator as none', async () => {
    const blogId = newBlogId()
    const first = await openEvent({
      ctx: ctx(),
      input: { blogId, checkType: 'tls_expiry', discriminator: '', state: 'Warning', severity: 2 },
    })
    expect(first.event).toMatchObject({ severity: 2, state: 'Warning', discriminator: null, endpointId: null })
    const again = await openEvent({ ctx: ctx(), input: { blogId, checkType: 'tls_expiry', state: 'Warning' } })
    expect(again).toMatchObject({ opened: false, event: { id: first.event.id } })
  })

  it('refuses malformed input with INVALID_INPUT or INVALID_TRANSITION, writing nothing', async () => {
    const blogId = newBlogId()
    const input = { blogId, checkType: 'http', state: 'Seems Down' } as const
    const refused = [
      [openEvent({ ctx: ctx({ source: '' }), input }), 'INVALID_INPUT'],
      [openEvent({ ctx: ctx(), input: { ...input, blogId: 0n } }), 'INVALID_INPUT'],
      [openEvent({ ctx: ctx(), input: { ...input, endpointId: 0n } }), 'INVALID_INPUT'],
      [openEvent({ ctx: ctx(), input: { ...input, checkType: 'HTTP check' } }), 'INVALID_INPUT'],
      [openEvent({ ctx: ctx(), input: { ...input, discriminator: 'x'.repeat(129) } }), 'INVALID_INPUT'],
      // Severity 0 (Up) means "no event".
      [openEvent({ ctx: ctx(), input: { ...input, severity: 0 } }), 'INVALID_TRANSITION'],
      // @ts-expect-error: beyond Down
      [openEvent({ ctx: ctx(), input: { ...input, severity: 5 } }), 'INVALID_TRANSITION'],
      // An event opens as opened or adopted, never with a change or closing reason.
      // @ts-expect-error: not an opening reason
      [openEvent({ ctx: ctx(), input: { ...input, reason: 'verifier_cleared' } }), 'INVALID_TRANSITION'],
    ] as const
    for (const [attempt, code] of refused) await expect(attempt).rejects.toMatchObject({ code })
    expect(await countRows(database().db, blogId)).toEqual({ events: 0, transitions: 0 })
  })
})

describe('promoteEvent, updateEventSeverity, updateEventState', () => {
  it('promotes Seems Down → Down with the severity following the state, and the given reason', async () => {
    const blogId = newBlogId()
    const event = await openHttp(blogId)
    const now = time.advance(20_000)
    const votes = [{ veriflier: 'ams', region: 'eu', success: false, http_code: 503, error_code: 0, rtt_ms: 120 }]
    const result = await promoteEvent({
      ctx: ctx({ source: 'monitor:host-a' }),
      input: {
        eventId: event.id,
        state: 'Down',
        reason: 'verifier_confirmed',
        transitionMetadata: { votes, quorum: 1 },
        eventMetadata: { votes },
      },
    })
    expect(result.changed).toBe(true)
    expect(result.event).toMatchObject({ state: 'Down', severity: 4, updatedAt: now, startedAt: event.startedAt })
    expect(result.transition).toMatchObject({
      reason: 'verifier_confirmed',
      stateBefore: 'Seems Down',
      stateAfter: 'Down',
      severityBefore: 3,
      severityAfter: 4,
      metadata: { votes, quorum: 1 },
      changedAt: now,
    })
    expect(await getEvent({ ctx: ctx(), eventId: event.id })).toEqual(result.event)
  })

  it('derives the reason from the change when none is given', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({ ctx: ctx(), input: { blogId, checkType: 'latency', state: 'Degraded' } })
    const reasons = []
    for (const change of [
      () => promoteEvent({ ctx: ctx(), input: { eventId: event.id, severity: 3 } }),
      () => promoteEvent({ ctx: ctx(), input: { eventId: event.id, severity: 1 } }),
      () => promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Warning', severity: 1 } }),
      () => updateEventState({ ctx: ctx(), input: { eventId: event.id, state: 'Degraded' } }),
      () => updateEventSeverity({ ctx: ctx(), input: { eventId: event.id, severity: 2 } }),
    ]) {
      reasons.push((await change()).transition?.reason)
    }
    expect(reasons).toEqual([
      'severity_escalation',
      'severity_deescalation',
      'state_change',
      'state_change',
      'severity_escalation',
    ])
  })

  it('merges event metadata key by key and writes it only with a change', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, checkType: 'tls_expiry', state: 'Warning', eventMetadata: { days_until: 30, issuer: 'R3' } },
    })
    await updateEventSeverity({
      ctx: ctx(),
      input: { eventId: event.id, severity: 2, eventMetadata: { days_until: 7 } },
    })
    await updateEventSeverity({
      ctx: ctx(),
      input: { eventId: event.id, severity: 2, eventMetadata: { days_until: 6 } },
    })
    expect((await getEvent({ ctx: ctx(), eventId: event.id }))?.metadata).toEqual({ days_until: 7, issuer: 'R3' })
  })

  it('refuses reasons that are not change reasons, and an empty promotion', async () => {
    const blogId = newBlogId()
    const event = await openHttp(blogId)
    for (const reason of ['probe_cleared', 'opened', 'cause_linked', 'manual_override']) {
      await expect(
        // @ts-expect-error: not a change reason
        promoteEvent({ ctx: ctx(), input: { eventId: event.id, state: 'Down', reason } }),
      ).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    }
    await expect(promoteEvent({ ctx: ctx(), input: { eventId: event.id } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
  })
})

describe('linkEventCause and unlinkEventCause', () => {
  it('links, relinks and unlinks, recording the ids before and after', async () => {
    const blogId = newBlogId()
    const rootA = await openHttp(blogId)
    const rootB = (await openEvent({ ctx: ctx(), input: { blogId, endpointId: 2n, checkType: 'http', state: 'Down' } }))
      .event
    const { event } = await openEvent({ ctx: ctx(), input: { blogId, checkType: 'latency', state: 'Degraded' } })

    const linked = await linkEventCause({ ctx: ctx(), input: { eventId: event.id, causeEventId: rootA.id } })
    expect(linked.event.causeEventId).toBe(rootA.id)
    expect(linked.transition).toMatchObject({
      reason: 'cause_linked',
      stateBefore: 'Degraded',
      stateAfter: 'Degraded',
      severityBefore: 2,
      severityAfter: 2,
      metadata: { cause_event_id_before: null, cause_event_id_after: rootA.id.toString() },
    })
    expect((await linkEventCause({ ctx: ctx(), input: { eventId: event.id, causeEventId: rootA.id } })).changed).toBe(
      false,
    )
    const relinked = await linkEventCause({ ctx: ctx(), input: { eventId: event.id, causeEventId: rootB.id } })
    expect(relinked.transition?.metadata).toEqual({
      cause_event_id_before: rootA.id.toString(),
      cause_event_id_after: rootB.id.toString(),
    })
    const unlinked = await unlinkEventCause({ ctx: ctx(), input: { eventId: event.id } })
    expect(unlinked.event.causeEventId).toBeNull()
    expect(unlinked.transition).toMatchObject({
      reason: 'cause_unlinked',
      metadata: { cause_event_id_before: rootB.id.toString(), cause_event_id_after: null },
    })
  })

  it('accepts a closed cause but refuses self-causes and cycles', async () => {
    const blogId = newBlogId()
    const a = await openHttp(blogId)
    const b = (await openEvent({ ctx: ctx(), input: { blogId, checkType: 'latency', state: 'Degraded' } })).event
    const c = (await openEvent({ ctx: ctx(), input: { blogId, checkType: 'tls_expiry', state: 'Warning' } })).event
    await expect(linkEventCause({ ctx: ctx(), input: { eventId: a.id, causeEventId: a.id } })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    })
    await linkEventCause({ ctx: ctx(), input: { eventId: b.id, causeEventId: a.id } })
    await linkEventCause({ ctx: ctx(), input: { eventId: c.id, causeEventId: b.id } })
    // a ← b ← c: making c the cause of a would close the loop.
    await expect(linkEventCause({ ctx: ctx(), input: { eventId: a.id, causeEventId: c.id } })).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    })
    const closed = (await openEvent({ ctx: ctx(), input: { blogId, checkType: 'dns', state: 'Down' } })).event
    await closeEvent({ ctx: ctx(), input: { eventId: closed.id, reason: 'auto_timeout' } })
    const linked = await linkEventCause({ ctx: ctx(), input: { eventId: a.id, causeEventId: closed.id } })
    expect(linked.event.causeEventId).toBe(closed.id)
  })
})

describe('closeEvent', () => {
  it('sets ended_at and resolution_reason, keeps the last state, writes the Resolved transition', async () => {
    const blogId = newBlogId()
    const event = await openHttp(blogId, 'Down')
    const now = time.advance(90_000)
    const result = await closeEvent({
      ctx: ctx({ source: 'api:ops' }),
      input: { eventId: event.id, reason: 'manual_override', transitionMetadata: { note: 'site moved' } },
    })
    expect(result.event).toMatchObject({
      state: 'Down',
      severity: 4,
      endedAt: now,
      resolutionReason: 'manual_override',
      updatedAt: now,
    })
    expect(result.transition).toMatchObject({
      reason: 'manual_override',
      source: 'api:ops',
      stateBefore: 'Down',
      stateAfter: 'Resolved',
      severityBefore: 4,
      severityAfter: null,
      metadata: { note: 'site moved' },
      changedAt: now,
    })
    const error = await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'probe_cleared' } }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(EventClosedError)
    expect(isEventStoreError(error, 'EVENT_CLOSED')).toBe(true)
    expect((error as EventClosedError).endedAt).toEqual(now)
  })

  it('refuses a reason that is not a closing reason', async () => {
    const event = await openHttp(newBlogId())
    await expect(
      // @ts-expect-error: not a closing reason
      closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'state_change' } }),
    ).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    expect((await getEvent({ ctx: ctx(), eventId: event.id }))?.endedAt).toBeNull()
  })
})

describe('composition and concurrency', () => {
  it('joins the caller’s transaction so its own statements commit with the event', async () => {
    const blogId = newBlogId()
    const opened = await withTransaction(database().db, async (tx) => {
      const result = await openEvent({
        ctx: contextFor(tx, { clock: time.now, projection: false }),
        input: { blogId, endpointId: 1n, checkType: 'http', state: 'Seems Down' },
      })
      await tx.insert(auditLog).values({
        blogId,
        eventId: result.event.id,
        eventType: 'wpcom_sent',
        source: 'monitor:test',
        detail: 'notified',
      })
      return result
    })
    const audit = await database().db.select().from(auditLog).where(eq(auditLog.blogId, blogId))
    expect(audit.map((row) => row.eventId)).toEqual([opened.event.id])
    expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
  })

  describe('with a second process', () => {
    let other: Database
    beforeAll(() => {
      other = createDatabase(database().url)
    })
    afterAll(async () => {
      await other.close()
    })

    // INNODB_TRX is served from a cache that refreshes only when it was not read for 100 ms: probe slower.
    const waitForLockWait = async () => {
      for (let probe = 0; probe < 100; probe++) {
        const [rows] = (await database().db.execute(
          sql`SELECT COUNT(*) AS waiting FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'`,
        )) as unknown as [{ waiting: number | string }[]]
        if (Number(rows[0]?.waiting) >= 1) return
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
      throw new Error('the close never waited for the other process')
    }

    it('serialises concurrent mutations of one event: the history stays a chain', async () => {
      for (let round = 0; round < 10; round++) {
        const blogId = newBlogId()
        const event = await openHttp(blogId)
        const outcomes = await Promise.allSettled([
          promoteEvent({ ctx: contextFor(database().db), input: { eventId: event.id, state: 'Down' } }),
          closeEvent({ ctx: contextFor(other.db), input: { eventId: event.id, reason: 'probe_cleared' } }),
          updateEventSeverity({ ctx: contextFor(other.db), input: { eventId: event.id, severity: 2 } }),
        ])
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'EVENT_CLOSED' })
        }
        const detail = await getEventDetail({ ctx: ctx(), eventId: event.id })
        // replayTransitions throws if two writers interleaved (a transition starting from a stale state).
        const replayed = replayTransitions(detail!.transitions)
        expect(replayed).toMatchObject({ closed: true, state: detail!.event.state, severity: detail!.event.severity })
        expect(detail!.transitions).toHaveLength(1 + outcomes.filter((o) => o.status === 'fulfilled').length)
      }
    })

    it('runs a close again when InnoDB picks it as a deadlock victim, and the close commits', async () => {
      const blogId = newBlogId()
      const endpointId = await insertEndpoint(database().db, blogId)
      const { event } = await openEvent({
        ctx: contextFor(database().db, { clock: time.now }),
        input: { blogId, endpointId, checkType: 'http', state: 'Down' },
      })
      let release!: () => void
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      let locked = false
      let rivalGotEvent = false
      // The other process locks the endpoint row (and writes enough rows to be the heavier
      // transaction, which InnoDB spares), then wants the event the close holds: a deadlock.
      const rival = other.db.transaction(async (tx) => {
        await tx.update(monitorSites).set({ siteStatus: 2 }).where(eq(monitorSites.endpointId, endpointId))
        await tx.insert(auditLog).values(
          Array.from({ length: 20 }, () => ({
            blogId,
            eventType: 'api_write',
            source: 'api:rival',
            detail: 'ballast',
          })),
        )
        locked = true
        await released
        await tx.select({ id: events.id }).from(events).where(eq(events.id, event.id)).for('update')
        rivalGotEvent = true
        throw new Error('the rival gives up after its deadlock')
      })
      const rivalDone = rival.catch(() => undefined)
      while (!locked) await new Promise((resolve) => setTimeout(resolve, 5))
      // The close locks the event, then waits for the endpoint row (the legacy projection).
      const closing = closeEvent({
        ctx: contextFor(database().db, { clock: time.now }),
        input: { eventId: event.id, reason: 'verifier_cleared' },
      })
      try {
        await waitForLockWait()
      } finally {
        release()
      }
      await rivalDone
      const closed = await closing
      expect(rivalGotEvent).toBe(true) // so InnoDB rolled the close back, and the close ran again
      expect(closed.event).toMatchObject({ endedAt: expect.any(Date), resolutionReason: 'verifier_cleared' })
      expect((await getEvent({ ctx: ctx(), eventId: event.id }))?.resolutionReason).toBe('verifier_cleared')
      expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 2 })
    })
  })
})

describe('errors', () => {
  it('are typed, carry stable codes and keep their cause', async () => {
    const notFound = await getEventDetail({ ctx: ctx(), eventId: 1n }).then(() =>
      promoteEvent({ ctx: ctx(), input: { eventId: 123_456_789n, state: 'Down' } }).catch((error: unknown) => error),
    )
    expect(notFound).toBeInstanceOf(EventNotFoundError)
    expect(notFound).toMatchObject({ name: 'EventNotFoundError', code: 'EVENT_NOT_FOUND', eventId: 123_456_789n })
    expect((notFound as Error).message).toContain('123456789')

    const badCursor = await listEvents({ ctx: ctx(), cursor: '%%%' }).catch((error: unknown) => error)
    expect(badCursor).toBeInstanceOf(InvalidCursorError)
    expect((badCursor as Error).cause).toBeInstanceOf(SyntaxError)
    expect(isEventStoreError(badCursor)).toBe(true)
    expect(isEventStoreError(new Error('other'))).toBe(false)
  })
})
