import { randomUUID } from 'node:crypto'
import { type RouteDefinition, type Routes, routes } from '@jetmon/api-client'
import { type Context, Hono } from 'hono'
import * as v from 'valibot'
import { AccessAuditWriter } from './audit.js'
import { authorize, createAuthenticator } from './auth.js'
import type { ApiDeps, Handlers, Principal, RequestContext } from './context.js'
import { Reply } from './context.js'
import { ApiError, fromEventStoreError } from './errors.js'
import { adminHandlers } from './handlers/admin.js'
import { alertContactsHandlers } from './handlers/alert-contacts.js'
import { eventsHandlers } from './handlers/events.js'
import { rolloutHandlers } from './handlers/rollout.js'
import { rolloutChecksHandlers } from './handlers/rollout-checks.js'
import { sitesHandlers } from './handlers/sites.js'
import { sloHandlers } from './handlers/slo.js'
import { statsHandlers } from './handlers/stats.js'
import { webhooksHandlers } from './handlers/webhooks.js'
import { IdempotencyStore } from './idempotency.js'
import { runIdempotently } from './idempotent.js'
import { isYaml } from './media.js'
import { RateLimiter } from './rate-limit.js'
import { tenantOf } from './tenancy.js'
import { parseOrThrow } from './validation.js'

/** Largest accepted request body (docs/api.md): 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024
/**
 * Routes whose success answer carries a secret shown once (an API token, a webhook signing
 * secret): the idempotency record keeps only the status, never the body.
 */
const SECRET_BEARING_ROUTES = new Set(['keys.create', 'keys.rotate', 'webhooks.create', 'webhooks.rotateSecret'])
/** Two-phase rollout routes: the answer of a dry run carries its confirmation token, shown once. */
const ROLLOUT_TWO_PHASE_ROUTES = new Set([
  'rollout.adopt',
  'rollout.activate',
  'rollout.release',
  'rollout.createPolicyStage',
  'rollout.rollbackPolicyStage',
  'rollout.rollbackAllPolicyStages',
])

/** Whether the success answer of route `id` to this body carries a secret shown once. */
function secretBearingAnswer(id: string, body: unknown): boolean {
  if (SECRET_BEARING_ROUTES.has(id)) return true
  return ROLLOUT_TWO_PHASE_ROUTES.has(id) && (body as { dry_run?: unknown } | undefined)?.dry_run !== false
}

/** Every handler, one per route of the contract: a route without one does not compile. */
export const handlers: Handlers<Routes> = {
  ...adminHandlers,
  ...sitesHandlers,
  ...eventsHandlers,
  ...statsHandlers,
  ...webhooksHandlers,
  ...alertContactsHandlers,
  ...rolloutHandlers,
  ...rolloutChecksHandlers,
  ...sloHandlers,
}

export interface ApiAppOptions {
  /** Parse every success body with the route's response schema and fail loudly on a mismatch (tests). */
  validateResponses?: boolean
  /** Monotonic milliseconds for the rate limiter (tests pass a manual clock). */
  rateClock?: () => number
}

export interface ApiApp {
  /** The Hono app; mount it or serve it with {@link startApiServer}. */
  app: Hono
  /** `api_access` audit writer (flush it in tests; closed by `close`). */
  audit: AccessAuditWriter
  idempotency: IdempotencyStore
  /** Flushes pending audit rows. */
  close(): Promise<void>
}

/** Hono path of a contract template: `/sites/{blog_id}` → `/sites/:blog_id`. */
export function honoPath(template: string): string {
  return template.replace(/\{([a-z_]+)\}/g, ':$1')
}

/**
 * Builds the `/api/v1` application from the contract table: per route, authentication, scope,
 * rate limit, gateway tenancy, strict validation, idempotency, the handler, and the non-blocking
 * `api_access` audit row; the error envelope everywhere, 404 and 405 included.
 */
