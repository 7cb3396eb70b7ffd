import { setMaxListeners } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type CheckResult, ERROR_CODES, isDowntime } from '@jetmon/checker'
import {
  type BatchCheck,
  type FieldIssue,
  MAX_BODY_BYTES,
  MAX_CHECKS,
  parseCheckBatch,
  toWireResult,
  type WireAnswer,
  type WireResult,
} from '@jetmon/monitor/protocol'
import { createTokenVerifier } from './_auth.js'
import { type CheckFunction, checkerFromConfig } from './_checker.js'
import { Semaphore } from './_semaphore.js'
import { serverTlsFromConfig } from './_tls.js'
import type { Veriflier2Config } from './config.js'
import { VERSION } from './version.js'

/** The logger the server writes to: a pino-compatible subset (pass `logger.child({ module })`). */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** Options of {@link createVeriflierServer}. */
export interface VeriflierServerOptions {
  /** The validated configuration (see `loadVeriflier2Config`). */
  config: Veriflier2Config
  /** The check function; default `@jetmon/checker` built from the config's checker settings. */
  checker?: CheckFunction | undefined
  /** Default: no logging. */
  logger?: Logger | undefined
  /**
   * Longest {@link VeriflierServer.close} waits for running checks before it cuts the remaining
   * connections (default 30 000 ms, the monitor's own drain budget).
   */
  drainTimeoutMs?: number | undefined
}

/** Where a started server listens. */
export interface VeriflierAddress {
  /** The bound address (`0.0.0.0`, `127.0.0.1`, `::`). */
  host: string
  port: number
  /** A URL to reach it from this machine (a wildcard address becomes loopback); `https://` with TLS. */
  url: string
  /** Whether it serves HTTPS (`TLS_CERT_FILE` and `TLS_KEY_FILE` set). */
  tls: boolean
}

/** A veriflier HTTP service; nothing happens until {@link listen}. */
export interface VeriflierServer {
  /** Starts listening on `BIND`:`PORT` (`PORT` 0 picks a free port); resolves once bound. */
  listen(): Promise<VeriflierAddress>
  /**
   * Stops accepting connections, lets running checks finish and answers them, then closes
   * every connection. Resolves `drained: false` when the drain timeout cut checks short.
   */
  close(options?: { timeoutMs?: number }): Promise<{ drained: boolean }>
  /** Set after {@link listen} resolved. */
  readonly address: VeriflierAddress | undefined
  /** Checks running right now (what `/v1/health` reports as `in_flight`). */
  readonly inFlight: number
}

/** A request the server refuses: mapped to an HTTP status and the JSON error envelope. */
class HttpProblem extends Error {
  readonly status: number
  readonly code: string
  readonly extra: { details?: FieldIssue[]; headers?: Record<string, string> }
  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'HttpProblem'
    this.status = status
    this.code = code
    this.extra = extra
  }
}

const ALLOWED: Record<string, string> = { '/v1/check': 'POST', '/v1/health': 'GET, HEAD' }

function reachableUrl(host: string, port: number, tls: boolean): string {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `${tls ? 'https' : 'http'}://${target.includes(':') ? `[${target}]` : target}:${port}`
}

type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' }

/** Reads a request body up to `limit` bytes; beyond it, stops reading at once. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: BodyRead) => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        finish({ ok: false, reason: 'too_large' })
      } else chunks.push(chunk)
    }
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) })
    const onAborted = () => finish({ ok: false, reason: 'aborted' })
    const onClose = () => {
      if (!req.complete) onAborted()
    }
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onClose)
  })
}

/** The result of a check the veriflier itself could not run: our trouble, never the site's downtime. */
function monitorError(check: BatchCheck, error: unknown, startedAt: Date, elapsedMs: number): CheckResult {
  const reason = error instanceof Error ? error.message : String(error)
  return {
    url: check.request.url,
    finalUrl: check.request.url,
    method: check.request.method ?? 'GET',
    startedAt: startedAt.toISOString(),
    ok: false,
    error: 'monitor_error',
    errorCode: ERROR_CODES.monitor_error,
    detail: `the veriflier could not run this check: ${reason}`.slice(0, 512),
    httpStatus: null,
    timings: { dnsMs: null, connectMs: null, tlsMs: null, ttfbMs: null, transferMs: null, totalMs: elapsedMs },
    redirects: [],
    advisories: [],
  }
}

