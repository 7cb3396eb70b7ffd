import { expect, test } from 'vitest'
import { maskUrlPassword, redactSecrets } from './redact.js'

test('redactSecrets replaces secrets at pino-style paths and leaves the original alone', () => {
  const config = {
    AUTH_TOKEN: 'wpcom-token',
    SMTP_PASSWORD: undefined,
    LOG_LEVEL: 'info',
    VERIFLIERS: [
      { id: 'eu', token: 'eu-token' },
      { id: 'us', token: 'us-token' },
    ],
    TOKENS: ['one', 'two'],
  }
  const redacted = redactSecrets(config, ['AUTH_TOKEN', 'SMTP_PASSWORD', 'VERIFLIERS[*].token', 'TOKENS[*]', 'ABSENT'])
  expect(redacted).toEqual({
    AUTH_TOKEN: '[redacted]',
    SMTP_PASSWORD: undefined,
    LOG_LEVEL: 'info',
    VERIFLIERS: [
      { id: 'eu', token: '[redacted]' },
      { id: 'us', token: '[redacted]' },
    ],
    TOKENS: ['[redacted]', '[redacted]'],
  })
  expect(config.AUTH_TOKEN).toBe('wpcom-token')
  expect(config.VERIFLIERS[0]?.token).toBe('eu-token')
})

test('maskUrlPassword hides only the password', () => {
  expect(maskUrlPassword('mysql://jetmon:s3cr%40t@db.internal:3306/jetmon')).toBe(
    'mysql://jetmon:***@db.internal:3306/jetmon',
  )
  expect(maskUrlPassword('mysql://root@localhost:3306/jetmon_db')).toBe('mysql://root@localhost:3306/jetmon_db')
  expect(maskUrlPassword('not a url with password')).toBe('[redacted]')
})
