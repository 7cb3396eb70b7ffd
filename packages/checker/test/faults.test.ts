import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type TlsOptions, type Server as TlsServer } from 'node:tls'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import {
  createTestPki,
  type DnsServer,
  FIXTURE_KEYWORD,
  type FixtureServer,
  fixturePage,
  startDnsServer,
  startFixtureServer,
  type TestPki,
} from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckRequest, type CheckResult, createChecker, isDowntime } from '../src/index.js'

// Faults around the edges of each phase, every one against a real peer on loopback: DNS answers
// that hold no address, TLS handshakes that fail (before and after the client thinks it is done),
// bodies compressed although nobody asked, and targets that a guarded check may not reach.

const page = fixturePage('encoded')
const gzipped = (body: string | Buffer) => ({ headers: { 'content-encoding': 'gzip' }, body: gzipSync(body) })
/** A page that inflates to 8 MiB of filler with the keyword at its very end. */
const bomb = gzipSync(Buffer.concat([Buffer.alloc(8 * 1024 * 1024, 'x'), Buffer.from(FIXTURE_KEYWORD)]))

let sites: FixtureServer
let dns: DnsServer
let pki: TestPki
let check: (request: CheckRequest) => Promise<CheckResult>
let hostsChecker: (request: CheckRequest) => Promise<CheckResult>
const tmp = mkdtempSync(join(tmpdir(), 'jetmon-checker-faults-'))
const tlsServers: TlsServer[] = []

beforeAll(async () => {
  sites = await startFixtureServer({
    fallbackSite: 'ok',
    addresses: ['127.0.0.1', '::1'],
    sites: {
      gzip: gzipped(page),
      'gzip-upper': { headers: { 'content-encoding': ' GZIP ' }, body: gzipSync(page) },
      'x-gzip': { headers: { 'content-encoding': 'x-gzip' }, body: gzipSync(page) },
      deflate: { headers: { 'content-encoding': 'deflate' }, body: deflateSync(page) },
      'deflate-raw': { headers: { 'content-encoding': 'deflate' }, body: deflateRawSync(page) },
      br: { headers: { 'content-encoding': 'br' }, body: brotliCompressSync(page) },
      'gzip-chunked': {
        ...gzipped(page),
        framing: 'chunked',
        pacing: { kind: 'split', at: [10, 200, 201], pauseMs: 20 },
      },
      'gzip-forbidden': gzipped(fixturePage('forbidden', { extra: '<p>Hacked by nobody</p>\n' })),
      'gzip-empty': gzipped('<html>\n</html>\n'),
      'gzip-bomb': { headers: { 'content-encoding': 'gzip' }, body: bomb },
      'gzip-corrupt': { headers: { 'content-encoding': 'gzip' }, body: page },
      'gzip-truncated': { ...gzipped(page), truncateAfterBytes: 100 },
      // 'Prix: 5 € - Café crème' in windows-1252 (what browsers read for an iso-8859-1 label): € is 0x80.
      latin1: {
        headers: { 'content-type': 'text/html; charset=ISO-8859-1' },
        body: Buffer.concat([
          Buffer.from('<html><body><p>Prix: 5 '),
          Buffer.from([0x80]),
          Buffer.from(' - Caf\u00e9 cr\u00e8me</p></body></html>', 'latin1'),
        ]),
      },
      utf16: {
        headers: { 'content-type': 'text/html; charset="utf-16le"' },
        body: Buffer.from('<html><body><p>Caf\u00e9 cr\u00e8me</p></body></html>', 'utf16le'),
      },
      'gzip-latin1': {
        headers: { 'content-type': 'text/html;charset=windows-1252', 'content-encoding': 'gzip' },
        body: gzipSync(Buffer.from('<html><body><p>Caf\u00e9 cr\u00e8me</p></body></html>', 'latin1')),
      },
      'unknown-charset': {
        headers: { 'content-type': 'text/html; charset=x-no-such-charset' },
        body: Buffer.from('<html><body><p>Caf\u00e9</p></body></html>', 'utf8'),
      },
      // A redirect whose own body is larger than the byte budget.
      'redirect-large': {
        redirect: { status: 301, location: '/landed' },
        body: Buffer.alloc(300 * 1024, 'x'),
        paths: { '/landed': {} },
      },
    },
  })
  dns = await startDnsServer({
    zone: {
      ...sites.zone(),
      // A CNAME whose target exists but has no address record at all.
      'alias-empty.dns.test': { CNAME: 'empty.dns.test' },
      // A CNAME to an IPv6-only name: the A query answers the alias and nothing else.
      'alias-v6.dns.test': { CNAME: 'v6only.dns.test' },
      'private.dns.test': { A: ['10.20.30.40'] },
      'metadata.dns.test': { A: ['169.254.169.254'] },
      'mixed.dns.test': { A: ['93.184.215.14', '192.168.1.1'] },
      // Parked or blocked names answer the unspecified address.
      'zero.dns.test': { A: ['0.0.0.0'] },
      'zero6.dns.test': { AAAA: ['::'] },
      'zero-and-v6.dns.test': { A: ['0.0.0.0'], AAAA: ['::1'] },
    },
  })
  pki = await createTestPki()
  check = createChecker({ dnsServers: [dns.server], ca: pki.rootCert, dnsTimeoutMs: 300 })
  writeFileSync(join(tmp, 'hosts'), '0.0.0.0 blocked.example\n')
  hostsChecker = createChecker({ dnsServers: [dns.server], hostsFile: join(tmp, 'hosts'), dnsTimeoutMs: 300 })
})

