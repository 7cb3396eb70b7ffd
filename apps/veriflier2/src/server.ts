import { setMaxListeners } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { MAX_CHECKS } from '@jetmon/monitor/protocol'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { serverTlsFromConfig } from './_tls.js'
import { createBatchRunner } from './batch-runner.js'
import { createCheckRequestReader } from './check-request.js'
import { type CheckFunction, checkerFromConfig } from './checker.js'
import type { Veriflier2Config } from './config.js'
import { answerMalformedRequest, HttpProblem, sendJson, sendProblem } from './problem.js'
import { VERSION } from './version.js'

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

const ALLOWED: Record<string, string> = { '/v1/check': 'POST', '/v1/health': 'GET, HEAD' }

function reachableUrl(host: string, port: number, tls: boolean): string {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `${tls ? 'https' : 'http'}://${target.includes(':') ? `[${target}]` : target}:${port}`
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
  const logger = options.logger ?? noopLogger
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000
  const tls = serverTlsFromConfig(config)
  const identity = { id: config.VERIFLIER_ID, region: config.VERIFLIER_REGION, version: VERSION }
  const runner = createBatchRunner({
    check: options.checker ?? checkerFromConfig(config, logger),
    maxConcurrency: config.MAX_CONCURRENCY,
    identity,
    logger,
  })

  let address: VeriflierAddress | undefined
  let draining = false
  let activeBatches = 0
  let onIdle: (() => void) | undefined

  const readCheckRequest = createCheckRequestReader({
    tokens: config.VERIFLIER_TOKENS,
    draining: () => draining,
    logger,
  })

  async function handleCheck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const batch = await readCheckRequest(req, res)
    if (!batch) return
    // A monitor that gave up (timeout, shutdown) closes its connection: its queued checks are not run.
    const gone = new AbortController()
    // Every queued check of the batch listens to it.
    setMaxListeners(MAX_CHECKS + 1, gone.signal)
    res.once('close', () => {
      if (!res.writableFinished) gone.abort()
    })
    const answer = await runner.run(batch, gone.signal)
    if (answer) sendJson(res, 200, answer, { closing: draining })
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
      sendJson(
        res,
        draining ? 503 : 200,
        { status: draining ? 'draining' : 'ok', ...identity, in_flight: runner.inFlight },
        { closing: draining },
      )
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
      sendProblem(res, problem, draining)
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
  server.on('clientError', answerMalformedRequest)

  return {
    get address() {
      return address
    },
    get inFlight() {
      return runner.inFlight
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
        logger.warn({ in_flight: runner.inFlight, timeout_ms: timeoutMs }, 'drain timed out: cutting open connections')
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
