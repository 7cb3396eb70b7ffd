import type { AlertMatch, AlertNotification, VeriflierVote } from '@jetmon/alerting'
import { type JsonId, jsonId } from '@jetmon/webhooks'
import { InvalidPayloadError } from './errors.js'

/**
 * The frozen payload of an alert delivery (`jetmon_alert_deliveries.payload`): everything the
 * message needs, as it was when the transition was dispatched, so a retry hours later says the same
 * thing. Ids follow docs/api.md (a number up to 2^53, else a decimal string); times are RFC 3339 UTC.
 */
export interface AlertDeliveryPayload {
  match: AlertMatch
  event: {
    id: JsonId
    check_type: string
    state: string
    severity: number
    started_at: string
    ended_at: string | null
    resolution_reason: string | null
  }
  transition: {
    id: JsonId
    reason: string
    changed_at: string
    state_before: string | null
    state_after: string | null
    severity_before: number | null
    severity_after: number | null
  }
  site: { blog_id: JsonId; endpoint_id: JsonId | null; monitor_url: string }
  cause: {
    error_name: string | null
    error_detail: string | null
    http_code: number | null
    votes: VeriflierVote[] | null
  } | null
  contact_label: string | null
}

/** Transition facts kept in the payload beyond what {@link AlertNotification} carries (for people reading the row). */
export interface AlertTransitionFacts {
  stateBefore: string | null
  stateAfter: string | null
  severityBefore: number | null
  severityAfter: number | null
}

/** The payload for a notification (see {@link AlertDeliveryPayload}). */
export function alertDeliveryPayload(
  notification: AlertNotification,
  facts: AlertTransitionFacts,
): AlertDeliveryPayload {
  const { event, transition, site, cause } = notification
  return {
    match: notification.match,
    event: {
      id: jsonId(event.id),
      check_type: event.checkType,
      state: event.state,
      severity: event.severity,
      started_at: event.startedAt.toISOString(),
      ended_at: event.endedAt?.toISOString() ?? null,
      resolution_reason: event.resolutionReason,
    },
    transition: {
      id: jsonId(transition.id),
      reason: transition.reason,
      changed_at: transition.changedAt.toISOString(),
      state_before: facts.stateBefore,
      state_after: facts.stateAfter,
      severity_before: facts.severityBefore,
      severity_after: facts.severityAfter,
    },
    site: {
      blog_id: jsonId(site.blogId),
      endpoint_id: site.endpointId === null ? null : jsonId(site.endpointId),
      monitor_url: site.monitorUrl,
    },
    cause: cause
      ? {
          error_name: cause.errorName ?? null,
          error_detail: cause.errorDetail ?? null,
          http_code: cause.httpCode ?? null,
          votes: cause.votes ? [...cause.votes] : null,
        }
      : null,
    contact_label: notification.contactLabel ?? null,
  }
}

/**
 * Reads a stored alert payload back into the notification the senders render.
 *
 * @throws {InvalidPayloadError} (`INVALID_PAYLOAD`) when a field is missing or of the wrong type.
 */
export function alertNotificationFromPayload(payload: unknown): AlertNotification {
  const root = object(payload, 'payload')
  const match = root.match
  if (match !== 'trigger' && match !== 'recovery') throw invalid('payload.match', 'trigger or recovery')
  const event = object(root.event, 'payload.event')
  const transition = object(root.transition, 'payload.transition')
  const site = object(root.site, 'payload.site')
  const notification: AlertNotification = {
    match,
    event: {
      id: id(event.id, 'payload.event.id'),
      checkType: string(event.check_type, 'payload.event.check_type'),
      state: string(event.state, 'payload.event.state'),
      severity: number(event.severity, 'payload.event.severity'),
      startedAt: time(event.started_at, 'payload.event.started_at'),
      endedAt: event.ended_at === null ? null : time(event.ended_at, 'payload.event.ended_at'),
      resolutionReason:
        event.resolution_reason === null ? null : string(event.resolution_reason, 'payload.event.resolution_reason'),
    },
    transition: {
      id: id(transition.id, 'payload.transition.id'),
      reason: string(transition.reason, 'payload.transition.reason'),
      changedAt: time(transition.changed_at, 'payload.transition.changed_at'),
    },
    site: {
      blogId: id(site.blog_id, 'payload.site.blog_id'),
      endpointId: site.endpoint_id === null ? null : id(site.endpoint_id, 'payload.site.endpoint_id'),
      monitorUrl: string(site.monitor_url, 'payload.site.monitor_url'),
    },
  }
  if (root.cause !== null && root.cause !== undefined) {
    const cause = object(root.cause, 'payload.cause')
    notification.cause = {
      errorName: (cause.error_name as string | null) ?? null,
      errorDetail: (cause.error_detail as string | null) ?? null,
      httpCode: (cause.http_code as number | null) ?? null,
      votes: Array.isArray(cause.votes) ? (cause.votes as VeriflierVote[]) : null,
    }
  }
  if (typeof root.contact_label === 'string') notification.contactLabel = root.contact_label
  return notification
}

function invalid(path: string, expected: string): InvalidPayloadError {
  return new InvalidPayloadError(
    `${path} must be ${expected}: the delivery's stored payload is not one this release wrote`,
  )
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'an object')
  return value as Record<string, unknown>
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'a string')
  return value
}

function number(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, 'a number')
  return value
}

function id(value: unknown, path: string): bigint {
  if (
    (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 53) ||
    (typeof value === 'string' && /^\d+$/.test(value))
  ) {
    return BigInt(value)
  }
  throw invalid(path, 'an id (a number or a decimal string)')
}

function time(value: unknown, path: string): Date {
  const date = typeof value === 'string' ? new Date(value) : null
  if (!date || Number.isNaN(date.getTime())) throw invalid(path, 'an RFC 3339 time')
  return date
}
