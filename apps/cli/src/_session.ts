/**
 * The composition root of an API command: the resolved connection, one typed client, the output
 * format, `--verbose` tracing and the remote-write guard. Every request of every `jetmon2 api`
 * command goes through {@link Session.call} or {@link Session.raw}.
 */
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import {
  type ApiResponse,
  createJetmonClient,
  type HttpMethod,
  type JetmonClient,
  type QueryValue,
  type ReceivedResponse,
  type RouteDefinition,
  type RouteId,
  routes,
  type SentRequest,
} from '@jetmon/api-client'
import { type ApiConnection, redactToken } from './connection.js'
import { UsageError } from './errors.js'
import type { OutputFormat } from './keys.js'
import { terminalSafe } from './output.js'

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version

/** What `--verbose` and error messages call this program in the User-Agent. */
export const USER_AGENT = `jetmon2-cli/${VERSION}`

/** Path, query and body of one route call, in wire form (ids as numbers or decimal strings). */
export interface CallInput {
  params?: Record<string, string | number>
  query?: Record<string, QueryValue>
  body?: unknown
}

export interface CallOptions {
  idempotencyKey?: string | undefined
  /** Sent as `X-Request-ID` (the server echoes a sane one and records it in the audit log). */
  requestId?: string | undefined
}

/**
 * The one place where the CLI turns a route id into a route of `@jetmon/api-client`: a command
 * table naming an id the contract does not have fails here (and in the catalog test), never by
 * calling a path that does not exist.
 */
export function routeOf(id: string): RouteDefinition | undefined {
  return Object.hasOwn(routes, id) ? (routes as Record<string, RouteDefinition>)[id] : undefined
}

/** `routeOf`, for an id that a command needs: a missing route is a bug of this build, exit 1. */
export function requireRoute(id: string): RouteDefinition {
  const route = routeOf(id)
  if (!route) throw new Error(`this build of jetmon2 has no API route ${id} in its contract (@jetmon/api-client)`)
  return route
}

/** `/sites/{blog_id}` with `{blog_id: 42}` → `/sites/42`, as the client fills it. */
export function fillPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{([a-z_]+)\}/g, (_match, name: string) => encodeURIComponent(String(params[name] ?? '')))
}

/** The route a method and path (below `/api/v1`, query ignored) would reach, if any. */
export function matchRoute(method: string, path: string): { id: string; route: RouteDefinition } | undefined {
  const bare = path.split('?')[0]!.replace(/\/+$/, '') || '/'
  for (const [id, route] of Object.entries(routes as Record<string, RouteDefinition>)) {
    if (route.method !== method) continue
    const pattern = new RegExp(`^${route.path.replace(/\{[a-z_]+\}/g, '[^/]+')}$`)
    if (pattern.test(bare)) return { id, route }
  }
  return undefined
}

const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])

/**
 * A header as `--verbose` prints it: credentials never, and the token nowhere, whatever header it
 * turns up in.
 */
export function redactHeader(name: string, value: string, token: string | null): string {
  const lower = name.toLowerCase()
  if (lower === 'authorization') {
    const [scheme] = value.split(' ')
    return token === null ? `${scheme} (no token configured)` : `${scheme} ${redactToken(token)}`
  }
  if (SENSITIVE_HEADERS.has(lower)) return '(redacted)'
  let text = value
  if (token) text = text.split(token).join('(redacted)')
  return text.replace(/jm_[A-Za-z0-9_-]{16,}/g, '(redacted)')
}

export interface Session {
  connection: ApiConnection
  format: OutputFormat
  pretty: boolean
  verbose: boolean
  /** Calls a route of the contract by id. */
  call(id: RouteId, input?: CallInput, options?: CallOptions): Promise<ApiResponse<unknown>>
  /** A raw request below `/api/v1` (`jetmon2 api request`). */
  raw(request: { method: HttpMethod; path: string; body?: unknown } & CallOptions): Promise<ApiResponse<unknown>>
  /**
   * The remote-write guard (apps/cli/README.md, Safety): a write to an API that is not on this host needs
   * `--allow-remote`; bulk and smoke writes also need a `--batch` marker. Usage error (exit 2).
   */
  assertWritable(what: string, options?: { batch?: string | undefined; needsBatch?: boolean }): void
}

