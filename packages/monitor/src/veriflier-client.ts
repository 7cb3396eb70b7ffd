import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { rootCertificates } from 'node:tls'
import { ERROR_CODES, isDowntime } from '@jetmon/checker'
import { Agent, type Dispatcher, request, fetch as undiciFetch } from 'undici'
import * as v from 'valibot'
import {
  answerSchema,
  CHECK_PATH,
  MAX_CHECKS,
  type ReadAnswer,
  toWireCheck,
  type VeriflierCheck,
  type WireCheckBatch,
} from './protocol.js'
import { VERSION } from './version.js'

export type { VeriflierCheck }

// The monitor's side of the veriflier protocol: ask every configured veriflier to re-run the
// checks of endpoints that seem down, turn each answer into a vote per endpoint, and decide from
// the votes.

/** One configured veriflier (`VERIFLIERS` entry). */
export interface VeriflierTarget {
  id: string
  region: string
  /** Base URL, such as `https://veriflier-eu.example.com/` (`v1/check` is resolved against it). */
  url: string
  /** Bearer token: one of the veriflier's `VERIFLIER_TOKENS`. */
  token: string
}

/**
 * `down`: the veriflier's check counts as downtime; `up`: it does not; `error`: no usable answer
 * (unreachable, timeout, a non-2xx or malformed answer, or `monitor_error` on the veriflier).
 */
export type Vote = 'down' | 'up' | 'error'

/** Why a veriflier gave no check result for an endpoint (the `error` of such a vote). */
export type VoteFailure =
  | 'unreachable'
  /** HTTPS to a veriflier whose certificate does not verify (its CA is not in `CA_FILE`, wrong name, expired). */
  | 'untrusted_certificate'
  | 'timeout'
  | 'bad_status'
  | 'malformed_response'
  | 'missing_result'
  /** Not awaited: the outcome was already settled by the other verifliers' votes (see `quorum`). */
  | 'abandoned'

/** One veriflier's vote on one endpoint. */
export interface VeriflierVote {
  /** The veriflier's configured id. */
  veriflier: string
  region: string
  vote: Vote
  /** The site's HTTP status as the veriflier saw it (null without a result or a response). */
  httpStatus: number | null
  /** The checker's error code (0 for success); null when the veriflier gave no result. */
  errorCode: number | null
  /** The checker's error name, or a {@link VoteFailure} when the veriflier gave no result; null for success. */
  error: string | null
  /** Round trip of the request to the veriflier, in milliseconds (to the failure, for failures). */
  rttMs: number
  /** How long the check took on the veriflier (`timings.total_ms`); null without a result. */
  checkMs: number | null
  /** What happened, for a person. */
  detail: string | null
}

