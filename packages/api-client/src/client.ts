import type { Logger } from '@jetmon/vocabulary'
import { type Dispatcher, request as undiciRequest } from 'undici'
import {
  type ApiErrorDetail,
  JetmonApiError,
  JetmonResponseError,
  JetmonTransportError,
  JetmonUsageError,
  type RateLimitInfo,
} from './errors.js'

/**
 * The part of the shared `Logger` (`@jetmon/vocabulary`) the client uses: it logs one `debug` line
 * per request, never credentials. A pino logger fits.
 */
export type ApiClientLogger = Pick<Logger, 'debug'>

export interface ApiClientOptions {
  /** The API root, e.g. `http://127.0.0.1:8090/api/v1`. Paths are appended to it. */
  baseUrl: string
  /** The API token (`jm_…`), sent as `Authorization: Bearer …` to `baseUrl`'s origin only. */
  token: string
  /** Whole-request deadline (connect, headers and body) in ms; default 30 000. */
  timeoutMs?: number
  /** An undici dispatcher (Agent, Pool, MockAgent, proxy agent); default undici's global one. */
  dispatcher?: Dispatcher
  /** Default `@jetmon/api-client`. */
  userAgent?: string
  logger?: ApiClientLogger
  /**
   * Called just before each request is sent, with the headers exactly as sent — the token
   * included, so redact before showing them. For tracing (`--verbose`); what it throws is ignored.
   */
  onRequest?: (request: SentRequest) => void
  /**
   * Called once per request when its answer, or the failure to get one, is in — before the client
   * turns it into a result or an error. For tracing; what it throws is ignored.
   */
  onResponse?: (response: ReceivedResponse) => void
}

/** A request as {@link ApiClientOptions.onRequest} sees it. */
export interface SentRequest {
  method: HttpMethod
  url: string
  /** Lower-case names; `authorization` carries the token. */
  headers: Readonly<Record<string, string>>
}

/** An answer as {@link ApiClientOptions.onResponse} sees it. */
export interface ReceivedResponse {
  request: SentRequest
  /** `null` when no answer arrived; `error` says why. */
  status: number | null
  /** Lower-case names, as received (empty without an answer). */
  headers: Readonly<Record<string, string>>
  durationMs: number
  error?: Error
}

/** Runs a tracing hook; a hook's failure must never change what the request does. */
function notify<T>(hook: ((value: T) => void) | undefined, value: T): void {
  if (!hook) return
  try {
    hook(value)
  } catch {
    // Ignored, as documented.
  }
}

/** Query values: `undefined`/`null` are left out, arrays are sent comma-separated (`state__in=Down,Warning`). */
export type QueryValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | null
  | undefined
  | readonly (string | number | bigint)[]

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RequestOptions {
  method: HttpMethod
  /** A path below `baseUrl` (`/sites/42`), or an absolute URL on the same origin. */
  path: string
  query?: Record<string, QueryValue>
  /** Serialized as JSON; bigints become numbers when ≤ 2^53, else decimal strings. */
  body?: unknown
  /** Sent as `Idempotency-Key`: retrying a POST with the same key cannot apply it twice. */
  idempotencyKey?: string
  /** Extra headers (e.g. `X-Request-ID`); they cannot replace `Authorization`. */
  headers?: Record<string, string>
  /** Aborts the request (in addition to the client's timeout). */
  signal?: AbortSignal
}

/** A successful answer. */
export interface ApiResponse<T> {
  status: number
  /** The parsed JSON body; `undefined` for an empty body (204). */
  data: T
  /** `X-Request-ID`. */
  requestId: string | null
  /** From `X-RateLimit-Limit`/`-Remaining`/`-Reset`, when all three are present. */
  rateLimit: RateLimitInfo | null
  /** `Idempotency-Replayed: true`: the stored response of an earlier request with the same key. */
  idempotencyReplayed: boolean
  /** Every response header, lower-cased names, repeated values joined with `, `. */
  headers: Record<string, string>
}

/** A list response (docs/api.md, Pagination). */
export interface ListResponse<T> {
  data: T[]
  page: { next: string | null; limit: number }
}

