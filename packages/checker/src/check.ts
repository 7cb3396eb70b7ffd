import { isIP, type NetConnectOpts, connect as netConnect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type ConnectionOptions, type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls'
import {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  type DetectionProfile,
  type RedirectPolicy,
  type RequestMethod,
} from '@jetmon/vocabulary'
import { type BodyDecoder, contentCodingOf, createBodyDecoder, EmptinessProbe, KeywordScanner } from './_content.js'
import { MalformedResponse, type ResponseHead, ResponseReader, serializeRequest } from './_http.js'
import { HostResolver, isUnspecified, type Resolution } from './_resolve.js'
import {
  CertificateCache,
  checkerSecureContext,
  classifyVerifyError,
  coversHost,
  describeTls,
  isDeprecatedProtocol,
  type KnownCertificate,
} from './_tls.js'
import type { TargetUrl } from './_url.js'
import { validateCheckerOptions, validateCheckRequest } from './_validate.js'
import { classifyTargetAddress, describeRefusedAddress, type RefusedAddressKind } from './target-guard.js'
import { ERROR_CODES, type ErrorName } from './taxonomy.js'
import type {
  Advisory,
  BodyDetails,
  CheckerOptions,
  CheckPhase,
  CheckRequest,
  CheckResult,
  ContentCoding,
  DnsDetails,
  DnsFailureClass,
  TlsDetails,
  TlsFailureClass,
} from './types.js'
import { VERSION } from './version.js'

export const DEFAULT_LIMITS = { bodyMaxBytes: 256 * 1024, keywordMaxBytes: 1024 * 1024, bodyMaxMs: 2_000 } as const
const DETAIL_MAX = 512

/** Socket errors that are our own resource trouble, not the site's. */
const LOCAL_TROUBLE = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL'])

interface Failure {
  error: ErrorName
  detail: string
  tlsFailure?: TlsFailureClass
  targetNotAllowed?: { hostname: string; address: string; kind: RefusedAddressKind }
}

/**
 * The check a socket serves, kept on the socket itself: its listeners are shared functions (the
 * emitter is `this`) rather than closures made for every check, and a socket the check is done
 * with is detached (null), so a connection left open holds nothing of the check.
 */
const RUN = Symbol('jetmon.checkRun')
/** The socket's place among the lingering connections, while it lingers. */
const LINGER = Symbol('jetmon.linger')

interface CheckSocket extends Socket {
  [RUN]: CheckRun | null
  [LINGER]: LingerNode | null
}

/** Attaches a new socket to its check (both properties at once: one object shape for every socket). */
function attach(socket: Socket, run: CheckRun): CheckSocket {
  const attached = socket as CheckSocket
  attached[RUN] = run
  attached[LINGER] = null
  return attached
}

function socketConnected(this: CheckSocket): void {
  this[RUN]?.onConnect(this)
}

function socketConnectError(this: CheckSocket, error: NodeJS.ErrnoException): void {
  this[RUN]?.onConnectError(error)
}

function socketSecureConnected(this: CheckSocket): void {
  this[RUN]?.onSecureConnect(this as CheckSocket & TLSSocket)
}

function socketTlsError(this: CheckSocket, error: Error & { reason?: string }): void {
  this[RUN]?.onTlsError(error)
}

function socketTlsClosed(this: CheckSocket): void {
  this[RUN]?.onTlsClose()
}

/** Reads: `nread` bytes at the start of the shared buffer, valid only during this call. */
function socketRead(this: CheckSocket, nread: number, buffer: Uint8Array): boolean {
  this[RUN]?.onData((buffer as Buffer).subarray(0, nread))
  return true
}

function socketClosed(this: CheckSocket): void {
  const node = this[LINGER]
  if (node !== null) {
    this[LINGER] = null
    node.owner.delete(node)
    return
  }
  this[RUN]?.onEnd()
}

function socketStreamError(this: CheckSocket, error: Error & { library?: string; reason?: string }): void {
  this[RUN]?.onStreamError(error)
}

/** A lingering socket's 'end' listener (the emitter is `this`). */
function destroyOnEnd(this: Socket): void {
  this.destroy()
}

/** How long a connection whose response was read to the end is left for the server to close. */
const LINGER_MS = 1_000
/** Sweeps of the lingering connections, one every LINGER_MS / 2: a connection is cut off at the third after it came, 1 to 1.5 s. */
const LINGER_SWEEPS = 3

/** One lingering connection, in the order they came (a doubly linked list: O(1) to add, remove and expire). */
interface LingerNode {
  readonly owner: Lingering
  socket: CheckSocket | null
  readonly expires: number
  prev: LingerNode | null
  next: LingerNode | null
}

/**
 * Connections whose response was read to its end, left for the server to close them, as it was
 * asked to (`Connection: close`). The side that closes first keeps the connection in TIME_WAIT: this
 * way the monitor's host does not collect one per check, and a check does not pay for sending its
 * own FIN. A server that has not closed within LINGER_MS is cut off. Lingering sockets are unref'd,
 * so they never keep a process alive, and hold nothing of the check's result.
 *
 * A linked list rather than a Map: a long-lived Map that takes and drops a young socket per check
 * makes V8's young-generation collections keep (and promote) the garbage of every check.
 */
class Lingering {
  private head: LingerNode | null = null
  private tail: LingerNode | null = null
  private count = 0
  private tick = 0
  private sweeper: NodeJS.Timeout | null = null

  add(socket: CheckSocket): void {
    socket.unref()
    // The server's FIN ends it: closed at once, without the shutdown() a half-closed socket would send first.
    socket.on('end', destroyOnEnd)
    const node: LingerNode = { owner: this, socket, expires: this.tick + LINGER_SWEEPS, prev: this.tail, next: null }
    if (this.tail === null) this.head = node
    else this.tail.next = node
    this.tail = node
    this.count++
    socket[LINGER] = node
    this.sweeper ??= setInterval(this.sweep, LINGER_MS / 2).unref()
  }

  /** The connection closed (the server's FIN, or cut off): it leaves the list, which keeps no reference to it. */
  delete(node: LingerNode): void {
    if (node.socket === null) return
    node.socket = null
    if (node.prev === null) this.head = node.next
    else node.prev.next = node.next
    if (node.next === null) this.tail = node.prev
    else node.next.prev = node.prev
    node.prev = node.next = null
    this.count--
  }

  get size(): number {
    return this.count
  }

  private readonly sweep = (): void => {
    this.tick++
    for (let node = this.head; node !== null && node.expires <= this.tick; node = this.head) {
      const socket = node.socket as CheckSocket
      this.delete(node)
      socket[LINGER] = null
      socket.destroy()
    }
    if (this.count === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper)
      this.sweeper = null
    }
  }
}

