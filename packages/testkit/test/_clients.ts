// Raw clients for the fixture tests: they report exactly what came over the wire and how the
// connection ended, which node:http's client would smooth over.
import { createHook } from 'node:async_hooks'
import { connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls'

export interface RawExchange {
  /** Every byte received, in order. */
  raw: Buffer
  /** Arrival time of each received piece, ms after the request was written. */
  pieces: { atMs: number; bytes: number }[]
  /** How the exchange ended. */
  ending: 'end' | 'error' | 'timeout'
  error?: NodeJS.ErrnoException
  status: number | null
  headers: Record<string, string>
  /** Bytes after the header block (still chunk-encoded when chunked). */
  body: Buffer
}

export interface RawRequestOptions {
  port: number
  host?: string
  /** The Host header (and SNI name for TLS). */
  hostHeader: string
  method?: string
  path?: string
  headers?: Record<string, string>
  /** Give up (and report 'timeout') after this long without the connection ending. */
  timeoutMs?: number
  /** Speak TLS with these options (servername defaults to hostHeader). */
  tls?: ConnectionOptions
}

function parse(raw: Buffer): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n')
  if (end === -1) return { status: null, headers: {}, body: Buffer.alloc(0) }
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(end + 4) }
}

/** Sends one request with `Connection: close` and collects the response until the connection ends. */
export function rawRequest(options: RawRequestOptions): Promise<RawExchange> {
  const host = options.host ?? '127.0.0.1'
  return new Promise((resolve) => {
    const received: Buffer[] = []
    const pieces: RawExchange['pieces'] = []
    let sentAt = 0
    let settled = false
    const request =
      `${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/1.1\r\nHost: ${options.hostHeader}\r\n` +
      Object.entries(options.headers ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      'Connection: close\r\n\r\n'
    const socket: Socket = options.tls
      ? tlsConnect({ host, port: options.port, servername: options.hostHeader, ...options.tls })
      : netConnect({ host, port: options.port })
    const finish = (ending: RawExchange['ending'], error?: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const raw = Buffer.concat(received)
      resolve({ raw, pieces, ending, ...(error ? { error } : {}), ...parse(raw) })
    }
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 5000)
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      sentAt = performance.now()
      socket.write(request)
    })
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      pieces.push({ atMs: performance.now() - sentAt, bytes: chunk.length })
    })
    socket.once('end', () => finish('end'))
    socket.once('error', (error) => finish('error', error))
  })
}

/** Decodes a chunked body; `complete` says whether the terminating 0-chunk arrived. */
export function decodeChunked(body: Buffer): { data: Buffer; complete: boolean; chunks: number } {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    if (lineEnd === -1) return { data: Buffer.concat(parts), complete: false, chunks: parts.length }
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16)
    if (size === 0) return { data: Buffer.concat(parts), complete: true, chunks: parts.length }
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

export interface HandshakeResult {
  ok: boolean
  /** The error code when the handshake or verification failed. */
  code?: string
  protocol: string | null
  peer?: DetailedPeerCertificate
  /** How many certificates the server sent (leaf first, following issuers the server included). */
  sentChainLength: number
}

/** Certificates in the peer chain node reports (it only knows issuers that were sent, without a `ca`). */
function chainLength(peer: DetailedPeerCertificate): number {
  let length = 1
  for (let cert = peer; cert.issuerCertificate && cert.issuerCertificate !== cert; cert = cert.issuerCertificate) {
    length++
  }
  return length
}

/** A TLS handshake that verifies like a careful client (rejectUnauthorized, hostname check). */
export function handshake(options: ConnectionOptions & { port: number; host?: string }): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', ...options })
    socket.setTimeout(5000, () => socket.destroy(Object.assign(new Error('handshake timed out'), { code: 'TIMEOUT' })))
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true)
      const result = { ok: true, protocol: socket.getProtocol(), peer, sentChainLength: chainLength(peer) }
      socket.destroy()
      resolve(result)
    })
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, ...(error.code ? { code: error.code } : {}), protocol: null, sentChainLength: 0 }),
    )
  })
}

/** Counts of the handles that matter for leaks: servers, sockets, timers. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, UDPWrap: 0, Timeout: 0 }
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/**
 * Follows the timers created from files under `pathPart` (by the stack at creation) until stop();
 * `pending()` lists those neither fired nor cleared.
 */
export function trackTimers(pathPart: string): { pending(): string[]; stop(): void } {
  const live = new Map<number, string>()
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return
      const stack = new Error().stack ?? ''
      if (stack.includes(pathPart)) live.set(id, stack)
    },
    destroy(id) {
      live.delete(id)
    },
  }).enable()
  return { pending: () => [...live.values()], stop: () => void hook.disable() }
}
