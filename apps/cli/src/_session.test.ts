import { describe, expect, test } from 'vitest'
import { fillPath, matchRoute, openSession, redactHeader } from './_session.js'
import { resolveConnection } from './connection.js'

const TOKEN = 'jm_secret_0123456789abcdefghij'

describe('redactHeader', () => {
  test('never prints a token or a credential', () => {
    expect(redactHeader('Authorization', `Bearer ${TOKEN}`, TOKEN)).toBe('Bearer jm_se…(redacted)')
    expect(redactHeader('authorization', 'Bearer none', null)).toBe('Bearer (no token configured)')
    expect(redactHeader('set-cookie', 'session=abc', TOKEN)).toBe('(redacted)')
    expect(redactHeader('x-echo', `token=${TOKEN}`, TOKEN)).toBe('token=(redacted)')
    expect(redactHeader('x-other', 'jm_abcdefghijklmnopqrstuvwxyz', TOKEN)).toBe('(redacted)')
    expect(redactHeader('x-request-id', 'req_1', TOKEN)).toBe('req_1')
  })
})

describe('routes', () => {
  test('fillPath and matchRoute agree with the contract', () => {
    expect(fillPath('/sites/{blog_id}/events', { blog_id: '18446744073709551615' })).toBe(
      '/sites/18446744073709551615/events',
    )
    expect(matchRoute('GET', '/sites/42?limit=1')?.id).toBe('sites.get')
    expect(matchRoute('POST', '/webhooks/3/deliveries/9/retry')?.id).toBe('webhooks.retryDelivery')
    expect(matchRoute('GET', '/health')?.route.scope).toBe('none')
    expect(matchRoute('PUT', '/sites/42')).toBeUndefined()
  })
})

describe('the remote-write guard', () => {
  const session = (url: string, extra: { allowRemote?: boolean } = {}) =>
    openSession(resolveConnection({ flags: { url, ...extra }, env: { JETMON_API_CONFIG: 'off' }, isTTY: false }))

  test('loopback writes need nothing', () => {
    for (const url of ['http://127.0.0.1:8090', 'http://localhost:8090', 'http://[::1]:8090']) {
      expect(() => session(url).assertWritable('x', { needsBatch: true })).not.toThrow()
    }
  })

  test('remote writes need --allow-remote, bulk and smoke writes also --batch', () => {
    expect(() => session('https://jetmon.example.com').assertWritable('sites create')).toThrow(
      /sites create writes to https:\/\/jetmon\.example\.com, which is not on this host: remote writes need --allow-remote\./,
    )
    const allowed = session('https://jetmon.example.com', { allowRemote: true })
    expect(() => allowed.assertWritable('sites create')).not.toThrow()
    expect(() => allowed.assertWritable('sites bulk-add', { needsBatch: true })).toThrow(/need --batch <name>/)
    expect(() => allowed.assertWritable('sites bulk-add', { needsBatch: true, batch: 'b1' })).not.toThrow()
  })
})
