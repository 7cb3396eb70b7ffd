import { describe, expect, it } from 'vitest'
import { causeOf, type EventRow, eventAfterTransition, type TransitionRow } from './_snapshot.js'

const event: EventRow = {
  id: 5n,
  checkType: 'http',
  state: 'Down', // as the dispatcher finds it, later
  severity: 4,
  startedAt: new Date('2030-01-01T10:00:00.000Z'),
  metadata: {
    check: { error: 'http_5xx', detail: 'HTTP 503 from the origin', http_code: 503 },
    confirmation: {
      votes: [
        { veriflier: 'v-eu', region: 'eu', success: false, http_code: 503, error_code: 0, rtt_ms: 80 },
        { veriflier: 'broken' }, // not a vote: dropped
      ],
    },
  },
}

function transition(overrides: Partial<TransitionRow>): TransitionRow {
  return {
    id: 9n,
    eventId: 5n,
    blogId: 1n,
    endpointId: 2n,
    severityBefore: null,
    severityAfter: 3,
    stateBefore: null,
    stateAfter: 'Seems Down',
    reason: 'opened',
    source: 'monitor:h',
    metadata: null,
    changedAt: new Date('2030-01-01T10:00:00.000Z'),
    ...overrides,
  }
}

describe('eventAfterTransition', () => {
  it('takes state and severity from the transition, not from the event row', () => {
    expect(eventAfterTransition(event, transition({}))).toMatchObject({
      state: 'Seems Down',
      severity: 3,
      endedAt: null,
      resolutionReason: null,
    })
  })

  it('keeps the state a close came from, and ends the event at the transition', () => {
    const closedAt = new Date('2030-01-01T10:20:00.000Z')
    const close = transition({
      reason: 'verifier_cleared',
      stateBefore: 'Down',
      stateAfter: 'Resolved',
      severityBefore: 4,
      severityAfter: null,
      changedAt: closedAt,
    })
    expect(eventAfterTransition(event, close)).toEqual({
      id: 5n,
      checkType: 'http',
      state: 'Down',
      severity: 4,
      startedAt: event.startedAt,
      endedAt: closedAt,
      resolutionReason: 'verifier_cleared',
    })
  })
})

describe('causeOf', () => {
  it('prefers what the transition recorded, then the evidence on the event', () => {
    expect(
      causeOf(event, transition({ metadata: { error: 'connect_timeout', detail: 'no answer within 10 s' } })),
    ).toEqual({
      errorName: 'connect_timeout',
      errorDetail: 'no answer within 10 s',
      httpCode: 503,
      votes: [{ veriflier: 'v-eu', region: 'eu', success: false, http_code: 503, error_code: 0, rtt_ms: 80 }],
    })
    expect(causeOf(event, transition({}))).toMatchObject({
      errorName: 'http_5xx',
      errorDetail: 'HTTP 503 from the origin',
    })
  })

  it('is null when nothing is known', () => {
    expect(causeOf({ ...event, metadata: null }, transition({}))).toBeNull()
  })
})
