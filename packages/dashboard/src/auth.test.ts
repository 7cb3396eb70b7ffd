import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import {
  isLoopbackBind,
  parseCookies,
  requestIsSecure,
  SECURE_SESSION_COOKIE,
  SESSION_COOKIE,
  sameOrigin,
  sessionCookie,
  sessionId,
} from './auth.js'

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

  it('reads the session id only from its own well-formed cookies', () => {
    expect(parseCookies('a=1; b = 2 ;c=x=y').get('c')).toBe('x=y')
    const id = 'A'.repeat(43)
    expect(sessionId(req({ cookie: `other=1; ${SESSION_COOKIE}=${id}` }), false)).toBe(id)
    expect(
      sessionId(req({ cookie: `${SECURE_SESSION_COOKIE}=${'B'.repeat(43)}; ${SESSION_COOKIE}=${id}` }), false),
    ).toBe('B'.repeat(43))
    // Over TLS only the __Host- cookie counts.
    expect(sessionId(req({ cookie: `other=1; ${SESSION_COOKIE}=${id}` }), true)).toBeNull()
    expect(
      sessionId(req({ cookie: `${SESSION_COOKIE}=${id}; ${SECURE_SESSION_COOKIE}=${'B'.repeat(43)}` }), true),
    ).toBe('B'.repeat(43))
    expect(sessionId(req({ cookie: `${SESSION_COOKIE}=jm_${'A'.repeat(43)}` }), false)).toBeNull()
    expect(sessionId(req({}), false)).toBeNull()
    expect(sessionCookie(id, true)).toBe(
      `__Host-jetmon_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure`,
    )
    expect(sessionCookie(id, false, 60)).toBe(`jetmon_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60`)
  })

  it('believes X-Forwarded-Proto only behind a trusted proxy', () => {
    const over = (headers: Record<string, string>, encrypted = false) =>
      ({ headers, socket: { encrypted } }) as unknown as IncomingMessage
    expect(requestIsSecure(over({}, true), false)).toBe(true)
    expect(requestIsSecure(over({ 'x-forwarded-proto': 'https' }), false)).toBe(false)
    expect(requestIsSecure(over({ 'x-forwarded-proto': 'https' }), true)).toBe(true)
    expect(requestIsSecure(over({ 'x-forwarded-proto': 'HTTPS, http' }), true)).toBe(true)
    expect(requestIsSecure(over({ 'x-forwarded-proto': 'http, https' }), true)).toBe(false)
    expect(requestIsSecure(over({}), true)).toBe(false)
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
