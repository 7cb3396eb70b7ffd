import type { DetectionProfile, Logger, RedirectPolicy, RequestMethod } from '@jetmon/vocabulary'
import type { RefusedAddressKind } from './target-guard.js'
import type { ErrorCode, ErrorName } from './taxonomy.js'

/** The phases of one hop, in order; a `timeout` result names the one the deadline expired in. */
export type CheckPhase = 'dns' | 'connect' | 'tls' | 'ttfb' | 'body'
/** Why name resolution failed, when the result's `error` is `dns` (`no_address`: an answer without A/AAAA records). */
export type DnsFailureClass = 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'no_address' | 'other'
/** Why the TLS handshake or certificate verification failed, when the result's `error` is `tls` or `tls_expired`. */
export type TlsFailureClass =
  | 'expired'
  | 'not_yet_valid'
  | 'self_signed'
  | 'hostname_mismatch'
  | 'untrusted_root'
  | 'incomplete_chain'
  | 'handshake'
/**
 * Something worth knowing about a check that is not downtime: `tls_deprecated` (TLS 1.0/1.1 was
 * negotiated; also reported as the non-down error `tls_deprecated`), `tls_expiring` (the
 * certificate expires within `tlsExpiryWarnDays`), `redirect_offsite` (with the `alert` redirect
 * policy) and `slow` (slower than `latencyThresholdMs`). `tls_expiring` and `slow` are only given to
 * checks that succeeded. Only the `full` detection profile gives advisories.
 */
export type Advisory = 'tls_deprecated' | 'tls_expiring' | 'redirect_offsite' | 'slow'

/** How much of a response body the checker reads before it stops (not a failure: `readLimitHit`). */
export interface CheckerLimits {
  /** Body bytes read when no keyword is configured (default 256 KiB). */
  bodyMaxBytes?: number
  /** Body bytes read when keywords are configured (default 1 MiB). */
  keywordMaxBytes?: number
  /** Time spent reading a body before the rest is left unread (default 2 000 ms). */
  bodyMaxMs?: number
}

/** Settings of a checker, given once to `createChecker` and shared by every check it runs. */
export interface CheckerOptions {
  /** Default `Jetmon/<version> (+site monitoring)`. */
  userAgent?: string
  /** DNS servers as `ip` or `ip:port`; default: the system's (`/etc/resolv.conf`). */
  dnsServers?: string[]
  /** Extra trusted root certificates (PEM), added to Node's bundled roots. */
  ca?: string | string[]
  limits?: CheckerLimits
  /** The shared `Logger` of `@jetmon/vocabulary` (a pino logger fits); default: none. */
  logger?: Logger
  /** Hosts file consulted before DNS (default `/etc/hosts`). */
  hostsFile?: string
  /** How long one DNS try waits for an answer (default 2 000 ms; two tries). The check's deadline still bounds it. */
  dnsTimeoutMs?: number
}

/** One check to run: the URL and what counts as healthy for it. Validated before anything is sent. */
export interface CheckRequest {
  /** An `http:` or `https:` URL. */
  url: string
  /** Default `GET`. */
  method?: RequestMethod
  /** Deadline of the whole check, every phase and redirect included (default 10 000 ms). */
  timeoutMs?: number
  /** Extra request headers; a `Host` header is honoured. Never sent over an unverified TLS connection. */
  headers?: Readonly<Record<string, string>>
  /**
   * Default `follow`: follows redirects (up to `maxRedirects`). `alert` follows them too but adds
   * the `redirect_offsite` advisory when one leaves the original host; `fail` ends the check with
   * the `redirect` error at the first redirect.
   */
  redirectPolicy?: RedirectPolicy
  /** Default 10. */
  maxRedirects?: number
  /** Text that must appear in the body. */
  keyword?: string | null
  /** Texts that must not appear in the body. */
  forbiddenKeywords?: readonly string[] | null
  /** Default true. */
  keywordCaseSensitive?: boolean
  /** A successful response slower than this (ms, total) gets the `slow` advisory. */
  latencyThresholdMs?: number | null
  /** Certificates expiring within this many days get the `tls_expiring` advisory (default 30). */
  tlsExpiryWarnDays?: number
  /**
   * How much of the response the verdict uses (default `full`). Every profile judges DNS, the
   * connection, TLS validity, the deadline, the final status and the redirect policy.
   * - `legacy`: the body is not read (the connection closes after the headers), the keyword rules
   *   are ignored, and no advisory is given (TLS 1.0/1.1 is accepted silently).
   * - `simple_http`: the body is read and judged by the keyword rules only: a truncated or empty
   *   body is not a failure, and no advisory is given (TLS 1.0/1.1 is accepted silently).
   * - `full`: the body is also judged (`partial_response`, `empty_body`), and the advisories
   *   (`tls_deprecated` with its non-down error, `tls_expiring`, `slow`, `redirect_offsite`) are given.
   */
  profile?: DetectionProfile
  /**
   * Refuse to connect to loopback, private, link-local, CGNAT, metadata and other non-public
   * addresses, on every hop (default false). For URLs chosen by someone outside the operator's
   * network: a refused address is the result `monitor_error` with `targetNotAllowed`, never probed.
   */
  refusePrivateTargets?: boolean
}

