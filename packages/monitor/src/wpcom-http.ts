/**
 * One WordPress.com notification request: the legacy body, the POST, and what the answer means
 * (sent, refused for good, or worth retrying). No queue, no retries, no breaker: see wpcom.ts.
 */
import { type JsonId, jsonId, systemTimers, type Timers } from '@jetmon/vocabulary'
import { type Dispatcher, request } from 'undici'
import type { DownNotice } from './pipeline.js'
import { VERSION } from './version.js'

/** The JSON body WordPress.com receives, field for field what the Go monitor sent. */
export interface WpcomPayload {
  /** A number while it is exact in JSON (≤ 2^53), the decimal string beyond. */
  blog_id: JsonId
  monitor_url: string
  status_id: 1 | 2
  status_type: string
  /** RFC 3339, UTC, whole seconds. */
  last_check: string
  last_status_change: string
  checks: { type: 1 | 2; host: string; status: 0 | 1; rtt: number; code: number }[]
}

/** `2025-03-01T12:00:00Z`: Go's time.RFC3339 for a UTC time, which the receiving end has always parsed. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function wpcomPayload(notice: DownNotice): WpcomPayload {
  const { blogId, url } = notice.endpoint
  return {
    blog_id: jsonId(blogId),
    monitor_url: url,
    status_id: notice.statusId,
    status_type: notice.statusType,
    last_check: rfc3339(notice.lastCheck),
    last_status_change: rfc3339(notice.lastStatusChange),
    // The legacy receiver takes integers: no measurement (no answer, a veriflier error) is 0, as Go sent it.
    checks: notice.checks.map((c) => ({
      type: c.type,
      host: c.host,
      status: c.status,
      rtt: c.rtt === null ? 0 : Math.round(c.rtt),
      code: c.code ?? 0,
    })),
  }
}

/** What one POST came to. */
export type WpcomAttempt =
  | { kind: 'ok'; status: number }
  | { kind: 'permanent'; status: number; answer: string }
  | { kind: 'transient'; status: number | null; error: string; retryAfterMs: number | null }
  | { kind: 'aborted' }

/**
 * What the notifier needs to send: one POST of a notice's body, classified, and a way to cancel
 * every request in flight. {@link WpcomHttpSender} is the HTTP one.
 */
export interface WpcomSender {
  /** One POST of `body`. Never throws. */
  post(body: string): Promise<WpcomAttempt>
  /** Cancels every request in flight: each resolves `aborted`. */
  abortAll(): void
}

export interface WpcomHttpOptions {
  /** WPCOM_NOTIFY_URL. */
  url: string
  /** AUTH_TOKEN, sent as a bearer token. Never logged, never stored. */
  authToken: string
  /** Named in the User-Agent. */
  hostId: string
  /** The User-Agent before the host id (default `jetmon2/<version of this package>`). */
  userAgent?: string
  /** Per request, the answer's body included. Default 15 s. */
  timeoutMs?: number
  timers?: Timers
  clock?: () => Date
  /** An undici dispatcher (Agent, proxy agent); default undici's global one. */
  dispatcher?: Dispatcher
}

/**
 * POSTs notices to WordPress.com and classifies the answers: 2xx sent; transport errors, timeouts,
 * 5xx, 408 and 429 transient (with Retry-After); any other 4xx permanent (404/410: the site is unknown
 * there; 401/403: the credentials). The token never appears in what it returns.
 */
export class WpcomHttpSender implements WpcomSender {
  /** The URL without its query string, for messages. */
  readonly safeUrl: string
  readonly timeoutMs: number
  private readonly url: string
  private readonly token: string
  private readonly headers: Record<string, string>
  private readonly timers: Timers
  private readonly clock: () => Date
  private readonly dispatcher: Dispatcher | undefined
  private readonly requests = new Set<AbortController>()
  private aborting = false

  /** @throws WpcomConfigError for a missing or non-http(s) URL or an empty token. */
  constructor(options: WpcomHttpOptions) {
    let parsed: URL
    try {
      parsed = new URL(options.url)
    } catch {
      throw new WpcomConfigError('WPCOM_NOTIFY_URL is not a URL; set it, or set WPCOM_NOTIFY_ENABLE=false')
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new WpcomConfigError(`WPCOM_NOTIFY_URL must be http(s), got ${parsed.protocol}`)
    }
    if (!options.authToken) {
      throw new WpcomConfigError('AUTH_TOKEN is empty: WordPress.com would refuse every notification')
    }
    this.url = options.url
    this.safeUrl = `${parsed.origin}${parsed.pathname}`
    this.token = options.authToken
    this.headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${options.authToken}`,
      'user-agent': `${options.userAgent ?? `jetmon2/${VERSION}`} (${options.hostId})`,
    }
    this.timeoutMs = options.timeoutMs ?? 15_000
    this.timers = options.timers ?? systemTimers
    this.clock = options.clock ?? (() => new Date())
    this.dispatcher = options.dispatcher
  }

  /** One POST of `body`. Never throws. */
  async post(body: string): Promise<WpcomAttempt> {
    const controller = new AbortController()
    this.requests.add(controller)
    let timedOut = false
    const timer = this.timers.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.timeoutMs)
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: this.headers,
        body,
        signal: controller.signal,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      })
      const status = response.statusCode
      if (status >= 200 && status < 300) {
        await response.body.dump()
        return { kind: 'ok', status }
      }
      const answer = this.redact(await snippet(response.body))
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = this.retryAfter(response.headers['retry-after'])
        return { kind: 'transient', status, error: `HTTP ${status} from ${this.safeUrl}`, retryAfterMs }
      }
      return { kind: 'permanent', status, answer }
    } catch (error) {
      if (this.aborting && !timedOut) return { kind: 'aborted' }
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describe(error)
      return { kind: 'transient', status: null, error: this.redact(`${reason} (${this.safeUrl})`), retryAfterMs: null }
    } finally {
      this.timers.clearTimeout(timer)
      this.requests.delete(controller)
    }
  }

  /** Aborts every request in flight; they answer `aborted`, and so do later ones. */
  abortAll(): void {
    this.aborting = true
    for (const controller of this.requests) controller.abort()
  }

  /** The token never leaves in an error message, a log line or an audit row. */
  redact(text: string): string {
    return this.token ? text.split(this.token).join('[redacted]') : text
  }

  private retryAfter(header: string | string[] | undefined): number | null {
    const value = Array.isArray(header) ? header[0] : header
    if (!value) return null
    if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
    const at = Date.parse(value)
    return Number.isNaN(at) ? null : Math.max(0, at - this.clock().getTime())
  }
}

/** The notifier is enabled but cannot work as configured. */
export class WpcomConfigError extends Error {
  readonly code = 'WPCOM_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'WpcomConfigError'
  }
}

/** The start of an error answer's body, for the audit row and the log (bounded: the body may be large). */
async function snippet(body: AsyncIterable<Buffer>, max = 300): Promise<string> {
  let text = ''
  try {
    for await (const chunk of body) {
      text += chunk.toString('utf8')
      if (text.length >= max) break
    }
  } catch {
    // A truncated answer still classifies by its status.
  }
  return text.length > max ? `${text.slice(0, max)}…` : text
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as { cause?: unknown }).cause
  const code = (error as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code
  const message = error.message || error.name
  return code && !message.includes(code) ? `${message} (${code})` : message
}
