import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base32 } from './_base32.js'
import {
  SecretDecryptionError,
  SecretFormatError,
  SecretsKeyError,
  SecretsKeyMissingError,
  WebhooksError,
} from './errors.js'
import {
  decryptSecret,
  encryptSecret,
  generateWebhookSecret,
  isEncryptedSecret,
  openStoredSecret,
  secretPreview,
} from './secrets.js'

describe('base32', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes the RFC 4648 vector %j without padding', (input, output) => {
    expect(base32(Buffer.from(input))).toBe(output)
  })

  it('encodes bytes 0..31 like Python base64.b32encode (minus padding)', () => {
    expect(base32(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(
      'AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ',
    )
  })
})

describe('generateWebhookSecret', () => {
  it('is whsec_ + 52 base32 characters (32 bytes), different every time', () => {
    const secrets = new Set(Array.from({ length: 100 }, () => generateWebhookSecret()))
    expect(secrets.size).toBe(100)
    for (const secret of secrets) expect(secret).toMatch(/^whsec_[A-Z2-7]{52}$/)
  })
})

describe('secretPreview', () => {
  it('shows the last 4 characters only', () => {
    expect(secretPreview('whsec_ABCDEFGH2345')).toBe('2345')
    const secret = generateWebhookSecret()
    expect(secretPreview(secret)).toBe(secret.slice(-4))
    expect(secretPreview(secret)).toHaveLength(4)
  })
})

describe('encryptSecret / decryptSecret', () => {
  const key = randomBytes(32)
  const secret = 'whsec_AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ'

  it('round-trips, with the documented layout', () => {
    const stored = encryptSecret(secret, key)
    expect(stored[0]).toBe(0x01)
    expect(stored.length).toBe(1 + 12 + Buffer.byteLength(secret) + 16)
    expect(stored.includes(Buffer.from(secret))).toBe(false)
    expect(decryptSecret(stored, key)).toBe(secret)
    expect(decryptSecret(new Uint8Array(stored), key)).toBe(secret)
    expect(decryptSecret(encryptSecret('', key), key)).toBe('')
    expect(decryptSecret(encryptSecret('ünï ☕', key), key)).toBe('ünï ☕')
  })

  it('uses a fresh nonce each time', () => {
    const a = encryptSecret(secret, key)
    const b = encryptSecret(secret, key)
    expect(a.equals(b)).toBe(false)
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false)
  })

  it('detects a flipped bit anywhere: nonce, ciphertext or tag', () => {
    const stored = encryptSecret(secret, key)
    for (let i = 1; i < stored.length; i++) {
      const tampered = Buffer.from(stored)
      tampered[i] = tampered[i]! ^ 0x01
      expect(() => decryptSecret(tampered, key), `byte ${i}`).toThrow(SecretDecryptionError)
    }
  })

  it('detects truncation and a wrong key', () => {
    const stored = encryptSecret(secret, key)
    expect(() => decryptSecret(stored.subarray(0, stored.length - 1), key)).toThrow(SecretDecryptionError)
    expect(() => decryptSecret(stored.subarray(0, 20), key)).toThrow(
      expect.objectContaining({ code: 'SECRET_DECRYPTION_FAILED' }),
    )
    expect(() => decryptSecret(stored, randomBytes(32))).toThrow(
      expect.objectContaining({ code: 'SECRET_DECRYPTION_FAILED', name: 'SecretDecryptionError' }),
    )
  })

  it('rejects an unknown format version, with a hint for plaintext secrets', () => {
    const stored = encryptSecret(secret, key)
    stored[0] = 0x02
    expect(() => decryptSecret(stored, key)).toThrow(
      expect.objectContaining({ code: 'SECRET_FORMAT_UNSUPPORTED', version: 2 }),
    )
    expect(() => decryptSecret(Buffer.from(secret), key)).toThrow(/plaintext secret/)
    expect(() => decryptSecret(Buffer.alloc(0), key)).toThrow(SecretFormatError)
  })

  it('requires a 32-byte key', () => {
    for (const bad of [randomBytes(16), randomBytes(31), randomBytes(33), Buffer.alloc(0)]) {
      expect(() => encryptSecret(secret, bad)).toThrow(SecretsKeyError)
      expect(() => decryptSecret(Buffer.alloc(40, 1), bad)).toThrow(
        expect.objectContaining({ code: 'SECRETS_KEY_INVALID' }),
      )
    }
  })

  it('tells encrypted values from plaintext ones', () => {
    expect(isEncryptedSecret(encryptSecret(secret, key))).toBe(true)
    expect(isEncryptedSecret(Buffer.from(secret))).toBe(false)
    expect(isEncryptedSecret(Buffer.alloc(0))).toBe(false)
  })
})

describe('openStoredSecret', () => {
  const key = randomBytes(32)

  it('opens plaintext and encrypted values', () => {
    expect(openStoredSecret(Buffer.from('plain'), null, 'webhook secret')).toBe('plain')
    expect(openStoredSecret(encryptSecret('sealed', key), key, 'webhook secret')).toBe('sealed')
  })

  it('throws a typed SECRETS_KEY_MISSING error for an encrypted value without a key', () => {
    const error = (() => {
      try {
        openStoredSecret(encryptSecret('sealed', key), null, 'webhook secret')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(SecretsKeyMissingError)
    expect(error).toMatchObject({
      code: 'SECRETS_KEY_MISSING',
      message:
        'the webhook secret is stored encrypted but SECRETS_KEY is not configured: configure the key it was written with',
    })
  })

  it('throws a typed SECRET_DECRYPTION_FAILED error for a value the key cannot open', () => {
    const error = (() => {
      try {
        openStoredSecret(encryptSecret('sealed', key), randomBytes(32), 'alert destination')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(SecretDecryptionError)
    expect(error).toBeInstanceOf(WebhooksError)
    expect(error).toMatchObject({
      code: 'SECRET_DECRYPTION_FAILED',
      message: 'the alert destination cannot be decrypted with the configured SECRETS_KEY',
    })
    expect((error as Error).cause).toBeInstanceOf(SecretDecryptionError)
  })
})
