import { randomBytes } from 'node:crypto'
import { encryptSecret } from '@jetmon/webhooks'
import { describe, expect, it } from 'vitest'
import { openDestination } from './stored-destination.js'

const key = randomBytes(32)
const destination = { webhook_url: 'https://hooks.slack.com/services/T000/B000/XXXX' }
const sealed = { encrypted: encryptSecret(JSON.stringify(destination), key).toString('base64') }

describe('openDestination', () => {
  it('returns a destination stored in plaintext as it is', () => {
    expect(openDestination(destination, null)).toEqual(destination)
    expect(openDestination(destination, key)).toEqual(destination)
  })

  it('decrypts a sealed destination with the key it was written with', () => {
    expect(openDestination(sealed, key)).toEqual(destination)
  })

  it('refuses a sealed destination without a key, or with another key, with a typed error', () => {
    expect(() => openDestination(sealed, null)).toThrow(
      expect.objectContaining({ code: 'DESTINATION_UNREADABLE', message: expect.stringMatching(/not configured/) }),
    )
    expect(() => openDestination(sealed, randomBytes(32))).toThrow(
      expect.objectContaining({
        code: 'DESTINATION_UNREADABLE',
        message: expect.stringMatching(/cannot be decrypted/),
      }),
    )
  })
})
