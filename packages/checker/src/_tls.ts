import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls'
import type { TlsDetails, TlsFailureClass } from './types.js'

/**
 * One context for every check: building a context parses the whole CA bundle, far too costly per
 * connection. TLS 1.0 and 1.1 are accepted so that they can be seen and reported; OpenSSL 3 only
 * negotiates them with the cipher security level lowered.
 */
export function checkerSecureContext(extraCa: string[]): SecureContext {
  return createSecureContext({
    ca: [...rootCertificates, ...extraCa],
    minVersion: 'TLSv1',
    ciphers: 'DEFAULT@SECLEVEL=0',
  })
}

/** OpenSSL verification codes, in the words of our taxonomy. */
export function classifyVerifyError(code: string): TlsFailureClass {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'expired'
    case 'CERT_NOT_YET_VALID':
      return 'not_yet_valid'
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'self_signed'
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      // The server did not send the intermediate that links its certificate to a trusted root.
      return 'incomplete_chain'
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'hostname_mismatch'
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_UNTRUSTED':
      return 'untrusted_root'
    default:
      return 'handshake'
  }
}

const DAY_MS = 86_400_000

/** What we keep of a server certificate: parsed once, shared by every check that meets it. */
export interface KnownCertificate {
  x509: X509Certificate
  subject: string | null
  issuer: string | null
  altNames: string[]
  validFrom: string | null
  validTo: string | null
  validToMs: number
  /** Host name → whether the certificate covers it. */
  hosts: Map<string, boolean>
}

function oneLine(name: string | undefined): string | null {
  return name ? name.split('\n').join(', ') : null
}

function know(x509: X509Certificate): KnownCertificate {
  const validTo = Date.parse(x509.validTo)
  const validFrom = Date.parse(x509.validFrom)
  return {
    x509,
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    altNames: (x509.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((entry) => entry.replace(/^(DNS|IP Address):/, '')),
    validFrom: Number.isNaN(validFrom) ? null : new Date(validFrom).toISOString(),
    validTo: Number.isNaN(validTo) ? null : new Date(validTo).toISOString(),
    validToMs: validTo,
    hosts: new Map(),
  }
}

/** Reads one DER length at `offset`: [length, header bytes], or null when malformed. */
function derLength(buf: Buffer, offset: number): [number, number] | null {
  const first = buf[offset]
  if (first === undefined) return null
  if (first < 0x80) return [first, 1]
  const bytes = first & 0x7f
  if (bytes === 0 || bytes > 3 || offset + bytes >= buf.length) return null
  let length = 0
  for (let i = 1; i <= bytes; i++) length = (length << 8) | (buf[offset + i] as number)
  return [length, 1 + bytes]
}

/** What newer runtimes put before the session's DER: this tag, a NUL, then the server name (16-bit length). */
const SESSION_HEADER = Buffer.from('\0nodejs:tls:session:', 'latin1')

/** Where the DER SSL_SESSION starts in what `getSession()` returned; -1 when it is not there. */
function sessionStart(session: Buffer): number {
  if (session[0] === 0x30) return 0
  if (
    session.length < SESSION_HEADER.length ||
    session.compare(SESSION_HEADER, 0, SESSION_HEADER.length, 0, SESSION_HEADER.length) !== 0
  )
    return -1
  const nul = session.indexOf(0, SESSION_HEADER.length)
  if (nul === -1 || nul > 64 || nul + 3 > session.length) return -1
  const start = nul + 3 + session.readUInt16BE(nul + 1)
  return session[start] === 0x30 ? start : -1
}

/**
 * The server's certificate (DER) inside an encoded client SSL_SESSION, whose field `peer [3]`
 * holds it; null when absent or malformed. Node.js 24 prefixes the DER with a header naming the
 * server, which is skipped.
 */
export function peerCertificateFromSession(session: Buffer): Buffer | null {
  const start = sessionStart(session)
  if (start === -1) return null
  const outer = derLength(session, start + 1)
  if (!outer) return null
  let offset = start + 1 + outer[1]
  const end = Math.min(session.length, offset + outer[0])
  while (offset < end) {
    const tag = session[offset]
    const length = derLength(session, offset + 1)
    if (!length) return null
    const contentStart = offset + 1 + length[1]
    if (tag === 0xa3) {
      return contentStart + length[0] <= session.length
        ? session.subarray(contentStart, contentStart + length[0])
        : null
    }
    offset = contentStart + length[0]
  }
  return null
}

/**
 * Server certificates by their exact bytes. Node's own accessors copy the whole peer chain into
 * new objects on every handshake (over 100 µs with an intermediate); the session carries the leaf,
 * which is parsed once and then shared — many sites present the same certificate.
 */
export class CertificateCache {
  private readonly known = new Map<string, KnownCertificate>()
  constructor(private readonly capacity = 2_000) {}

  /** The server certificate of a completed handshake. */
  peerCertificate(socket: TLSSocket): KnownCertificate | undefined {
    const session = socket.getSession()
    const der = session ? peerCertificateFromSession(session) : null
    if (!der) {
      const x509 = socket.getPeerX509Certificate()
      return x509 ? know(x509) : undefined
    }
    const key = der.toString('latin1')
    let entry = this.known.get(key)
    if (!entry) {
      entry = know(new X509Certificate(der))
      if (this.known.size >= this.capacity) this.known.delete(this.known.keys().next().value as string)
      this.known.set(key, entry)
    }
    return entry
  }
}

/** Whether the certificate covers the host name (RFC 6125 matching, as OpenSSL applies it). */
export function coversHost(cert: KnownCertificate, host: string): boolean {
  let covered = cert.hosts.get(host)
  if (covered === undefined) {
    covered = (isIP(host) ? cert.x509.checkIP(host) : cert.x509.checkHost(host)) !== undefined
    if (cert.hosts.size < 64) cert.hosts.set(host, covered)
  }
  return covered
}

/** What we record about the connection and the server's certificate. */
export function describeTls(socket: TLSSocket, cert: KnownCertificate | undefined, now: number): TlsDetails {
  const cipher = socket.getCipher()
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    subject: cert?.subject ?? null,
    issuer: cert?.issuer ?? null,
    altNames: cert ? [...cert.altNames] : [],
    validFrom: cert?.validFrom ?? null,
    validTo: cert?.validTo ?? null,
    daysUntilExpiry: cert && !Number.isNaN(cert.validToMs) ? Math.floor((cert.validToMs - now) / DAY_MS) : null,
  }
}

export const isDeprecatedProtocol = (protocol: string | null) => protocol === 'TLSv1' || protocol === 'TLSv1.1'
