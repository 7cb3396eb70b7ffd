import { createHmac, timingSafeEqual } from 'node:crypto'
import { SignatureInputError } from './errors.js'

/** The request header that carries the signature. */
export const SIGNATURE_HEADER = 'X-Jetmon-Signature'

/** How far (either way) a signature's timestamp may be from the receiver's clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300

// A real header is ~150 bytes (two signatures during a rotation); anything far bigger is junk.
const MAX_HEADER_LENGTH = 4096
const HEX_SHA256 = /^[0-9a-f]{64}$/i
const UNIX_SECONDS = /^\d{1,15}$/

export interface SignatureHeaderOptions {
  /** Signing secrets, newest first. Two during a rotation grace period, otherwise one. */
  secrets: readonly string[]
  /** The exact request body that will be sent. */
  body: string | Uint8Array
  /** Unix time in whole seconds; the moment of sending (recomputed on every attempt). */
  timestamp: number
}

/**
 * The `X-Jetmon-Signature` value for one request: `t=<timestamp>,v1=<hex>[,v1=<hex>]`, one `v1`
 * per secret in the order given, each `hex(HMAC-SHA256(secret, "<t>.<body>"))`.
 *
 * @throws {SignatureInputError} `SIGNING_SECRET_MISSING` without a non-empty secret,
 *   `INVALID_SIGNATURE_INPUT` for a timestamp that is not whole non-negative seconds.
 */
export function signatureHeader({ secrets, body, timestamp }: SignatureHeaderOptions): string {
  checkSecrets(secrets)
  checkBody(body)
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SignatureInputError(
      'INVALID_SIGNATURE_INPUT',
      `timestamp must be unix time in whole seconds, got ${String(timestamp)}`,
    )
  }
  const entries = secrets.map((secret) => `v1=${sign(secret, timestamp, body).toString('hex')}`)
  return `t=${timestamp},${entries.join(',')}`
}

/** Why a signature was rejected. */
export type SignatureFailureReason = 'malformed_header' | 'timestamp_out_of_tolerance' | 'no_matching_signature'

/** `ok: true` with the signed timestamp, or `ok: false` with the reason. */
export type VerifySignatureResult = { ok: true; timestamp: number } | { ok: false; reason: SignatureFailureReason }

export interface VerifySignatureOptions {
  /** The webhook's secret (`whsec_…`). Give `secret`, `secrets`, or both. */
  secret?: string
  /** Several accepted secrets, e.g. the old and the new one while you roll a rotation out. */
  secrets?: readonly string[]
  /** The `X-Jetmon-Signature` header as received; a missing header is `malformed_header`. */
  header: string | readonly string[] | null | undefined
  /** The raw request body, byte for byte — not re-serialized JSON. */
  body: string | Uint8Array
  /** Maximum distance between the signed timestamp and `now`, in seconds (default 300). */
  toleranceSeconds?: number
  /** The receiver's clock: a `Date` or epoch milliseconds (default `Date.now()`). */
  now?: Date | number
}

/**
 * Checks a webhook request's signature, for receivers. Accepts the request when its timestamp is
 * within `toleranceSeconds` of `now` (in either direction; exactly at the tolerance passes) and at
 * least one `v1` entry matches one of the secrets. Comparison is constant-time. Entries with other
 * labels (`v0`, a future `v2`) are ignored.
 *
 * @example
 * const result = verifySignature({ secret: process.env.JETMON_WEBHOOK_SECRET, header: req.headers['x-jetmon-signature'], body: rawBody })
 * if (!result.ok) return res.writeHead(400).end(result.reason)
 *
 * @throws {SignatureInputError} when no non-empty secret is given (a configuration bug: every
 *   request would fail), or the body is not a string or bytes (pass the raw body).
 */
export function verifySignature(options: VerifySignatureOptions): VerifySignatureResult {
  const secrets = [...(options.secret === undefined ? [] : [options.secret]), ...(options.secrets ?? [])]
  checkSecrets(secrets)
  checkBody(options.body)
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS
  if (Number.isNaN(tolerance) || tolerance < 0) {
    throw new SignatureInputError(
      'INVALID_SIGNATURE_INPUT',
      `toleranceSeconds must be zero or more, got ${String(tolerance)}`,
    )
  }

  const parsed = parseHeader(options.header)
  if (!parsed) return { ok: false, reason: 'malformed_header' }

  const nowMs = options.now === undefined ? Date.now() : Number(options.now)
  // NaN would compare as "within tolerance" below: an invalid clock must fail loudly instead.
  if (!Number.isFinite(nowMs)) {
    throw new SignatureInputError(
      'INVALID_SIGNATURE_INPUT',
      `now must be a valid Date or epoch milliseconds, got ${String(options.now)}`,
    )
  }
  // Signers floor to whole seconds, so the receiver compares in whole seconds too.
  const nowSeconds = Math.floor(nowMs / 1000)
  if (Math.abs(nowSeconds - parsed.timestamp) > tolerance) return { ok: false, reason: 'timestamp_out_of_tolerance' }

  let matched = false
  for (const secret of secrets) {
    const expected = sign(secret, parsed.timestamp, options.body)
    for (const candidate of parsed.signatures) {
      // Both are 32 bytes (the parser only keeps 64-hex-digit values), as timingSafeEqual requires.
      if (timingSafeEqual(expected, candidate)) matched = true
    }
  }
  return matched ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: 'no_matching_signature' }
}

function sign(secret: string, timestamp: number, body: string | Uint8Array): Buffer {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`)
  if (typeof body === 'string') hmac.update(body, 'utf8')
  else hmac.update(body)
  return hmac.digest()
}

function checkSecrets(secrets: readonly string[]): void {
  if (secrets.length === 0) {
    throw new SignatureInputError('SIGNING_SECRET_MISSING', 'no webhook secret given: pass `secret` or `secrets`')
  }
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret === '') {
      throw new SignatureInputError(
        'SIGNING_SECRET_MISSING',
        'a webhook secret is empty or not a string (is the environment variable holding it set?)',
      )
    }
  }
}

function checkBody(body: unknown): void {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new SignatureInputError(
      'INVALID_SIGNATURE_INPUT',
      'body must be the raw request body (a string or bytes), not parsed JSON: re-serializing changes the bytes that were signed',
    )
  }
}

interface ParsedHeader {
  timestamp: number
  signatures: Buffer[]
}

/** `t=<digits>` exactly once and at least one well-formed `v1`; anything else is malformed. */
function parseHeader(header: string | readonly string[] | null | undefined): ParsedHeader | null {
  if (header === null || header === undefined) return null
  const text = typeof header === 'string' ? header : header.join(',')
  if (text.length > MAX_HEADER_LENGTH) return null
  let timestamp: number | undefined
  const signatures: Buffer[] = []
  for (const rawPart of text.split(',')) {
    const part = rawPart.trim()
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) return null
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't') {
      if (timestamp !== undefined || !UNIX_SECONDS.test(value)) return null
      timestamp = Number(value)
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return null
      signatures.push(Buffer.from(value, 'hex'))
    }
  }
  if (timestamp === undefined || signatures.length === 0) return null
  return { timestamp, signatures }
}
