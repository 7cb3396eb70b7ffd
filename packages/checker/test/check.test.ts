import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type DnsServer,
  FIXTURE_KEYWORD,
  type FixtureServer,
  LARGE_BODY_BYTES,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckRequest, type CheckResult, createChecker, isDowntime, statusType } from '../src/index.js'

let sites: FixtureServer
let dns: DnsServer
let check: (request: CheckRequest) => Promise<CheckResult>
const tmp = mkdtempSync(join(tmpdir(), 'jetmon-checker-'))
const hostsFile = join(tmp, 'hosts')

beforeAll(async () => {
  sites = await startFixtureServer({ fallbackSite: 'ok' })
  dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(hostsFile, `127.0.0.1 hosts-only.example\n# comment\n::1 v6.hosts-only.example\n`)
  check = createChecker({ dnsServers: [dns.server], ca: sites.ca, hostsFile, dnsTimeoutMs: 300 })
})

afterAll(async () => {
  await Promise.all([sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

const http = (site: string, path = '/') => sites.url(site, path)
const https = (site: string, path = '/') => sites.url(site, path, { https: true })

/** Every result: timings never negative, null exactly for phases never reached. */
function expectSaneTimings(result: CheckResult): void {
  for (const [phase, value] of Object.entries(result.timings)) {
    if (value !== null) expect(value, phase).toBeGreaterThanOrEqual(0)
  }
  expect(result.timings.totalMs).toBeTypeOf('number')
  expect(result.detail === null || result.detail.length <= 512).toBe(true)
}

async function run(request: CheckRequest): Promise<CheckResult> {
  const result = await check(request)
  expectSaneTimings(result)
  expect(isDowntime(result)).toBe(!result.ok)
  return result
}

describe('a healthy site', () => {
  it('passes over HTTP, with every phase timed and the DNS answer recorded', async () => {
    const result = await run({ url: http('ok'), keyword: FIXTURE_KEYWORD })
    expect(result).toMatchObject({
      ok: true,
      error: null,
      errorCode: 0,
      httpStatus: 200,
      method: 'GET',
      advisories: [],
    })
    expect(result.timings.dnsMs).toBeTypeOf('number')
    expect(result.timings.connectMs).toBeTypeOf('number')
    expect(result.timings.tlsMs).toBeNull()
    expect(result.timings.ttfbMs).toBeTypeOf('number')
    expect(result.timings.transferMs).toBeTypeOf('number')
    expect(result.dns).toMatchObject({ addresses: ['127.0.0.1'], servers: [dns.server] })
    expect(result.remoteAddress).toBe('127.0.0.1')
    expect(result.body).toMatchObject({ truncated: false, readLimitHit: false })
    expect(result.body?.bytesRead).toBeGreaterThan(100)
    expect(statusType(result)).toBe('success')
    expect(new Date(result.startedAt).getTime()).toBeLessThanOrEqual(Date.now())
  })

  it('passes over HTTPS (TLS 1.3) and reports the certificate', async () => {
    const result = await run({ url: https('valid') })
    expect(result).toMatchObject({ ok: true, httpStatus: 200 })
    expect(result.tls).toMatchObject({ protocol: 'TLSv1.3' })
    expect(result.tls?.failure).toBeUndefined()
    expect(result.tls?.altNames).toContain('*.fixture.test')
    expect(result.tls?.daysUntilExpiry).toBeGreaterThan(30)
    expect(result.tls?.issuer).toMatch(/Intermediate/i)
    expect(result.timings.tlsMs).toBeTypeOf('number')
  })

  it('sends the monitor user agent, Connection: close and the custom headers', async () => {
    sites.clearRequests()
    await run({ url: http('echo'), headers: { 'X-Probe-Token': 'secret-123' } })
    const [request] = sites.requests('echo')
    expect(request?.headers['user-agent']).toMatch(/^Jetmon\/\d+\.\d+\.\d+ \(\+site monitoring\)$/)
    expect(request?.headers.connection).toBe('close')
    expect(request?.headers['x-probe-token']).toBe('secret-123')
  })

  it('honours a custom Host header (a virtual host reached by IP)', async () => {
    sites.clearRequests()
    const result = await run({
      url: `http://127.0.0.1:${sites.httpPort}/`,
      headers: { Host: sites.hostname('status-404') },
    })
    expect(result).toMatchObject({ ok: false, error: 'http_status', httpStatus: 404 })
    expect(result.timings.dnsMs).toBeNull() // IP literals skip DNS
    expect(result.dns).toBeUndefined()
  })

  it('reads the hosts file before DNS', async () => {
    const result = await run({ url: `http://hosts-only.example:${sites.httpPort}/` })
    expect(result).toMatchObject({ ok: true, dns: { addresses: ['127.0.0.1'], source: 'hosts' } })
  })

  it('reads no body for HEAD, 204 or an event stream', async () => {
    expect(await run({ url: http('ok'), method: 'HEAD' })).toMatchObject({ ok: true, method: 'HEAD', httpStatus: 200 })
    expect((await run({ url: http('ok'), method: 'HEAD' })).body).toBeUndefined()
    expect(await run({ url: http('status-204') })).toMatchObject({ ok: true, httpStatus: 204 })
    const stream = await run({ url: http('event-stream'), timeoutMs: 3_000 })
    expect(stream).toMatchObject({ ok: true, httpStatus: 200 })
    expect(stream.timings.totalMs).toBeLessThan(1_000)
  })

  it('flags a slow response with the slow advisory when a threshold is set', async () => {
    const result = await run({ url: http('slow-ttfb', '/?ms=150'), latencyThresholdMs: 50 })
    expect(result).toMatchObject({ ok: true, advisories: ['slow'] })
  })
})

describe('HTTP status', () => {
  it.each([
    ['status-404', 404, 'client'],
    ['status-403', 403, 'blocked'],
    ['status-410', 410, 'client'],
    ['status-500', 500, 'server'],
    ['status-503', 503, 'server'],
    ['cms-db-error', 500, 'server'],
  ] as const)('%s is an http_status failure (%i, %s)', async (site, status, type) => {
    const result = await run({ url: http(site) })
    expect(result).toMatchObject({ ok: false, error: 'http_status', errorCode: 10, httpStatus: status })
    expect(statusType(result)).toBe(type)
    expect(result.body).toBeUndefined() // error pages are judged by their status
  })

  it('judges HEAD and GET separately', async () => {
    expect(await run({ url: http('head-405'), method: 'HEAD' })).toMatchObject({ ok: false, httpStatus: 405 })
    expect(await run({ url: http('head-405') })).toMatchObject({ ok: true, httpStatus: 200 })
  })
})

describe('content', () => {
  it('fails when the required keyword is missing', async () => {
    const result = await run({ url: http('nokeyword'), keyword: FIXTURE_KEYWORD })
    expect(result).toMatchObject({ ok: false, error: 'keyword', errorCode: 5, keyword: { rule: 'required' } })
    expect(statusType(result)).toBe('intermittent')
  })

  it('names the forbidden text it found, case-insensitively when asked', async () => {
    const strict = await run({ url: http('forbidden'), forbiddenKeywords: ['HACKED'] })
    expect(strict.ok).toBe(true)
    const result = await run({ url: http('forbidden'), forbiddenKeywords: ['HACKED'], keywordCaseSensitive: false })
    expect(result).toMatchObject({ ok: false, error: 'keyword', keyword: { rule: 'forbidden', match: 'HACKED' } })
  })

  it('finds a keyword split across two chunks', async () => {
    expect(await run({ url: http('straddle'), keyword: FIXTURE_KEYWORD })).toMatchObject({ ok: true })
  })

  it('calls an empty page on a 200 empty_body', async () => {
    expect(await run({ url: http('empty') })).toMatchObject({ ok: false, error: 'empty_body', errorCode: 11 })
    expect(await run({ url: http('blank') })).toMatchObject({ ok: false, error: 'empty_body' })
  })

  it('reads a large body only up to its byte budget, which is not a failure', async () => {
    const plain = await run({ url: http('large') })
    expect(plain).toMatchObject({ ok: true, body: { bytesRead: 256 * 1024, readLimitHit: true, truncated: false } })
    // The keyword sits in the last bytes of the 2 MiB page, beyond the 1 MiB keyword budget.
    const keyword = await run({ url: http('large'), keyword: FIXTURE_KEYWORD })
    expect(keyword).toMatchObject({ ok: false, error: 'keyword', body: { bytesRead: 1024 * 1024, readLimitHit: true } })
    expect(LARGE_BODY_BYTES).toBeGreaterThan(1024 * 1024)
  })

  it('stops reading a slow body at its time budget without failing', async () => {
    const slowChecker = createChecker({ dnsServers: [dns.server], limits: { bodyMaxMs: 200 } })
    const result = await slowChecker({ url: http('stall-body', '/?after=256') })
    expect(result).toMatchObject({ ok: true, body: { readLimitHit: true, truncated: false } })
    expect(result.body?.bytesRead).toBe(256)
  })
})

describe('truncated bodies', () => {
  it('reports a body cut short of its Content-Length as partial_response', async () => {
    const result = await run({ url: http('truncated-length') })
    expect(result).toMatchObject({
      ok: false,
      error: 'partial_response',
      errorCode: 8,
      body: { truncated: true, bytesRead: 512 },
    })
    expect(result.body?.contentLength).toBeGreaterThan(512)
  })

  it('reports a chunked body without its final chunk as partial_response', async () => {
    const result = await run({ url: http('truncated-chunked') })
    expect(result).toMatchObject({
      ok: false,
      error: 'partial_response',
      body: { truncated: true, contentLength: null },
    })
  })
})

describe('redirects', () => {
  it('follows a redirect to another host and records the chain', async () => {
    const result = await run({ url: http('redirect') })
    expect(result).toMatchObject({ ok: true, httpStatus: 200, redirects: [{ url: http('redirect'), status: 301 }] })
    expect(result.finalUrl).toBe(http('ok'))
  })

  it('follows relative redirects and chains up to the limit', async () => {
    expect(await run({ url: http('redirect-relative') })).toMatchObject({
      ok: true,
      finalUrl: http('redirect-relative', '/landed'),
    })
    const chain = await run({ url: http('chain', '/3') })
    expect(chain).toMatchObject({ ok: true })
    expect(chain.redirects).toHaveLength(3)
    expect(await run({ url: http('chain', '/3'), maxRedirects: 2 })).toMatchObject({
      ok: false,
      error: 'redirect',
      errorCode: 4,
    })
    expect(await run({ url: http('chain', '/12') })).toMatchObject({ ok: false, error: 'redirect' })
  })

  it('calls a loop a redirect failure', async () => {
    const result = await run({ url: http('loop-a') })
    expect(result).toMatchObject({ ok: false, error: 'redirect' })
    expect(result.detail).toMatch(/loop/)
    expect(statusType(result)).toBe('redirect')
  })

  it('fails on any redirect under the fail policy, and flags off-site ones under alert', async () => {
    expect(await run({ url: http('redirect-relative'), redirectPolicy: 'fail' })).toMatchObject({
      ok: false,
      error: 'redirect',
    })
    expect(await run({ url: http('redirect'), redirectPolicy: 'alert' })).toMatchObject({
      ok: true,
      advisories: ['redirect_offsite'],
    })
    expect(await run({ url: http('redirect-relative'), redirectPolicy: 'alert' })).toMatchObject({
      ok: true,
      advisories: [],
    })
  })

  it('follows HTTP to HTTPS and keeps the final hop’s timings', async () => {
    const result = await run({ url: http('to-https') })
    expect(result).toMatchObject({ ok: true, finalUrl: https('to-https') })
    expect(result.timings.tlsMs).toBeTypeOf('number')
  })

  it('sends custom headers only to the origin they were configured for', async () => {
    sites.clearRequests()
    await run({ url: http('redirect'), headers: { 'X-Secret': 'only-for-redirect-site' } })
    expect(sites.requests('redirect')[0]?.headers['x-secret']).toBe('only-for-redirect-site')
    expect(sites.requests('ok')[0]?.headers['x-secret']).toBeUndefined()
  })
})

describe('TLS', () => {
  it.each([
    ['expired', 'tls_expired', 6, 'expired'],
    ['notyet', 'tls', 3, 'not_yet_valid'],
    ['selfsigned', 'tls', 3, 'self_signed'],
    ['wronghost', 'tls', 3, 'hostname_mismatch'],
    ['nochain', 'tls', 3, 'incomplete_chain'],
    ['untrusted', 'tls', 3, 'untrusted_root'],
  ] as const)(
    '%s is %s (%i) with failure class %s, and no request byte is sent',
    async (site, error, code, failure) => {
      sites.clearRequests()
      const result = await run({ url: https(site), headers: { Authorization: 'Bearer must-not-leak' } })
      expect(result).toMatchObject({ ok: false, error, errorCode: code, tls: { failure }, httpStatus: null })
      expect(statusType(result)).toBe('https')
      expect(sites.requests(site)).toEqual([])
    },
  )

  it('warns about a certificate that expires soon', async () => {
    const result = await run({ url: https('expiring') })
    expect(result).toMatchObject({ ok: true, advisories: ['tls_expiring'] })
    expect(result.tls?.daysUntilExpiry).toBeLessThanOrEqual(5)
    expect(await run({ url: https('expiring'), tlsExpiryWarnDays: 2 })).toMatchObject({ advisories: [] })
  })

  it('negotiates TLS 1.0/1.1 to report it: ok, with the tls_deprecated advisory and code 7', async () => {
    expect(sites.supportsLegacyTls).toBe(true)
    const result = await run({ url: sites.url('valid', '/', { legacyTls: true }) })
    expect(result).toMatchObject({ ok: true, error: 'tls_deprecated', errorCode: 7, advisories: ['tls_deprecated'] })
    expect(['TLSv1', 'TLSv1.1']).toContain(result.tls?.protocol)
    expect(statusType(result)).toBe('success')
  })

  it('classes a failed handshake (plain HTTP on the TLS port) as handshake', async () => {
    const result = await run({ url: `https://127.0.0.1:${sites.httpPort}/` })
    expect(result).toMatchObject({ ok: false, error: 'tls', tls: { failure: 'handshake', protocol: null } })
    expect(result.detail).toMatch(/TLS handshake failed: .*wrong version number/)
  })
})

describe('connections', () => {
  const at = (port: number, scheme = 'http') => `${scheme}://127.0.0.1:${port}/`

  it('reports a refused connection as connect, with no later phase timed', async () => {
    const result = await run({ url: at(sites.refusedPort) })
    expect(result).toMatchObject({
      ok: false,
      error: 'connect',
      errorCode: 2,
      timings: { connectMs: null, ttfbMs: null },
    })
    expect(result.detail).toMatch(/refused/)
  })

  it('reports a reset, a hang-up and a server that never answers', async () => {
    expect(await run({ url: at(sites.resetPort) })).toMatchObject({ ok: false, error: 'connect' })
    expect(await run({ url: http('hangup') })).toMatchObject({ ok: false, error: 'connect' })
    const stalled = await run({ url: at(sites.stalledPort), timeoutMs: 300 })
    expect(stalled).toMatchObject({ ok: false, error: 'timeout', errorCode: 1, timeoutPhase: 'ttfb' })
    expect(stalled.timings.totalMs).toBeGreaterThanOrEqual(290)
    expect(stalled.timings.totalMs).toBeLessThan(1_000)
  })

  it('names the phase the deadline expired in', async () => {
    expect(await run({ url: at(sites.stalledPort, 'https'), timeoutMs: 300 })).toMatchObject({
      error: 'timeout',
      timeoutPhase: 'tls',
    })
    expect(await run({ url: http('hang'), timeoutMs: 300 })).toMatchObject({ error: 'timeout', timeoutPhase: 'ttfb' })
    expect(await run({ url: http('stall-body', '/?after=256'), timeoutMs: 300 })).toMatchObject({
      error: 'timeout',
      timeoutPhase: 'body',
    })
    const dnsTimeout = createChecker({ dnsServers: [dns.server], dnsTimeoutMs: 5_000 })
    expect(await dnsTimeout({ url: 'http://drop.dns.test/', timeoutMs: 300 })).toMatchObject({
      error: 'timeout',
      timeoutPhase: 'dns',
    })
  })

  it('keeps every deadline of checks in flight together, a shorter one started later included', async () => {
    const order: number[] = []
    const started = performance.now()
    const timed = (timeoutMs: number) =>
      check({ url: http('hang'), timeoutMs }).then((result) => {
        order.push(timeoutMs)
        return { error: result.error, afterMs: performance.now() - started }
      })
    const long = timed(600)
    const same = timed(600)
    const short = timed(150)
    const [a, b, c] = await Promise.all([long, same, short])
    expect(order).toEqual([150, 600, 600])
    expect(c.error).toBe('timeout')
    expect(c.afterMs).toBeGreaterThanOrEqual(150)
    expect(c.afterMs).toBeLessThan(550)
    for (const result of [a, b]) {
      expect(result.error).toBe('timeout')
      expect(result.afterMs).toBeGreaterThanOrEqual(600)
    }
  })
})

describe('DNS', () => {
  it.each([
    ['nxdomain.dns.test', 'nxdomain'],
    ['servfail.dns.test', 'servfail'],
    ['refused.dns.test', 'refused'],
    ['drop.dns.test', 'timeout'],
    ['dangling.dns.test', 'nxdomain'],
    ['empty.dns.test', 'no_address'],
  ] as const)('%s is a dns failure of class %s', async (name, failureClass) => {
    const result = await run({ url: `http://${name}/` })
    expect(result).toMatchObject({ ok: false, error: 'dns', errorCode: 9, dns: { failureClass, addresses: [] } })
    expect(result.timings).toMatchObject({ dnsMs: null, connectMs: null })
  })

  it('follows a CNAME and waits for a slow answer', async () => {
    const patient = createChecker({ dnsServers: [dns.server], dnsTimeoutMs: 2_000 })
    const result = await patient({ url: `http://slow.dns.test:${sites.httpPort}/` })
    expect(result).toMatchObject({ ok: true, dns: { addresses: ['127.0.0.1'] } })
    expect(result.timings.dnsMs).toBeGreaterThanOrEqual(400)
    expect(await run({ url: `http://cname.dns.test:${sites.httpPort}/` })).toMatchObject({ ok: true })
  })

  it('reports an unreachable resolver as our own trouble (monitor_error), never as downtime', async () => {
    const noResolver = createChecker({ dnsServers: [`127.0.0.1:${sites.refusedPort}`], dnsTimeoutMs: 300 })
    const result = await noResolver({ url: 'http://anything.example/' })
    expect(result).toMatchObject({ ok: false, error: 'monitor_error', errorCode: 99 })
    expect(isDowntime(result)).toBe(false)
    expect(statusType(result)).toBeNull()
  })
})

describe('invalid input', () => {
  it('throws for programming errors only, with the field named', async () => {
    await expect(check({ url: 'not a url' })).rejects.toMatchObject({ code: 'INVALID_CHECK_REQUEST', message: /^url:/ })
    await expect(check({ url: 'ftp://example.com/' })).rejects.toThrow(/url: must be http or https/)
    await expect(check({ url: http('ok'), timeoutMs: 0 })).rejects.toThrow(/timeoutMs/)
    await expect(check({ url: http('ok'), headers: { 'X-A': 'a\r\nX-B: b' } })).rejects.toThrow(/headers\.X-A/)
    expect(() => createChecker({ dnsServers: ['not-an-ip'] })).toThrow(/dnsServers\[0\]/)
    expect(() => createChecker({ limits: { bodyMaxBytes: -1 } })).toThrow(/limits\.bodyMaxBytes/)
  })
})