afterAll(async () => {
  for (const server of tlsServers) server.close()
  await Promise.all([sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

async function run(request: CheckRequest): Promise<CheckResult> {
  const result = await check({ timeoutMs: 5_000, ...request })
  for (const [phase, value] of Object.entries(result.timings)) {
    if (value !== null) expect(value, phase).toBeGreaterThanOrEqual(0)
  }
  return result
}

const http = (site: string, path = '/') => sites.url(site, path)

/** A bare TLS server on loopback that answers one HTTP response once the handshake is done. */
async function tlsServer(options: TlsOptions): Promise<number> {
  const leaf = await pki.issueLeaf({ hosts: ['localhost', '127.0.0.1'] })
  const server = createTlsServer({ key: leaf.key, cert: leaf.chain, ...options }, (socket) => {
    socket.on('error', () => {})
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  tlsServers.push(server)
  return (server.address() as AddressInfo).port
}

describe('DNS answers without a usable address', () => {
  it('calls a CNAME to a name without addresses a dns failure of class no_address, and connects nowhere', async () => {
    const result = await run({ url: 'http://alias-empty.dns.test/' })
    expect(result).toMatchObject({
      ok: false,
      error: 'dns',
      errorCode: 9,
      dns: { failureClass: 'no_address', addresses: [] },
      timings: { dnsMs: null, connectMs: null },
    })
    expect(result.remoteAddress).toBeUndefined()
    expect(result.detail).toMatch(/alias-empty\.dns\.test/)
    expect(result.detail).not.toMatch(/undefined/)
  })

  it.each(['zero.dns.test', 'zero6.dns.test'])(
    'calls a name whose only address is the unspecified one (%s) no_address, instead of checking this host',
    async (name) => {
      const result = await run({ url: `http://${name}:${sites.httpPort}/` })
      expect(result).toMatchObject({ ok: false, error: 'dns', dns: { failureClass: 'no_address' }, httpStatus: null })
      expect(result.remoteAddress).toBeUndefined()
    },
  )

  it('skips an unspecified A record for the AAAA address of the same name', async () => {
    const result = await run({ url: `http://zero-and-v6.dns.test:${sites.httpPort}/` })
    expect(result).toMatchObject({ ok: true, dns: { addresses: ['::1'] }, remoteAddress: '::1' })
  })

  it('calls a hosts-file block (0.0.0.0) no_address and the literal 0.0.0.0 a connect failure', async () => {
    const blocked = await hostsChecker({ url: `http://blocked.example:${sites.httpPort}/` })
    expect(blocked).toMatchObject({ ok: false, error: 'dns', dns: { failureClass: 'no_address' } })
    const literal = await run({ url: `http://0.0.0.0:${sites.httpPort}/` })
    expect(literal).toMatchObject({ ok: false, error: 'connect', httpStatus: null, timings: { connectMs: null } })
    expect(literal.detail).toMatch(/unspecified address/)
  })

  it('follows a CNAME to an IPv6-only name to its AAAA address', async () => {
    const result = await run({ url: `http://alias-v6.dns.test:${sites.httpPort}/`, keyword: FIXTURE_KEYWORD })
    expect(result).toMatchObject({ ok: true, dns: { addresses: ['::1'] }, remoteAddress: '::1' })
  })
})

describe('TLS handshakes that fail', () => {
  it('records tls.failure = handshake when the server answers in plain HTTP', async () => {
    const result = await run({ url: `https://127.0.0.1:${sites.httpPort}/` })
    expect(result).toMatchObject({ ok: false, error: 'tls', errorCode: 3, tls: { failure: 'handshake' } })
    expect(result.tls).toMatchObject({ protocol: null, cipher: null, subject: null })
    expect(result.detail).toMatch(/wrong version number/)
  })

  it('records tls.failure = handshake for an alert (no cipher in common)', async () => {
    const port = await tlsServer({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-NULL-SHA:@SECLEVEL=0' })
    const result = await run({ url: `https://localhost:${port}/` })
    expect(result).toMatchObject({ ok: false, error: 'tls', tls: { failure: 'handshake' } })
    expect(result.detail).toMatch(/handshake failure/)
  })

  it('records tls.failure = handshake when the server drops the handshake (an SNI it will not serve)', async () => {
    const port = await tlsServer({ SNICallback: (_name, callback) => callback(new Error('unknown name')) })
    const result = await run({ url: `https://localhost:${port}/` })
    expect(result).toMatchObject({ ok: false, error: 'tls', tls: { failure: 'handshake' } })
  })

  it('calls a TLS 1.3 alert that arrives after the client finished (certificate required) a handshake failure, not connect', async () => {
    const port = await tlsServer({ requestCert: true, rejectUnauthorized: true })
    const result = await run({ url: `https://localhost:${port}/` })
    expect(result).toMatchObject({
      ok: false,
      error: 'tls',
      errorCode: 3,
      httpStatus: null,
      tls: { protocol: 'TLSv1.3', failure: 'handshake' },
    })
    expect(result.detail).toMatch(/certificate required/)
    expect(isDowntime(result)).toBe(true)
  })
})

describe('bodies compressed although the request did not ask for it', () => {
  it.each(['gzip', 'gzip-upper', 'x-gzip', 'deflate', 'deflate-raw', 'br', 'gzip-chunked'])(
    '%s: the keyword is found in the decoded page',
    async (site) => {
      const result = await run({ url: http(site), keyword: FIXTURE_KEYWORD })
      expect(result).toMatchObject({ ok: true, error: null, httpStatus: 200 })
      // Byte counts stay those of the wire; the decoded size is reported beside them.
      expect(result.body?.bytesRead).toBeLessThan(page.length)
      expect(result.body?.decodedBytes).toBe(Buffer.byteLength(page))
    },
  )

  it('finds forbidden text inside a gzipped page', async () => {
    const result = await run({
      url: http('gzip-forbidden'),
      forbiddenKeywords: ['hacked'],
      keywordCaseSensitive: false,
    })
    expect(result).toMatchObject({ ok: false, error: 'keyword', keyword: { rule: 'forbidden', match: 'hacked' } })
  })

  it('judges emptiness on the decoded page', async () => {
    expect(await run({ url: http('gzip-empty') })).toMatchObject({ ok: false, error: 'empty_body' })
    expect(await run({ url: http('gzip') })).toMatchObject({ ok: true })
  })

  it('bounds the decoded bytes by the same budget (a small download that inflates to megabytes)', async () => {
    const result = await run({ url: http('gzip-bomb'), keyword: FIXTURE_KEYWORD })
    expect(result).toMatchObject({ ok: false, error: 'keyword', body: { readLimitHit: true } })
    expect(result.body?.decodedBytes).toBe(1024 * 1024)
    expect(result.body?.bytesRead).toBeLessThanOrEqual(bomb.length)
    expect(result.detail).toMatch(/first 1048576 bytes/)
  })

  it('says so when a body announced as gzip does not decode, and does not call it empty', async () => {
    const keyword = await run({ url: http('gzip-corrupt'), keyword: FIXTURE_KEYWORD })
    expect(keyword).toMatchObject({ ok: false, error: 'keyword' })
    expect(keyword.detail).toMatch(/could not be decoded \(gzip/)
    expect(await run({ url: http('gzip-corrupt') })).toMatchObject({ ok: true })
  })

  it('still reports a compressed body cut short as partial_response', async () => {
    const result = await run({ url: http('gzip-truncated'), keyword: FIXTURE_KEYWORD })
    expect(result).toMatchObject({ ok: false, error: 'partial_response', body: { truncated: true, bytesRead: 100 } })
  })
})

describe('bodies in the charset their Content-Type declares', () => {
  it.each(['latin1', 'utf16', 'gzip-latin1'])('%s: a keyword with accents is found', async (site) => {
    expect(await run({ url: http(site), keyword: 'Café crème' })).toMatchObject({ ok: true, error: null })
  })

  it('finds forbidden text that only the declared charset spells (€ is one byte in windows-1252)', async () => {
    const result = await run({ url: http('latin1'), forbiddenKeywords: ['5 €'] })
    expect(result).toMatchObject({ ok: false, error: 'keyword', keyword: { rule: 'forbidden', match: '5 €' } })
  })

  it('reads an unknown charset as UTF-8', async () => {
    expect(await run({ url: http('unknown-charset'), keyword: 'Café' })).toMatchObject({ ok: true })
  })
})

describe('budgets', () => {
  it('follows a redirect whose body runs past the byte budget', async () => {
    const result = await run({ url: http('redirect-large') })
    expect(result).toMatchObject({ ok: true, httpStatus: 200, redirects: [{ status: 301 }] })
    expect(result.finalUrl).toMatch(/\/landed$/)
  })
})

describe('targets a guarded check may not reach', () => {
  it.each([
    ['an IP literal on loopback', () => `http://127.0.0.1:${sites.httpPort}/`, '127.0.0.1', 'loopback'],
    ['a name that resolves to loopback', () => http('ok'), '127.0.0.1', 'loopback'],
    ['a name that resolves to a private address', () => 'http://private.dns.test/', '10.20.30.40', 'private'],
    ['a metadata address', () => 'http://metadata.dns.test/', '169.254.169.254', 'metadata'],
    ['one private address among public ones', () => 'http://mixed.dns.test/', '192.168.1.1', 'private'],
    ['an IPv4-mapped IPv6 literal', () => `http://[::ffff:127.0.0.1]:${sites.httpPort}/`, '::ffff:7f00:1', 'loopback'],
  ])('refuses %s as monitor_error (target not allowed) without connecting', async (_what, url, address, kind) => {
    sites.clearRequests()
    const result = await run({ url: url(), refusePrivateTargets: true, headers: { Authorization: 'Bearer x' } })
    expect(result).toMatchObject({
      ok: false,
      error: 'monitor_error',
      errorCode: 99,
      targetNotAllowed: { address, kind },
      timings: { connectMs: null },
    })
    expect(result.detail).toMatch(/^target not allowed: /)
    expect(result.remoteAddress).toBeUndefined()
    expect(isDowntime(result)).toBe(false)
    expect(sites.requests('ok')).toEqual([])
  })

  it('says what was refused, in words', async () => {
    const literal = await run({ url: `http://127.0.0.1:${sites.httpPort}/`, refusePrivateTargets: true })
    expect(literal.detail).toBe(
      'target not allowed: 127.0.0.1 is a loopback address; this check may only reach public addresses',
    )
    const named = await run({ url: 'http://private.dns.test/', refusePrivateTargets: true })
    expect(named.detail).toBe(
      'target not allowed: private.dns.test resolves to 10.20.30.40, which is a private-network address; this check may only reach public addresses',
    )
    expect(named.dns).toMatchObject({ addresses: ['10.20.30.40'] })
  })

  it('refuses a guard flag that is not a boolean, rather than failing open', async () => {
    await expect(check({ url: http('ok'), refusePrivateTargets: 'true' as unknown as boolean })).rejects.toMatchObject({
      code: 'INVALID_CHECK_REQUEST',
      message: /^refusePrivateTargets:/,
    })
  })

  it('checks the same targets normally when the guard is off (the default)', async () => {
    expect(await run({ url: http('ok') })).toMatchObject({ ok: true })
    expect(await run({ url: http('ok'), refusePrivateTargets: false })).toMatchObject({ ok: true })
  })
})
