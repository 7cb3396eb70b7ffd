import { get as httpGet } from 'node:http'
import { connect as netConnect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  CMS_CRITICAL_ERROR,
  CMS_DATABASE_ERROR,
  FIXTURE_KEYWORD,
  type FixtureServer,
  LARGE_BODY_BYTES,
  STATUS_SITE_CODES,
  startFixtureServer,
} from '../src/fixtures/index.js'
import { decodeChunked, type RawRequestOptions, rawRequest } from './_clients.js'

let server: FixtureServer

beforeAll(async () => {
  server = await startFixtureServer({
    sites: { 'fast-events': { eventStream: { intervalMs: 20 } } },
  })
})

afterAll(async () => {
  expect(server.errors).toEqual([])
  await server.close()
})

/** A raw GET (or other method) of `site` on the HTTP port. */
function fetchSite(site: string, path = '/', options: Partial<RawRequestOptions> = {}) {
  return rawRequest({ port: server.httpPort, hostHeader: server.hostname(site), path, ...options })
}

/** Whether node's own HTTP client accepts the response as complete. */
function nodeClientOutcome(site: string): Promise<'complete' | string> {
  return new Promise((resolve) => {
    const req = httpGet(
      { host: '127.0.0.1', port: server.httpPort, headers: { host: server.hostname(site) }, agent: false },
      (res) => {
        res.on('data', () => {})
        res.once('end', () => resolve('complete'))
        res.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      },
    )
    req.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

describe('content', () => {
  it('serves the standard page with the keyword on ok', async () => {
    const response = await fetchSite('ok')
    expect(response.status).toBe(200)
    expect(response.ending).toBe('end')
    expect(response.headers['content-length']).toBe(String(response.body.length))
    expect(response.headers['x-fixture-site']).toBe('ok')
    expect(response.body.toString()).toContain(FIXTURE_KEYWORD)
  })

  it('routes by the first label of the host, with -- suffixes and any domain', async () => {
    const response = await rawRequest({ port: server.httpPort, hostHeader: 'nokeyword--4711.bench.test:8080' })
    expect(response.headers['x-fixture-site']).toBe('nokeyword')
    expect(response.body.toString()).not.toContain(FIXTURE_KEYWORD)
  })

  it('serves forbidden text, empty and blank pages, and CMS error pages', async () => {
    const forbidden = (await fetchSite('forbidden')).body.toString()
    expect(forbidden).toContain('casino')
    expect(forbidden).toContain('Hacked')

    const empty = await fetchSite('empty')
    expect([empty.status, empty.body.toString()]).toEqual([200, '<html></html>'])
    const blank = await fetchSite('blank')
    expect([blank.status, blank.headers['content-length'], blank.body.length]).toEqual([200, '0', 0])

    const dbError = await fetchSite('cms-db-error')
    expect(dbError.status).toBe(500)
    expect(dbError.body.toString()).toContain(CMS_DATABASE_ERROR)
    const dbError200 = await fetchSite('cms-db-error-200')
    expect(dbError200.status).toBe(200)
    expect(dbError200.body.toString()).toContain(CMS_DATABASE_ERROR)
    expect((await fetchSite('cms-critical')).body.toString()).toContain(CMS_CRITICAL_ERROR)
  })

  it('serves a 2 MiB body with the keyword only at its very end', async () => {
    const response = await fetchSite('large')
    expect(response.body.length).toBe(LARGE_BODY_BYTES)
    expect(response.body.indexOf(FIXTURE_KEYWORD)).toBeGreaterThan(LARGE_BODY_BYTES - 100)
  })

  it('splits the keyword across two chunks sent apart in time', async () => {
    const response = await fetchSite('straddle')
    expect(response.headers['transfer-encoding']).toBe('chunked')
    const decoded = decodeChunked(response.body)
    expect(decoded.complete).toBe(true)
    expect(decoded.chunks).toBe(2)
    expect(decoded.data.toString()).toContain(FIXTURE_KEYWORD)
    const firstChunk = response.body.subarray(0, response.body.indexOf('\r\n', response.body.indexOf('\r\n') + 2))
    expect(firstChunk.toString()).not.toContain(FIXTURE_KEYWORD)
    const last = response.pieces.at(-1)?.atMs ?? 0
    expect(last - (response.pieces[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(40)
  })

  it('sends the headers a site declares, replacing defaults', async () => {
    server.setSite('with-headers', {
      headers: { 'Content-Type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-powered-by': 'fixtures' },
      body: 'plain',
    })
    const response = await fetchSite('with-headers')
    const head = response.raw.subarray(0, response.raw.indexOf('\r\n\r\n')).toString()
    expect(head).toMatch(/\r\ncontent-type: text\/plain\r\n/i)
    expect(head.match(/\r\nset-cookie: [ab]=\d/gi)).toHaveLength(2)
    expect(response.headers['x-powered-by']).toBe('fixtures')
    expect(response.body.toString()).toBe('plain')
  })

  it('echoes the request it received', async () => {
    const response = await fetchSite('echo', '/some/path?q=1', { headers: { 'X-Custom': 'yes' } })
    const echoed = JSON.parse(response.body.toString())
    expect(echoed).toMatchObject({ method: 'GET', path: '/some/path', headers: { 'x-custom': 'yes' } })
  })
})

describe('status codes', () => {
  it.each(STATUS_SITE_CODES)('status-%i answers %i', async (code) => {
    const response = await fetchSite(`status-${code}`)
    expect(response.status).toBe(code)
    if (code === 204 || code === 304) expect(response.body.length).toBe(0)
  })

  it('answers any code on status/<code>', async () => {
    expect((await fetchSite('status', '/418')).status).toBe(418)
    expect((await fetchSite('status', '/999')).status).toBe(400)
  })

  it('answers 421 for hosts that select no site', async () => {
    const response = await rawRequest({ port: server.httpPort, hostHeader: 'no-such-site.fixture.test' })
    expect(response.status).toBe(421)
    expect(server.requests().some((entry) => entry.site === null && entry.host === 'no-such-site.fixture.test')).toBe(
      true,
    )
  })
})

describe('timing', () => {
  it('delays the first byte on slow-ttfb', async () => {
    const response = await fetchSite('slow-ttfb', '/?ms=300')
    expect(response.status).toBe(200)
    expect(response.pieces[0]?.atMs).toBeGreaterThanOrEqual(280)
  })

  it('never answers on hang', async () => {
    const response = await fetchSite('hang', '/', { timeoutMs: 300 })
    expect(response.ending).toBe('timeout')
    expect(response.raw.length).toBe(0)
  })

  it('stalls after a number of body bytes on stall-body', async () => {
    const response = await fetchSite('stall-body', '/?after=100', { timeoutMs: 400 })
    expect(response.ending).toBe('timeout')
    expect(response.status).toBe(200)
    expect(response.body.length).toBe(100)
    expect(Number(response.headers['content-length'])).toBeGreaterThan(100)
  })

  it('drips the body slowly on drip', async () => {
    const response = await fetchSite('drip', '/?bytes=200&interval=20')
    expect(response.ending).toBe('end')
    expect(response.body.length).toBe(Number(response.headers['content-length']))
    expect(response.pieces.length).toBeGreaterThanOrEqual(4)
    expect((response.pieces.at(-1)?.atMs ?? 0) - (response.pieces[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(60)
  })

  it('streams events without end on event-stream', async () => {
    const builtIn = await fetchSite('event-stream', '/', { timeoutMs: 300 })
    expect(builtIn.ending).toBe('timeout')
    expect(builtIn.headers['content-type']).toBe('text/event-stream')

    const fast = await fetchSite('fast-events', '/', { timeoutMs: 200 })
    expect(fast.ending).toBe('timeout')
    expect(
      decodeChunked(fast.body)
        .data.toString()
        .match(/data: tick \d+/g)?.length,
    ).toBeGreaterThanOrEqual(3)
  })
})

describe('broken responses and connections', () => {
  it('closes early after announcing a longer Content-Length', async () => {
    const response = await fetchSite('truncated-length')
    expect(response.ending).toBe('end')
    expect(response.status).toBe(200)
    expect(response.body.length).toBe(512)
    expect(Number(response.headers['content-length'])).toBeGreaterThan(512)
    expect(await nodeClientOutcome('truncated-length')).not.toBe('complete')
  })

  it('closes a chunked body without its terminating 0-chunk', async () => {
    const response = await fetchSite('truncated-chunked')
    expect(response.ending).toBe('end')
    expect(response.headers['transfer-encoding']).toBe('chunked')
    const decoded = decodeChunked(response.body)
    expect(decoded.complete).toBe(false)
    expect(decoded.data.length).toBe(512)
    expect(await nodeClientOutcome('truncated-chunked')).not.toBe('complete')
    // The same site is complete and well-formed when the body is not cut: a control for the above.
    expect(await nodeClientOutcome('ok')).toBe('complete')
  })

  it('hangs up without a response on hangup, resets on reset', async () => {
    const hangup = await fetchSite('hangup')
    expect(hangup.raw.length).toBe(0)
    expect(hangup.ending).toBe('end')
    const reset = await fetchSite('reset')
    expect(reset.raw.length).toBe(0)
    expect(reset.error?.code).toBe('ECONNRESET')
  })

  it('refuses, stalls and resets connections on the special ports', async () => {
    const refused = await rawRequest({ port: server.refusedPort, hostHeader: 'ok.fixture.test' })
    expect(refused.error?.code).toBe('ECONNREFUSED')

    const stalled = await rawRequest({ port: server.stalledPort, hostHeader: 'ok.fixture.test', timeoutMs: 300 })
    expect([stalled.ending, stalled.raw.length]).toEqual(['timeout', 0])
    const stalledTls = await rawRequest({
      port: server.stalledPort,
      hostHeader: 'ok.fixture.test',
      timeoutMs: 300,
      tls: { ca: [server.ca] },
    })
    expect([stalledTls.ending, stalledTls.raw.length]).toEqual(['timeout', 0])

    const reset = await rawRequest({ port: server.resetPort, hostHeader: 'ok.fixture.test' })
    expect(reset.error?.code).toBe('ECONNRESET')
  })
})

describe('redirects', () => {
  it('redirects across hosts with absolute Locations', async () => {
    const permanent = await fetchSite('redirect')
    expect(permanent.status).toBe(301)
    expect(permanent.headers.location).toBe(server.url('ok'))
    const temporary = await fetchSite('redirect-302')
    expect([temporary.status, temporary.headers.location]).toEqual([302, server.url('ok')])
  })

  it('keeps the domain of the request in Locations', async () => {
    const response = await rawRequest({ port: server.httpPort, hostHeader: 'redirect--9.bench.test' })
    expect(response.headers.location).toBe(`http://ok.bench.test:${server.httpPort}/`)
  })

  it('sends relative Locations on redirect-relative', async () => {
    const first = await fetchSite('redirect-relative')
    expect([first.status, first.headers.location]).toEqual([302, '/landed'])
    expect((await fetchSite('redirect-relative', '/landed')).status).toBe(200)
  })

  it('follows a same-host chain of n hops to a 200', async () => {
    const seen: string[] = []
    let path = '/5'
    for (;;) {
      const response = await fetchSite('chain', path)
      if (response.status !== 302) {
        expect(response.status).toBe(200)
        break
      }
      path = response.headers.location ?? ''
      seen.push(path)
    }
    expect(seen).toEqual(['/4', '/3', '/2', '/1', '/0'])
  })

  it('alternates hosts on chain-cross', async () => {
    const hops: string[] = []
    let url = new URL(server.url('chain-cross', '/3'))
    for (let i = 0; i < 10; i++) {
      const response = await rawRequest({ port: Number(url.port), hostHeader: url.host, path: url.pathname })
      if (response.status === 200) break
      url = new URL(response.headers.location ?? '')
      hops.push(`${url.hostname}${url.pathname}`)
    }
    expect(hops).toEqual(['chain-cross-b.fixture.test/2', 'chain-cross.fixture.test/1', 'chain-cross-b.fixture.test/0'])
  })

  it('loops on loop and between loop-a and loop-b', async () => {
    expect((await fetchSite('loop')).headers.location).toBe('/')
    expect((await fetchSite('loop-a')).headers.location).toBe(server.url('loop-b'))
    expect((await fetchSite('loop-b')).headers.location).toBe(server.url('loop-a'))
  })

  it('redirects HTTP to HTTPS on to-https', async () => {
    const response = await fetchSite('to-https')
    expect([response.status, response.headers.location]).toEqual([301, server.url('to-https', '/', { https: true })])
    const secure = await rawRequest({
      port: server.httpsPort,
      hostHeader: server.hostname('to-https'),
      tls: { ca: [server.ca] },
    })
    expect(secure.status).toBe(200)
  })
})

describe('HEAD and GET', () => {
  it('answers HEAD like GET, without a body, on ordinary sites', async () => {
    const get = await fetchSite('ok')
    const head = await fetchSite('ok', '/', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
    expect(head.body.length).toBe(0)
  })

  it('disagrees between HEAD and GET on the head-* sites', async () => {
    const head405 = await fetchSite('head-405', '/', { method: 'HEAD' })
    expect([head405.status, head405.headers.allow]).toEqual([405, 'GET'])
    expect((await fetchSite('head-405')).status).toBe(200)
    expect((await fetchSite('head-500', '/', { method: 'HEAD' })).status).toBe(500)
    expect((await fetchSite('head-500')).status).toBe(200)
    expect((await fetchSite('head-ok-get-500', '/', { method: 'HEAD' })).status).toBe(200)
    expect((await fetchSite('head-ok-get-500')).status).toBe(500)
  })
})

describe('request log and runtime changes', () => {
  it('logs method, path and headers per site', async () => {
    await fetchSite('status-404', '/probe?x=1', { headers: { 'X-Secret-Token': 'abc' }, method: 'GET' })
    const entry = server.requests('status-404').find((request) => request.path === '/probe?x=1')
    expect(entry).toMatchObject({
      site: 'status-404',
      method: 'GET',
      https: false,
      tlsProtocol: null,
      localPort: server.httpPort,
      headers: { 'x-secret-token': 'abc', host: server.hostname('status-404') },
    })
  })

  it('adds, changes and removes sites while running', async () => {
    server.setSite('flaky', { status: 503 })
    expect((await fetchSite('flaky')).status).toBe(503)
    server.setSite('flaky', {})
    expect((await fetchSite('flaky')).status).toBe(200)
    server.setSite('flaky', undefined)
    expect((await fetchSite('flaky')).status).toBe(421)
    expect(() => server.setSite('Bad--Name', {})).toThrow(/site name/)
  })

  it('sends unmatched hosts to the fallback site when one is set', async () => {
    const fallback = await startFixtureServer({ fallbackSite: 'ok', legacyTls: false })
    try {
      const response = await rawRequest({ port: fallback.httpPort, hostHeader: '127.0.0.1' })
      expect([response.status, response.headers['x-fixture-site']]).toEqual([200, 'ok'])
    } finally {
      await fallback.close()
    }
  })
})

describe('addresses', () => {
  it('serves the same ports on several loopback addresses', async () => {
    const spread = await startFixtureServer({ addresses: ['127.0.0.2', '127.0.0.3'], legacyTls: false })
    try {
      for (const host of spread.addresses) {
        const response = await rawRequest({ host, port: spread.httpPort, hostHeader: spread.hostname('ok') })
        expect(response.status).toBe(200)
        expect(spread.requests('ok').at(-1)?.localAddress).toBe(host)
      }
      expect(spread.zone()).toEqual({ '*.fixture.test': { A: ['127.0.0.2', '127.0.0.3'], pick: 'hash' } })
      // Not on 127.0.0.1: the listeners are bound to the given addresses only.
      const elsewhere = await rawRequest({ port: spread.httpPort, hostHeader: spread.hostname('ok') })
      expect(elsewhere.error?.code).toBe('ECONNREFUSED')
    } finally {
      await spread.close()
    }
  })

  it('ends open connections on close', async () => {
    const closing = await startFixtureServer({ legacyTls: false })
    const socket = netConnect({ host: '127.0.0.1', port: closing.stalledPort })
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    const hanging = rawRequest({ port: closing.httpPort, hostHeader: closing.hostname('hang'), timeoutMs: 5000 })
    await vi.waitFor(() => expect(closing.requests('hang')).toHaveLength(1))
    await closing.close()
    await ended
    expect((await hanging).ending).not.toBe('timeout')
  })
})
