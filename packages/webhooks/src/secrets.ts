import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { base32 } from './_base32.js'
import { SecretDecryptionError, SecretFormatError, SecretsKeyError, SecretsKeyMissingError } from './errors.js'

/** The prefix of every webhook secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_'

/**
 * A new webhook signing secret: `whsec_` followed by the unpadded base32 (RFC 4648, upper case)
 * encoding of 32 random bytes — 58 characters in all.
 */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + base32(randomBytes(32))
}

/** What may be shown of a secret after creation: its last 4 characters. */
export function secretPreview(secret: string): string {
  return secret.slice(-4)
}

/** The first byte of an encrypted secret: the stored format's version. */
export const SECRET_FORMAT_VERSION = 0x01
const NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const HEADER = Buffer.from([SECRET_FORMAT_VERSION])

/**
 * Encrypts a secret for storage with AES-256-GCM.
 *
 * Stored format (version 1), as one byte string:
 * ```
 * 0x01 | nonce (12 random bytes) | ciphertext (same length as the UTF-8 plaintext) | GCM tag (16 bytes)
 * ```
 * The version byte is also the GCM additional authenticated data, so it cannot be altered
 * without detection. A fresh nonce per call means encrypting the same secret twice gives different
 * bytes. A plaintext `whsec_…` secret starts with `w` (0x77), so plaintext and encrypted values
 * can share a column ({@link isEncryptedSecret}). Not detected: swapping two rows' encrypted
 * values wholesale (the ciphertext is not bound to its row).
 *
 * @param key 32 bytes (`SECRETS_KEY`).
 * @throws {SecretsKeyError} when the key is not 32 bytes.
 */
export function encryptSecret(plaintext: string, key: Uint8Array): Buffer {
  checkKey(key)
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(HEADER)
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([HEADER, nonce, ciphertext, cipher.getAuthTag()])
}

/**
 * Decrypts a value written by {@link encryptSecret}.
 *
 * @throws {SecretsKeyError} when the key is not 32 bytes.
 * @throws {SecretFormatError} (`SECRET_FORMAT_UNSUPPORTED`) when the first byte is not a known
 *   format version — for example a plaintext secret stored before `SECRETS_KEY` was configured.
 * @throws {SecretDecryptionError} (`SECRET_DECRYPTION_FAILED`) when authentication fails: a
 *   different key, or bytes that were changed or cut short.
 */
export function decryptSecret(stored: Uint8Array, key: Uint8Array): string {
  checkKey(key)
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
  const version = bytes.length > 0 ? bytes[0]! : null
  if (version !== SECRET_FORMAT_VERSION) {
    const hint =
      version === 0x77 ? ' It looks like a plaintext secret (stored before SECRETS_KEY was set); use it as is.' : ''
    throw new SecretFormatError(
      version,
      `stored secret has format version ${version === null ? 'none (empty value)' : `0x${version.toString(16).padStart(2, '0')}`}; this release reads version 0x01.${hint}`,
    )
  }
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES) {
    throw new SecretDecryptionError(
      `stored secret is ${bytes.length} bytes, shorter than the smallest valid value (29): it was cut short`,
    )
  }
  const nonce = bytes.subarray(1, 1 + NONCE_BYTES)
  const ciphertext = bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES)
  const tag = bytes.subarray(bytes.length - TAG_BYTES)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(HEADER)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch (cause) {
    throw new SecretDecryptionError(
      'stored secret failed authentication: SECRETS_KEY is not the key it was encrypted with, or the stored bytes were changed',
      { cause },
    )
  }
}

/** Whether a stored value is in the encrypted format (starts with the version byte) rather than plaintext. */
export function isEncryptedSecret(stored: Uint8Array): boolean {
  return stored.length > 0 && stored[0] === SECRET_FORMAT_VERSION
}

/**
 * A stored secret in plaintext: {@link decryptSecret} with `key` when it was stored encrypted, its
 * UTF-8 bytes otherwise (written before a key was configured). An encrypted value without a key,
 * or one the key cannot open, throws an error that says what to fix; `what` names the secret in it.
 *
 * @throws {SecretsKeyMissingError} for an encrypted value when no key is given.
 * @throws {SecretDecryptionError} when the key cannot open the value (the reason is its `cause`).
 */
export function openStoredSecret(stored: Uint8Array, key: Uint8Array | null | undefined, what: string): string {
  if (!isEncryptedSecret(stored)) return Buffer.from(stored).toString('utf8')
  if (!key) {
    throw new SecretsKeyMissingError(
      `the ${what} is stored encrypted but SECRETS_KEY is not configured: configure the key it was written with`,
    )
  }
  try {
    return decryptSecret(stored, key)
  } catch (cause) {
    throw new SecretDecryptionError(`the ${what} cannot be decrypted with the configured SECRETS_KEY`, { cause })
  }
}

/** The secret columns of a stored webhook. */
export interface StoredWebhookSecrets {
  id: bigint
  secret: Uint8Array
  previousSecret: Uint8Array | null
  previousSecretExpiresAt: Date | null
}

/**
 * What a webhook's deliveries are signed with at `now`: its secret, then its previous one while a
 * rotation's grace period lasts (receivers accept either). Opened with {@link openStoredSecret}.
 */
export function signingSecretsAt(
  webhook: StoredWebhookSecrets,
  key: Uint8Array | null | undefined,
  now: Date,
): string[] {
  const secrets = [openStoredSecret(webhook.secret, key, `signing secret of webhook ${webhook.id}`)]
  if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now) {
    secrets.push(openStoredSecret(webhook.previousSecret, key, `previous signing secret of webhook ${webhook.id}`))
  }
  return secrets
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key
    throw new SecretsKeyError(`the secrets key must be exactly 32 bytes for AES-256-GCM, got ${got}`)
  }
}