/**
 * The checks in flight with the same time limit, in the order they started (so in the order of
 * their deadlines): a doubly linked list through the checks themselves.
 */
interface DeadlineList {
  readonly timeoutMs: number
  head: CheckRun | null
  tail: CheckRun | null
}

/**
 * Every in-flight check's deadline, behind one timer: the earliest deadline of all. A check that
 * ends unlinks itself (O(1)); the timer is re-armed only when it fires or a shorter limit arrives,
 * and stopped when no check is left, so an idle checker keeps no process alive. This spares every
 * check a timer of its own (its object, and Node's list and async bookkeeping to arm and clear it).
 */
class Deadlines {
  /** One list per time limit in use (a checker sees few distinct limits). */
  private readonly lists = new Map<number, DeadlineList>()
  private count = 0
  private timer: NodeJS.Timeout | null = null
  /** When the timer fires (performance.now() time), Infinity when stopped. */
  private timerAt = Number.POSITIVE_INFINITY

  add(run: CheckRun): void {
    let list = this.lists.get(run.timeoutMs)
    if (list === undefined) {
      list = { timeoutMs: run.timeoutMs, head: null, tail: null }
      this.lists.set(run.timeoutMs, list)
    }
    run.deadlinePrev = list.tail
    run.deadlineNext = null
    if (list.tail === null) list.head = run
    else list.tail.deadlineNext = run
    list.tail = run
    this.count++
    if (run.deadlineAt < this.timerAt) this.arm(run.deadlineAt)
  }

  delete(run: CheckRun): void {
    const list = this.lists.get(run.timeoutMs)
    if (list === undefined || (run.deadlinePrev === null && list.head !== run)) return
    if (run.deadlinePrev === null) list.head = run.deadlineNext
    else run.deadlinePrev.deadlineNext = run.deadlineNext
    if (run.deadlineNext === null) list.tail = run.deadlinePrev
    else run.deadlineNext.deadlinePrev = run.deadlinePrev
    run.deadlinePrev = run.deadlineNext = null
    if (--this.count === 0) this.stop()
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - performance.now())))
  }

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerAt = Number.POSITIVE_INFINITY
    // The (empty) lists are kept for the next checks, unless a caller varies its limits endlessly.
    if (this.lists.size > 64) this.lists.clear()
  }

  private readonly fire = (): void => {
    this.timer = null
    this.timerAt = Number.POSITIVE_INFINITY
    const now = performance.now()
    const expired: CheckRun[] = []
    let next = Number.POSITIVE_INFINITY
    for (const list of this.lists.values()) {
      let run = list.head
      while (run !== null && run.deadlineAt <= now) {
        expired.push(run)
        run = run.deadlineNext
      }
      if (run !== null && run.deadlineAt < next) next = run.deadlineAt
    }
    // Each expired check fails, which unlinks it (and may stop the timer when it was the last).
    for (const run of expired) run.onDeadline()
    if (this.count > 0 && next < this.timerAt) this.arm(next)
  }
}

/** The check function's state shared by all calls: resolver, TLS context, limits. */
interface Shared {
  /** In-flight checks' deadlines. */
  deadlines: Deadlines
  /** Finished checks' connections waiting for the server's close. */
  lingering: Lingering
  certificates: CertificateCache
  /** Every socket's `onread`: one read buffer, shared (a read is consumed synchronously), and one callback. */
  onread: { buffer: Buffer; callback: (this: CheckSocket, nread: number, buffer: Uint8Array) => boolean }
  resolver: HostResolver
  secureContext: SecureContext
  userAgent: string
  limits: { bodyMaxBytes: number; keywordMaxBytes: number; bodyMaxMs: number }
}

