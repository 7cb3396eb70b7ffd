import type { eventsRoutes, RouteDefinition } from '@jetmon/api-client'
import {
  closeEvent,
  type Event,
  EventClosedError,
  getEvent,
  getEventDetail,
  InvalidCursorError,
  listEventTransitions,
} from '@jetmon/eventstore'
import type { Handlers, RequestContext } from '../context.js'
import { invalidRequest, notFound } from '../errors.js'
import { DEFAULT_LIMIT, pageOf } from '../pagination.js'
import { tenantSeesBlog } from '../tenancy.js'
import {
  eventCursorKey,
  eventDetailToJson,
  eventFilterOf,
  eventToJson,
  selectEventPage,
  siteKnown,
  transitionToJson,
} from './_events-query.js'

/** The event, if it exists and the caller's tenant may see its site; else 404 `event_not_found`. */
async function visibleEvent(ctx: RequestContext<RouteDefinition>, eventId: bigint): Promise<Event> {
  const event = await getEvent({ ctx: { db: ctx.deps.db }, eventId })
  if (!event || !(await tenantSeesBlog(ctx, event.blogId))) throw notFound('event', eventId)
  return event
}

/** The event with its transitions in wire form, under the same visibility rule. */
async function visibleDetail(ctx: RequestContext<RouteDefinition>, eventId: bigint) {
  const detail = await getEventDetail({ ctx: { db: ctx.deps.db }, eventId })
  if (!detail || !(await tenantSeesBlog(ctx, detail.event.blogId))) throw notFound('event', eventId)
  return eventDetailToJson(detail, ctx.now)
}

export const eventsHandlers: Handlers<typeof eventsRoutes> = {
  async 'events.listForSite'(ctx) {
    const { params, query, deps, now } = ctx
    if (!(await tenantSeesBlog(ctx, params.blog_id))) throw notFound('site', params.blog_id)
    const limit = query.limit ?? DEFAULT_LIMIT
    const rows = await selectEventPage(
      deps.db,
      { ...eventFilterOf(query), blogId: params.blog_id, tenantId: null },
      query.cursor,
      limit,
    )
    // An empty page is the only case where the site might not exist (a row proves it does).
    if (rows.length === 0 && !(await siteKnown(deps.db, params.blog_id))) throw notFound('site', params.blog_id)
    return pageOf(rows, limit, (event) => eventToJson(event, now), eventCursorKey)
  },

  async 'events.list'({ query, deps, now, tenantId }) {
    const limit = query.limit ?? DEFAULT_LIMIT
    const filter = eventFilterOf(query)
    if (query.blog_id !== undefined) filter.blogId = query.blog_id
    const rows = await selectEventPage(deps.db, { ...filter, tenantId }, query.cursor, limit)
    return pageOf(rows, limit, (event) => eventToJson(event, now), eventCursorKey)
  },

  async 'events.get'(ctx) {
    return visibleDetail(ctx, ctx.params.event_id)
  },

  async 'events.transitions'(ctx) {
    const { params, query, deps } = ctx
    await visibleEvent(ctx, params.event_id)
    try {
      const page = await listEventTransitions({
        ctx: { db: deps.db },
        eventId: params.event_id,
        cursor: query.cursor ?? null,
        limit: query.limit ?? DEFAULT_LIMIT,
      })
      return { data: page.items.map(transitionToJson), page: { next: page.next, limit: query.limit ?? DEFAULT_LIMIT } }
    } catch (error) {
      if (error instanceof InvalidCursorError) {
        throw invalidRequest([{ path: 'query.cursor', message: 'is not a cursor this API issued for this list' }])
      }
      throw error
    }
  },

  async 'events.close'(ctx) {
    const { params, body, deps, source, now } = ctx
    const event = await visibleEvent(ctx, params.event_id)
    if (event.endedAt === null) {
      try {
        await closeEvent({
          ctx: { db: deps.db, source, clock: () => now, logger: deps.logger },
          input: {
            eventId: event.id,
            reason: body.reason,
            ...(body.note ? { transitionMetadata: { note: body.note } } : {}),
          },
        })
      } catch (error) {
        // Closed by someone else since we read it: closing a closed event returns it unchanged.
        if (!(error instanceof EventClosedError)) throw error
      }
    }
    return visibleDetail(ctx, event.id)
  },
}
