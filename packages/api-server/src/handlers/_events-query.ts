/**
 * Event reads of the API: the filtered, tenant-aware event list, site existence, and the wire form
 * of events and transitions.
 */
import type { EventDetail, EventResource, TransitionResource } from '@jetmon/api-client'
import { jsonId } from '@jetmon/api-client'
import type { DbOrTx } from '@jetmon/db'
import { events, monitorSites, siteTenants } from '@jetmon/db'
import type { Event, EventFilter, EventState, Transition } from '@jetmon/eventstore'
import { eventColumns, severityName, toEvent } from '@jetmon/eventstore'
import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, or, type SQL } from 'drizzle-orm'
import { type FieldProblem, invalidRequest } from '../errors.js'
import { decodeCursor } from '../pagination.js'

/** The event filter of both lists, plus gateway tenancy. */
export interface EventListFilter extends EventFilter {
  /** Gateway mode: only events of this tenant's blogs (null: every blog). */
  tenantId: string | null
}

/** The query string of the event lists, as validated by the contract. */
export interface EventListQuery {
  state?: EventState | undefined
  state__in?: EventState[] | undefined
  check_type?: string | undefined
  check_type__in?: string[] | undefined
  endpoint_id?: bigint | undefined
  active?: boolean | undefined
  started_at__gte?: Date | undefined
  started_at__lt?: Date | undefined
}

/**
 * The store's filter for a list request. A single value and its `__in` list together are 400
 * (which one should win is a guess we refuse to make).
 */
export function eventFilterOf(query: EventListQuery): EventFilter {
  const problems: FieldProblem[] = []
  if (query.state !== undefined && query.state__in !== undefined) {
    problems.push({ path: 'query.state__in', message: 'cannot be combined with state; use one of the two' })
  }
  if (query.check_type !== undefined && query.check_type__in !== undefined) {
    problems.push({ path: 'query.check_type__in', message: 'cannot be combined with check_type; use one of the two' })
  }
  if (problems.length > 0) throw invalidRequest(problems)
  const filter: EventFilter = {}
  const states = query.state ?? query.state__in
  if (states !== undefined) filter.state = states
  const checkTypes = query.check_type ?? query.check_type__in
  if (checkTypes !== undefined) filter.checkType = checkTypes
  if (query.endpoint_id !== undefined) filter.endpointId = query.endpoint_id
  if (query.active !== undefined) filter.open = query.active
  if (query.started_at__gte !== undefined) filter.startedFrom = query.started_at__gte
  if (query.started_at__lt !== undefined) filter.startedBefore = query.started_at__lt
  return filter
}

const asArray = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T])

/**
 * One page of events, newest first (`started_at` desc, then `id` desc), `limit + 1` rows so the
 * caller can tell whether a next page exists (see `pageOf`); the cursor is `[started_at ms, id]`
 * of the last row served. Same order and filters as the store's `listEvents`, which cannot express
 * the gateway's tenant restriction: that is a subquery here, so other tenants' events are never
 * read, and pages stay full.
 */
export async function selectEventPage(
  db: DbOrTx,
  filter: EventListFilter,
  cursor: string | undefined,
  limit: number,
): Promise<Event[]> {
  const conditions: (SQL | undefined)[] = []
  if (filter.blogId !== undefined) conditions.push(eq(events.blogId, filter.blogId))
  if (filter.endpointId !== undefined) conditions.push(eq(events.endpointId, filter.endpointId))
  if (filter.checkType !== undefined) conditions.push(inArray(events.checkType, [...asArray(filter.checkType)]))
  if (filter.state !== undefined) conditions.push(inArray(events.state, [...asArray(filter.state)]))
  if (filter.minSeverity !== undefined) conditions.push(gte(events.severity, filter.minSeverity))
  if (filter.open !== undefined) conditions.push(filter.open ? isNull(events.endedAt) : isNotNull(events.endedAt))
  if (filter.startedFrom !== undefined) conditions.push(gte(events.startedAt, filter.startedFrom))
  if (filter.startedBefore !== undefined) conditions.push(lt(events.startedAt, filter.startedBefore))
  if (filter.tenantId !== null) {
    conditions.push(
      inArray(
        events.blogId,
        db.select({ blogId: siteTenants.blogId }).from(siteTenants).where(eq(siteTenants.tenantId, filter.tenantId)),
      ),
    )
  }
  if (cursor !== undefined) {
    const [startedAt, id] = decodeCursor(cursor, ['ms', 'id'])
    conditions.push(or(lt(events.startedAt, startedAt), and(eq(events.startedAt, startedAt), lt(events.id, id))))
  }
  const rows = await db
    .select(eventColumns)
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.startedAt), desc(events.id))
    .limit(limit + 1)
  return rows.map(toEvent)
}

/** The cursor key of an event in the lists. */
export const eventCursorKey = (event: Event): [number, string] => [event.startedAt.getTime(), event.id.toString()]

/**
 * Whether a blog is a site we know: it has an endpoint row (active or not) or at least one event.
 * A blog with events but no endpoints left still has a history worth reading.
 */
export async function siteKnown(db: DbOrTx, blogId: bigint): Promise<boolean> {
  const [endpoint] = await db
    .select({ id: monitorSites.endpointId })
    .from(monitorSites)
    .where(eq(monitorSites.blogId, blogId))
    .limit(1)
  if (endpoint) return true
  const [event] = await db.select({ id: events.id }).from(events).where(eq(events.blogId, blogId)).limit(1)
  return event !== undefined
}

/** The wire form of an event; `duration_ms` runs to `now` while it is open. */
export function eventToJson(event: Event, now: Date): EventResource {
  const end = event.endedAt ?? now
  return {
    id: jsonId(event.id),
    blog_id: jsonId(event.blogId),
    endpoint_id: event.endpointId === null ? null : jsonId(event.endpointId),
    check_type: event.checkType,
    discriminator: event.discriminator,
    severity: event.severity,
    severity_name: severityName(event.severity),
    state: event.state,
    started_at: event.startedAt.toISOString(),
    ended_at: event.endedAt?.toISOString() ?? null,
    resolution_reason: event.resolutionReason,
    cause_event_id: event.causeEventId === null ? null : jsonId(event.causeEventId),
    metadata: event.metadata,
    duration_ms: Math.max(0, end.getTime() - event.startedAt.getTime()),
  }
}

/** The wire form of a transition. */
export function transitionToJson(transition: Transition): TransitionResource {
  return {
    id: jsonId(transition.id),
    event_id: jsonId(transition.eventId),
    blog_id: jsonId(transition.blogId),
    endpoint_id: transition.endpointId === null ? null : jsonId(transition.endpointId),
    severity_before: transition.severityBefore,
    severity_after: transition.severityAfter,
    state_before: transition.stateBefore,
    state_after: transition.stateAfter,
    reason: transition.reason,
    source: transition.source,
    metadata: transition.metadata,
    changed_at: transition.changedAt.toISOString(),
  }
}

/** An event with all its transitions (oldest first), in wire form. */
export function eventDetailToJson(detail: { event: Event; transitions: Transition[] }, now: Date): EventDetail {
  return { ...eventToJson(detail.event, now), transitions: detail.transitions.map(transitionToJson) }
}
