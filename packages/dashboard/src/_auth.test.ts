import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isLoopbackBind, parseCookies, SESSION_COOKIE, sameOrigin, sessionCookie, sessionToken } from './_auth.js'

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage

describe('sign-in rule', () => {
  it('treats only loopback addresses as private', () => {
    for (const bind of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackBind(bind), bind).toBe(true)
    }
    for (const bind of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '192.168.1.20',
      'monitor.internal',
      '128.0.0.1',
      '127.0.0.1.example',
    ]) {
      expect(isLoopbackBind(bind), bind).toBe(false)
    }
  })

  it('reads the key only from its own well-formed cookie', () => {
    expect(parseCookies('a=1; b = 2 ;c=x=y').get('c')).toBe('x=y')
    const token = `jm_${'A'.repeat(43)}`
    expect(sessionToken(req({ cookie: `other=1; ${SESSION_COOKIE}=${token}` }))).toBe(token)
    expect(sessionToken(req({ cookie: `${SESSION_COOKIE}=not-a-key` }))).toBeNull()
    expect(sessionToken(req({}))).toBeNull()
    expect(sessionCookie(token, true)).toBe(
      `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure`,
    )
  })

  it('accepts form posts from the dashboard itself only', () => {
    expect(sameOrigin(req({ 'sec-fetch-site': 'same-origin', origin: 'null' }))).toBe(true)
    expect(sameOrigin(req({ 'sec-fetch-site': 'cross-site' }))).toBe(false)
    expect(sameOrigin(req({ 'sec-fetch-site': 'same-site' }))).toBe(false)
    expect(sameOrigin(req({ host: 'mon:8080', origin: 'http://mon:8080' }))).toBe(true)
    expect(sameOrigin(req({ host: 'mon:8080', origin: 'http://evil.example' }))).toBe(false)
    expect(sameOrigin(req({ host: 'mon:8080', origin: 'null' }))).toBe(false)
    expect(sameOrigin(req({ host: 'mon:8080' }))).toBe(true)
  })
})