/** A pino-compatible logger subset. */
export interface VeriflierClientLogger {
  debug(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

/** Options of {@link askVerifliers}. */
export interface AskVerifliersOptions {
  verifliers: readonly VeriflierTarget[]
  checks: readonly VeriflierCheck[]
  /** Deadline of each request to a veriflier (`VERIFLIER_TIMEOUT_MS`; default there: check timeout + 5 s). */
  timeoutMs: number
  /**
   * With a quorum, the call returns as soon as more answers cannot change any endpoint's
   * {@link decide} outcome; requests still running are cancelled and vote `error` (`abandoned`).
   * Without one, every veriflier is awaited (up to `timeoutMs`).
   */
  quorum?: number | undefined
  /** Correlates the request with the veriflier's log (default: a random id). */
  requestId?: string | undefined
  /**
   * Extra trusted root certificates, PEM (the monitor's `CA_FILE`), added to Node's built-in ones
   * to verify `https://` verifliers. Ignored when `dispatcher` is given.
   */
  ca?: readonly string[] | undefined
  /** HTTP dispatcher; default a shared keep-alive Agent (see {@link veriflierAgent}). */
  dispatcher?: Dispatcher | undefined
  /** The `User-Agent` of each request (default `jetmon2/<version of this package>`). */
  userAgent?: string | undefined
  logger?: VeriflierClientLogger | undefined
}

/** Most bytes of an answer read (100 results are a few hundred KiB at most). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024

/**
 * A keep-alive HTTP agent for verifliers: `https://` ones must present a certificate that verifies
 * against Node's built-in roots plus `ca` (the monitor's `CA_FILE`, PEM). Close it when done.
 */
export function createVeriflierAgent(ca: readonly string[] = []): Agent {
  return new Agent({
    keepAliveTimeout: 4_000,
    connections: 32,
    connect: { rejectUnauthorized: true, ...(ca.length > 0 && { ca: [...rootCertificates, ...ca] }) },
  })
}

const sharedAgents = new Map<string, Agent>()

/**
 * The keep-alive HTTP agent shared by every call that does not pass a dispatcher (one per set of
 * extra CA certificates), created on first use. Verifliers are few and asked often during an
 * incident, so connections are worth keeping (see {@link createVeriflierAgent}).
 */
export function veriflierAgent(ca: readonly string[] = []): Agent {
  const key = ca.join('\n')
  let agent = sharedAgents.get(key)
  if (!agent) {
    agent = createVeriflierAgent(ca)
    sharedAgents.set(key, agent)
  }
  return agent
}

/**
 * A `fetch` that trusts what the veriflier client trusts (the built-in roots plus `ca`), through
 * the shared agent: for other readers of the verifliers, such as the dashboard's health probe.
 */
export function veriflierFetch(ca: readonly string[] = []): typeof fetch {
  const dispatcher = veriflierAgent(ca)
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch
}

// What the TLS layer says when a peer's certificate does not verify.
const CERTIFICATE_ERRORS =
  /^(?:ERR_TLS_CERT_ALTNAME_INVALID|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)$/

/** The error (or its cause) that says a peer's certificate did not verify; undefined for other errors. */
function certificateError(error: unknown): { code: string; message: string } | undefined {
  let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string' && CERTIFICATE_ERRORS.test(e.code))
      return { code: e.code, message: String(e.message) }
  }
  return undefined
}

/** Whether an error is a certificate that did not verify (its CA unknown, another name, expired). */
export function isUntrustedCertificate(error: unknown): boolean {
  return certificateError(error) !== undefined
}

/** The words for a certificate that did not verify, for a person. */
export function untrustedCertificateDetail(url: string, error: unknown): string {
  const cause = certificateError(error) ?? { code: 'certificate', message: String((error as Error)?.message) }
  return `the certificate of the veriflier at ${url} is not trusted (${cause.code}: ${cause.message}): put the CA that issued it in CA_FILE, or give the veriflier a certificate that names this host`
}

/** The configured quorum: `auto` is a majority of the configured verifliers; at least 1 either way. */
export function quorumOf(configured: number, setting: 'auto' | number): number {
  if (setting === 'auto') return Math.max(1, Math.floor(configured / 2) + 1)
  return Math.max(1, Math.floor(setting))
}

/** What the votes on one endpoint decide: promote to Down, call it a false alarm, or ask again later. */
export type ConfirmationOutcome = 'confirmed' | 'false_alarm' | 'inconclusive'

/**
 * Decides from one endpoint's votes: `confirmed` (promote to Down) when at least `quorum` say down;
 * `false_alarm` when at least `quorum` gave a usable answer (up or down) but fewer than `quorum`
 * say down; otherwise `inconclusive` (stay Seems Down, ask again later; never Down, never a false
 * alarm). With no verifliers configured the caller does not ask at all: Down after `NUM_OF_CHECKS`.
 */
export function decide(votes: readonly { vote: Vote }[], quorum: number): ConfirmationOutcome {
  let down = 0
  let up = 0
  for (const { vote } of votes) {
    if (vote === 'down') down++
    else if (vote === 'up') up++
  }
  if (down >= quorum) return 'confirmed'
  if (up + down >= quorum) return 'false_alarm'
  return 'inconclusive'
}

/** Whether more votes (`pending` still to come) can no longer change what {@link decide} says. */
function isSettled(votes: readonly (VeriflierVote | undefined)[], quorum: number): boolean {
  let down = 0
  let up = 0
  let pending = 0
  for (const vote of votes) {
    if (vote === undefined) pending++
    else if (vote.vote === 'down') down++
    else if (vote.vote === 'up') up++
  }
  if (pending === 0 || down >= quorum) return true
  const canConfirm = down + pending >= quorum
  const usableFixed = up + down >= quorum
  const canBecomeUsable = up + down + pending >= quorum
  // false_alarm that no pending vote can turn into confirmed, or inconclusive that none can lift.
  return !canConfirm && (usableFixed || !canBecomeUsable)
}

async function readAnswer(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > MAX_ANSWER_BYTES) {
      body.destroy()
      throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size).toString('utf8')
}

