import type { Logger } from '@jetmon/vocabulary'
import type { RefusedAddressKind } from './target-guard.js'
import type { ErrorCode, ErrorName } from './taxonomy.js'

export type RedirectPolicy = 'follow' | 'alert' | 'fail'
export type CheckPhase = 'dns' | 'connect' | 'tls' | 'ttfb' | 'body'
export type DnsFailureClass = 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'no_address' | 'other'
export type TlsFailureClass =
  | 'expired'
  | 'not_yet_valid'
  | 'self_signed'
  | 'hostname_mismatch'
  | 'untrusted_root'
  | 'incomplete_chain'
  | 'handshake'
export type Advisory = 'tls_deprecated' | 'tls_expiring' | 'redirect_offsite' | 'slow'

export interface CheckerLimits {
  /** Body bytes read when no keyword is configured (default 256 KiB). */
  bodyMaxBytes?: number
  /** Body bytes read when keywords are configured (default 1 MiB). */
  keywordMaxBytes?: number
  /** Time spent reading a body before the rest is left unread (default 2 000 ms). */
  bodyMaxMs?: number
}

export interface CheckerOptions {
  /** Default `Jetmon/<version> (+site monitoring)`. */
  userAgent?: string
  /** DNS servers as `ip` or `ip:port`; default: the system's (`/etc/resolv.conf`). */
  dnsServers?: string[]
  /** Extra trusted root certificates (PEM), added to Node's bundled roots. */
  ca?: string | string[]
  limits?: CheckerLimits
  logger?: Logger
  /** Hosts file consulted before DNS (default `/etc/hosts`). */
  hostsFile?: string
  /** How long one DNS try waits for an answer (default 2 000 ms; two tries). The check's deadline still bounds it. */
  dnsTimeoutMs?: number
}

export interface CheckRequest {
  url: string
  /** Default `GET`. */
  method?: 'GET' | 'HEAD'
  /** Deadline of the whole check, every phase and redirect included (default 10 000 ms). */
  timeoutMs?: number
  /** Extra request headers; a `Host` header is honoured. Never sent over an unverified TLS connection. */
  headers?: Readonly<Record<string, string>>
  /** Default `follow`. */
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
   * Refuse to connect to loopback, private, link-local, CGNAT, metadata and other non-public
   * addresses, on every hop (default false). For URLs chosen by someone outside the operator's
   * network: a refused address is the result `monitor_error` with `targetNotAllowed`, never probed.
   */
  refusePrivateTargets?: boolean
}

export interface CheckTimings {
  dnsMs: number | null
  connectMs: number | null
  tlsMs: number | null
  ttfbMs: number | null
  transferMs: number | null
  totalMs: number
}

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

export interface DnsDetails {
  addresses: string[]
  failureClass?: DnsFailureClass
  servers: string[]
  /** `hosts` when answered by the hosts file. */
  source?: 'hosts' | 'dns'
}

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

export type ContentCoding = 'gzip' | 'deflate' | 'br'

export interface CheckResult {
  url: string
  finalUrl: string
  method: 'GET' | 'HEAD'
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
  redirects: { url: string; status: number }[]
  tls?: TlsDetails
  dns?: DnsDetails
  body?: BodyDetails
  keyword?: { rule: 'required' | 'forbidden'; match?: string }
  advisories: Advisory[]
  remoteAddress?: string
  /** With `refusePrivateTargets`: the address the check refused to connect to, and why. */
  targetNotAllowed?: { hostname: string; address: string; kind: RefusedAddressKind }
}
