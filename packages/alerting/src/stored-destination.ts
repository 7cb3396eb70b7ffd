import { decryptSecret, isEncryptedSecret } from '@jetmon/webhooks'
import { DestinationUnreadableError } from './errors.js'

/** How an encrypted alert destination is kept in its JSON column: `{"encrypted": "<base64>"}`. */
interface SealedDestination {
  encrypted: string
}

function isSealed(value: unknown): value is SealedDestination {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as { encrypted?: unknown }).encrypted === 'string'
  )
}

/**
 * An alert contact's stored `destination` in plaintext, ready for `AlertSender.send`. With
 * `SECRETS_KEY` the API stores `{"encrypted": base64(…)}`, where the bytes are `@jetmon/webhooks`'
 * `encryptSecret` format over the destination's JSON text; without a key it stores the destination
 * object itself, which is returned as is.
 *
 * @param key The 32-byte `SECRETS_KEY`, or null/undefined when none is configured.
 * @throws {DestinationUnreadableError} (`DESTINATION_UNREADABLE`) when the destination is stored
 *   encrypted but no key is configured, or the key is not the one it was encrypted with.
 */
export function openDestination(stored: unknown, key: Uint8Array | null | undefined): unknown {
  if (!isSealed(stored)) return stored
  const bytes = Buffer.from(stored.encrypted, 'base64')
  // A value sealed before encryption existed would be plain UTF-8 text: read it as such.
  if (!isEncryptedSecret(bytes)) return JSON.parse(bytes.toString('utf8')) as unknown
  if (!key) {
    throw new DestinationUnreadableError(
      'the alert destination is stored encrypted but SECRETS_KEY is not configured: configure the key it was written with',
    )
  }
  let text: string
  try {
    text = decryptSecret(bytes, key)
  } catch (cause) {
    throw new DestinationUnreadableError('the alert destination cannot be decrypted with the configured SECRETS_KEY', {
      cause,
    })
  }
  return JSON.parse(text) as unknown
}
