import { describe, expect, it } from 'vitest'
import { type BuildWebhookPayloadInput, buildWebhookPayload } from './payload.js'

const input: BuildWebhookPayloadInput = {
  deliveryId: 9001n,
  transition: {
    id: 77n,
    reason: 'verifier_cleared',
    source: 'monitor:host-a',
    stateBefore: 'Down',
    stateAfter: 'Resolved',
    severityBefore: 4,
    severityAfter: null,
    changedAt: new Date('2026-05-01T10:12:05.123Z'),
  },
  event: {
    id: 5n,
    checkType: 'http',
    state: 'Down',
    severity: 4,
    startedAt: new Date('2026-05-01T10:00:00Z'),
    endedAt: new Date('2026-05-01T10:12:05.123Z'),
    resolutionReason: 'verifier_cleared',
  },
  site: { blogId: 9_007_199_254_740_993n, endpointId: 12n, monitorUrl: 'https://example.com/' },
}

describe('buildWebhookPayload', () => {
  it('produces the frozen shape of docs/webhooks.md exactly', () => {
    const payload = buildWebhookPayload(input)
    // Serialized, so key order and JSON types are checked too.
    expect(JSON.stringify(payload)).toBe(
      JSON.stringify({
        id: 9001,
        type: 'event.closed',
        occurred_at: '2026-05-01T10:12:05.123Z',
        transition: {
          id: 77,
          reason: 'verifier_cleared',
          source: 'monitor:host-a',
          state_before: 'Down',
          state_after: 'Resolved',
          severity_before: 4,
          severity_after: null,
        },
        event: {
          id: 5,
          check_type: 'http',
          state: 'Down',
          severity: 4,
          started_at: '2026-05-01T10:00:00.000Z',
          ended_at: '2026-05-01T10:12:05.123Z',
          resolution_reason: 'verifier_cleared',
        },
        site: { blog_id: '9007199254740993', endpoint_id: 12, monitor_url: 'https://example.com/' },
      }),
    )
  })

  it('writes nulls for an open event and a site-level event', () => {
    const payload = buildWebhookPayload({
      ...input,
      transition: {
        ...input.transition,
        reason: 'opened',
        stateBefore: null,
        stateAfter: 'Seems Down',
        severityBefore: null,
        severityAfter: 3,
      },
      event: { ...input.event, state: 'Seems Down', severity: 3, endedAt: null, resolutionReason: null },
      site: { ...input.site, endpointId: null },
    })
    expect(payload.type).toBe('event.opened')
    expect(payload.event.ended_at).toBeNull()
    expect(payload.event.resolution_reason).toBeNull()
    expect(payload.site.endpoint_id).toBeNull()
    expect(payload.transition.state_before).toBeNull()
  })

  it('uses strings for every id beyond 2^53', () => {
    const big = 2n ** 60n
    const payload = buildWebhookPayload({
      ...input,
      deliveryId: big,
      transition: { ...input.transition, id: big + 1n },
      event: { ...input.event, id: big + 2n },
      site: { ...input.site, endpointId: big + 3n },
    })
    expect([payload.id, payload.transition.id, payload.event.id, payload.site.endpoint_id]).toEqual([
      '1152921504606846976',
      '1152921504606846977',
      '1152921504606846978',
      '1152921504606846979',
    ])
  })

  it('refuses a reason with no event type', () => {
    expect(() => buildWebhookPayload({ ...input, transition: { ...input.transition, reason: 'mystery' } })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TRANSITION_REASON', reason: 'mystery' }),
    )
  })
})
