import { once } from 'node:events'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import {
  type DnsServer,
  FIXTURE_KEYWORD,
  type FixtureServer,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { DETECTION_PROFILES, type DetectionProfile } from '@jetmon/vocabulary'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckRequest, type CheckResult, createChecker, isDowntime } from '../src/index.js'

// The detection profiles against real servers on loopback: what each one judges, and what it
// leaves alone. Every profile judges reachability, TLS validity, the deadline, the status and the
// redirect policy; `simple_http` adds the keyword rules; `full` adds the body itself and advisories.

let sites: FixtureServer
let dns: DnsServer
let check: (request: CheckRequest) => Promise<CheckResult>

beforeAll(async () => {
  sites = await startFixtureServer({
    fallbackSite: 'ok',
    requestLogLimit: 0,
    sites: { 'redirect-404': { redirect: { status: 302, site: 'status-404' } } },
  })
  dns = await startDnsServer({ zone: sites.zone() })
  check = createChecker({ dnsServers: [dns.server], ca: sites.ca })
})

afterAll(async () => {
  await Promise.all([sites?.close(), dns?.close()])
})

const http = (site: string, path = '/') => sites.url(site, path)
const https = (site: string, path = '/') => sites.url(site, path, { https: true })

async function run(request: CheckRequest): Promise<CheckResult> {
  const result = await check(request)
  expect(isDowntime(result)).toBe(!result.ok)
  expect(result.profile).toBe(request.profile ?? 'full')
  return result
}

/** The verdict under each profile, as `{ legacy, simple_http, full }` of error names (null: success). */
async function verdicts(request: Omit<CheckRequest, 'profile'>): Promise<Record<DetectionProfile, string | null>> {
  const out = {} as Record<DetectionProfile, string | null>
  for (const profile of DETECTION_PROFILES) out[profile] = (await run({ ...request, profile })).error
  return out
}

describe('every profile', () => {
  it.each([
    ['a 500', () => ({ url: http('status-500') }), 'http_status'],
    ['a 404 after a redirect', () => ({ url: http('redirect-404') }), 'http_status'],
    ['an expired certificate', () => ({ url: https('expired') }), 'tls_expired'],
    ['a certificate for another host', () => ({ url: https('wronghost') }), 'tls'],
    ['an untrusted root', () => ({ url: https('untrusted') }), 'tls'],
    ['a redirect loop', () => ({ url: http('loop-a') }), 'redirect'],
    [
      'a redirect under the fail policy',
      () => ({ url: http('redirect'), redirectPolicy: 'fail' as const }),
      'redirect',
    ],
    ['an unknown name', () => ({ url: 'http://nxdomain.dns.test/' }), 'dns'],
    ['a refused connection', () => ({ url: `http://127.0.0.1:${sites.refusedPort}/` }), 'connect'],
    ['a server that never answers', () => ({ url: http('hang'), timeoutMs: 300 }), 'timeout'],
  ] as const)('judges %s alike', async (_, request, error) => {
    expect(await verdicts(request())).toEqual({ legacy: error, simple_http: error, full: error })
  })

  it('follows redirects to a healthy page', async () => {
    for (const profile of DETECTION_PROFILES) {
      expect(await run({ url: http('redirect'), profile })).toMatchObject({ ok: true, finalUrl: http('ok') })
    }
  })

  it('defaults to full and echoes the profile in the result', async () => {
    expect(await check({ url: http('truncated-length') })).toMatchObject({ profile: 'full', error: 'partial_response' })
  })
})

