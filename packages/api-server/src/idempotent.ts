/**
 * The idempotency step of a request: with an `Idempotency-Key` on an idempotent route, the first
 * request runs and its answer is kept (only the status when it carries a secret shown once); a
 * repeat replays that answer with `Idempotency-Replayed: true`.
 */
import type { RouteDefinition } from '@jetmon/api-client'
import type { Context } from 'hono'
import type { Principal } from './context.js'
import { checkIdempotencyKey, type IdempotencyStore, idempotencyRecordKey, requestHash } from './idempotency.js'

const REPLAYED_HEADERS = ['content-type', 'location']

export interface IdempotentRequest {
  c: Context
  store: IdempotencyStore
  route: RouteDefinition
  principal: Principal
  tenantId: string | null
  /** The `Idempotency-Key` header as sent. */
  header: string
  rawBody: string
  /** The answer carries a secret shown once: keep its status, never its body. */
  secretBearing: boolean
  /** Runs the request; answers errors as responses (it does not throw for a refused request). */
  execute: () => Promise<Response>
}

/** Runs the request once per idempotency key, or replays the answer kept for it. */
export async function runIdempotently(request: IdempotentRequest): Promise<Response> {
  const { c, store, route, principal } = request
  const key = idempotencyRecordKey(checkIdempotencyKey(request.header), request.tenantId)
  const path = new URL(c.req.url).pathname
  const claim = await store.claim(
    principal.keyId,
    key,
    route.method,
    path,
    requestHash(route.method, path, request.rawBody),
  )
  if (claim.kind === 'replay') return replayed(c, claim.response)
  const response = await request.execute()
  const withholdBody = request.secretBearing && response.status < 300
  const stored = withholdBody ? Buffer.alloc(0) : Buffer.from(await response.clone().arrayBuffer())
  await store.finish(
    principal.keyId,
    key,
    { status: response.status, headers: storedHeaders(response.headers), body: stored },
    { withholdBody },
  )
  return response
}

function storedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of REPLAYED_HEADERS) {
    const value = headers.get(name)
    if (value !== null) out[name] = value
  }
  return out
}

function replayed(c: Context, response: { status: number; headers: Record<string, string>; body: Buffer }): Response {
  for (const [name, value] of Object.entries(response.headers)) c.header(name, value)
  c.header('Idempotency-Replayed', 'true')
  if (response.body.length === 0) return c.body(null, response.status as 204)
  return c.body(response.body.toString('utf8'), response.status as 200)
}
