import { targetNotAllowedIn } from '@jetmon/webhooks'
import { type Dispatcher, request } from 'undici'
import type { AlertSendResult } from './result.js'

/** What every HTTP transport shares: the time limit, the dispatcher, the User-Agent. */
export interface HttpContext {
  timeoutMs: number
  dispatcher: Dispatcher | undefined
  userAgent: string
}

/** The part of an answer kept in a result: its first 2 KiB. */
export const RESPONSE_EXCERPT_BYTES = 2048

/**
 * POSTs a JSON body and turns what happens into a result; never throws. A 2xx is `ok`; anything
 * else (a redirect included: none is followed), a refused connection or no complete answer within
 * the time limit is `ok: false` with an error `<transport>: …` naming only the URL's host — never
 * its path or query, which hold webhook secrets — and with every string in `secrets` redacted.
 * A connection the SSRF guard refused (a `TargetNotAllowedError` of @jetmon/webhooks) is a
 * permanent failure: `retryable: false`, the error `<transport>: <the refusal>`.
 */
export async function postJson(
  ctx: HttpContext,
  input: {
    transport: string
    url: URL
    body: unknown
    headers?: Record<string, string>
    /** Values that must not appear in the result (tokens, keys, secret URL paths). */
    secrets: readonly string[]
  },
): Promise<AlertSendResult> {
  const { transport, url } = input
  const redact = redactor(input.secrets)
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, ctx.timeoutMs)
  try {
    let response: Dispatcher.ResponseData
    try {
      response = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': ctx.userAgent,
          ...input.headers,
        },
        body: JSON.stringify(input.body),
        signal: controller.signal,
        ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
      })
    } catch (error) {
      const refusal = targetNotAllowedIn(error)
      if (refusal) {
        // Sending again would be refused again: the delivery worker abandons it at once.
        return {
          ok: false,
          statusCode: null,
          response: null,
          error: redact(`${transport}: ${refusal.message}`),
          retryable: false,
        }
      }
      const reason = timedOut
        ? `no answer from ${url.host} within ${formatMs(ctx.timeoutMs)}`
        : describeNetworkError(error, url.host)
      return { ok: false, statusCode: null, response: null, error: redact(`${transport}: ${reason}`), retryable: true }
    }
    const status = response.statusCode
    const excerpt = redact(await readExcerpt(response.body))
    if (status >= 200 && status < 300) return { ok: true, statusCode: status, response: excerpt, retryable: false }
    let reason = `${url.host} answered HTTP ${status}`
    if (status >= 300 && status < 400) reason += ' (a redirect, which is not followed: use the final URL)'
    const first = excerpt.trim().slice(0, 200)
    if (first) reason += `: ${first.replace(/\s+/g, ' ')}`
    return {
      ok: false,
      statusCode: status,
      response: excerpt,
      error: redact(`${transport}: ${reason}`),
      retryable: status === 408 || status === 429 || status >= 500,
    }
  } finally {
    clearTimeout(timer)
  }
}

/** The first {@link RESPONSE_EXCERPT_BYTES} of a body; the rest is left unread. Never throws. */
async function readExcerpt(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= RESPONSE_EXCERPT_BYTES) break
    }
  } catch {
    // An answer cut short (or the time limit) keeps what arrived; the status already tells.
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES)
  // A character cut in two at the limit would decode as U+FFFD: drop it.
  return new TextDecoder().decode(bytes).replace(/\uFFFD$/, '')
}

/** Replaces each secret with `[redacted]` (secrets shorter than 4 characters would mangle any text). */
export function redactor(secrets: readonly string[]): (text: string) => string {
  // Longest first, so a URL is replaced whole before its path is.
  const values = secrets.filter((secret) => secret.length >= 4).sort((a, b) => b.length - a.length)
  return (text) => values.reduce((out, secret) => out.split(secret).join('[redacted]'), text)
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed, temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed before the answer was complete',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
}

/** `could not reach hooks.slack.com: connection refused (ECONNREFUSED)`, or the error's own words. */
export function describeNetworkError(error: unknown, host: string): string {
  const code = errorCode(error)
  const known = code ? NETWORK_ERRORS[code] : undefined
  if (known) return `could not reach ${host}: ${known} (${code})`
  const message = error instanceof Error ? error.message || error.name : String(error)
  return `request to ${host} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const own = (error as { code?: unknown }).code
  if (typeof own === 'string') return own
  // Happy Eyeballs (autoSelectFamily) reports every failed address in an AggregateError.
  const inner = (error as { errors?: unknown[] }).errors?.[0] ?? (error as { cause?: unknown }).cause
  return inner === undefined ? undefined : errorCode(inner)
}

/** `10 s`, `250 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/** What of a webhook URL is secret: the URL itself and its path and query (Slack's token is the path). */
export function urlSecrets(url: URL): string[] {
  const tail = `${url.pathname}${url.search}`
  return tail.length > 1 ? [url.href, tail] : []
}
