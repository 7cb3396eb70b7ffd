/** Incident events and their transitions: lists, detail and manual close (docs/api.md). */

import { SEVERITY_NAMES } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import {
  BooleanParam,
  CLOSING_REASONS,
  EVENT_STATES,
  EventState,
  Id,
  IdParam,
  listOf,
  listParam,
  PageQuery,
  Severity,
  Timestamp,
  TimestampInput,
  TRANSITION_REASONS,
} from './schema.js'

const CHECK_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/
const CHECK_TYPE_MESSAGE = 'must be a check type: a lowercase identifier such as http, tls_expiry or latency'

const CheckTypeParam = v.pipe(v.string(), v.regex(CHECK_TYPE_PATTERN, CHECK_TYPE_MESSAGE))
const CheckTypeListParam = v.pipe(
  v.string(),
  v.transform((text) => text.split(',').map((part) => part.trim())),
  v.array(v.pipe(v.string(), v.regex(CHECK_TYPE_PATTERN, `each item ${CHECK_TYPE_MESSAGE}`))),
  v.minLength(1, 'must name at least one check type'),
  v.maxLength(50, 'must name at most 50 check types'),
)

/** Filters shared by the site-scoped and the fleet-wide event lists. */
const EventFilterQuery = {
  state: v.optional(
    v.pipe(
      v.picklist(EVENT_STATES, `must be one of ${EVENT_STATES.join(', ')}`),
      v.description('The event’s state (a closed event keeps its last one). Not with state__in.'),
    ),
  ),
  state__in: v.optional(
    v.pipe(listParam(EVENT_STATES), v.description('Comma-separated states (`Seems Down,Down`). Not with state.')),
  ),
  check_type: v.optional(v.pipe(CheckTypeParam, v.description('`http`, `tls_expiry`, … Not with check_type__in.'))),
  check_type__in: v.optional(
    v.pipe(CheckTypeListParam, v.description('Comma-separated check types. Not with check_type.')),
  ),
  endpoint_id: v.optional(IdParam),
  active: v.optional(v.pipe(BooleanParam, v.description('true: open events only; false: closed events only.'))),
  started_at__gte: v.optional(v.pipe(TimestampInput, v.description('Events that started at or after this time.'))),
  started_at__lt: v.optional(v.pipe(TimestampInput, v.description('Events that started before this time.'))),
}

/** An incident event (docs/events.md). A closed event keeps the state and severity it closed with. */
export const EventResource = v.object({
  id: Id,
  blog_id: Id,
  endpoint_id: v.pipe(v.nullable(Id), v.description('Null for a site-level event.')),
  check_type: v.string(),
  discriminator: v.pipe(v.nullable(v.string()), v.description('Tells apart parallel events of one check type.')),
  severity: Severity,
  severity_name: v.picklist(SEVERITY_NAMES),
  state: EventState,
  started_at: v.pipe(Timestamp, v.description('The first failure; never changes.')),
  ended_at: v.pipe(v.nullable(Timestamp), v.description('Null while the event is open.')),
  resolution_reason: v.pipe(
    v.nullable(v.string()),
    v.description(`Why it closed (${CLOSING_REASONS.join(', ')}); null while open.`),
  ),
  cause_event_id: v.nullable(Id),
  metadata: v.pipe(
    v.nullable(v.record(v.string(), v.unknown())),
    v.description('The evidence: the failing check, veriflier votes, quorum, …'),
  ),
  duration_ms: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description('From started_at to ended_at, or to now while the event is open.'),
  ),
})
export type EventResource = v.InferOutput<typeof EventResource>

/** One change of an event; `state_after` is `Resolved` (and `severity_after` null) on the close. */
export const TransitionResource = v.object({
  id: Id,
  event_id: Id,
  blog_id: Id,
  endpoint_id: v.nullable(Id),
  severity_before: v.pipe(v.nullable(Severity), v.description('Null on `opened`.')),
  severity_after: v.pipe(v.nullable(Severity), v.description('Null on the close.')),
  state_before: v.nullable(EventState),
  state_after: v.nullable(v.picklist([...EVENT_STATES, 'Resolved'])),
  reason: v.pipe(
    v.string(),
    v.description(
      `Why it changed (${TRANSITION_REASONS.join(', ')}; a later release may add reasons). \`adopted\` opens an incident taken over from v1.`,
    ),
  ),
  source: v.pipe(v.string(), v.description('`monitor:<host>`, `veriflier:<id>`, `api:<consumer>` or `system`.')),
  metadata: v.nullable(v.record(v.string(), v.unknown())),
  changed_at: Timestamp,
})
export type TransitionResource = v.InferOutput<typeof TransitionResource>

/** An event with all its transitions, oldest first. */
export const EventDetail = v.object({ ...EventResource.entries, transitions: v.array(TransitionResource) })
export type EventDetail = v.InferOutput<typeof EventDetail>

const EventIdParams = v.object({ event_id: IdParam })

const listSiteEvents = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/events',
  scope: 'read',
  tag: 'events',
  summary:
    'A site’s events, newest first (404 site_not_found when the blog has neither endpoints nor events, or belongs to another tenant)',
  params: v.object({ blog_id: IdParam }),
  query: v.strictObject({ ...PageQuery, ...EventFilterQuery }),
  status: 200,
  response: listOf(EventResource),
  errors: ['site_not_found'],
})

const listEvents = defineRoute({
  method: 'GET',
  path: '/events',
  scope: 'read',
  tag: 'events',
  summary: 'Events of every site (of the tenant’s sites in gateway mode), newest first',
  query: v.strictObject({ ...PageQuery, ...EventFilterQuery, blog_id: v.optional(IdParam) }),
  status: 200,
  response: listOf(EventResource),
})

const getEvent = defineRoute({
  method: 'GET',
  path: '/events/{event_id}',
  scope: 'read',
  tag: 'events',
  summary: 'One event with all its transitions, oldest first',
  params: EventIdParams,
  status: 200,
  response: EventDetail,
  errors: ['event_not_found'],
})

const listEventTransitions = defineRoute({
  method: 'GET',
  path: '/events/{event_id}/transitions',
  scope: 'read',
  tag: 'events',
  summary: 'An event’s transitions, oldest first',
  params: EventIdParams,
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(TransitionResource),
  errors: ['event_not_found'],
})

const closeEvent = defineRoute({
  method: 'POST',
  path: '/events/{event_id}/close',
  scope: 'write',
  tag: 'events',
  summary:
    'Close an event by hand (default reason manual_override); an event already closed is returned unchanged, with no new transition',
  params: EventIdParams,
  body: v.optional(
    v.strictObject({
      reason: v.optional(
        v.pipe(
          v.picklist(CLOSING_REASONS, `must be a closing reason: one of ${CLOSING_REASONS.join(', ')}`),
          v.description('Stored as the resolution reason and on the closing transition.'),
        ),
        'manual_override',
      ),
      note: v.optional(
        v.pipe(
          v.string(),
          v.trim(),
          v.maxLength(1000, 'must be at most 1000 characters'),
          v.description('Kept in the closing transition’s metadata (`note`).'),
        ),
      ),
    }),
    {},
  ),
  status: 200,
  response: EventDetail,
  errors: ['event_not_found'],
  idempotent: true,
})

export const eventsRoutes = {
  'events.listForSite': listSiteEvents,
  'events.list': listEvents,
  'events.get': getEvent,
  'events.transitions': listEventTransitions,
  'events.close': closeEvent,
}