const DNS_WORDS: Record<DnsFailureClass, string> = {
  nxdomain: 'the name does not exist (NXDOMAIN)',
  servfail: 'the DNS server failed to answer (SERVFAIL)',
  refused: 'the DNS server refused the query (REFUSED)',
  timeout: 'the DNS query timed out',
  no_address: 'the name has no A or AAAA record',
  other: 'the DNS lookup failed',
}

const TLS_WORDS: Record<TlsFailureClass, string> = {
  expired: 'the certificate has expired',
  not_yet_valid: 'the certificate is not valid yet',
  self_signed: 'the certificate is self-signed',
  hostname_mismatch: 'the certificate does not cover this host name',
  untrusted_root: 'the certificate chain ends at an untrusted root',
  incomplete_chain: 'the server does not send the intermediate certificate (incomplete chain)',
  handshake: 'the TLS handshake failed',
}

const PHASE_WORDS: Record<CheckPhase, string> = {
  dns: 'resolving the name',
  connect: 'connecting',
  tls: 'during the TLS handshake',
  ttfb: 'waiting for the first byte of the response',
  body: 'reading the body',
}

function hostnameError(cert: KnownCertificate | undefined, hostname: string): Error | undefined {
  if (cert && coversHost(cert, hostname)) return undefined
  return Object.assign(new Error(`the certificate does not cover ${hostname}`), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
  })
}

/** What is known of a TLS connection whose handshake failed: nothing but the failure. */
function failedHandshake(): TlsDetails {
  return {
    protocol: null,
    cipher: null,
    subject: null,
    issuer: null,
    altNames: [],
    validFrom: null,
    validTo: null,
    daysUntilExpiry: null,
  }
}

/** The first address a guarded check may not reach, as the failure that reports it; null when all may be reached. */
function refusedTarget(hostname: string, addresses: readonly string[]): Failure | null {
  for (const address of addresses) {
    const kind = classifyTargetAddress(address)
    if (kind === null) continue
    const where = hostname === address ? `${address} is` : `${hostname} resolves to ${address}, which is`
    return {
      error: 'monitor_error',
      detail: `target not allowed: ${where} ${describeRefusedAddress(kind)}; this check may only reach public addresses`,
      targetNotAllowed: { hostname, address, kind },
    }
  }
  return null
}

const skippedPeerCertificate = (() => ({})) as unknown as TLSSocket['getPeerCertificate']

const elapsed = (since: number) => Math.max(0, Math.round(performance.now() - since))

let isoSecond = Number.NaN
let isoPrefix = ''

