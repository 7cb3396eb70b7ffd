import { describe, expect, it } from 'vitest'
import { type DestinationIssue, destinationPreview, validateDestination } from './destination.js'

const KEY = 'a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6'

const valid: [string, unknown][] = [
  ['email', { address: 'oncall@example.com' }],
  ['email', { address: 'first.last+jetmon@mail.example.co.uk' }],
  ['email', { address: "o'neil_ops-1@xn--bcher-kva.example" }],
  ['pagerduty', { integration_key: KEY }],
  ['slack', { webhook_url: 'https://hooks.slack.com/services/T000/B000/XXXX' }],
  [
    'teams',
    { webhook_url: 'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x' },
  ],
]

describe('validateDestination: valid', () => {
  it.each(valid)('%s %j', (transport, destination) => {
    expect(validateDestination(transport, destination)).toEqual([])
  })
})

const invalid: [string, unknown, DestinationIssue[]][] = [
  ['sms', { number: '+1555' }, [{ path: 'transport', message: 'must be one of email, pagerduty, slack, teams' }]],
  ['email', null, [{ path: 'destination', message: 'must be an object such as {"address": …}' }]],
  ['email', ['oncall@example.com'], [{ path: 'destination', message: 'must be an object such as {"address": …}' }]],
  ['email', 'oncall@example.com', [{ path: 'destination', message: 'must be an object such as {"address": …}' }]],
  ['email', {}, [{ path: 'destination.address', message: 'is required' }]],
  ['email', { address: 42 }, [{ path: 'destination.address', message: 'must be a string' }]],
  [
    'email',
    { address: 'oncall@example.com', cc: 'x@example.com' },
    [{ path: 'destination.cc', message: 'unknown field: email destinations have only address' }],
  ],
  [
    'slack',
    { integration_key: KEY },
    [
      { path: 'destination.integration_key', message: 'unknown field: slack destinations have only webhook_url' },
      { path: 'destination.webhook_url', message: 'is required' },
    ],
  ],
]

describe('validateDestination: structure', () => {
  it.each(invalid)('%s %j', (transport, destination, issues) => {
    expect(validateDestination(transport, destination)).toEqual(issues)
  })
})

const badAddresses = [
  '',
  'oncall',
  'oncall@',
  '@example.com',
  'oncall@example',
  'on call@example.com',
  'oncall@exa mple.com',
  'oncall@example.com\r\nBcc: victim@example.com',
  'oncall@example.com\n',
  ' oncall@example.com',
  'a@b@example.com',
  'oncall..team@example.com',
  '.oncall@example.com',
  'oncall.@example.com',
  'oncall@-example.com',
  'oncall@example-.com',
  'oncall@example..com',
  'oncall@127.0.0.1',
  '"quoted"@example.com',
  'ünï@example.com',
  `${'a'.repeat(65)}@example.com`,
  `oncall@${'a'.repeat(64)}.com`,
  `oncall@${'abcdefghi.'.repeat(25)}com`,
]

describe('validateDestination: email addresses', () => {
  it.each(badAddresses)('rejects %j', (address) => {
    expect(validateDestination('email', { address })).toEqual([
      { path: 'destination.address', message: 'must be an email address such as oncall@example.com' },
    ])
  })
})

describe('validateDestination: PagerDuty integration keys', () => {
  it.each([
    ['', /\(got 0\)/],
    [KEY.slice(1), /\(got 31\)/],
    [`${KEY}0`, /\(got 33\)/],
    [`${KEY.slice(1)}-`, /characters other than letters and digits/],
    [`${KEY.slice(2)}  `, /characters other than letters and digits/],
  ])('rejects %j', (key, message) => {
    const issues = validateDestination('pagerduty', { integration_key: key })
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe('destination.integration_key')
    expect(issues[0]?.message).toMatch(/32-character Integration Key/)
    expect(issues[0]?.message).toMatch(message)
  })
})

describe('validateDestination: webhook URLs', () => {
  it.each([
    ['slack', 'http://hooks.slack.com/services/T/B/X', /not http$/],
    ['teams', 'ftp://example.com/hook', /not ftp$/],
    ['slack', 'hooks.slack.com/services/T/B/X', /^must be an https URL/],
    ['slack', 'https://', /^must be an https URL/],
    ['teams', 'https://user:pass@example.com/hook', /without a user name or password/],
    ['slack', 'https://hooks.slack.com/services/T/B/X Y', /whitespace/],
    ['slack', `https://example.com/${'a'.repeat(2100)}`, /longer than 2083/],
    ['slack', '', /^must be an https URL/],
  ])('%s rejects %j', (transport, url, message) => {
    const issues = validateDestination(transport, { webhook_url: url })
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe('destination.webhook_url')
    expect(issues[0]?.message).toMatch(message)
  })
})

describe('destinationPreview', () => {
  it('shows the last 4 characters of the one field', () => {
    expect(destinationPreview('email', { address: 'oncall@example.com' })).toBe('.com')
    expect(destinationPreview('pagerduty', { integration_key: KEY })).toBe('c5D6')
    expect(destinationPreview('slack', { webhook_url: 'https://hooks.slack.com/services/T/B/XYZW' })).toBe('XYZW')
  })
})
