import { events, eventTransitions } from '@jetmon/db'
import type { Column } from 'drizzle-orm'
import type { Event, Transition } from './types.js'
import type { ClosingReason, EventState, Resolved, Severity, TransitionReason } from './vocabulary.js'

/** The event columns we read: everything but the generated `dedup_key`. */
export const eventColumns = {
  id: events.id,
  blogId: events.blogId,
  endpointId: events.endpointId,
  checkType: events.checkType,
  discriminator: events.discriminator,
  severity: events.severity,
  state: events.state,
  startedAt: events.startedAt,
  endedAt: events.endedAt,
  resolutionReason: events.resolutionReason,
  causeEventId: events.causeEventId,
  metadata: events.metadata,
  updatedAt: events.updatedAt,
}

export const transitionColumns = {
  id: eventTransitions.id,
  eventId: eventTransitions.eventId,
  blogId: eventTransitions.blogId,
  endpointId: eventTransitions.endpointId,
  severityBefore: eventTransitions.severityBefore,
  severityAfter: eventTransitions.severityAfter,
  stateBefore: eventTransitions.stateBefore,
  stateAfter: eventTransitions.stateAfter,
  reason: eventTransitions.reason,
  source: eventTransitions.source,
  metadata: eventTransitions.metadata,
  changedAt: eventTransitions.changedAt,
}

type EventRow = { [K in keyof typeof eventColumns]: (typeof eventColumns)[K]['_']['data'] | null }
type TransitionRow = { [K in keyof typeof transitionColumns]: (typeof transitionColumns)[K]['_']['data'] | null }

// The store is the only writer of both tables, so stored values are trusted to be in the vocabulary.
export function toEvent(row: EventRow): Event {
  return {
    id: row.id!,
    blogId: row.blogId!,
    endpointId: row.endpointId,
    checkType: row.checkType!,
    discriminator: row.discriminator,
    severity: row.severity as Severity,
    state: row.state as EventState,
    startedAt: row.startedAt!,
    endedAt: row.endedAt,
    resolutionReason: row.resolutionReason as ClosingReason | null,
    causeEventId: row.causeEventId,
    metadata: row.metadata,
    updatedAt: row.updatedAt!,
  }
}

export function toTransition(row: TransitionRow): Transition {
  return {
    id: row.id!,
    eventId: row.eventId!,
    blogId: row.blogId!,
    endpointId: row.endpointId,
    severityBefore: row.severityBefore as Severity | null,
    severityAfter: row.severityAfter as Severity | null,
    stateBefore: row.stateBefore as EventState | null,
    stateAfter: row.stateAfter as EventState | Resolved | null,
    reason: row.reason as TransitionReason,
    source: row.source!,
    metadata: row.metadata,
    changedAt: row.changedAt!,
  }
}

/**
 * Decodes a row fetched with raw SQL (`SELECT … LOCK IN SHARE MODE`, which the query builder
 * cannot express for MariaDB) through the columns' own driver mappings.
 */
export function decodeRaw<T extends Record<string, Column>>(
  columns: T,
  raw: Record<string, unknown>,
): { [K in keyof T]: T[K]['_']['data'] | null } {
  const out: Record<string, unknown> = {}
  for (const [key, column] of Object.entries(columns)) {
    const value = raw[column.name]
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return out as { [K in keyof T]: T[K]['_']['data'] | null }
}
