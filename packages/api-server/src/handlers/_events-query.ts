/**
 * Event reads of the API: the filtered, tenant-aware event list, site existence, and the wire form
 * of events and transitions.
 */
import type { EventDetail, EventResource, TransitionResource } from '@jetmon/api-client'
import { jsonId } from '@jetmon/api-client'
import type { DbOrTx } from '@jetmon/db'
import { events, monitorSites, preparedPerDatabase, siteTenants } from '@jetmon/db'
import type { Event, EventFilter, EventState, Transition } from '@jetmon/eventstore'
import { eventColumns, severityName, toEvent } from '@jetmon/eventstore'
import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm'
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
  const checkTypes = filter.checkType === undefined ? undefined : asArray(filter.checkType)
  const states = filter.state === undefined ? undefined : asArray(filter.state)
  const values: Record<string, unknown> = { limit: limit + 1 }
  checkTypes?.forEach((value, i) => {
    values[`checkType${i}`] = value
  })
  states?.forEach((value, i) => {
    values[`state${i}`] = value
  })
  if (cursor !== undefined) [values.startedAt, values.id] = decodeCursor(cursor, ['ms', 'id'])
  const shape: EventPageShape = {
    blogId: filter.blogId !== undefined,
    endpointId: filter.endpointId !== undefined,
    checkTypes: checkTypes?.length ?? -1,
    states: states?.length ?? -1,
    minSeverity: filter.minSeverity !== undefined,
    open: filter.open === undefined ? null : filter.open,
    startedFrom: filter.startedFrom !== undefined,
    startedBefore: filter.startedBefore !== undefined,
    tenant: filter.tenantId !== null,
    cursor: cursor !== undefined,
  }
  const rows = await eventPage(db, JSON.stringify(shape)).execute({
    ...values,
    blogId: filter.blogId,
    endpointId: filter.endpointId,
    minSeverity: filter.minSeverity,
    startedFrom: filter.startedFrom,
    startedBefore: filter.startedBefore,
    tenantId: filter.tenantId,
  })
  return rows.map(toEvent)
}

/** What varies between the statements of the event lists: which filters are given, and how many values each list holds (-1: none). */
interface EventPageShape {
  blogId: boolean
  endpointId: boolean
  checkTypes: number
  states: number
  minSeverity: boolean
  open: boolean | null
  startedFrom: boolean
  startedBefore: boolean
  tenant: boolean
  cursor: boolean
}

/** The page's query for a shape (its JSON), built once and then bound to each request's values. */
const eventPage = preparedPerDatabase((db: DbOrTx, key: string) => {
  const shape = JSON.parse(key) as EventPageShape
  const p = sql.placeholder
  const listOf = (name: string, n: number) => Array.from({ length: n }, (_, i) => p(`${name}${i}`))
  const conditions: (SQL | undefined)[] = []
  if (shape.blogId) conditions.push(eq(events.blogId, p('blogId')))
  if (shape.endpointId) conditions.push(eq(events.endpointId, p('endpointId')))
  if (shape.checkTypes >= 0) conditions.push(inArray(events.checkType, listOf('checkType', shape.checkTypes)))
  if (shape.states >= 0) conditions.push(inArray(events.state, listOf('state', shape.states)))
  if (shape.minSeverity) conditions.push(gte(events.severity, p('minSeverity')))
  if (shape.open !== null) conditions.push(shape.open ? isNull(events.endedAt) : isNotNull(events.endedAt))
  if (shape.startedFrom) conditions.push(gte(events.startedAt, p('startedFrom')))
  if (shape.startedBefore) conditions.push(lt(events.startedAt, p('startedBefore')))
  if (shape.tenant) {
    conditions.push(
      inArray(
        events.blogId,
        db
          .select({ blogId: siteTenants.blogId })
          .from(siteTenants)
          .where(eq(siteTenants.tenantId, p('tenantId'))),
      ),
    )
  }
  if (shape.cursor) {
    conditions.push(
      or(lt(events.startedAt, p('startedAt')), and(eq(events.startedAt, p('startedAt')), lt(events.id, p('id')))),
    )
  }
  return db
    .select(eventColumns)
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.startedAt), desc(events.id))
    .limit(p('limit'))
    .prepare()
})

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
