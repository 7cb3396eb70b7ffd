import { events, eventTransitions, withTransaction } from '@jetmon/db'
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, notExists, or, type SQL, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/mysql-core'
import { cursorBigint, cursorDate, decodeCursor, encodeCursor } from './_cursor.js'
import {
  dedupKeyOf,
  MAX_LIMIT,
  normalizeIdentity,
  requireCheckType,
  requireEventSeverity,
  requireEventState,
  requireId,
  requireLimit,
} from './_validate.js'
import { InvalidInputError } from './errors.js'
import { eventColumns, toEvent, toTransition, transitionColumns } from './rows.js'
import type { Event, EventIdentity, Page, ReadContext, Transition } from './types.js'
import type { CheckType, EventState, Severity } from './vocabulary.js'

/** Worst first: highest severity, then earliest start (then lowest id, for a total order). */
const worstFirst = [desc(events.severity), asc(events.startedAt), asc(events.id)]

/** The event with this id, open or closed, or null. */
export async function getEvent({ ctx, eventId }: { ctx: ReadContext; eventId: bigint }): Promise<Event | null> {
  const [row] = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(eq(events.id, requireId('eventId', eventId)))
  return row ? toEvent(row) : null
}

/** Several events by id in one query (e.g. the events of a batch of transitions); missing ids are absent. */
export async function getEvents({
  ctx,
  eventIds,
}: {
  ctx: ReadContext
  eventIds: readonly bigint[]
}): Promise<Map<bigint, Event>> {
  const ids = uniqueIds('eventIds', eventIds)
  const found = new Map<bigint, Event>()
  if (ids.length === 0) return found
  const rows = await ctx.db.select(eventColumns).from(events).where(inArray(events.id, ids))
  for (const row of rows) found.set(row.id, toEvent(row))
  return found
}

/**
 * The event with this id and all its transitions, oldest first, read from one snapshot; null when
 * there is no such event.
 */
export async function getEventDetail({
  ctx,
  eventId,
}: {
  ctx: ReadContext
  eventId: bigint
}): Promise<{ event: Event; transitions: Transition[] } | null> {
  requireId('eventId', eventId)
  return withTransaction(ctx.db, async (tx) => {
    const [row] = await tx.select(eventColumns).from(events).where(eq(events.id, eventId))
    if (!row) return null
    const rows = await tx
      .select(transitionColumns)
      .from(eventTransitions)
      .where(eq(eventTransitions.eventId, eventId))
      .orderBy(asc(eventTransitions.id))
    return { event: toEvent(row), transitions: rows.map(toTransition) }
  })
}

/** The open event of an identity, or null (e.g. to find the endpoint's http incident after a restart). */
export async function findOpenEvent({
  ctx,
  identity,
}: {
  ctx: ReadContext
  identity: EventIdentity
}): Promise<Event | null> {
  const [row] = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(eq(events.dedupKey, dedupKeyOf(normalizeIdentity(identity))))
  return row ? toEvent(row) : null
}

/**
 * Open events of a site (`blogId`) or of one endpoint (`endpointId`), optionally of one check
 * type, worst first (highest severity, then earliest start).
 */
export async function listOpenEvents({
  ctx,
  blogId,
  endpointId,
  checkType,
}: {
  ctx: ReadContext
  blogId?: bigint
  endpointId?: bigint
  checkType?: CheckType
}): Promise<Event[]> {
  if (blogId === undefined && endpointId === undefined) {
    throw new InvalidInputError('blogId', 'listOpenEvents needs a blogId, an endpointId or both')
  }
  const rows = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(
      and(
        isNull(events.endedAt),
        blogId === undefined ? undefined : eq(events.blogId, requireId('blogId', blogId)),
        endpointId === undefined ? undefined : eq(events.endpointId, requireId('endpointId', endpointId)),
        checkType === undefined ? undefined : eq(events.checkType, requireCheckType('checkType', checkType)),
      ),
    )
    .orderBy(...worstFirst)
  return rows.map(toEvent)
}