/** `code: message` of a veriflier's error envelope, or the start of whatever it sent. */
function describeErrorAnswer(text: string): string {
  try {
    const envelope = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
    if (typeof envelope.error?.code === 'string') return `${envelope.error.code}: ${String(envelope.error.message)}`
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200) || '(empty body)'
}

interface Call {
  target: VeriflierTarget
  checks: readonly VeriflierCheck[]
  timeoutMs: number
  requestId: string
  dispatcher: Dispatcher
  userAgent: string
  settled: AbortSignal
}

/** One request to one veriflier: a vote for each of its checks, in order. Never throws. */
async function callVeriflier(call: Call): Promise<VeriflierVote[]> {
  const { target, checks } = call
  const started = performance.now()
  const rtt = () => Math.round(performance.now() - started)
  const failed = (error: VoteFailure, detail: string): VeriflierVote[] =>
    checks.map(() => ({
      veriflier: target.id,
      region: target.region,
      vote: 'error',
      httpStatus: null,
      errorCode: null,
      error,
      rttMs: rtt(),
      checkMs: null,
      detail,
    }))

  const deadline = AbortSignal.timeout(call.timeoutMs)
  let answer: ReadAnswer
  try {
    const url = new URL(CHECK_PATH, target.url.endsWith('/') ? target.url : `${target.url}/`)
    const response = await request(url, {
      method: 'POST',
      dispatcher: call.dispatcher,
      headers: {
        authorization: `Bearer ${target.token}`,
        'content-type': 'application/json',
        'user-agent': call.userAgent,
      },
      body: JSON.stringify({ request_id: call.requestId, checks: checks.map(toWireCheck) } satisfies WireCheckBatch),
      signal: AbortSignal.any([call.settled, deadline]),
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    })
    const text = await readAnswer(response.body)
    if (response.statusCode < 200 || response.statusCode > 299) {
      return failed('bad_status', `veriflier answered HTTP ${response.statusCode}: ${describeErrorAnswer(text)}`)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return failed('malformed_response', `veriflier answer is not JSON: ${text.slice(0, 200)}`)
    }
    const parsed = v.safeParse(answerSchema, json)
    if (!parsed.success) {
      const issue = parsed.issues[0]
      const where = v.getDotPath(issue) ?? '(answer)'
      return failed('malformed_response', `veriflier answer does not follow the protocol: ${where}: ${issue.message}`)
    }
    answer = parsed.output
  } catch (error) {
    if (call.settled.aborted)
      return failed('abandoned', 'not awaited: the other verifliers already settled the outcome')
    if (isUntrustedCertificate(error)) {
      return failed('untrusted_certificate', untrustedCertificateDetail(target.url, error))
    }
    const code = (error as { code?: string }).code
    if (
      deadline.aborted ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
    ) {
      return failed('timeout', `no complete answer within ${call.timeoutMs} ms`)
    }
    const reason = (error as Error).message || code || String(error)
    return failed('unreachable', `cannot reach the veriflier at ${target.url}: ${code ? `${code} ` : ''}${reason}`)
  }

  const roundTrip = rtt()
  const byId = new Map(answer.results.map((result) => [BigInt(result.endpoint_id), result]))
  return checks.map((check): VeriflierVote => {
    const result = byId.get(check.endpointId)
    if (!result) {
      return {
        veriflier: target.id,
        region: target.region,
        vote: 'error',
        httpStatus: null,
        errorCode: null,
        error: 'missing_result',
        rttMs: roundTrip,
        checkMs: null,
        detail: `the veriflier's answer has no result for endpoint ${check.endpointId}`,
      }
    }
    const vote: Vote =
      result.error_code === ERROR_CODES.monitor_error
        ? 'error'
        : isDowntime({ errorCode: result.error_code })
          ? 'down'
          : 'up'
    return {
      veriflier: target.id,
      region: target.region,
      vote,
      httpStatus: result.http_status,
      errorCode: result.error_code,
      error: result.error,
      rttMs: roundTrip,
      checkMs: result.timings?.total_ms ?? null,
      detail: result.detail ?? null,
    }
  })
}