/** `new Date(ms).toISOString()`, reusing the text down to the second for every check started within it. */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== isoSecond) {
    // 'YYYY-MM-DDTHH:MM:SS.' (years 0-9999: every start time a check can have).
    isoPrefix = new Date(second * 1000).toISOString()
    if (isoPrefix.length !== 24) return new Date(ms).toISOString()
    isoPrefix = isoPrefix.slice(0, 20)
    isoSecond = second
  }
  const milli = ms - second * 1000
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`
}

function describeSocketError(error: NodeJS.ErrnoException, address: string, port: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${address}:${port}`
    case 'ECONNRESET':
      return `connection reset by ${address}:${port}`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${address}:${port} is unreachable (${error.code})`
    default:
      return `cannot connect to ${address}:${port}: ${error.message}`
  }
}

/**
 * Creates the check function. Build it once and share it: it holds the DNS resolver and the TLS
 * context (with the CA bundle parsed once). Options are validated here and throw on mistakes.
 *
 * @example
 * const check = createChecker({ dnsServers: ['127.0.0.1:5353'] })
 * const result = await check({ url: 'https://example.com/', keyword: 'Example Domain' })
 * if (!result.ok) console.log(result.error, result.detail)
 */
export function createChecker(options: CheckerOptions = {}): (request: CheckRequest) => Promise<CheckResult> {
  validateCheckerOptions(options)
  const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca]
  const shared: Shared = {
    onread: { buffer: Buffer.allocUnsafe(64 * 1024), callback: socketRead },
    lingering: new Lingering(),
    deadlines: new Deadlines(),
    certificates: new CertificateCache(),
    resolver: new HostResolver({
      servers: options.dnsServers,
      hostsFile: options.hostsFile,
      timeoutMs: options.dnsTimeoutMs,
    }),
    secureContext: checkerSecureContext(extraCa),
    userAgent: options.userAgent ?? `Jetmon/${VERSION} (+site monitoring)`,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  }
  return (request) => {
    let url: TargetUrl
    try {
      url = validateCheckRequest(request)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve) => new CheckRun(shared, request, url, resolve).start())
  }
}

/**
 * One check, as a callback-driven state machine: a check runs millions of times a day, so the hot
 * path allocates one object and one promise rather than a promise per phase.
 */
class CheckRun {
  private readonly method: RequestMethod
  /** What the verdict uses: `legacy` reads no body, `simple_http` judges it by keywords only, `full` judges it all. */
  private readonly profile: DetectionProfile
  private readonly policy: RedirectPolicy
  private readonly maxRedirects: number
  readonly timeoutMs: number
  private readonly startedAt = Date.now()
  private readonly started = performance.now()
  /** performance.now() time at which the check times out, and its neighbours in its Deadlines list. */
  readonly deadlineAt: number
  deadlinePrev: CheckRun | null = null
  deadlineNext: CheckRun | null = null
  private phase: CheckPhase = 'dns'
  private done = false
  private socket: CheckSocket | null = null
  private peerCertificate: KnownCertificate | undefined
  private readonly redirects: { url: string; status: number }[] = []
  private readonly advisories: Advisory[] = []
  private visited: Set<string> | null = null

  // The current hop (one request on one fresh connection); a redirect starts a new one.
  private url: TargetUrl
  private port = 0
  private addresses: string[] = []
  private addressIndex = 0
  private dns: DnsDetails | undefined
  private tls: TlsDetails | undefined
  private remoteAddress: string | undefined
  private head: ResponseHead | undefined
  private body: BodyDetails | undefined
  private reader: ResponseReader | null = null
  private scanner: KeywordScanner | null = null
  private emptiness: EmptinessProbe | null = null
  /** A compressed body: its coding, the decoder (made at the first body byte) and how decoding went. */
  private coding: ContentCoding | null = null
  private decoder: BodyDecoder | null = null
  private decodeError: string | null = null
  private decodedFull = false
  private draining = false
  private byteLimit = 0
  private bodyTimer: NodeJS.Timeout | null = null
  /** When the body phase began: its time budget counts from here. */
  private bodyStartedAt = 0
  private dnsMs: number | null = null
  private connectMs: number | null = null
  private tlsMs: number | null = null
  private ttfbMs: number | null = null
  private transferMs: number | null = null
  private phaseStarted = 0
  private requestWrittenAt = 0
  private firstByteAt = 0

  constructor(
    private readonly shared: Shared,
    private readonly request: CheckRequest,
    private readonly original: TargetUrl,
    private readonly resolveResult: (result: CheckResult) => void,
  ) {
    this.method = request.method ?? DEFAULT_REQUEST_METHOD
    this.profile = request.profile ?? DEFAULT_DETECTION_PROFILE
    this.policy = request.redirectPolicy ?? 'follow'
    this.maxRedirects = request.maxRedirects ?? 10
    this.timeoutMs = request.timeoutMs ?? 10_000
    this.url = original
    this.deadlineAt = this.started + this.timeoutMs
    shared.deadlines.add(this)
  }

  start(): void {
    this.startHop()
  }

  // ── 1. Resolve ────────────────────────────────────────────────────────────────────────────────

  private startHop(): void {
    const url = this.url
    this.port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
    this.phase = 'dns'
    this.phaseStarted = performance.now()
    const known = this.shared.resolver.immediate(url.hostname)
    if (known) {
      this.onResolved(known)
      return
    }
    this.shared.resolver.resolve(url.hostname).then(
      (resolution) => this.onResolved(resolution),
      (error: Error) => this.fail({ error: 'monitor_error', detail: `the resolver failed: ${error.message}` }),
    )
  }

  private onResolved(resolution: Resolution): void {
    if (this.done) return
    const servers = this.shared.resolver.servers
    if (!resolution.ok) {
      this.dns = { addresses: [], servers, failureClass: resolution.failureClass }
      this.fail(
        resolution.ours
          ? { error: 'monitor_error', detail: `our DNS resolver could not work (${resolution.code})` }
          : { error: 'dns', detail: `${this.url.hostname}: ${DNS_WORDS[resolution.failureClass]}` },
      )
      return
    }
    if (resolution.source !== 'literal') {
      this.dnsMs = elapsed(this.phaseStarted)
      this.dns = { addresses: resolution.addresses, servers, source: resolution.source }
    }
    if (this.request.refusePrivateTargets === true) {
      const host = this.url.hostname.startsWith('[') ? this.url.hostname.slice(1, -1) : this.url.hostname
      const refused = refusedTarget(host, resolution.addresses)
      if (refused) {
        this.fail(refused)
        return
      }
    }
    if (resolution.source === 'literal' && isUnspecified(resolution.addresses[0] as string)) {
      this.fail({
        error: 'connect',
        detail: `${resolution.addresses[0]} is the unspecified address: it reaches this host, never a site`,
      })
      return
    }
    this.addresses = resolution.addresses
    this.addressIndex = 0
    this.phase = 'connect'
    this.phaseStarted = performance.now()
    this.connect()
  }

  // ── 2. Connect: a fresh socket, so every check measures the real path ────────────────────────

  private connect(): void {
    const address = this.addresses[this.addressIndex] as string
    let socket: CheckSocket
    try {
      socket = attach(this.url.protocol === 'https:' ? this.connectTls(address) : this.connectPlain(address), this)
    } catch (error) {
      this.onConnectError(error as NodeJS.ErrnoException)
      return
    }
    this.socket = socket
    // 'connect' comes once; a listener left behind costs less than once()'s wrapper.
    socket.on('connect', socketConnected)
    socket.on('error', socketConnectError)
  }

  /**
   * Both kinds of socket read into one buffer shared by every check (the reader copies what it
   * keeps), which spares an allocation and a stream push per read.
   */
  private connectPlain(address: string): Socket {
    return netConnect({
      host: address,
      port: this.port,
      onread: this.shared.onread,
    })
  }

  /**
   * HTTPS on one TLS socket over its own TCP handle ('connect' ends the TCP phase, 'secureConnect'
   * the handshake): wrapping a separate net.Socket would cost a second socket object per check.
   */
  private connectTls(address: string): TLSSocket {
    const host = this.url.hostname.startsWith('[') ? this.url.hostname.slice(1, -1) : this.url.hostname
    this.peerCertificate = undefined
    const tls: TLSSocket = tlsConnect(<ConnectionOptions & Pick<NetConnectOpts, 'onread'>>{
      host: address,
      port: this.port,
      // Decrypted bytes go straight to onRead, as for plain sockets ('onread' is a net option
      // that tls.connect honours when it opens the socket itself; @types/node leaves it out).
      onread: this.shared.onread,
      secureContext: this.shared.secureContext,
      // Node verifies the chain and calls checkServerIdentity with the name; the outcome lands in
      // authorizationError, which we classify, closing before a single request byte is sent.
      rejectUnauthorized: false,
      // SNI must be a host name, never an IP address.
      ...(isIP(host) ? {} : { servername: host }),
      checkServerIdentity: (): Error | undefined => {
        this.peerCertificate = this.shared.certificates.peerCertificate(tls)
        return hostnameError(this.peerCertificate, host)
      },
    })
    // Node converts the whole peer chain into JS objects (getPeerCertificate(true)) only to hand it
    // to checkServerIdentity; ours reads the certificate natively, so that conversion is skipped.
    tls.getPeerCertificate = skippedPeerCertificate
    tls.on('secureConnect', socketSecureConnected)
    return tls
  }

  onConnectError(error: NodeJS.ErrnoException): void {
    const socket = this.socket
    if (socket !== null) {
      socket[RUN] = null
      socket.destroy()
      this.socket = null
    }
    if (this.done) return
    const local = LOCAL_TROUBLE.has(error.code ?? '')
    // A second address (another A record) gets one more try, unless the trouble is ours.
    if (!local && this.addressIndex + 1 < Math.min(this.addresses.length, 2)) {
      this.addressIndex++
      this.connect()
      return
    }
    this.fail(
      local
        ? { error: 'monitor_error', detail: `no local resources to open a connection (${error.code})` }
        : {
            error: 'connect',
            detail: describeSocketError(error, this.addresses[this.addressIndex] as string, this.port),
          },
    )
  }

  onConnect(socket: CheckSocket): void {
    socket.off('error', socketConnectError)
    if (this.done) return
    this.connectMs = elapsed(this.phaseStarted)
    this.remoteAddress = this.addresses[this.addressIndex]
    if (this.url.protocol === 'https:') {
      this.phase = 'tls'
      this.phaseStarted = performance.now()
      socket.on('error', socketTlsError)
      socket.on('close', socketTlsClosed)
    } else {
      this.sendRequest(socket)
    }
  }

  // ── 3. TLS, verified by us before a single request byte is sent ─────────────────────────────

  onTlsError(error: Error & { reason?: string }): void {
    if (this.done) return
    this.tls = failedHandshake()
    // OpenSSL errors carry a short `reason` ("wrong version number"); the message is a dump.
    this.fail({
      error: 'tls',
      detail: `TLS handshake failed: ${error.reason ?? error.message}`,
      tlsFailure: 'handshake',
    })
  }

  onTlsClose(): void {
    if (this.done) return
    this.tls = failedHandshake()
    this.fail({
      error: 'tls',
      detail: 'the server closed the connection during the TLS handshake',
      tlsFailure: 'handshake',
    })
  }

  onSecureConnect(tls: CheckSocket & TLSSocket): void {
    tls.off('error', socketTlsError)
    tls.off('close', socketTlsClosed)
    if (this.done) return
    this.tlsMs = elapsed(this.phaseStarted)
    // checkServerIdentity only runs when the chain verified; otherwise read the certificate now.
    this.peerCertificate ??= this.shared.certificates.peerCertificate(tls)
    this.tls = describeTls(tls, this.peerCertificate, Date.now())
    // authorizationError is a code string at run time (typed as Error).
    const failure: TlsFailureClass | null = tls.authorized ? null : classifyVerifyError(String(tls.authorizationError))
    if (failure) {
      const until = failure === 'expired' && this.tls.validTo ? ` (on ${this.tls.validTo})` : ''
      this.fail({
        error: failure === 'expired' ? 'tls_expired' : 'tls',
        detail: `${TLS_WORDS[failure]}${until}`,
        tlsFailure: failure,
      })
      return
    }
    this.sendRequest(tls)
  }

  // ── 4. Request and response ─────────────────────────────────────────────────────────────────

  private sendRequest(socket: Socket): void {
    const request = this.request
    // The legacy profile reads no body, so it has no keyword rules to apply.
    const keywords =
      this.profile !== 'legacy' && (Boolean(request.keyword) || Boolean(request.forbiddenKeywords?.length))
    this.scanner = keywords
      ? new KeywordScanner({
          keyword: request.keyword,
          forbidden: request.forbiddenKeywords,
          caseSensitive: request.keywordCaseSensitive ?? true,
        })
      : null
    this.byteLimit = keywords ? this.shared.limits.keywordMaxBytes : this.shared.limits.bodyMaxBytes
    this.reader = new ResponseReader(this, this.method === 'HEAD')
    socket.on('close', socketClosed)
    socket.on('error', socketStreamError)
    this.phase = 'ttfb'
    this.requestWrittenAt = performance.now()
    // Custom headers go only to the origin they were configured for, never to a redirect target.
    const sameOrigin = this.url === this.original || this.url.origin === this.original.origin
    socket.write(
      serializeRequest({
        method: this.method,
        path: `${this.url.pathname}${this.url.search}`,
        host: this.url.host,
        userAgent: this.shared.userAgent,
        headers: sameOrigin ? request.headers : undefined,
      }),
      'latin1',
    )
  }

  /** ResponseReader callback: the final head arrived; decide whether to read the body. */
  onHead(head: ResponseHead): boolean {
    this.head = head
    // The legacy profile judges the head alone: the connection closes without a body byte read.
    if (this.profile === 'legacy') return false
    // Error pages and event streams are judged by their status; their bodies are not read.
    const wanted = head.status < 400 && !/^text\/event-stream/i.test(head.headers.get('content-type') ?? '')
    if (wanted && this.method === 'GET' && head.status !== 204 && head.status !== 304) {
      this.body = { bytesRead: 0, contentLength: null, truncated: false, readLimitHit: false }
      // Servers and CDNs compress unasked; the content checks read the page a browser would show.
      this.coding = contentCodingOf(head.headers.get('content-encoding'))
      this.scanner?.useCharset(head.headers.get('content-type'))
      if (this.coding !== null) {
        this.body.contentEncoding = this.coding
        this.body.decodedBytes = 0
      }
      // Only the full profile calls an empty page a failure.
      this.emptiness = this.profile === 'full' ? new EmptinessProbe() : null
      this.phase = 'body'
      // The budget's timer is armed only if the body outlasts the read that brought the head (onData).
      this.bodyStartedAt = performance.now()
    }
    return wanted
  }

  /** ResponseReader callback: body bytes, counted against the byte budget. */
  onBody(chunk: Buffer): void {
    const body = this.body
    if (!body) return
    const room = this.byteLimit - body.bytesRead
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk
    body.bytesRead += part.length
    if (this.coding !== null) this.decode(part)
    else {
      this.scanner?.push(part)
      this.emptiness?.push(part)
    }
    if (body.bytesRead >= this.byteLimit) this.onBodyBudget()
  }

  private decode(part: Buffer): void {
    if (this.decodeError !== null || this.decodedFull || part.length === 0) return
    let decoder = this.decoder
    if (decoder === null) {
      decoder = this.decoder = createBodyDecoder(this.coding as ContentCoding, part)
      decoder.on('data', (out: Buffer) => this.onDecoded(out))
      decoder.on('error', (error: Error) => this.onDecodeError(error))
    }
    // A copy: the decoder works after this call returns, when the shared read buffer holds other bytes.
    decoder.write(Buffer.from(part))
  }

  /** Decoded body bytes, counted against the same budget as the wire bytes (a small download can inflate to gigabytes). */
  private onDecoded(out: Buffer): void {
    const body = this.body
    if (this.done || !body || this.decodedFull) return
    const decoded = body.decodedBytes ?? 0
    const room = this.byteLimit - decoded
    const part = out.length > room ? out.subarray(0, room) : out
    body.decodedBytes = decoded + part.length
    this.scanner?.push(part)
    this.emptiness?.push(part)
    if (body.decodedBytes >= this.byteLimit) {
      this.decodedFull = true
      body.readLimitHit = true
      if (this.draining) this.judgeResponse()
      else this.responseComplete()
    }
  }

  private onDecodeError(error: Error): void {
    this.decodeError ??= error.message
    if (this.draining && !this.done) this.judgeResponse()
  }

  private onDrained(): void {
    if (this.draining && !this.done) this.judgeResponse()
  }

  /** Bytes read, in the shared read buffer: valid only during this call. */
  onData(data: Buffer): void {
    const reader = this.reader
    if (this.done || !reader) return
    if (!this.firstByteAt) {
      this.firstByteAt = performance.now()
      this.ttfbMs = Math.max(0, Math.round(this.firstByteAt - this.requestWrittenAt))
    }
    try {
      reader.push(data)
    } catch (error) {
      if (!(error instanceof MalformedResponse)) throw error
      this.fail({ error: 'connect', detail: `the answer is not valid HTTP: ${error.message}` })
      return
    }
    // A budget that ran out inside push() already ended this response (and may have started the next hop).
    if (this.done || this.reader !== reader) return
    if (this.body) this.body.contentLength = reader.contentLength
    if (reader.done) this.responseComplete()
    else if (this.phase === 'body' && this.bodyTimer === null) {
      // Most pages end in the read that brings their head and never need this timer.
      const left = this.shared.limits.bodyMaxMs - (performance.now() - this.bodyStartedAt)
      this.bodyTimer = setTimeout(() => this.onBodyBudget(), Math.max(1, Math.ceil(left)))
    }
  }

  /** The byte or time budget for the body ran out: not a failure, the rest is left unread. */
  private onBodyBudget(): void {
    if (this.done || !this.body) return
    this.body.readLimitHit = true
    this.responseComplete()
  }

  /** The connection closed: the server's close, a reset, or our own destroy(). */
  onEnd(): void {
    if (this.done || !this.reader) return
    const outcome = this.reader.end()
    if (outcome === 'no_response') {
      this.fail({
        error: 'connect',
        detail: this.firstByteAt
          ? 'the connection closed in the middle of the response headers'
          : 'the server closed the connection without answering',
      })
      return
    }
    if (this.body) {
      this.body.contentLength = this.reader.contentLength
      if (outcome === 'truncated') this.body.truncated = true
    }
    this.responseComplete()
  }

  onStreamError(error: Error & { library?: string; reason?: string }): void {
    // A reset is judged like an early close: onEnd (through 'close') decides what it cut short.
    // But a TLS alert before any response byte ends a handshake the client took for done: TLS 1.3
    // servers that demand a client certificate send theirs only after the client's Finished.
    if (this.done || this.firstByteAt || !this.tls || error.library !== 'SSL routines') return
    this.fail({
      error: 'tls',
      detail: `TLS handshake failed: ${error.reason ?? error.message}`,
      tlsFailure: 'handshake',
    })
  }

  private responseComplete(): void {
    const decoder = this.decoder
    if (decoder !== null && !this.draining && this.decodeError === null && !this.decodedFull) {
      // Decompression runs off this call stack: stop reading, let the decoder give its last bytes.
      this.draining = true
      this.reader = null
      this.stopReading()
      decoder.once('end', () => this.onDrained())
      decoder.end()
      return
    }
    this.judgeResponse()
  }

  private judgeResponse(): void {
    const status = this.head?.status ?? 0
    const location = this.head?.headers.get('location')
    const redirected = status >= 300 && status < 400 && location !== undefined && location !== ''
    // The last hop's connection is left for the server to close; a redirect's is closed now.
    this.endHop(!redirected)
    if (redirected) {
      this.redirect(status, location)
      return
    }
    this.finish(this.verdict())
  }

  // ── 5. Redirects, hop by hop ────────────────────────────────────────────────────────────────

  private redirect(status: number, location: string): void {
    let next: URL
    try {
      next = new URL(location, this.url.href)
    } catch {
      this.finish({ error: 'redirect', detail: `redirect to an invalid URL: ${location.slice(0, 200)}` })
      return
    }
    this.redirects.push({ url: this.url.href, status })
    this.visited ??= new Set([this.original.href])
    if (this.policy === 'fail') {
      this.finish({ error: 'redirect', detail: `redirected (${status}) to ${next.href}` })
    } else if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      this.finish({ error: 'redirect', detail: `redirect to a non-HTTP URL: ${next.href}` })
    } else if (this.visited.has(next.href)) {
      this.finish({ error: 'redirect', detail: `redirect loop at ${next.href}` })
    } else if (this.redirects.length > this.maxRedirects) {
      this.finish({ error: 'redirect', detail: `more than ${this.maxRedirects} redirects` })
    } else {
      if (
        this.policy === 'alert' &&
        this.profile === 'full' &&
        next.hostname !== this.original.hostname &&
        !this.advisories.includes('redirect_offsite')
      ) {
        this.advisories.push('redirect_offsite')
      }
      this.visited.add(next.href)
      this.resetHop(next)
      this.startHop()
    }
  }

  private resetHop(url: TargetUrl): void {
    this.url = url
    this.dns = undefined
    this.tls = undefined
    this.remoteAddress = undefined
    this.head = undefined
    this.body = undefined
    this.reader = null
    this.emptiness = null
    this.coding = null
    this.decodeError = null
    this.decodedFull = false
    this.dnsMs = this.connectMs = this.tlsMs = this.ttfbMs = this.transferMs = null
    this.firstByteAt = 0
  }

  /** Closes the hop's connection (Connection: close; nothing more is read) and its decoder. */
  private endHop(linger = false): void {
    this.stopReading(linger)
    const decoder = this.decoder
    if (decoder !== null) {
      decoder.removeAllListeners('end')
      decoder.destroy()
      this.decoder = null
    }
    this.draining = false
    if (this.firstByteAt) this.transferMs = elapsed(this.firstByteAt)
    this.scanner?.finish()
  }

  private stopReading(linger = false): void {
    if (this.bodyTimer) {
      clearTimeout(this.bodyTimer)
      this.bodyTimer = null
    }
    const socket = this.socket
    if (socket === null) return
    this.socket = null
    // The socket no longer reaches this check: whatever it still emits is not this check's business.
    socket[RUN] = null
    // Only a response read to its last byte, on a connection the server has not closed yet.
    if (linger && this.reader?.consumed === true && !socket.readableEnded && !socket.destroyed) {
      this.shared.lingering.add(socket)
    } else {
      socket.destroy()
    }
  }

  // ── 6. Verdict ──────────────────────────────────────────────────────────────────────────────

  private verdict(): Failure | null {
    const status = this.head?.status ?? 0
    if (status >= 400) return { error: 'http_status', detail: `the server answered HTTP ${status}` }
    if (status < 200) return { error: 'http_status', detail: `unexpected HTTP ${status} as the final response` }
    const body = this.body
    // Under simple_http a body cut short is judged by the keyword rules alone.
    if (body?.truncated && this.profile === 'full') {
      return {
        error: 'partial_response',
        detail:
          body.contentLength !== null
            ? `the server announced ${body.contentLength} bytes and closed the connection after ${body.bytesRead}`
            : `the chunked body ended without its final chunk after ${body.bytesRead} bytes`,
      }
    }
    // A body that would not decode is not known to be empty.
    if (status === 200 && body && !body.readLimitHit && this.decodeError === null && this.emptiness?.empty) {
      return { error: 'empty_body', detail: `the page is empty (${body.bytesRead} bytes, no content)` }
    }
    const scanner = this.scanner
    if (scanner?.active && body) {
      if (scanner.forbiddenMatch !== null) {
        return { error: 'keyword', detail: `forbidden text found: "${scanner.forbiddenMatch}"` }
      }
      if (scanner.requiresKeyword && !scanner.requiredFound) {
        const where = body.readLimitHit ? ` in the first ${body.decodedBytes ?? body.bytesRead} bytes` : ''
        const undecodable =
          this.decodeError === null ? '' : `: the body could not be decoded (${this.coding}: ${this.decodeError})`
        return { error: 'keyword', detail: `required text not found${where}${undecodable}` }
      }
    }
    return null
  }

  onDeadline(): void {
    if (this.done) return
    this.fail({ error: 'timeout', detail: `no answer within ${this.timeoutMs} ms (${PHASE_WORDS[this.phase]})` })
  }

  private fail(failure: Failure): void {
    if (this.done) return
    this.endHop()
    this.finish(failure)
  }

  private finish(failure: Failure | null): void {
    if (this.done) return
    this.done = true
    this.shared.deadlines.delete(this)
    const request = this.request
    const advisories = this.advisories
    const tls = this.tls
    if (tls && failure?.tlsFailure) tls.failure = failure.tlsFailure
    // Advisories (and the non-down tls_deprecated error) belong to the full profile only.
    const advise = this.profile === 'full'
    if (advise && tls && isDeprecatedProtocol(tls.protocol)) advisories.push('tls_deprecated')
    const totalMs = elapsed(this.started)
    if (!failure && advise) {
      const warnDays = request.tlsExpiryWarnDays ?? 30
      const days = tls?.daysUntilExpiry
      if (days != null && days >= 0 && days <= warnDays) advisories.push('tls_expiring')
      if (request.latencyThresholdMs && totalMs > request.latencyThresholdMs) advisories.push('slow')
    }
    // A deprecated protocol on an otherwise healthy check is recorded with its own (non-down) code.
    const reported: Failure | null =
      failure ??
      (advisories.includes('tls_deprecated')
        ? { error: 'tls_deprecated', detail: `negotiated ${tls?.protocol}` }
        : null)
    const detail = reported?.detail ?? null
    const result: CheckResult = {
      url: this.original.href,
      finalUrl: this.url.href,
      method: this.method,
      profile: this.profile,
      startedAt: isoTime(this.startedAt),
      ok: reported === null || reported.error === 'tls_deprecated',
      error: reported?.error ?? null,
      errorCode: reported ? ERROR_CODES[reported.error] : 0,
      detail: detail && detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX - 1)}…` : detail,
      httpStatus: this.head?.status ?? null,
      timings: {
        dnsMs: this.dnsMs,
        connectMs: this.connectMs,
        tlsMs: this.tlsMs,
        ttfbMs: this.ttfbMs,
        transferMs: this.transferMs,
        totalMs,
      },
      redirects: this.redirects,
      advisories,
    }
    if (failure?.error === 'timeout') result.timeoutPhase = this.phase
    if (tls) result.tls = tls
    if (this.dns) result.dns = this.dns
    if (this.body) result.body = this.body
    if (this.remoteAddress) result.remoteAddress = this.remoteAddress
    if (failure?.targetNotAllowed) result.targetNotAllowed = failure.targetNotAllowed
    if (failure?.error === 'keyword') {
      const match = this.scanner?.forbiddenMatch
      result.keyword = match ? { rule: 'forbidden', match } : { rule: 'required' }
    }
    this.resolveResult(result)
  }
}