/**
 * Every open event of the given check types across the fleet, in id order (through
 * `(check_type, ended_at)`: the closed events of those types are not read). For checks whose open
 * events are few and evaluated together, such as the alerts of service level objectives.
 */
export async function listOpenEventsOfTypes({
  ctx,
  checkTypes,
}: {
  ctx: ReadContext
  checkTypes: readonly CheckType[]
}): Promise<Event[]> {
  if (checkTypes.length === 0) return []
  const types = checkTypes.map((checkType) => requireCheckType('checkTypes', checkType))
  const rows = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(and(inArray(events.checkType, types), isNull(events.endedAt)))
    .orderBy(asc(events.id))
  return rows.map(toEvent)
}

/**
 * The worst open event of each of a page of sites, in one query: highest severity, then earliest
 * start. Sites with no open event are absent from the map (their state is `Up`).
 */
export async function worstOpenEventPerSite({
  ctx,
  blogIds,
}: {
  ctx: ReadContext
  blogIds: readonly bigint[]
}): Promise<Map<bigint, Event>> {
  const ids = uniqueIds('blogIds', blogIds)
  const worst = new Map<bigint, Event>()
  if (ids.length === 0) return worst
  // An open event is the worst of its site when no other open event of the site ranks before it.
  // A correlated NOT EXISTS rather than a window function: the SQL must also run on MySQL 8 hot paths.
  const other = alias(events, 'other_open')
  const rows = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(
      and(
        inArray(events.blogId, ids),
        isNull(events.endedAt),
        notExists(
          ctx.db
            .select({ one: sql`1` })
            .from(other)
            .where(
              and(
                eq(other.blogId, events.blogId),
                isNull(other.endedAt),
                or(
                  gt(other.severity, events.severity),
                  and(
                    eq(other.severity, events.severity),
                    or(
                      lt(other.startedAt, events.startedAt),
                      and(eq(other.startedAt, events.startedAt), lt(other.id, events.id)),
                    ),
                  ),
                ),
              ),
            ),
        ),
      ),
    )
  for (const row of rows) worst.set(row.blogId, toEvent(row))
  return worst
}

/** Filters of {@link listEvents}; all optional, AND-ed. An empty array matches nothing. */
export interface EventFilter {
  /** Only this site's events (the site-scoped list). */
  blogId?: bigint
  endpointId?: bigint
  checkType?: CheckType | readonly CheckType[]
  /** The event's state; a closed event keeps its last state. */
  state?: EventState | readonly EventState[]
  /** `severity >= minSeverity`. */
  minSeverity?: Severity
  /** true: open events only; false: closed events only; absent: both. */
  open?: boolean
  /** `started_at >= startedFrom`. */
  startedFrom?: Date
  /** `started_at < startedBefore`. */
  startedBefore?: Date
}

const asArray = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T])

function filterConditions(filter: EventFilter): (SQL | undefined)[] {
  const checkTypes = filter.checkType === undefined ? undefined : asArray(filter.checkType)
  const states = filter.state === undefined ? undefined : asArray(filter.state)
  return [
    filter.blogId === undefined ? undefined : eq(events.blogId, requireId('filter.blogId', filter.blogId)),
    filter.endpointId === undefined
      ? undefined
      : eq(events.endpointId, requireId('filter.endpointId', filter.endpointId)),
    checkTypes === undefined
      ? undefined
      : inArray(
          events.checkType,
          checkTypes.map((type) => requireCheckType('filter.checkType', type)),
        ),
    states === undefined ? undefined : inArray(events.state, states.map(requireEventState)),
    filter.minSeverity === undefined ? undefined : gte(events.severity, requireEventSeverity(filter.minSeverity)),
    filter.open === undefined ? undefined : filter.open ? isNull(events.endedAt) : isNotNull(events.endedAt),
    filter.startedFrom === undefined ? undefined : gte(events.startedAt, filter.startedFrom),
    filter.startedBefore === undefined ? undefined : lt(events.startedAt, filter.startedBefore),
  ]
}