export function createApiApp(deps: ApiDeps, options: ApiAppOptions = {}): ApiApp {
  const now = deps.now ?? (() => new Date())
  const full = { ...deps, now } as RequestContext<RouteDefinition>['deps']
  const limiter = new RateLimiter(options.rateClock ? { now: options.rateClock } : {})
  const audit = new AccessAuditWriter(deps.db, deps.logger)
  const idempotency = new IdempotencyStore(deps.db, now)
  const authenticate = createAuthenticator(deps)
  const app = new Hono()

  const templates = Object.values(routes as Record<string, RouteDefinition>).map((route) => ({
    method: route.method,
    pattern: new RegExp(`^${route.path.replace(/\{[a-z_]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`),
  }))

  app.use('*', async (c, next) => {
    c.header('X-Request-ID', requestIdOf(c))
    c.header('Cache-Control', 'no-store')
    c.header('X-Content-Type-Options', 'nosniff')
    await next()
  })

  app.onError((error, c) => errorResponse(c, fromEventStoreError(error), deps))
  app.notFound((c) => {
    const path = c.req.path.replace(/^\/api\/v1/, '') || '/'
    const allowed = templates.filter((t) => t.pattern.test(path)).map((t) => t.method)
    if (allowed.length > 0) {
      c.header('Allow', [...new Set(allowed)].join(', '))
      return errorResponse(
        c,
        new ApiError(405, 'method_not_allowed', `${c.req.method} is not allowed on ${path}; use ${allowed.join(', ')}`),
        deps,
      )
    }
    return errorResponse(c, new ApiError(404, 'route_not_found', `no route ${c.req.method} ${path} in /api/v1`), deps)
  })

  const api = new Hono()
  for (const [id, route] of Object.entries(routes as Record<string, RouteDefinition>)) {
    const handler = (handlers as Record<string, (ctx: RequestContext<RouteDefinition>) => Promise<unknown>>)[id]
    // `Handlers<Routes>` makes a missing handler a type error; at run time it answers 501.
    const run =
      handler ??
      (async () => {
        throw new ApiError(501, 'not_implemented', `${route.method} ${route.path} is not implemented`)
      })
    // A key changed through this process (create, revoke, rotate) is seen by the next request.
    const changesKeys = id.startsWith('keys.') && route.method !== 'GET'
    api.on(route.method, honoPath(route.path), async (c) => {
      const response = await serve(c, route, run, (body) => secretBearingAnswer(id, body))
      if (changesKeys) authenticate.forget()
      return response
    })
  }
  app.route('/api/v1', api)

  async function serve(
    c: Context,
    route: RouteDefinition,
    handler: (ctx: RequestContext<RouteDefinition>) => Promise<unknown>,
    secretBearing: (body: unknown) => boolean,
  ): Promise<Response> {
    const started = performance.now()
    const at = now()
    const requestId = requestIdOf(c)
    let principal: Principal | null = null
    let status = 500
    let blogId: bigint | null = null
    const url = new URL(c.req.url)
    try {
      if (route.scope !== 'none') {
        principal = await authenticate(c, at)
        authorize(c, route, principal, limiter)
      }
      const tenantId = tenantOf(c, principal)

      const rawBody = await readBody(c)
      const params = route.params ? parseOrThrow(route.params, c.req.param(), 'params') : undefined
      const query = parseOrThrow(route.query ?? v.strictObject({}), queryObject(url), 'query')
      let body: unknown
      if (route.body) {
        // A YAML body (routes that speak YAML) reaches the handler as its text.
        body = parseOrThrow(
          route.body,
          route.yaml && isYaml(c.req.header('content-type')) ? rawBody : parseJson(rawBody),
        )
      } else if (rawBody.trim() !== '' && !isEmptyObject(rawBody)) {
        throw new ApiError(400, 'invalid_request', 'this route takes no request body', {
          details: [{ path: 'body', message: 'must be empty' }],
        })
      }
      blogId = blogIdOf(params)

      const context: RequestContext<RouteDefinition> = {
        params,
        query,
        body,
        principal: principal as Principal,
        tenantId,
        requestId,
        now: at,
        source: principal ? `api:${principal.consumer}` : 'api',
        header: (name) => c.req.header(name),
        deps: full,
      }

      const idemHeader = c.req.header('idempotency-key')
      // A dry run (`?dry_run=true`) writes nothing, so it is not recorded: the same key then acts for real.
      const dryRunQuery = (query as { dry_run?: unknown } | undefined)?.dry_run === true
      if (route.idempotent && idemHeader !== undefined && principal && !dryRunQuery) {
        const response = await runIdempotently({
          c,
          store: idempotency,
          route,
          principal,
          tenantId,
          header: idemHeader,
          rawBody,
          secretBearing: secretBearing(body),
          execute: () =>
            run(c, route, handler, context).catch((error) => errorResponse(c, fromEventStoreError(error), deps)),
        })
        status = response.status
        return response
      }
      const response = await run(c, route, handler, context)
      status = response.status
      return response
    } catch (error) {
      const response = errorResponse(c, fromEventStoreError(error), deps)
      status = response.status
      return response
    } finally {
      if (principal) {
        audit.record({
          consumer: principal.consumer,
          keyId: principal.keyId,
          method: route.method,
          path: url.pathname,
          status,
          durationMs: Math.round(performance.now() - started),
          requestId,
          blogId,
          at,
        })
      }
    }
  }

  async function run(
    c: Context,
    route: RouteDefinition,
    handler: (ctx: RequestContext<RouteDefinition>) => Promise<unknown>,
    context: RequestContext<RouteDefinition>,
  ): Promise<Response> {
    const result = await handler(context)
    const reply = result instanceof Reply ? result : new Reply(result)
    for (const [name, value] of Object.entries(reply.headers)) c.header(name, value)
    const status = reply.status ?? route.status
    // Text (YAML of the routes that speak it) goes out as is, with the content type the handler set.
    if (typeof reply.body === 'string' && route.yaml) return c.body(reply.body, status as 200)
    if (status === 204 || reply.body === undefined) return c.body(null, status === 200 ? 204 : (status as 204))
    if (options.validateResponses && route.response && status === route.status) {
      const checked = v.safeParse(route.response, reply.body)
      if (!checked.success) {
        const issues = checked.issues.map((issue) => `${v.getDotPath(issue) ?? ''}: ${issue.message}`)
        throw new Error(`response of ${route.method} ${route.path} does not match its schema: ${issues.join('; ')}`)
      }
    }
    return c.json(reply.body as object, status as 200)
  }

  return {
    app,
    audit,
    idempotency,
    async close() {
      await audit.close()
    },
  }
}

