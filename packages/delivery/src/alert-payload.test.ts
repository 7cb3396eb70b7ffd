import { type AlertNotification, alertSummary } from '@jetmon/alerting'
import { describe, expect, it } from 'vitest'
import { alertDeliveryPayload, alertNotificationFromPayload } from './alert-payload.js'

const notification: AlertNotification = {
  match: 'trigger',
  event: {
    id: 12n,
    checkType: 'http',
    state: 'Down',
    severity: 4,
    startedAt: new Date('2030-01-01T10:00:00.000Z'),
    endedAt: null,
    resolutionReason: null,
  },
  transition: {
    id: 9_007_199_254_740_993n,
    reason: 'verifier_confirmed',
    changedAt: new Date('2030-01-01T10:00:40.000Z'),
  },
  site: { blogId: 9_100_000_000_000_001n, endpointId: 7n, monitorUrl: 'https://example.com/' },
  cause: {
    errorName: 'connect_refused',
    errorDetail: null,
    httpCode: null,
    votes: [{ veriflier: 'v-eu', region: 'eu', success: false, http_code: null, error_code: 2, rtt_ms: null }],
  },
  contactLabel: 'Ops',
}
const facts = { stateBefore: 'Seems Down', stateAfter: 'Down', severityBefore: 3, severityAfter: 4 }

describe('alert delivery payload', () => {
  it('survives JSON and reads back into the same notification', () => {
    const payload = JSON.parse(JSON.stringify(alertDeliveryPayload(notification, facts)))
    expect(payload.transition.id).toBe('9007199254740993') // beyond 2^53: a string
    expect(payload.event.id).toBe(12)
    expect(alertNotificationFromPayload(payload)).toEqual(notification)
    expect(alertSummary(alertNotificationFromPayload(payload))).toBe(alertSummary(notification))
  })

  it('refuses a payload that is not one this release wrote, naming the field', () => {
    const payload = JSON.parse(JSON.stringify(alertDeliveryPayload(notification, facts)))
    delete payload.event.started_at
    expect(() => alertNotificationFromPayload(payload)).toThrow(
      expect.objectContaining({
        code: 'INVALID_PAYLOAD',
        message: expect.stringMatching(/^payload\.event\.started_at must be/),
      }),
    )
    expect(() => alertNotificationFromPayload({ match: 'later' })).toThrow(/payload\.match must be trigger or recovery/)
  })
})