describe('the body', () => {
  it('calls a body cut short of its Content-Length (or its last chunk) down only under full', async () => {
    expect(await verdicts({ url: http('truncated-length') })).toEqual({
      legacy: null,
      simple_http: null,
      full: 'partial_response',
    })
    expect(await verdicts({ url: http('truncated-chunked') })).toEqual({
      legacy: null,
      simple_http: null,
      full: 'partial_response',
    })
    // simple_http still read the body, and says it was cut.
    const simple = await run({ url: http('truncated-length'), profile: 'simple_http' })
    expect(simple.body).toMatchObject({ truncated: true, bytesRead: 512 })
  })

  it('calls an empty page down only under full', async () => {
    expect(await verdicts({ url: http('empty') })).toEqual({ legacy: null, simple_http: null, full: 'empty_body' })
    expect(await verdicts({ url: http('blank') })).toEqual({ legacy: null, simple_http: null, full: 'empty_body' })
  })

  it('applies the keyword rules under simple_http and full, never under legacy', async () => {
    expect(await verdicts({ url: http('nokeyword'), keyword: FIXTURE_KEYWORD })).toEqual({
      legacy: null,
      simple_http: 'keyword',
      full: 'keyword',
    })
    expect(await verdicts({ url: http('forbidden'), forbiddenKeywords: ['casino'] })).toEqual({
      legacy: null,
      simple_http: 'keyword',
      full: 'keyword',
    })
    expect(await run({ url: http('forbidden'), forbiddenKeywords: ['casino'], profile: 'simple_http' })).toMatchObject({
      keyword: { rule: 'forbidden', match: 'casino' },
    })
    // A keyword in a body cut short is still found under simple_http.
    expect(
      await run({ url: http('truncated-length'), keyword: FIXTURE_KEYWORD, profile: 'simple_http' }),
    ).toMatchObject({ ok: true, error: null })
  })

  it('reads no body under legacy: headers then a stalled body answer at once', async () => {
    // stall-body with after=0: the head is sent, the announced body never is.
    const legacy = await run({ url: http('stall-body', '/?after=0'), profile: 'legacy', timeoutMs: 800 })
    expect(legacy).toMatchObject({ ok: true, error: null, httpStatus: 200 })
    expect(legacy.body).toBeUndefined()
    expect(legacy.timings.totalMs).toBeLessThan(800)
    for (const profile of ['simple_http', 'full'] as const) {
      const reading = await run({ url: http('stall-body', '/?after=0'), profile, timeoutMs: 800 })
      expect(reading, profile).toMatchObject({ ok: false, error: 'timeout', timeoutPhase: 'body' })
    }
  })

  it('closes the connection after the headers under legacy', async () => {
    // A raw server that announces a large body, sends a first part and keeps the connection open.
    const closed: Promise<unknown>[] = []
    const server = createServer((socket: Socket) => {
      closed.push(once(socket, 'close'))
      socket.on('error', () => {})
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n<html><body>')
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const { port } = server.address() as AddressInfo
      const result = await run({ url: `http://127.0.0.1:${port}/`, profile: 'legacy', keyword: 'never-there' })
      expect(result).toMatchObject({ ok: true, httpStatus: 200, timings: { ttfbMs: expect.any(Number) } })
      expect(result.body).toBeUndefined()
      expect(result.keyword).toBeUndefined()
      // The server sees the checker hang up, without sending anything more.
      expect(closed).toHaveLength(1)
      await closed[0]
    } finally {
      server.close()
    }
  })
})

describe('advisories', () => {
  it('reports TLS 1.0/1.1 (tls_deprecated, code 7) only under full; the others accept it silently', async () => {
    expect(sites.supportsLegacyTls).toBe(true)
    const url = sites.url('valid', '/', { legacyTls: true })
    const full = await run({ url, profile: 'full' })
    expect(full).toMatchObject({ ok: true, error: 'tls_deprecated', errorCode: 7, advisories: ['tls_deprecated'] })
    for (const profile of ['legacy', 'simple_http'] as const) {
      const result = await run({ url, profile })
      expect(result, profile).toMatchObject({ ok: true, error: null, errorCode: 0, detail: null, advisories: [] })
      // The handshake itself is still recorded.
      expect(['TLSv1', 'TLSv1.1']).toContain(result.tls?.protocol)
    }
  })

  it('flags a slow response only under full', async () => {
    const request = { url: http('slow-ttfb', '/?ms=150'), latencyThresholdMs: 50 }
    expect(await run({ ...request, profile: 'full' })).toMatchObject({ ok: true, advisories: ['slow'] })
    expect(await run({ ...request, profile: 'simple_http' })).toMatchObject({ ok: true, advisories: [] })
    expect(await run({ ...request, profile: 'legacy' })).toMatchObject({ ok: true, advisories: [] })
  })

  it('warns about a certificate that expires soon only under full', async () => {
    expect(await run({ url: https('expiring'), profile: 'full' })).toMatchObject({ advisories: ['tls_expiring'] })
    expect(await run({ url: https('expiring'), profile: 'simple_http' })).toMatchObject({ ok: true, advisories: [] })
    expect(await run({ url: https('expiring'), profile: 'legacy' })).toMatchObject({ ok: true, advisories: [] })
  })

  it('flags an off-site redirect under the alert policy only under full', async () => {
    const request = { url: http('redirect'), redirectPolicy: 'alert' as const }
    expect(await run({ ...request, profile: 'full' })).toMatchObject({ ok: true, advisories: ['redirect_offsite'] })
    expect(await run({ ...request, profile: 'simple_http' })).toMatchObject({ ok: true, advisories: [] })
    expect(await run({ ...request, profile: 'legacy' })).toMatchObject({ ok: true, advisories: [] })
  })
})

describe('invalid input', () => {
  it('throws for an unknown profile, naming the field', async () => {
    await expect(check({ url: http('ok'), profile: 'strict' as DetectionProfile })).rejects.toMatchObject({
      code: 'INVALID_CHECK_REQUEST',
      message: 'profile: must be legacy, simple_http or full, got strict',
    })
  })
})
