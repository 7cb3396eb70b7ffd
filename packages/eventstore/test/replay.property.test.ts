import { manualClock, useTestDatabase } from '@jetmon/testkit'
/**
 * Invariant 5, property-tested: after any sequence of operations, replaying each event's
 * transitions in id order reproduces its severity and state, and a model of the expected
 * outcome (what changed, what was a no-op, what was refused) agrees with the database.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import {
  CLOSING_REASONS,
  type ClosingReason,
  closeEvent,
  EVENT_STATES,
  type EventState,
  getEventDetail,
  linkEventCause,
  nominalSeverity,
  openEvent,
  promoteEvent,
  replayTransitions,
  type Severity,
  unlinkEventCause,
  updateEventSeverity,
  updateEventState,
} from '../src/index.js'
import { contextFor, countRows, newBlogId } from './_helpers.js'

const database = useTestDatabase()

const state = fc.constantFrom(...EVENT_STATES)
const severity = fc.constantFrom<Severity>(1, 2, 3, 4)
const target = fc.nat(20)
const operation = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      identity: fc.nat(3),
      state,
      severity: fc.option(severity),
    }),
    weight: 3,
  },
  fc.record({
    kind: fc.constant('promote' as const),
    target,
    state: fc.option(state),
    severity: fc.option(severity),
  }),
  fc.record({ kind: fc.constant('severity' as const), target, severity }),
  fc.record({ kind: fc.constant('state' as const), target, state }),
  fc.record({ kind: fc.constant('link' as const), target, cause: target }),
  fc.record({ kind: fc.constant('unlink' as const), target }),
  fc.record({ kind: fc.constant('close' as const), target, reason: fc.constantFrom(...CLOSING_REASONS) }),
)

interface Modelled {
  id: bigint
  identity: number
  severity: Severity
  state: EventState
  closed: ClosingReason | null
  cause: bigint | null
}

const identities = ['http', 'tls_expiry', 'latency', 'dns'] as const

/** Whether following `cause`'s chain of causes in the model reaches `eventId`. */
function formsCycle(model: Modelled[], eventId: bigint, cause: Modelled): boolean {
  const seen = new Set<bigint>()
  let next: Modelled | undefined = cause
  while (next && next.cause !== null && !seen.has(next.id)) {
    if (next.cause === eventId) return true
    seen.add(next.id)
    const causeId: bigint = next.cause
    next = model.find((candidate) => candidate.id === causeId)
  }
  return false
}

it('replaying every event’s transitions reproduces its severity and state', async () => {
  const totals = { events: 0, transitions: 0, closed: 0, refused: 0, cycles: 0 }
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40, size: 'max' }), async (operations) => {
      const blogId = newBlogId()
      const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
      const ctx = contextFor(database().db, { clock: time.now, projection: true })
      const model: Modelled[] = []
      let expectedTransitions = 0

      for (const op of operations) {
        time.advance(1_000)
        if (op.kind === 'open') {
          const open = model.find((event) => event.identity === op.identity && event.closed === null)
          const result = await openEvent({
            ctx,
            input: {
              blogId,
              endpointId: 1n,
              checkType: identities[op.identity]!,
              state: op.state,
              ...(op.severity === null ? {} : { severity: op.severity }),
            },
          })
          expect(result.opened).toBe(open === undefined)
          if (open) {
            expect(result.event.id).toBe(open.id)
          } else {
            expectedTransitions++
            model.push({
              id: result.event.id,
              identity: op.identity,
              severity: op.severity ?? nominalSeverity(op.state),
              state: op.state,
              closed: null,
              cause: null,
            })
          }
          continue
        }
        const event = model.length === 0 ? undefined : model[op.target % model.length]
        if (!event) continue
        let next: { severity: Severity; state: EventState; cause: bigint | null; closed: ClosingReason | null }
        let attempt: () => Promise<{ changed: boolean }>
        switch (op.kind) {
          case 'promote': {
            if (op.state === null && op.severity === null) continue
            const nextState = op.state ?? event.state
            const nextSeverity = op.severity ?? (op.state !== null ? nominalSeverity(op.state) : event.severity)
            next = { ...event, state: nextState, severity: nextSeverity }
            attempt = () =>
              promoteEvent({
                ctx,
                input: {
                  eventId: event.id,
                  ...(op.state === null ? {} : { state: op.state }),
                  ...(op.severity === null ? {} : { severity: op.severity }),
                },
              })
            break
          }
          case 'severity':
            next = { ...event, severity: op.severity }
            attempt = () => updateEventSeverity({ ctx, input: { eventId: event.id, severity: op.severity } })
            break
          case 'state':
            next = { ...event, state: op.state }
            attempt = () => updateEventState({ ctx, input: { eventId: event.id, state: op.state } })
            break
          case 'link': {
            const cause = model[op.cause % model.length]!
            // Self-links are refused before the event is read; leave them to the unit tests.
            if (cause.id === event.id) continue
            next = { ...event, cause: cause.id }
            attempt = () => linkEventCause({ ctx, input: { eventId: event.id, causeEventId: cause.id } })
            if (event.closed === null && event.cause !== cause.id && formsCycle(model, event.id, cause)) {
              // Any chain of causes leading back to the event, however long, is refused and writes nothing.
              await expect(attempt()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
              totals.cycles++
              continue
            }
            break
          }
          case 'unlink':
            next = { ...event, cause: null }
            attempt = () => unlinkEventCause({ ctx, input: { eventId: event.id } })
            break
          case 'close':
            next = { ...event, closed: op.reason }
            attempt = () => closeEvent({ ctx, input: { eventId: event.id, reason: op.reason } })
            break
        }
        if (event.closed !== null) {
          await expect(attempt()).rejects.toMatchObject({ code: 'EVENT_CLOSED' })
          totals.refused++
          continue
        }
        const changed =
          next.severity !== event.severity ||
          next.state !== event.state ||
          next.cause !== event.cause ||
          next.closed !== event.closed
        const result = await attempt()
        expect(result.changed).toBe(changed)
        if (changed) expectedTransitions++
        Object.assign(event, next)
      }

      expect(await countRows(database().db, blogId)).toEqual({
        events: model.length,
        transitions: expectedTransitions,
      })
      totals.events += model.length
      totals.transitions += expectedTransitions
      totals.closed += model.filter((event) => event.closed !== null).length
      for (const event of model) {
        const detail = await getEventDetail({ ctx, eventId: event.id })
        expect(detail).not.toBeNull()
        const { event: row, transitions } = detail!
        const replayed = replayTransitions(transitions)
        expect(replayed).toEqual({
          severity: row.severity,
          state: row.state,
          closed: row.endedAt !== null,
          resolutionReason: row.resolutionReason,
        })
        expect(row).toMatchObject({ severity: event.severity, state: event.state, causeEventId: event.cause })
        expect(row.resolutionReason).toBe(event.closed)
        if (event.closed !== null) {
          // Closed: the last transition is the Resolved one, the row keeps its last state.
          expect(transitions.at(-1)).toMatchObject({
            stateAfter: 'Resolved',
            severityAfter: null,
            stateBefore: row.state,
            severityBefore: row.severity,
            reason: event.closed,
          })
        }
      }
    }),
    { numRuns: 80 },
  )
  // The generated sequences really exercised the store (not only no-ops and refusals).
  expect(totals.transitions).toBeGreaterThan(totals.events)
  expect(totals.closed).toBeGreaterThan(0)
  expect(totals.refused).toBeGreaterThan(0)
}, 120_000)
