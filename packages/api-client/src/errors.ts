/** Rate-limit state from `X-RateLimit-*` response headers. */
export interface RateLimitInfo {
  /** Requests per minute allowed for this key. */
  limit: number
  /** Requests left right now. */
  remaining: number
  /** Unix time (seconds) when the next request will be allowed. */
  reset: number
}

/** One field problem from an error envelope's `details`. */
export interface ApiErrorDetail {
  path: string
  message: string
}

/**
 * The API answered with a non-2xx status. `code` is the API's own error code (`site_not_found`,
 * `rate_limited`, `invalid_request`, …; docs/api.md), or `unexpected_response` when the body was not a
 * Jetmon error envelope (a proxy's HTML 502, an empty 503).
 */
export class JetmonApiError extends Error {
  override readonly name = 'JetmonApiError'
  readonly status: number
  readonly code: string
  /** The server's request id (envelope `request_id`, else the `X-Request-ID` header); quote it in bug reports. */
  readonly requestId: string | null
  /** Field problems of a 400 `invalid_request`. */
  readonly details: ApiErrorDetail[] | undefined
  /** Seconds to wait before retrying (from `Retry-After`, sent with 429 `rate_limited`). */
  readonly retryAfterSeconds: number | null
  readonly rateLimit: RateLimitInfo | null
  /** The start of a body that was not an error envelope (≤ 512 characters); otherwise `undefined`. */
  readonly body: string | undefined

  constructor(init: {
    status: number
    code: string
    message: string
    requestId: string | null
    details?: ApiErrorDetail[] | undefined
    retryAfterSeconds?: number | null
    rateLimit?: RateLimitInfo | null
    body?: string | undefined
  }) {
    super(init.message)
    this.status = init.status
    this.code = init.code
    this.requestId = init.requestId
    this.details = init.details
    this.retryAfterSeconds = init.retryAfterSeconds ?? null
    this.rateLimit = init.rateLimit ?? null
    this.body = init.body
  }
}

/** Stable codes of the client's own errors (`err.code`). */
export type ApiClientErrorCode =
  | 'TRANSPORT_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'INVALID_RESPONSE'
  | 'INVALID_CLIENT_OPTIONS'
  | 'FOREIGN_ORIGIN'
  | 'INVALID_PATH'
  | 'PAGINATION_LOOP'

/** Base class of the errors the client raises itself (as opposed to {@link JetmonApiError}). */
export class ApiClientError extends Error {
  readonly code: ApiClientErrorCode
  constructor(code: ApiClientErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * No HTTP answer: the connection failed or broke (`TRANSPORT_FAILED`, with the network error as
 * `cause`), the request took longer than `timeoutMs` (`TIMEOUT`), or the caller's signal aborted
 * it (`ABORTED`). A POST that failed this way may or may not have been applied: retry it with the
 * same `idempotencyKey`.
 */
export class JetmonTransportError extends ApiClientError {
  constructor(code: 'TRANSPORT_FAILED' | 'TIMEOUT' | 'ABORTED', message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** A 2xx answer whose body is not the JSON the API promises (`INVALID_RESPONSE`). */
export class JetmonResponseError extends ApiClientError {
  readonly status: number
  readonly requestId: string | null
  constructor(status: number, requestId: string | null, message: string, options?: ErrorOptions) {
    super('INVALID_RESPONSE', message, options)
    this.status = status
    this.requestId = requestId
  }
}

/**
 * The client was used in a way it refuses before sending anything: bad options, a path that is
 * not a path, a URL on another origin (`FOREIGN_ORIGIN`: the token is only ever sent to the
 * configured API), or a server that returns the same page cursor twice (`PAGINATION_LOOP`).
 */
export class JetmonUsageError extends ApiClientError {
  constructor(code: 'INVALID_CLIENT_OPTIONS' | 'FOREIGN_ORIGIN' | 'INVALID_PATH' | 'PAGINATION_LOOP', message: string) {
    super(code, message)
  }
}