/**
 * Events matching `filter`, newest first (`started_at` desc, then `id` desc), a page at a time.
 * With `filter.blogId` it is a site's list, without it the fleet-wide one. Pages never repeat or
 * skip an event, even when many events share a start time.
 *
 * @throws InvalidCursorError for a cursor this list did not produce; InvalidInputError,
 *   InvalidTransitionError (an unknown state or severity) for a bad filter.
 */
export async function listEvents({
  ctx,
  filter = {},
  cursor,
  limit,
}: {
  ctx: ReadContext
  filter?: EventFilter
  cursor?: string | null
  limit?: number
}): Promise<Page<Event>> {
  const pageSize = requireLimit(limit)
  let after: SQL | undefined
  if (cursor) {
    const [startedAtMs, id] = decodeCursor('e', cursor, 2)
    const startedAt = cursorDate(startedAtMs)
    const lastId = cursorBigint(id)
    after = or(lt(events.startedAt, startedAt), and(eq(events.startedAt, startedAt), lt(events.id, lastId)))
  }
  const rows = await ctx.db
    .select(eventColumns)
    .from(events)
    .where(and(...filterConditions(filter), after))
    .orderBy(desc(events.startedAt), desc(events.id))
    .limit(pageSize + 1)
  const items = rows.slice(0, pageSize).map(toEvent)
  const last = items.at(-1)
  return {
    items,
    next: rows.length > pageSize && last ? encodeCursor('e', [last.startedAt.getTime(), last.id.toString()]) : null,
  }
}

/** One event's transitions, oldest first (by id), a page at a time. */
export async function listEventTransitions({
  ctx,
  eventId,
  cursor,
  limit,
}: {
  ctx: ReadContext
  eventId: bigint
  cursor?: string | null
  limit?: number
}): Promise<Page<Transition>> {
  const pageSize = requireLimit(limit)
  const after = cursor ? cursorBigint(decodeCursor('t', cursor, 1)[0]) : null
  const rows = await ctx.db
    .select(transitionColumns)
    .from(eventTransitions)
    .where(
      and(
        eq(eventTransitions.eventId, requireId('eventId', eventId)),
        after === null ? undefined : gt(eventTransitions.id, after),
      ),
    )
    .orderBy(asc(eventTransitions.id))
    .limit(pageSize + 1)
  const items = rows.slice(0, pageSize).map(toTransition)
  const last = items.at(-1)
  return { items, next: rows.length > pageSize && last ? encodeCursor('t', [last.id.toString()]) : null }
}

/**
 * The delivery feed: transitions with `id > afterId`, in id order, at most `limit` (default 50,
 * at most 1000). Consumers keep the last id they processed as their cursor.
 *
 * Ids are assigned at insert and transactions commit in any order, so a transition can become
 * visible after one with a higher id; a consumer that must not miss any should re-read a short
 * tail behind its cursor (its deliveries are unique per transition, so re-reading is harmless).
 */
export async function listTransitionsAfter({
  ctx,
  afterId,
  limit,
}: {
  ctx: ReadContext
  afterId: bigint
  limit?: number
}): Promise<Transition[]> {
  if (typeof afterId !== 'bigint' || afterId < 0n) {
    throw new InvalidInputError('afterId', `expected a bigint id >= 0, got ${afterId}`)
  }
  const rows = await ctx.db
    .select(transitionColumns)
    .from(eventTransitions)
    .where(gt(eventTransitions.id, afterId))
    .orderBy(asc(eventTransitions.id))
    .limit(requireLimit(limit))
  return rows.map(toTransition)
}

function uniqueIds(field: string, ids: readonly bigint[]): bigint[] {
  const unique = [...new Set(ids)]
  if (unique.length > MAX_LIMIT) throw new InvalidInputError(field, `at most ${MAX_LIMIT} ids at once`)
  for (const id of unique) requireId(field, id)
  return unique
}
