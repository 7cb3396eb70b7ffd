/**
 * The /api/v1 contract: every route with its valibot schemas. The server is built from this table
 * (a route without a handler does not compile), so is the OpenAPI document, and the client's
 * `call` is typed from it. Route ids are `<resource>.<verb>`.
 */
import { adminRoutes } from './admin.js'
import { alertContactsRoutes } from './alert-contacts.js'
import { eventsRoutes } from './events.js'
import { rolloutRoutes } from './rollout.js'
import { rolloutChecksRoutes } from './rollout-checks.js'
import type { RouteDefinition } from './route.js'
import { sitesRoutes } from './sites.js'
import { sloRoutes } from './slo.js'
import { statsRoutes } from './stats.js'
import { webhooksRoutes } from './webhooks.js'

export const routes = {
  ...adminRoutes,
  ...sitesRoutes,
  ...eventsRoutes,
  ...statsRoutes,
  ...webhooksRoutes,
  ...alertContactsRoutes,
  ...rolloutRoutes,
  ...rolloutChecksRoutes,
  ...sloRoutes,
} satisfies Record<string, RouteDefinition>

export type Routes = typeof routes
export type RouteId = keyof Routes

export * from './admin.js'
export * from './alert-contacts.js'
export * from './events.js'
export * from './rollout.js'
export * from './rollout-checks.js'
export * from './route.js'
export * from './schema.js'
export * from './sites.js'
export * from './slo.js'
export * from './stats.js'
export * from './webhooks.js'
