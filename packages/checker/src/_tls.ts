import type { X509Certificate } from 'node:crypto'
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

function altNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
}

function oneLine(name: string | undefined): string | null {
  return name ? name.split('\n').join(', ') : null
}

/** What we record about the connection and the server's certificate. */
export function describeTls(socket: TLSSocket, now: number): TlsDetails {
  const cipher = socket.getCipher()
  const cert = socket.getPeerX509Certificate()
  const validTo = cert ? Date.parse(cert.validTo) : Number.NaN
  const validFrom = cert ? Date.parse(cert.validFrom) : Number.NaN
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    subject: oneLine(cert?.subject),
    issuer: oneLine(cert?.issuer),
    altNames: cert ? altNames(cert) : [],
    validFrom: Number.isNaN(validFrom) ? null : new Date(validFrom).toISOString(),
    validTo: Number.isNaN(validTo) ? null : new Date(validTo).toISOString(),
    daysUntilExpiry: Number.isNaN(validTo) ? null : Math.floor((validTo - now) / DAY_MS),
  }
}

export const isDeprecatedProtocol = (protocol: string | null) => protocol === 'TLSv1' || protocol === 'TLSv1.1'
