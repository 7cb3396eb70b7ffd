import { createRequire } from 'node:module'
import { StringDecoder } from 'node:string_decoder'
import { type JsonId, jsonId } from '@jetmon/vocabulary'
import { Agent, buildConnector, type Dispatcher, request } from 'undici'
import { SIGNATURE_HEADER, signatureHeader } from './signature.js'
import {
  type AddressResolver,
  checkTargetHost,
  guardedLookup,
  type TargetNotAllowedError,
  targetNotAllowedIn,
} from './target-guard.js'

const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version

/** `User-Agent` of every webhook request. */
export const WEBHOOK_USER_AGENT = `Jetmon-Webhooks/${VERSION}`
/** How long one attempt may take, connection to the end of the response excerpt (docs/webhooks.md). */
export const WEBHOOK_TIMEOUT_MS = 10_000
/** How much of a receiver's answer is kept (docs/webhooks.md: 2 KiB). */
export const RESPONSE_EXCERPT_BYTES = 2048
/** The event type of a test send. */
export const PING_EVENT_TYPE = 'ping'

export interface WebhookDispatcherOptions {
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`: let webhooks reach loopback and private addresses. */
  allowPrivateTargets?: boolean
  /** Resolver behind the guard (default the system resolver); tests pass a fixed one. */
  resolve?: AddressResolver
  /** TCP + TLS connection timeout (default {@link WEBHOOK_TIMEOUT_MS}). */
  connectTimeoutMs?: number
}

/**
 * An undici dispatcher for webhook requests that applies the SSRF guard at connection time: IP
 * literals are checked before connecting, host names by a guarded `lookup` on every connection
 * (so a name that changes its answer cannot slip through). No proxy, no redirects. Build one per
 * process (a delivery worker) and `close()` it on shutdown.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions = {}): Dispatcher {
  const allowPrivateTargets = options.allowPrivateTargets === true
  const connector = buildConnector({
    lookup: guardedLookup({ allowPrivateTargets, ...(options.resolve ? { resolve: options.resolve } : {}) }),
    timeout: options.connectTimeoutMs ?? WEBHOOK_TIMEOUT_MS,
  })
  return new Agent({
    connect(connectOptions, callback) {
      const refused = checkTargetHost(connectOptions.hostname, { allowPrivateTargets })
      if (refused) {
        callback(refused, null)
        return
      }
      connector(connectOptions, callback)
    },
  })
}

export interface SendWebhookInput {
  /** The webhook's http(s) URL. */
  url: string
  /** Signing secrets, newest first: two during a rotation grace period (docs/webhooks.md). */
  secrets: readonly string[]
  /** The exact JSON body to send (a delivery's frozen payload, or {@link buildPingPayload}'s). */
  body: string
  /** `X-Jetmon-Event`: the payload's `type`. */
  eventType: string
  /** `X-Jetmon-Delivery`: receivers deduplicate on it. */
  deliveryId: JsonId | bigint
  /** The moment of sending: the signature's timestamp (recomputed on every attempt). */
  now: Date
  /** From {@link createWebhookDispatcher}; without one, a dispatcher is made for this request and closed after it. */
  dispatcher?: Dispatcher
  /** Used only when no dispatcher is given. */
  allowPrivateTargets?: boolean
  /** Default {@link WEBHOOK_TIMEOUT_MS}. */
  timeoutMs?: number
}

/**
 * What happened to one webhook request. `answered`: the receiver sent a status (any status; `ok`
 * says whether it was 2xx); `error` is set when its body could not be read to the end of the
 * excerpt. `refused`: the SSRF guard stopped the connection. `failed`: no answer (DNS, connection,
 * TLS, timeout).
 */
export type SendWebhookResult =
  | {
      outcome: 'answered'
      statusCode: number
      ok: boolean
      /** The first {@link RESPONSE_EXCERPT_BYTES} bytes of the body, as UTF-8. */
      responseExcerpt: string
      durationMs: number
      error: string | null
    }
  | { outcome: 'refused'; error: string; refusal: TargetNotAllowedError; durationMs: number }
  | { outcome: 'failed'; error: string; durationMs: number }

/**
 * Sends one signed webhook request (docs/webhooks.md): `POST` of `body` with `Content-Type`,
 * `User-Agent`, `X-Jetmon-Event`, `X-Jetmon-Delivery` and `X-Jetmon-Signature` (one `v1` per
 * secret, newest first), a {@link WEBHOOK_TIMEOUT_MS} budget for the whole attempt, and redirects
 * returned as answers rather than followed. Never throws for the receiver's or the network's
 * behaviour: every outcome is a {@link SendWebhookResult}.
 *
 * @throws {SignatureInputError} when `secrets` is empty (a caller bug).
 */
export async function sendWebhook(input: SendWebhookInput): Promise<SendWebhookResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const signature = signatureHeader({
    secrets: input.secrets,
    body: input.body,
    timestamp: Math.floor(input.now.getTime() / 1000),
  })

  let url: URL
  try {
    url = new URL(input.url)
  } catch {
    return { outcome: 'failed', error: 'the webhook URL is not a valid URL', durationMs: elapsed() }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      outcome: 'failed',
      error: `webhook URLs must be http or https, not ${url.protocol}`,
      durationMs: elapsed(),
    }
  }

  const own = input.dispatcher === undefined
  const dispatcher =
    input.dispatcher ??
    createWebhookDispatcher({
      ...(input.allowPrivateTargets !== undefined ? { allowPrivateTargets: input.allowPrivateTargets } : {}),
      connectTimeoutMs: input.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
    })
  const timeoutMs = input.timeoutMs ?? WEBHOOK_TIMEOUT_MS
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(new Error(`no complete answer within ${timeoutMs / 1000} s`)), timeoutMs)
  try {
    let response: Dispatcher.ResponseData
    try {
      response = await request(url, {
        method: 'POST',
        dispatcher,
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          'x-jetmon-event': input.eventType,
          'x-jetmon-delivery': String(input.deliveryId),
          [SIGNATURE_HEADER.toLowerCase()]: signature,
        },
        body: input.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
    } catch (error) {
      const refusal = targetNotAllowedIn(error)
      if (refusal) return { outcome: 'refused', error: refusal.message, refusal, durationMs: elapsed() }
      return { outcome: 'failed', error: describeFailure(error, abort.signal), durationMs: elapsed() }
    }
    const { excerpt, error } = await readExcerpt(response.body, abort.signal)
    return {
      outcome: 'answered',
      statusCode: response.statusCode,
      ok: response.statusCode >= 200 && response.statusCode < 300,
      responseExcerpt: excerpt,
      durationMs: elapsed(),
      error,
    }
  } finally {
    clearTimeout(timer)
    if (own) await dispatcher.destroy().catch(() => {})
  }
}

/** Builds the body of a test send: `{"id", "type": "ping", "occurred_at", "webhook": {"id"}}`. */
export function buildPingPayload(input: { pingId: string; webhookId: bigint; now: Date }): {
  id: string
  type: typeof PING_EVENT_TYPE
  occurred_at: string
  webhook: { id: JsonId }
} {
  return {
    id: input.pingId,
    type: PING_EVENT_TYPE,
    occurred_at: input.now.toISOString(),
    webhook: { id: jsonId(input.webhookId) },
  }
}

/** Reads up to {@link RESPONSE_EXCERPT_BYTES} of a body, then drops the rest (and the connection with it). */
async function readExcerpt(
  body: Dispatcher.ResponseData['body'],
  signal: AbortSignal,
): Promise<{ excerpt: string; error: string | null }> {
  const chunks: Buffer[] = []
  let size = 0
  let error: string | null = null
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer
      chunks.push(bytes)
      size += bytes.length
      if (size >= RESPONSE_EXCERPT_BYTES) break
    }
  } catch (cause) {
    error = `reading the response body: ${describeFailure(cause, signal)}`
  } finally {
    if (!body.destroyed) body.destroy()
  }
  // A StringDecoder without end() leaves out a character cut in half at the limit.
  const excerpt = new StringDecoder('utf8').write(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES))
  return { excerpt, error }
}

function describeFailure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const cause = error.cause instanceof Error ? error.cause.message : null
  const message = cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message
}
