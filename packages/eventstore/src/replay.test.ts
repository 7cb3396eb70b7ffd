import { describe, expect, it } from 'vitest'
import { replayTransitions } from './replay.js'
import type { Transition } from './types.js'

let nextId = 100n
const transition = (fields: Partial<Transition>): Transition => ({
  id: nextId++,
  eventId: 1n,
  blogId: 7n,
  endpointId: 3n,
  severityBefore: null,
  severityAfter: 3,
  stateBefore: null,
  stateAfter: 'Seems Down',
  reason: 'opened',
  source: 'system',
  metadata: null,
  changedAt: new Date(0),
  ...fields,
})

describe('replayTransitions', () => {
  const opened = transition({})
  const confirmed = transition({
    severityBefore: 3,
    severityAfter: 4,
    stateBefore: 'Seems Down',
    stateAfter: 'Down',
    reason: 'verifier_confirmed',
  })
  const closed = transition({
    severityBefore: 4,
    severityAfter: null,
    stateBefore: 'Down',
    stateAfter: 'Resolved',
    reason: 'verifier_cleared',
  })

  it('rebuilds the last state, in id order whatever the input order', () => {
    expect(replayTransitions([])).toBeNull()
    expect(replayTransitions([confirmed, opened])).toEqual({
      severity: 4,
      state: 'Down',
      closed: false,
      resolutionReason: null,
    })
    expect(replayTransitions([closed, opened, confirmed])).toEqual({
      severity: 4,
      state: 'Down',
      closed: true,
      resolutionReason: 'verifier_cleared',
    })
  })

  it('starts an adopted incident (taken over from v1) like an opened one', () => {
    const adopted = transition({ severityAfter: 4, stateAfter: 'Down', reason: 'adopted' })
    const recovered = transition({
      severityBefore: 4,
      severityAfter: null,
      stateBefore: 'Down',
      stateAfter: 'Resolved',
      reason: 'verifier_cleared',
    })
    expect(replayTransitions([recovered, adopted])).toEqual({
      severity: 4,
      state: 'Down',
      closed: true,
      resolutionReason: 'verifier_cleared',
    })
    // An adoption starts from nothing: it cannot follow an open.
    expect(() => replayTransitions([opened, transition({ reason: 'adopted' })])).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    )
  })

  it('refuses broken histories', () => {
    const broken = [
      [confirmed], // no `opened`
      [opened, closed], // closes from Down, but the event was Seems Down
      [opened, confirmed, closed, transition({ severityBefore: 4, stateBefore: 'Down', reason: 'state_change' })],
      [
        opened,
        transition({ severityBefore: 3, stateBefore: 'Seems Down', stateAfter: 'Resolved', reason: 'state_change' }),
      ],
      [
        opened,
        transition({ severityBefore: 3, stateBefore: 'Seems Down', severityAfter: null, reason: 'state_change' }),
      ],
    ]
    for (const history of broken) {
      expect(() => replayTransitions(history)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }))
    }
  })
})