function requestIdOf(c: Context): string {
  const existing = c.get('requestId' as never) as string | undefined
  if (existing) return existing
  const sent = c.req.header('x-request-id')
  const id =
    sent !== undefined && /^[A-Za-z0-9._:-]{8,128}$/.test(sent) ? sent : `req_${randomUUID().replace(/-/g, '')}`
  c.set('requestId' as never, id as never)
  return id
}

function errorResponse(c: Context, error: unknown, deps: ApiDeps): Response {
  const requestId = requestIdOf(c)
  c.header('X-Request-ID', requestId)
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
    return c.json(
      {
        error: {
          code: error.code,
          message: error.message,
          request_id: requestId,
          ...(error.details ? { details: error.details } : {}),
        },
      },
      error.status as 400,
    )
  }
  deps.logger.error({ err: error, requestId, method: c.req.method, path: c.req.path }, 'api request failed')
  return c.json(
    {
      error: {
        code: 'internal_error',
        message: `internal error; quote request id ${requestId} when reporting it`,
        request_id: requestId,
      },
    },
    500,
  )
}

async function readBody(c: Context): Promise<string> {
  const length = c.req.header('content-length')
  // A GET or HEAD without Content-Length or Transfer-Encoding has no body: no stream to build. Other
  // methods are read whatever their headers say: a request made in process (app.request, a Request
  // with a body) carries its body without a Content-Length header.
  const method = c.req.method
  if (
    (method === 'GET' || method === 'HEAD') &&
    length === undefined &&
    c.req.header('transfer-encoding') === undefined
  ) {
    return ''
  }
  const declared = Number(length ?? '0')
  if (declared > MAX_BODY_BYTES) throw tooLarge()
  const stream = c.req.raw.body
  if (!stream) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function tooLarge(): ApiError {
  return new ApiError(413, 'payload_too_large', `request bodies are limited to ${MAX_BODY_BYTES} bytes (1 MiB)`)
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(400, 'invalid_request', 'the request body is not valid JSON', {
      details: [{ path: 'body', message: 'is not valid JSON' }],
    })
  }
}

/** `{}`: what many clients send to an action route that takes no body. */
function isEmptyObject(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  } catch {
    return false
  }
}

function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of url.searchParams) {
    if (name in out) {
      throw new ApiError(400, 'invalid_request', `query.${name}: given more than once`, {
        details: [{ path: `query.${name}`, message: 'is given more than once (use a comma-separated list)' }],
      })
    }
    out[name] = value
  }
  return out
}

function blogIdOf(params: unknown): bigint | null {
  const value = (params as { blog_id?: unknown } | undefined)?.blog_id
  return typeof value === 'bigint' ? value : null
}