/**
 * How long each phase of the last hop took, in ms from a monotonic clock; `null` for a phase that
 * was not reached. `totalMs` spans the whole check, redirects included.
 */
export interface CheckTimings {
  dnsMs: number | null
  connectMs: number | null
  tlsMs: number | null
  ttfbMs: number | null
  transferMs: number | null
  totalMs: number
}

/**
 * The TLS connection and peer certificate of the last hop (`https:` only). Dates are ISO 8601 UTC;
 * `daysUntilExpiry` is negative once the certificate has expired. `failure` says why verification
 * failed, when it did.
 */
export interface TlsDetails {
  protocol: string | null
  cipher: string | null
  subject: string | null
  issuer: string | null
  altNames: string[]
  validFrom: string | null
  validTo: string | null
  daysUntilExpiry: number | null
  failure?: TlsFailureClass
}

/** How the last hop's host name was resolved: the addresses found and the servers asked. */
export interface DnsDetails {
  addresses: string[]
  failureClass?: DnsFailureClass
  servers: string[]
  /** `hosts` when answered by the hosts file. */
  source?: 'hosts' | 'dns'
}

/** What the checker read of the response body, within the byte and time budget of {@link CheckerLimits}. */
export interface BodyDetails {
  bytesRead: number
  contentLength: number | null
  /** The server announced more than it sent (Content-Length short, or a chunked body cut). */
  truncated: boolean
  /** Reading stopped at the byte or time budget (not a failure). */
  readLimitHit: boolean
  /** The body's `Content-Encoding` when it was decoded for the content checks (`gzip`, `deflate`, `br`). */
  contentEncoding?: ContentCoding
  /** Bytes after decoding, bounded by the same budget as `bytesRead` (only with `contentEncoding`). */
  decodedBytes?: number
}

/** The `Content-Encoding`s the checker decodes before it looks for keywords or an empty body. */
export type ContentCoding = 'gzip' | 'deflate' | 'br'

/**
 * The outcome of one check. A check never throws: every failure is a result with `error` and
 * `errorCode` set (see the failure taxonomy in `taxonomy.ts`). `ok` is true for success and for
 * results that carry only the non-down `tls_deprecated`.
 */
export interface CheckResult {
  /** The URL as requested. */
  url: string
  /** The URL of the last hop, after redirects. */
  finalUrl: string
  method: RequestMethod
  /** The detection profile the check was judged with; always set by the checker. */
  profile?: DetectionProfile
  /** ISO 8601 UTC. */
  startedAt: string
  /** Not downtime: success, or only advisories. */
  ok: boolean
  error: ErrorName | null
  errorCode: ErrorCode
  /** What happened, for a person (≤ 512 characters). */
  detail: string | null
  httpStatus: number | null
  /** The phase the deadline expired in, for `timeout`. */
  timeoutPhase?: CheckPhase
  timings: CheckTimings
  /** Each redirect followed (or refused), in order: the URL that answered with it and its status. */
  redirects: { url: string; status: number }[]
  tls?: TlsDetails
  dns?: DnsDetails
  body?: BodyDetails
  /** For a `keyword` failure: which rule failed, and the forbidden text that was found. */
  keyword?: { rule: 'required' | 'forbidden'; match?: string }
  advisories: Advisory[]
  /** The IP address the last hop connected to. */
  remoteAddress?: string
  /** With `refusePrivateTargets`: the address the check refused to connect to, and why. */
  targetNotAllowed?: { hostname: string; address: string; kind: RefusedAddressKind }
}