export interface PaginateOptions {
  path: string
  query?: Record<string, QueryValue>
  /** Page size (the API's default is 50, its maximum 200). */
  limit?: number
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** The client returned by {@link createApiClient}. */
export interface ApiClient {
  /** The normalized API root. */
  readonly baseUrl: string
  /**
   * Sends one request and parses the JSON answer.
   *
   * @throws {JetmonApiError} on a non-2xx answer.
   * @throws {JetmonTransportError} when no answer arrived (network failure, timeout, abort).
   * @throws {JetmonResponseError} when a 2xx body is not JSON.
   * @throws {JetmonUsageError} for a path on another origin (nothing is sent).
   */
  request<T = unknown>(options: RequestOptions): Promise<ApiResponse<T>>
  /**
   * Iterates over every item of a paginated list, following `page.next` with `cursor=` until it is
   * `null`. Pages are fetched lazily, one at a time.
   */
  paginate<T = unknown>(options: PaginateOptions): AsyncGenerator<T, void, undefined>
}

const DEFAULT_TIMEOUT_MS = 30_000
const MAX_ERROR_BODY = 512

/**
 * A client for the Jetmon `/api/v1` REST API. Typed route methods come with the API schemas;
 * this is the transport they build on: auth, JSON, error envelopes, rate-limit and request-id
 * headers, idempotency keys, pagination, and an origin guard.
 *
 * @example
 * const api = createApiClient({ baseUrl: 'http://127.0.0.1:8090/api/v1', token: process.env.JETMON_API_TOKEN! })
 * const { data } = await api.request<{ status: string }>({ method: 'GET', path: '/health' })
 * for await (const site of api.paginate<{ blog_id: number }>({ path: '/sites', limit: 200 })) console.log(site.blog_id)
 *
 * @throws {JetmonUsageError} `INVALID_CLIENT_OPTIONS` for a base URL that is not http(s) or has a
 *   query or fragment, an empty token, or a bad timeout.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = parseBaseUrl(options.baseUrl)
  const basePath = base.pathname.replace(/\/+$/, '')
  const token = options.token
  if (typeof token !== 'string' || token.trim() === '' || /[\r\n]/.test(token)) {
    throw new JetmonUsageError('INVALID_CLIENT_OPTIONS', 'token must be a non-empty string without line breaks')
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new JetmonUsageError(
      'INVALID_CLIENT_OPTIONS',
      `timeoutMs must be a positive number, got ${String(timeoutMs)}`,
    )
  }
  const userAgent = options.userAgent ?? '@jetmon/api-client'
  const logger = options.logger

  function resolve(path: string, query: Record<string, QueryValue> | undefined): URL {
    let url: URL
    if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) {
      try {
        // A protocol-relative `//host/…` takes the base's scheme and names its own host.
        url = new URL(path, base)
      } catch {
        throw new JetmonUsageError('INVALID_PATH', `not a valid URL: ${JSON.stringify(path)}`)
      }
    } else if (path.startsWith('/')) {
      url = new URL(basePath + path, base.origin)
    } else {
      throw new JetmonUsageError('INVALID_PATH', `path must start with / (got ${JSON.stringify(path)})`)
    }
    // The final check, whatever the path looked like: credentials go to the configured origin only.
    if (url.origin !== base.origin) {
      throw new JetmonUsageError(
        'FOREIGN_ORIGIN',
        `refusing to send the API token to ${url.origin}: this client only talks to ${base.origin}`,
      )
    }
    url.hash = ''
    for (const [key, value] of Object.entries(query ?? {})) {
      const text = queryText(value)
      if (text !== null) url.searchParams.set(key, text)
    }
    return url
  }

  async function request<T>(req: RequestOptions): Promise<ApiResponse<T>> {
    const url = resolve(req.path, req.query)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (name.toLowerCase() !== 'authorization') headers[name.toLowerCase()] = value
    }
    headers.authorization = `Bearer ${token}`
    headers.accept = 'application/json'
    headers['user-agent'] ??= userAgent
    let body: string | undefined
    if (req.body !== undefined) {
      body = JSON.stringify(req.body, bigintReplacer)
      headers['content-type'] = 'application/json'
    }
    if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey

    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const signal = req.signal ? AbortSignal.any([controller.signal, req.signal]) : controller.signal
    const sent: SentRequest = { method: req.method, url: url.href, headers: { ...headers } }
    notify(options.onRequest, sent)
    const started = performance.now()

    let status: number
    let responseHeaders: Record<string, string>
    let text: string
    try {
      const response = await undiciRequest(url, {
        method: req.method,
        headers,
        body,
        signal,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      })
      status = response.statusCode
      responseHeaders = flattenHeaders(response.headers)
      text = await response.body.text()
    } catch (cause) {
      const where = `${req.method} ${url.origin}${url.pathname}`
      const reason = cause instanceof Error ? cause.message : String(cause)
      const error = timedOut
        ? new JetmonTransportError('TIMEOUT', `${where}: no complete answer within ${timeoutMs} ms`, { cause })
        : req.signal?.aborted
          ? new JetmonTransportError('ABORTED', `${where}: aborted by the caller`, { cause })
          : new JetmonTransportError('TRANSPORT_FAILED', `${where}: ${reason}`, { cause })
      notify(options.onResponse, {
        request: sent,
        status: null,
        headers: {},
        durationMs: Math.round(performance.now() - started),
        error,
      })
      throw error
    } finally {
      clearTimeout(timer)
    }
    notify(options.onResponse, {
      request: sent,
      status,
      headers: responseHeaders,
      durationMs: Math.round(performance.now() - started),
    })

    const requestId = responseHeaders['x-request-id'] ?? null
    const rateLimit = parseRateLimit(responseHeaders)
    logger?.debug(
      {
        method: req.method,
        path: url.pathname,
        status,
        durationMs: Math.round(performance.now() - started),
        requestId,
      },
      'api request',
    )

    if (status < 200 || status > 299) throw apiError(status, text, requestId, rateLimit, responseHeaders)

    let data: unknown
    if (text.trim() === '') data = undefined
    else {
      try {
        data = JSON.parse(text)
      } catch (cause) {
        throw new JetmonResponseError(
          status,
          requestId,
          `${req.method} ${url.pathname} answered ${status} with a body that is not JSON: ${snippet(text)}`,
          { cause },
        )
      }
    }
    return {
      status,
      data: data as T,
      requestId,
      rateLimit,
      idempotencyReplayed: responseHeaders['idempotency-replayed'] === 'true',
      headers: responseHeaders,
    }
  }

  async function* paginate<T>(opts: PaginateOptions): AsyncGenerator<T, void, undefined> {
    const seen = new Set<string>()
    let cursor: string | null = null
    do {
      const query: Record<string, QueryValue> = { ...opts.query }
      if (opts.limit !== undefined) query.limit = opts.limit
      if (cursor !== null) query.cursor = cursor
      const response: ApiResponse<unknown> = await request({
        method: 'GET',
        path: opts.path,
        query,
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
      const page = asListResponse<T>(response.data)
      if (!page) {
        throw new JetmonResponseError(
          response.status,
          response.requestId,
          `GET ${opts.path} did not answer with a list ({"data": [...], "page": {"next", "limit"}})`,
        )
      }
      yield* page.data
      cursor = page.page.next
      if (cursor !== null) {
        if (seen.has(cursor)) {
          throw new JetmonUsageError(
            'PAGINATION_LOOP',
            `GET ${opts.path} returned the cursor ${cursor} twice; stopping`,
          )
        }
        seen.add(cursor)
      }
    } while (cursor !== null)
  }

  return { baseUrl: base.origin + basePath, request, paginate }
}

function parseBaseUrl(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new JetmonUsageError('INVALID_CLIENT_OPTIONS', `baseUrl is not a URL: ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new JetmonUsageError('INVALID_CLIENT_OPTIONS', `baseUrl must be http or https, got ${url.protocol}`)
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new JetmonUsageError(
      'INVALID_CLIENT_OPTIONS',
      'baseUrl must not carry a query, a fragment or credentials (the token goes in `token`)',
    )
  }
  return url
}

function queryText(value: QueryValue): string | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.length === 0 ? null : value.map(String).join(',')
  return String(value)
}

const TWO_POW_53 = 2n ** 53n

function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value
  return value >= -TWO_POW_53 && value <= TWO_POW_53 ? Number(value) : value.toString()
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function parseRateLimit(headers: Record<string, string>): RateLimitInfo | null {
  const limit = wholeNumber(headers['x-ratelimit-limit'])
  const remaining = wholeNumber(headers['x-ratelimit-remaining'])
  const reset = wholeNumber(headers['x-ratelimit-reset'])
  return limit === null || remaining === null || reset === null ? null : { limit, remaining, reset }
}

function wholeNumber(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null
  return Number(value)
}

function apiError(
  status: number,
  text: string,
  headerRequestId: string | null,
  rateLimit: RateLimitInfo | null,
  headers: Record<string, string>,
): JetmonApiError {
  const retryAfterSeconds = wholeNumber(headers['retry-after'])
  const envelope = parseEnvelope(text)
  if (envelope) {
    return new JetmonApiError({
      status,
      code: envelope.code,
      message: envelope.message,
      requestId: envelope.requestId ?? headerRequestId,
      details: envelope.details,
      retryAfterSeconds,
      rateLimit,
    })
  }
  const body = text.length > MAX_ERROR_BODY ? text.slice(0, MAX_ERROR_BODY) : text
  return new JetmonApiError({
    status,
    code: 'unexpected_response',
    message:
      text.trim() === ''
        ? `the API answered ${status} with an empty body`
        : `the API answered ${status} with a body that is not a Jetmon error (a proxy or load balancer in between?): ${snippet(text)}`,
    requestId: headerRequestId,
    retryAfterSeconds,
    rateLimit,
    body,
  })
}

interface Envelope {
  code: string
  message: string
  requestId: string | null
  details: ApiErrorDetail[] | undefined
}

function parseEnvelope(text: string): Envelope | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (!isRecord(parsed) || !isRecord(parsed.error)) return null
  const { code, message, request_id: requestId, details } = parsed.error
  if (typeof code !== 'string' || typeof message !== 'string') return null
  return {
    code,
    message,
    requestId: typeof requestId === 'string' && requestId !== '' ? requestId : null,
    details: Array.isArray(details)
      ? details.filter(isRecord).map((d) => ({ path: String(d.path ?? ''), message: String(d.message ?? '') }))
      : undefined,
  }
}

function asListResponse<T>(data: unknown): ListResponse<T> | null {
  if (!isRecord(data) || !Array.isArray(data.data) || !isRecord(data.page)) return null
  const next = data.page.next
  if (next !== null && next !== undefined && typeof next !== 'string') return null
  return {
    data: data.data as T[],
    page: { next: next ?? null, limit: typeof data.page.limit === 'number' ? data.page.limit : data.data.length },
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat)
}
