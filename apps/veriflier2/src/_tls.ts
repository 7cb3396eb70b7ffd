import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import type { Veriflier2Config } from './config.js'
import { TlsSetupError } from './errors.js'

/** What the HTTPS server is given, and what `validate-config` reports about it. */
export interface ServerTls {
  cert: string
  key: string
  /** The served certificate's subject, such as `CN=veriflier-eu.example.com`. */
  subject: string
  /** Its names (subjectAltName), such as `DNS:veriflier-eu.example.com, IP Address:10.0.3.7`. */
  names: string | undefined
  validTo: Date
}

function readPem(key: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', file: string, marker: RegExp, what: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT'
        ? `file not found (relative paths start at ${process.cwd()})`
        : code === 'EACCES'
          ? 'not readable by this user (permission denied)'
          : (error as Error).message
    throw new TlsSetupError(key, `cannot read ${file}: ${reason}`, { cause: error })
  }
  if (!marker.test(text)) throw new TlsSetupError(key, `${file} holds no PEM ${what}`)
  return text
}

/**
 * The certificate and key of `TLS_CERT_FILE`/`TLS_KEY_FILE`, read and checked to form a pair;
 * undefined when they are not set (plain HTTP). Throws {@link TlsSetupError} when they cannot be used.
 */
export function serverTlsFromConfig(
  config: Pick<Veriflier2Config, 'TLS_CERT_FILE' | 'TLS_KEY_FILE'>,
): ServerTls | undefined {
  if (config.TLS_CERT_FILE === undefined || config.TLS_KEY_FILE === undefined) return undefined
  const cert = readPem('TLS_CERT_FILE', config.TLS_CERT_FILE, /-----BEGIN CERTIFICATE-----/, 'certificate')
  // Never quote a key file's content in a message.
  const key = readPem('TLS_KEY_FILE', config.TLS_KEY_FILE, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key')
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(cert)
  } catch (error) {
    throw new TlsSetupError('TLS_CERT_FILE', `${config.TLS_CERT_FILE}: not a usable certificate`, { cause: error })
  }
  if (!leaf.checkPrivateKey(createPrivateKeyOrThrow(key, config.TLS_KEY_FILE))) {
    throw new TlsSetupError(
      'TLS_KEY_FILE',
      `${config.TLS_KEY_FILE} does not match the certificate in ${config.TLS_CERT_FILE} (its first certificate must be the one issued for this key)`,
    )
  }
  try {
    createSecureContext({ cert, key })
  } catch (error) {
    throw new TlsSetupError(
      'TLS_CERT_FILE',
      `the TLS layer refuses this certificate and key: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
  return {
    cert,
    key,
    subject: leaf.subject.replaceAll('\n', ', '),
    names: leaf.subjectAltName,
    validTo: new Date(leaf.validTo),
  }
}

function createPrivateKeyOrThrow(pem: string, file: string) {
  try {
    return createPrivateKey(pem)
  } catch (error) {
    // The parser's message never holds key material, but keep ours plain anyway.
    throw new TlsSetupError('TLS_KEY_FILE', `${file}: not a usable private key (encrypted keys are not supported)`, {
      cause: error,
    })
  }
}