export interface OpenSessionOptions {
  verbose?: boolean
  stderr?: NodeJS.WritableStream
}

/** A request id for a call, in the server's accepted form (`[A-Za-z0-9._:-]{8,128}`). */
export function newRequestId(prefix = 'cli'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`
}

/** Builds the session of one command from its resolved connection. */
export function openSession(connection: ApiConnection, options: OpenSessionOptions = {}): Session {
  const verbose = options.verbose === true
  const stderr = options.stderr ?? process.stderr
  const token = connection.token
  /** `--verbose`: the request and its answer as they went over the wire, redacted. */
  const onRequest = (request: SentRequest) => {
    stderr.write(`> ${request.method} ${request.url}\n`)
    for (const [name, value] of Object.entries(request.headers))
      stderr.write(`> ${name}: ${redactHeader(name, value, token)}\n`)
  }
  const onResponse = (response: ReceivedResponse) => {
    if (response.status === null) {
      stderr.write(
        `< no answer (${response.durationMs} ms): ${terminalSafe(response.error?.message ?? 'unknown error')}\n\n`,
      )
      return
    }
    stderr.write(`< ${response.status} (${response.durationMs} ms)\n`)
    // Header values may carry bytes the server chose (obs-text): they cannot steer the terminal.
    for (const [name, value] of Object.entries(response.headers))
      stderr.write(`< ${terminalSafe(`${name}: ${redactHeader(name, value, token)}`)}\n`)
    stderr.write('\n')
  }
  let client: JetmonClient | undefined
  const clientOf = () => {
    // Routes with scope `none` (health, openapi.json) ignore Authorization, so a command that only
    // calls them works without a token; the placeholder is never a credential.
    client ??= createJetmonClient({
      baseUrl: connection.apiBaseUrl,
      token: token ?? 'none',
      timeoutMs: connection.timeoutMs,
      userAgent: USER_AGENT,
      ...(verbose ? { onRequest, onResponse } : {}),
    })
    return client
  }

  const needToken = (what: string) => {
    if (token !== null) return
    throw new UsageError(
      `${what} needs an API token, and none is configured: pass --token-file <path> (or set ` +
        'JETMON_API_TOKEN_FILE, or run: jetmon2 api local-config set token_file <path>)',
    )
  }

  return {
    connection,
    format: connection.output,
    pretty: connection.pretty,
    verbose,
    async call(id, input = {}, call = {}) {
      const route = requireRoute(id)
      if (route.scope !== 'none') needToken(`${route.method} ${route.path}`)
      const requestId = call.requestId ?? newRequestId()
      // The one cast of the CLI: `input` is the wire shape every route takes, while `call` types
      // it per route id, which here is chosen at run time. The route's own schemas check it
      // before this (routeCommand), and the server checks it again.
      return clientOf().call(id, input as never, {
        headers: { 'x-request-id': requestId },
        ...(call.idempotencyKey !== undefined ? { idempotencyKey: call.idempotencyKey } : {}),
      })
    },
    async raw(request) {
      const match = matchRoute(request.method, request.path)
      if (match?.route.scope !== 'none') needToken(`${request.method} ${request.path}`)
      const requestId = request.requestId ?? newRequestId()
      return clientOf().request({
        method: request.method,
        path: request.path,
        headers: { 'x-request-id': requestId },
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
      })
    },
    assertWritable(what, guard = {}) {
      if (connection.isLoopback) return
      const missing: string[] = []
      if (!connection.allowRemote) missing.push('--allow-remote')
      if (guard.needsBatch && !guard.batch) missing.push('--batch <name>')
      if (missing.length === 0) return
      throw new UsageError(
        `${what} writes to ${connection.url}, which is not on this host: remote writes need ` +
          `${missing.join(' and ')}` +
          (guard.needsBatch
            ? ' (the batch name marks what this run creates, so that a later cleanup can target it)'
            : '') +
          '. Check --url (or JETMON_API_URL) first.',
      )
    },
  }
}
