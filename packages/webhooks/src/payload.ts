import { type JsonId, jsonId } from '@jetmon/vocabulary'
import { UnknownTransitionReasonError } from './errors.js'
import { eventTypeForReason, type WebhookEventType } from './event-types.js'

/** The JSON body of a webhook delivery (docs/webhooks.md), frozen into the delivery row at dispatch. */
export interface WebhookPayload {
  id: JsonId
  type: WebhookEventType
  /** The transition's time, RFC 3339 UTC with milliseconds. */
  occurred_at: string
  transition: {
    id: JsonId
    reason: string
    source: string
    state_before: string | null
    state_after: string | null
    severity_before: number | null
    severity_after: number | null
  }
  event: {
    id: JsonId
    check_type: string
    state: string
    severity: number
    started_at: string
    ended_at: string | null
    resolution_reason: string | null
  }
  site: {
    blog_id: JsonId
    endpoint_id: JsonId | null
    monitor_url: string
  }
}

/** The rows a payload is built from, as `@jetmon/db` reads them (ids as bigints, times as Dates). */
export interface BuildWebhookPayloadInput {
  /** The delivery row's id (receivers deduplicate on it). */
  deliveryId: bigint
  transition: {
    id: bigint
    reason: string
    source: string
    stateBefore: string | null
    stateAfter: string | null
    severityBefore: number | null
    severityAfter: number | null
    changedAt: Date
  }
  /** The event as it was right after the transition. */
  event: {
    id: bigint
    checkType: string
    state: string
    severity: number
    startedAt: Date
    endedAt: Date | null
    resolutionReason: string | null
  }
  site: {
    blogId: bigint
    endpointId: bigint | null
    monitorUrl: string
  }
}

/**
 * The payload of docs/webhooks.md, exactly: snake_case keys in the documented order, ids through
 * {@link jsonId}, times as RFC 3339 UTC with milliseconds, absent values as `null`.
 *
 * @throws {UnknownTransitionReasonError} when the reason has no event type (dispatch filters
 *   those out first; see `eventTypeForReason`).
 */
export function buildWebhookPayload({ deliveryId, transition, event, site }: BuildWebhookPayloadInput): WebhookPayload {
  const type = eventTypeForReason(transition.reason)
  if (type === null) throw new UnknownTransitionReasonError(transition.reason)
  return {
    id: jsonId(deliveryId),
    type,
    occurred_at: transition.changedAt.toISOString(),
    transition: {
      id: jsonId(transition.id),
      reason: transition.reason,
      source: transition.source,
      state_before: transition.stateBefore,
      state_after: transition.stateAfter,
      severity_before: transition.severityBefore,
      severity_after: transition.severityAfter,
    },
    event: {
      id: jsonId(event.id),
      check_type: event.checkType,
      state: event.state,
      severity: event.severity,
      started_at: event.startedAt.toISOString(),
      ended_at: event.endedAt === null ? null : event.endedAt.toISOString(),
      resolution_reason: event.resolutionReason,
    },
    site: {
      blog_id: jsonId(site.blogId),
      endpoint_id: site.endpointId === null ? null : jsonId(site.endpointId),
      monitor_url: site.monitorUrl,
    },
  }
}