/**
 * Asks every veriflier, in parallel, to run `checks` from its region, and returns for each endpoint
 * (in the order of `checks`) one vote per veriflier (in the order of `verifliers`). A veriflier's
 * failure is a vote `error`, never an exception (it throws only for a bad `timeoutMs`, a bug); more
 * than 100 checks are split over several requests.
 *
 * @example
 * const votes = await askVerifliers({ verifliers: config.VERIFLIERS, checks, timeoutMs: 15_000 })
 * const quorum = quorumOf(config.VERIFLIERS.length, config.VERIFLIER_QUORUM)
 * for (const [endpointId, endpointVotes] of votes) console.log(endpointId, decide(endpointVotes, quorum))
 */
export async function askVerifliers(options: AskVerifliersOptions): Promise<Map<bigint, VeriflierVote[]>> {
  const { verifliers, checks, quorum, logger } = options
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) {
    throw new RangeError(
      `askVerifliers: timeoutMs must be a positive whole number of milliseconds, got ${options.timeoutMs}`,
    )
  }
  const requestId = options.requestId ?? randomUUID()
  const dispatcher = options.dispatcher ?? veriflierAgent(options.ca)
  const settle = new AbortController()

  const index = new Map<bigint, number>()
  for (const check of checks) if (!index.has(check.endpointId)) index.set(check.endpointId, index.size)
  // votes[endpoint][veriflier]; undefined while that veriflier has not answered.
  const votes: (VeriflierVote | undefined)[][] = [...index.keys()].map(() => verifliers.map(() => undefined))

  const calls: Promise<void>[] = []
  for (const [position, target] of verifliers.entries()) {
    for (let start = 0; start < checks.length; start += MAX_CHECKS) {
      const batch = checks.slice(start, start + MAX_CHECKS)
      const call = callVeriflier({
        target,
        checks: batch,
        timeoutMs: options.timeoutMs,
        requestId,
        dispatcher,
        userAgent: options.userAgent ?? `jetmon2/${VERSION}`,
        settled: settle.signal,
      }).then((answers) => {
        for (const [i, vote] of answers.entries()) {
          const row = votes[index.get(batch[i]!.endpointId)!]!
          row[position] = vote
        }
        const failure = answers.find((vote) => vote.error !== null && vote.errorCode === null)
        if (failure && failure.error !== 'abandoned') {
          logger?.warn(
            {
              veriflier: target.id,
              region: target.region,
              request_id: requestId,
              error: failure.error,
              detail: failure.detail,
            },
            'veriflier gave no usable answer: its votes count as errors',
          )
        }
        if (quorum !== undefined && !settle.signal.aborted && votes.every((row) => isSettled(row, quorum))) {
          settle.abort()
        }
      })
      calls.push(call)
    }
  }
  await Promise.all(calls)
  logger?.debug({ request_id: requestId, verifliers: verifliers.length, checks: checks.length }, 'verifliers asked')

  const out = new Map<bigint, VeriflierVote[]>()
  for (const [endpointId, row] of index)
    out.set(
      endpointId,
      votes[row]!.filter((vote) => vote !== undefined),
    )
  return out
}
