import { describe, expect, it } from 'vitest'
import { formatDuration, humanTime } from './notification.js'
import { type PagerDutyEventInput, pagerDutyEvent, pagerDutySeverity } from './pagerduty.js'

const KEY = 'a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6'

const trigger: PagerDutyEventInput = {
  integrationKey: KEY,
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
  eventUrl: 'https://jetmon.example/events/5',
}

describe('pagerDutyEvent', () => {
  it('builds a trigger with the Events API v2 shape', () => {
    expect(pagerDutyEvent(trigger)).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'jetmon-event-5',
      payload: {
        summary:
          'Down: https://example.com/ — connect_timeout: no answer within 10 s; 2 of 3 verifliers saw it down (since 2026-05-01 10:00:00 UTC)',
        source: 'https://example.com/',
        severity: 'critical',
        timestamp: '2026-05-01T10:01:10.000Z',
        component: 'http',
        group: 'blog 42',
        class: 'verifier_confirmed',
        custom_details: {
          state: 'Down',
          severity: 'Down',
          check_type: 'http',
          reason: 'verifier_confirmed',
          monitor_url: 'https://example.com/',
          blog_id: 42,
          endpoint_id: 12,
          event_id: 5,
          transition_id: 77,
          started_at: '2026-05-01T10:00:00.000Z',
          error: 'connect_timeout: no answer within 10 s',
          veriflier_votes: trigger.cause?.votes,
          event_url: 'https://jetmon.example/events/5',
        },
      },
      client: 'Jetmon',
      client_url: 'https://jetmon.example/events/5',
      links: [{ href: 'https://jetmon.example/events/5', text: 'Open the event in Jetmon' }],
    })
  })

  it('resolves the same incident on recovery and says how long it was down', () => {
    const body = pagerDutyEvent({
      ...trigger,
      match: 'recovery',
      event: { ...trigger.event, endedAt: new Date('2026-05-01T10:12:05.000Z'), resolutionReason: 'verifier_cleared' },
      transition: { id: 78n, reason: 'verifier_cleared', changedAt: new Date('2026-05-01T10:12:05.000Z') },
      cause: undefined,
    })
    expect(body.event_action).toBe('resolve')
    expect(body.dedup_key).toBe('jetmon-event-5')
    expect(body.payload.summary).toBe('Recovered: https://example.com/ — Down for 12m 5s')
    expect(body.payload.custom_details).toMatchObject({ ended_at: '2026-05-01T10:12:05.000Z', duration: '12m 5s' })
  })

  it.each([
    [
      'false_alarm',
      'Seems Down',
      'Resolved: https://example.com/ — Seems Down for 12m 5s; false alarm: the verifliers found it up',
    ],
    ['manual_override', 'Down', 'Closed: https://example.com/ — Down for 12m 5s; closed by an operator'],
    ['maintenance_swallowed', 'Down', 'Closed: https://example.com/ — Down for 12m 5s; a maintenance window began'],
    ['probe_cleared', 'Seems Down', 'Recovered: https://example.com/ — Seems Down for 12m 5s'],
  ])('recovery summary for %s', (reason, state, summary) => {
    const body = pagerDutyEvent({
      ...trigger,
      match: 'recovery',
      event: { ...trigger.event, state, endedAt: null },
      transition: { id: 78n, reason, changedAt: new Date('2026-05-01T10:12:05.000Z') },
    })
    expect(body.payload.summary).toBe(summary)
  })

  it('tags advisory check types and handles a site-level event without a link', () => {
    const body = pagerDutyEvent({
      integrationKey: KEY,
      match: 'trigger',
      event: { ...trigger.event, checkType: 'tls_expiry', state: 'Warning', severity: 1 },
      transition: { id: 9n, reason: 'opened', changedAt: new Date('2026-05-01T10:00:00.000Z') },
      site: { blogId: 9_007_199_254_740_993n, endpointId: null, monitorUrl: 'https://example.com/' },
      cause: { errorDetail: 'certificate expires in 12 days' },
    })
    expect(body.payload.summary).toBe(
      'Warning: https://example.com/ [tls_expiry] — certificate expires in 12 days (since 2026-05-01 10:00:00 UTC)',
    )
    expect(body.payload.severity).toBe('info')
    expect(body.payload.custom_details).toMatchObject({ blog_id: '9007199254740993', endpoint_id: null })
    expect(body).not.toHaveProperty('links')
    expect(body).not.toHaveProperty('client_url')
  })

  it('falls back to the HTTP status when there is no error name', () => {
    const body = pagerDutyEvent({ ...trigger, cause: { httpCode: 503 } })
    expect(body.payload.summary).toBe('Down: https://example.com/ — HTTP 503 (since 2026-05-01 10:00:00 UTC)')
    expect(body.payload.custom_details).toMatchObject({ error: 'HTTP 503', http_code: 503 })
  })

  it('keeps the summary within PagerDuty’s 1024 characters', () => {
    const long = `https://example.com/${'a'.repeat(2000)}`
    const body = pagerDutyEvent({ ...trigger, site: { ...trigger.site, monitorUrl: long } })
    expect(body.payload.summary).toHaveLength(1024)
    expect(body.payload.summary.endsWith('…')).toBe(true)
  })

  it('serializes to JSON (no bigints left)', () => {
    expect(() => JSON.stringify(pagerDutyEvent(trigger))).not.toThrow()
  })
})

describe('pagerDutySeverity', () => {
  it.each([
    [4, 'critical'],
    [3, 'critical'],
    [2, 'warning'],
    [1, 'info'],
    [0, 'info'],
  ])('%i ⇒ %s', (severity, expected) => {
    expect(pagerDutySeverity(severity)).toBe(expected)
  })
})

describe('formatDuration / humanTime', () => {
  it.each([
    [0, '0s'],
    [-5000, '0s'],
    [44_600, '45s'],
    [60_000, '1m'],
    [725_000, '12m 5s'],
    [3_600_000, '1h'],
    [11_040_000, '3h 4m'],
    [86_400_000 * 2 + 3_600_000 * 5, '2d 5h'],
    [86_400_000 * 3, '3d'],
  ])('%i ms ⇒ %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('writes UTC times without milliseconds', () => {
    expect(humanTime(new Date('2026-05-01T10:00:00.999Z'))).toBe('2026-05-01 10:00:00 UTC')
  })
})