/**
 * Creates the veriflier's HTTP service: `POST /v1/check` runs a batch of checks with
 * `@jetmon/checker` and answers their results, `GET /v1/health` says it is up. With `TLS_CERT_FILE`
 * and `TLS_KEY_FILE` it serves HTTPS only; it throws {@link TlsSetupError} when they cannot be used
 * (unreadable, not PEM, not a pair).
 *
 * @example
 * const server = createVeriflierServer({ config, logger: logger.child({ module: 'http' }) })
 * const { url } = await server.listen()
 * // … on SIGTERM:
 * await server.close()
 */
export function createVeriflierServer(options: VeriflierServerOptions): VeriflierServer {
  const { config } = options
  const logger = options.logger ?? silent
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000
  const tls = serverTlsFromConfig(config)
  const check = options.checker ?? checkerFromConfig(config, logger)
  const verifyToken = createTokenVerifier(config.VERIFLIER_TOKENS)
  const semaphore = new Semaphore(config.MAX_CONCURRENCY)
  const identity = { id: config.VERIFLIER_ID, region: config.VERIFLIER_REGION, version: VERSION }

  let address: VeriflierAddress | undefined
  let draining = false
  let activeBatches = 0
  let onIdle: (() => void) | undefined

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      ...(draining && { connection: 'close' }),
      ...headers,
    })
    res.end(res.req.method === 'HEAD' ? undefined : text)
  }

  function sendProblem(res: ServerResponse, problem: HttpProblem): void {
    const { details, headers } = problem.extra
    send(
      res,
      problem.status,
      { error: { code: problem.code, message: problem.message, ...(details && { details }) } },
      headers,
    )
  }

  async function runCheck(item: BatchCheck, signal: AbortSignal): Promise<CheckResult | undefined> {
    if (!(await semaphore.acquire(signal))) return undefined
    const startedAt = new Date()
    const started = performance.now()
    try {
      return await check(item.request)
    } catch (error) {
      // The checker throws only for bugs (a site's behaviour is always a result): answer this one
      // check as our own trouble, which the monitor never counts as downtime, and keep the batch.
      logger.error(
        { err: error, endpoint_id: String(item.endpointId.value) },
        'a check failed inside the veriflier (a bug): answered as monitor_error',
      )
      return monitorError(item, error, startedAt, Math.round(performance.now() - started))
    } finally {
      semaphore.release()
    }
  }

  async function handleCheck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!verifyToken(req.headers.authorization)) {
      logger.warn(
        { remote: req.socket.remoteAddress, has_authorization: req.headers.authorization !== undefined },
        'check request refused: missing or unknown token (is the monitor configured with one of VERIFLIER_TOKENS?)',
      )
      throw new HttpProblem(
        401,
        'unauthorized',
        'missing or invalid bearer token: send "Authorization: Bearer <token>" with one of the tokens in VERIFLIER_TOKENS',
        { headers: { 'www-authenticate': 'Bearer' } },
      )
    }
    if (draining) {
      throw new HttpProblem(503, 'shutting_down', 'this veriflier is shutting down; ask another one or retry shortly', {
        headers: { 'retry-after': '5' },
      })
    }
    const tooLarge = new HttpProblem(
      413,
      'payload_too_large',
      `request body larger than ${MAX_BODY_BYTES} bytes: send at most ${MAX_CHECKS} checks per request`,
      { headers: { connection: 'close' } },
    )
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) throw tooLarge
    // Only now, authorized and of an acceptable size, is the client told to send its body.
    if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue()
    const read = await readBody(req, MAX_BODY_BYTES)
    if (!read.ok) {
      if (read.reason === 'aborted') return
      throw tooLarge
    }
    let json: unknown
    try {
      json = JSON.parse(read.body.toString('utf8'))
    } catch (error) {
      throw new HttpProblem(
        400,
        'invalid_request',
        read.body.length === 0
          ? 'request body is empty'
          : `request body is not valid JSON: ${(error as Error).message}`,
        { details: [] },
      )
    }
    const parsed = parseCheckBatch(json)
    if (!parsed.ok) {
      const first = parsed.issues[0]
      throw new HttpProblem(
        400,
        'invalid_request',
        first ? `invalid request: ${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid request',
        { details: parsed.issues },
      )
    }
    const { requestId, checks } = parsed.batch

    // A monitor that gave up (timeout, shutdown) closes its connection: its queued checks are not run.
    const gone = new AbortController()
    // Every queued check of the batch listens to it.
    setMaxListeners(MAX_CHECKS + 1, gone.signal)
    res.once('close', () => {
      if (!res.writableFinished) gone.abort()
    })
    const started = performance.now()
    const results = await Promise.all(checks.map((item) => runCheck(item, gone.signal)))
    const durationMs = Math.round(performance.now() - started)
    if (gone.signal.aborted) {
      logger.warn(
        { request_id: requestId, checks: checks.length, duration_ms: durationMs },
        'the monitor closed the connection before the batch finished; its answer was dropped',
      )
      return
    }
    const answers: WireResult[] = []
    let down = 0
    let unknown = 0
    for (const [index, item] of checks.entries()) {
      const result = results[index]
      if (!result) continue
      if (result.errorCode === ERROR_CODES.monitor_error) unknown++
      else if (isDowntime(result)) down++
      answers.push(toWireResult(item.endpointId, result))
    }
    logger.info(
      {
        request_id: requestId,
        checks: checks.length,
        down,
        up: checks.length - down - unknown,
        monitor_error: unknown,
        duration_ms: durationMs,
      },
      'check batch answered',
    )
    send(res, 200, { veriflier: identity, results: answers } satisfies WireAnswer)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    const allowed = ALLOWED[path]
    if (allowed === undefined) {
      throw new HttpProblem(
        404,
        'not_found',
        `no such endpoint: ${path.slice(0, 100)} (try POST /v1/check or GET /v1/health)`,
      )
    }
    if (!allowed.split(', ').includes(req.method ?? '')) {
      throw new HttpProblem(
        405,
        'method_not_allowed',
        `${path} accepts ${allowed.replace(', ', ' or ')}, not ${req.method}`,
        {
          headers: { allow: allowed },
        },
      )
    }
    if (path === '/v1/health') {
      send(res, draining ? 503 : 200, {
        status: draining ? 'draining' : 'ok',
        ...identity,
        in_flight: semaphore.active,
      })
      return
    }
    activeBatches++
    try {
      await handleCheck(req, res)
    } finally {
      activeBatches--
      if (activeBatches === 0) onIdle?.()
    }
  }

  const httpOptions = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      const problem =
        error instanceof HttpProblem
          ? error
          : new HttpProblem(500, 'internal_error', 'the veriflier failed to handle this request; see its log')
      if (!(error instanceof HttpProblem)) logger.error({ err: error, path: req.url }, 'request failed (a bug)')
      if (res.headersSent || res.destroyed) {
        res.destroy()
        return
      }
      // A body left unread (refused before reading it, or too large) is not worth draining: close after answering.
      if (!req.complete) res.once('finish', () => req.socket.destroySoon())
      sendProblem(res, problem)
    })
  }
  const server = tls
    ? createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, onRequest)
    : createServer(httpOptions, onRequest)
  if (tls) {
    // A client that does not trust the certificate, or speaks plain HTTP to this port.
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      logger.debug({ remote: socket.remoteAddress, code: error.code }, 'TLS handshake failed')
      socket.destroy()
    })
  }
  // `Expect: 100-continue` goes through the normal handler, which refuses before asking for the body.
  server.on('checkContinue', (req, res) => server.emit('request', req, res))
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && !socket.bytesWritten)) {
      socket.destroy()
      return
    }
    const [status, reason] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request']
    const body = JSON.stringify({ error: { code: 'invalid_request', message: `malformed HTTP request (${reason})` } })
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  })

  return {
    get address() {
      return address
    },
    get inFlight() {
      return semaphore.active
    },
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: Error) => reject(error)
        server.once('error', onError)
        server.listen(config.PORT, config.BIND, () => {
          server.off('error', onError)
          const bound = server.address() as AddressInfo
          address = {
            host: bound.address,
            port: bound.port,
            url: reachableUrl(bound.address, bound.port, tls !== undefined),
            tls: tls !== undefined,
          }
          resolve(address)
        })
      })
    },
    async close({ timeoutMs = drainTimeoutMs } = {}) {
      if (!server.listening) return { drained: true }
      draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      let drained = true
      if (activeBatches > 0) {
        drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs)
          onIdle = () => {
            clearTimeout(timer)
            resolve(true)
          }
        })
        onIdle = undefined
      }
      if (!drained) {
        logger.warn({ in_flight: semaphore.active, timeout_ms: timeoutMs }, 'drain timed out: cutting open connections')
      }
      // Answers written during the drain carry `Connection: close`; give them a moment to flush.
      const grace = setTimeout(() => server.closeAllConnections(), drained ? 1_000 : 0)
      server.closeIdleConnections()
      await closed
      clearTimeout(grace)
      return { drained }
    },
  }
}
