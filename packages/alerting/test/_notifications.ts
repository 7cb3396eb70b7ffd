import type { AlertNotification } from '../src/notification.js'

/** A confirmed Down of https://example.com/ with a cause and three veriflier votes. */
export const downNotification: AlertNotification = {
  match: 'trigger',
  event: {
    id: 5n,
    checkType: 'http',
    state: 'Down',
    severity: 4,
    startedAt: new Date('2026-05-01T10:00:00.000Z'),
    endedAt: null,
    resolutionReason: null,
  },
  transition: { id: 77n, reason: 'verifier_confirmed', changedAt: new Date('2026-05-01T10:01:10.000Z') },
  site: { blogId: 42n, endpointId: 12n, monitorUrl: 'https://example.com/' },
  cause: {
    errorName: 'connect_timeout',
    errorDetail: 'no answer within 10 s',
    votes: [
      { veriflier: 'v-eu', region: 'eu', success: false, http_code: null, error_code: 7, rtt_ms: null },
      { veriflier: 'v-us', region: 'us', success: false, http_code: null, error_code: 7, rtt_ms: null },
      { veriflier: 'v-ap', region: 'ap', success: true, http_code: 200, error_code: 0, rtt_ms: 120 },
    ],
  },
}

/** The recovery of {@link downNotification}, 12m 5s after it started. */
export const recoveryNotification: AlertNotification = {
  ...downNotification,
  match: 'recovery',
  event: {
    ...downNotification.event,
    endedAt: new Date('2026-05-01T10:12:05.000Z'),
    resolutionReason: 'verifier_cleared',
  },
  transition: { id: 78n, reason: 'verifier_cleared', changedAt: new Date('2026-05-01T10:12:05.000Z') },
}
