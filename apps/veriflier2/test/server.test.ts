import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CheckRequest, CheckResult } from '@jetmon/checker'
import { type RecordingLogger, recordingLogger, waitFor } from '@jetmon/testkit'
import {
  type DnsServer,
  FIXTURE_KEYWORD,
  type FixtureServer,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkerFromConfig } from '../src/checker.js'
import { createVeriflierServer, type VeriflierServer } from '../src/index.js'
import { VERSION } from '../src/version.js'
import { NEXT_TOKEN, postChecks, TOKEN, testConfig } from './helpers.js'

let sites: FixtureServer
let dns: DnsServer
let dir: string
let caFile: string
const servers: VeriflierServer[] = []

beforeAll(async () => {
  sites = await startFixtureServer({ requestLogLimit: 1000 })
  dns = await startDnsServer({ zone: sites.zone() })
  dir = mkdtempSync(join(tmpdir(), 'veriflier2-server-'))
  caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, sites.ca)
})

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close({ timeoutMs: 0 })))
  await Promise.all([sites?.close(), dns?.close()])
  rmSync(dir, { recursive: true, force: true })
})

/** An in-process veriflier resolving through the fixture DNS and trusting the fixture CA. */
async function start(
  overrides: Parameters<typeof testConfig>[0] = {},
  options: { checker?: (request: CheckRequest) => Promise<CheckResult>; logger?: RecordingLogger } = {},
): Promise<{ server: VeriflierServer; url: string }> {
  const config = testConfig({ DNS_SERVERS: [dns.server], CA_FILE: caFile, ...overrides })
  const server = createVeriflierServer({ config, checker: options.checker, logger: options.logger })
  servers.push(server)
  const { url } = await server.listen()
  return { server, url }
}

interface Answer {
  veriflier: { id: string; region: string; version: string }
  results: {
    endpoint_id: number | string
    ok: boolean
    error: string | null
    error_code: number
    http_status: number | null
    timings: Record<string, number | null>
    tls: Record<string, unknown> | null
    dns: Record<string, unknown> | null
    detail: string | null
  }[]
}
interface ErrorEnvelope {
  error: { code: string; message: string; details?: { path: string; message: string }[] }
}

const check = (endpointId: number | string, url: string, extra: Record<string, unknown> = {}) => ({
  endpoint_id: endpointId,
  blog_id: 7,
  url,
  ...extra,
})

describe('GET /v1/health', () => {
  it('answers without a token', async () => {
    const { url } = await start()
    const response = await fetch(`${url}/v1/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      status: 'ok',
      id: 'test-1',
      region: 'test-region',
      version: VERSION,
      in_flight: 0,
    })
  })
})

describe('POST /v1/check authorization', () => {
  let url: string
  beforeAll(async () => {
    ;({ url } = await start())
  })
  const body = { request_id: 'auth', checks: [check(1, 'http://127.0.0.1:9/')] }

  it('refuses a request without a token (401, no check run)', async () => {
    const answer = await postChecks(url, body, { token: null })
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe('Bearer')
    expect((answer.json as ErrorEnvelope).error.code).toBe('unauthorized')
  })

  it('refuses a wrong token, a token prefix and another scheme', async () => {
    for (const token of ['wrong-token-0123456789abcdef', TOKEN.slice(0, -1), `${TOKEN}x`]) {
      const answer = await postChecks(url, body, { token })
      expect(answer.status, token).toBe(401)
      expect(answer.json).toMatchObject({ error: { code: 'unauthorized' } })
    }
    const basic = await fetch(`${url}/v1/check`, {
      method: 'POST',
      headers: { authorization: `Basic ${TOKEN}` },
      body: JSON.stringify(body),
    })
    expect(basic.status).toBe(401)
  })

  it('accepts every configured token (old and new during a rotation)', async () => {
    for (const token of [TOKEN, NEXT_TOKEN]) {
      const answer = await postChecks(url, body, { token })
      expect(answer.status, token).toBe(200)
      expect((answer.json as Answer).results).toHaveLength(1)
    }
  })
})

describe('POST /v1/check validation', () => {
  let url: string
  beforeAll(async () => {
    ;({ url } = await start())
  })

  it('answers 400 with the path of every bad field', async () => {
    const answer = await postChecks(url, {
      request_id: 'bad',
      checks: [
        check(1, 'http://ok.fixture.test/'),
        check(2, 'http://ok.fixture.test/', { method: 'POST' }),
        check(-3, 'http://ok.fixture.test/', { timeout_ms: 0 }),
        check(4, 'ftp://ok.fixture.test/'),
        { url: 'http://ok.fixture.test/', headers: { 'bad name': 'x', Good: 'a\r\nb' } },
        check(6, 'http://ok.fixture.test/', { redirect_policy: 'maybe', max_redirects: 51, forbidden_keywords: 'x' }),
      ],
    })
    expect(answer.status).toBe(400)
    const { error } = answer.json as ErrorEnvelope
    expect(error.code).toBe('invalid_request')
    expect(error.message).toMatch(/^invalid request: checks\[1\]\.method: /)
    const byPath = Object.fromEntries((error.details ?? []).map((d) => [d.path, d.message]))
    expect(byPath).toMatchObject({
      'checks[1].method': 'must be "GET" or "HEAD"',
      'checks[2].endpoint_id': expect.stringMatching(/at least 0/),
      'checks[2].timeout_ms': 'must be at least 1',
      'checks[3].url': 'must be an http:// or https:// URL',
      'checks[4].endpoint_id': 'is required',
      'checks[4].headers.bad name': 'is not a valid HTTP header name',
      'checks[4].headers.Good': 'must not contain line breaks',
      'checks[5].redirect_policy': 'must be "follow", "alert" or "fail"',
      'checks[5].max_redirects': 'must be at most 50',
      'checks[5].forbidden_keywords': 'must be a list of strings',
    })
    expect(byPath['checks[0].url']).toBeUndefined()
  })

  it('answers 400 for a body that is not JSON, empty, or of the wrong shape', async () => {
    const notJson = await postChecks(url, '{"request_id": ', { raw: true })
    expect(notJson.status).toBe(400)
    expect((notJson.json as ErrorEnvelope).error).toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/not valid JSON/),
    })
    const empty = await postChecks(url, '', { raw: true })
    expect((empty.json as ErrorEnvelope).error.message).toBe('request body is empty')
    const list = await postChecks(url, [1, 2])
    expect((list.json as ErrorEnvelope).error.details).toEqual([
      { path: '', message: expect.stringMatching(/JSON object/) },
    ])
    const missing = await postChecks(url, { checks: [] })
    expect((missing.json as ErrorEnvelope).error.details).toEqual([
      { path: 'request_id', message: 'is required' },
      { path: 'checks', message: 'must hold at least one check' },
    ])
  })

  it('refuses more than 100 checks in one request', async () => {
    const checks = Array.from({ length: 101 }, (_, i) => check(i + 1, 'http://ok.fixture.test/'))
    const answer = await postChecks(url, { request_id: 'big', checks })
    expect(answer.status).toBe(400)
    expect((answer.json as ErrorEnvelope).error.details).toEqual([
      { path: 'checks', message: 'must hold at most 100 checks; split larger batches' },
    ])
  })

  it('keeps ids exact and echoes the form they came in', async () => {
    const answer = await postChecks(url, {
      request_id: 'ids',
      checks: [
        check('18446744073709551615', 'http://127.0.0.1:9/'),
        check(9007199254740991, 'http://127.0.0.1:9/'),
        check('42', 'http://127.0.0.1:9/'),
      ],
    })
    expect(answer.status).toBe(200)
    expect((answer.json as Answer).results.map((r) => r.endpoint_id)).toEqual([
      '18446744073709551615',
      9007199254740991,
      '42',
    ])
    // A number JSON cannot hold exactly has already lost digits: refuse it rather than check the wrong endpoint.
    const unsafe = await postChecks(
      url,
      '{"request_id":"x","checks":[{"endpoint_id":9007199254740993,"url":"http://a/"}]}',
      {
        raw: true,
      },
    )
    expect(unsafe.status).toBe(400)
    expect((unsafe.json as ErrorEnvelope).error.details?.[0]).toEqual({
      path: 'checks[0].endpoint_id',
      message: expect.stringMatching(/decimal string/),
    })
    const tooBig = await postChecks(url, { request_id: 'x', checks: [check('18446744073709551616', 'http://a/')] })
    expect((tooBig.json as ErrorEnvelope).error.details?.[0]?.path).toBe('checks[0].endpoint_id')
  })
})

describe('request limits and routing', () => {
  let url: string
  beforeAll(async () => {
    ;({ url } = await start())
  })

  it('answers 413 for a body over 1 MiB announced by Content-Length', async () => {
    const huge = JSON.stringify({ request_id: 'x', checks: [], pad: 'x'.repeat(1024 * 1024) })
    const answer = await postChecks(url, huge, { raw: true })
    expect(answer.status).toBe(413)
    expect((answer.json as ErrorEnvelope).error.code).toBe('payload_too_large')
  })

  it('stops reading a chunked body as soon as it passes 1 MiB', async () => {
    const { status, body, sent } = await new Promise<{ status: number; body: string; sent: number }>(
      (resolve, reject) => {
        let sent = 0
        const req = httpRequest(`${url}/v1/check`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'transfer-encoding': 'chunked' },
        })
        const chunk = Buffer.alloc(64 * 1024, 'x')
        let stop = false
        const pump = () => {
          // An endless body: only the veriflier refusing it ends this request.
          while (!stop && sent < 64 * 1024 * 1024) {
            sent += chunk.length
            if (!req.write(chunk)) {
              req.once('drain', pump)
              return
            }
          }
        }
        req.on('response', (response) => {
          stop = true
          let text = ''
          response.on('data', (data) => {
            text += data
          })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, sent }))
          response.on('error', reject)
        })
        req.on('error', (error) => (stop ? undefined : reject(error)))
        pump()
      },
    )
    expect(status).toBe(413)
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'payload_too_large' } })
    expect(sent).toBeLessThan(16 * 1024 * 1024)
  })

  it('answers 405 with Allow, and 404 for unknown paths, in the error envelope', async () => {
    const get = await fetch(`${url}/v1/check`)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect(await get.json()).toMatchObject({ error: { code: 'method_not_allowed' } })
    const post = await fetch(`${url}/v1/health`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    for (const path of ['/', '/v1', '/v1/check/', '/v2/check', '/../etc/passwd']) {
      const response = await fetch(`${url}${path}`)
      expect(response.status, path).toBe(404)
      const text = await response.text()
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'not_found' } })
      expect(text).not.toMatch(/\n\s+at /)
    }
  })

  it('answers a request the HTTP parser refuses in the error envelope, then closes the connection', async () => {
    const { port } = new URL(url)
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(request))
        let text = ''
        socket.setEncoding('utf8')
        socket.on('data', (chunk: string) => {
          text += chunk
        })
        socket.on('close', () => resolve(text))
        socket.on('error', reject)
      })
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n')
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(garbage).toMatch(/\r\nConnection: close\r\n/i)
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'invalid_request', message: 'malformed HTTP request (Bad Request)' },
    })
    const oversized = await raw(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`)
    expect(oversized).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
    expect(oversized).toContain('malformed HTTP request (Request Header Fields Too Large)')
  })

  it('answers a check the checker could not run as monitor_error, never a 500 with a stack trace', async () => {
    const { url: broken } = await start(
      {},
      {
        checker: () => {
          throw new Error('boom')
        },
      },
    )
    const answer = await postChecks(broken, { request_id: 'bug', checks: [check(1, 'http://ok.fixture.test/')] })
    expect(answer.status).toBe(200)
    expect((answer.json as Answer).results[0]).toMatchObject({
      endpoint_id: 1,
      ok: false,
      error: 'monitor_error',
      error_code: 99,
      detail: 'the veriflier could not run this check: boom',
    })
    expect(answer.text).not.toMatch(/\n\s+at /)
  })
})

describe('checks', () => {
  it('runs a batch of 100 over the fixture sites with the right verdicts', async () => {
    const { url } = await start({ MAX_CONCURRENCY: 100 })
    const kinds = [
      { url: sites.url('ok'), keyword: FIXTURE_KEYWORD, expect: { ok: true, error: null, http_status: 200 } },
      { url: sites.url('status-500'), expect: { ok: false, error: 'http_status', error_code: 10, http_status: 500 } },
      { url: sites.url('hang'), timeout_ms: 400, expect: { ok: false, error: 'timeout', error_code: 1 } },
      { url: sites.url('ok', '/', { https: true }), expect: { ok: true, error: null, http_status: 200 } },
      { url: sites.url('expired', '/', { https: true }), expect: { ok: false, error: 'tls_expired' } },
      { url: sites.url('nokeyword'), keyword: FIXTURE_KEYWORD, expect: { ok: false, error: 'keyword' } },
      { url: 'http://nxdomain.dns.test/', expect: { ok: false, error: 'dns' } },
      { url: `http://127.0.0.1:${sites.refusedPort}/`, expect: { ok: false, error: 'connect' } },
    ]
    const checks = Array.from({ length: 100 }, (_, i) => {
      const { expect: _expected, ...fields } = kinds[i % kinds.length]!
      return { endpoint_id: 1000 + i, ...fields }
    })
    const started = Date.now()
    const answer = await postChecks(url, { request_id: 'batch-100', checks })
    expect(answer.status).toBe(200)
    const { veriflier, results } = answer.json as Answer
    expect(veriflier).toEqual({ id: 'test-1', region: 'test-region', version: VERSION })
    expect(results).toHaveLength(100)
    for (const [i, result] of results.entries()) {
      expect(result.endpoint_id).toBe(1000 + i)
      expect(result, `check ${i} (${checks[i]!.url})`).toMatchObject(kinds[i % kinds.length]!.expect)
      expect(Object.keys(result.timings).sort()).toEqual(
        ['connect_ms', 'dns_ms', 'tls_ms', 'total_ms', 'transfer_ms', 'ttfb_ms'].sort(),
      )
    }
    // Concurrent, not one after the other: 12 hanging checks of 400 ms alone would take ~5 s in series.
    expect(Date.now() - started).toBeLessThan(4_000)
    const https = results[3]!
    expect(https.tls).toMatchObject({ protocol: 'TLSv1.3', days_until_expiry: expect.any(Number) })
    expect(https.dns).toMatchObject({ addresses: ['127.0.0.1'] })
    expect(results[4]!.tls).toMatchObject({ failure: 'expired' })
  })

  it('judges each check with the detection profile it came with; none (an older monitor) is full', async () => {
    const { url } = await start()
    const truncated = sites.url('truncated-length')
    const missing = sites.url('nokeyword')
    const answer = await postChecks(url, {
      request_id: 'profiles',
      checks: [
        check(1, truncated, { profile: 'legacy' }),
        check(2, truncated, { profile: 'simple_http' }),
        check(3, truncated, { profile: 'full' }),
        check(4, truncated),
        check(5, missing, { keyword: FIXTURE_KEYWORD, profile: 'legacy' }),
        check(6, missing, { keyword: FIXTURE_KEYWORD, profile: 'simple_http' }),
      ],
    })
    expect(answer.status).toBe(200)
    expect((answer.json as Answer).results.map((r) => [r.endpoint_id, r.ok, r.error])).toEqual([
      [1, true, null],
      [2, true, null],
      [3, false, 'partial_response'],
      [4, false, 'partial_response'],
      [5, true, null],
      [6, false, 'keyword'],
    ])
  })

  it('runs a check marked refuse_private_targets through the guard: monitor_error, target not allowed, no request', async () => {
    const { url } = await start()
    sites.clearRequests()
    const answer = await postChecks(url, {
      request_id: 'guarded',
      checks: [
        check(1, sites.url('echo'), { refuse_private_targets: true }),
        check(2, `http://127.0.0.1:${sites.httpPort}/`, { refuse_private_targets: true }),
        check(3, sites.url('ok'), { refuse_private_targets: false }),
      ],
    })
    expect(answer.status).toBe(200)
    const { results } = answer.json as Answer
    for (const refused of results.slice(0, 2)) {
      expect(refused).toMatchObject({ ok: false, error: 'monitor_error', error_code: 99, http_status: null })
      expect(refused.detail).toMatch(/^target not allowed: .*127\.0\.0\.1.* loopback/)
    }
    expect(results[2]).toMatchObject({ ok: true, error: null, http_status: 200 })
    expect(sites.requests('echo')).toEqual([])
    const invalid = await postChecks(url, {
      request_id: 'bad-flag',
      checks: [check(4, sites.url('ok'), { refuse_private_targets: 'yes' })],
    })
    expect(invalid.status).toBe(400)
    expect((invalid.json as ErrorEnvelope).error.details).toEqual([
      { path: 'checks[0].refuse_private_targets', message: 'must be true or false' },
    ])
  })

  it('never runs more than MAX_CONCURRENCY checks at once, across requests', async () => {
    let running = 0
    let most = 0
    const real = checkerFromConfig(testConfig({ DNS_SERVERS: [dns.server] }))
    const counting = async (request: CheckRequest) => {
      running++
      most = Math.max(most, running)
      try {
        return await real(request)
      } finally {
        running--
      }
    }
    const { server, url } = await start({ MAX_CONCURRENCY: 2 }, { checker: counting })
    const host = 'slow-ttfb--concurrency'
    const batch = (id: string) => ({
      request_id: id,
      checks: [1, 2, 3].map((n) => check(n, sites.url(host, '/?ms=300'))),
    })
    let health = 0
    const polling = (async () => {
      while (server.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      for (;;) {
        const body = (await (await fetch(`${url}/v1/health`)).json()) as { in_flight: number }
        health = Math.max(health, body.in_flight)
        if (body.in_flight === 0) return
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const answers = await Promise.all([postChecks(url, batch('a')), postChecks(url, batch('b'))])
    await polling
    for (const answer of answers) {
      expect((answer.json as Answer).results.map((r) => r.ok)).toEqual([true, true, true])
    }
    expect(most).toBe(2)
    expect(health).toBeGreaterThan(0)
    expect(health).toBeLessThanOrEqual(2)
    // The sites saw it too: each check holds its slot ≥ 300 ms, so no 250 ms window has three arrivals.
    const arrivals = sites
      .requests('slow-ttfb')
      .filter((r) => r.host.startsWith(host))
      .map((r) => r.at.getTime())
      .sort((a, b) => a - b)
    expect(arrivals).toHaveLength(6)
    for (let i = 2; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 2]!).toBeGreaterThanOrEqual(250)
  })

  it('does not run the queued checks of a monitor that hung up', async () => {
    const logger = recordingLogger()
    const { server, url } = await start({ MAX_CONCURRENCY: 1 }, { logger })
    const host = 'slow-ttfb--hangup'
    const controller = new AbortController()
    const posted = postChecks(
      url,
      { request_id: 'gone', checks: [1, 2, 3, 4, 5].map((n) => check(n, sites.url(host, '/?ms=300'))) },
      { signal: controller.signal },
    ).catch((error: Error) => error)
    await waitFor('one check in flight', () => server.inFlight === 1)
    controller.abort()
    expect(await posted).toBeInstanceOf(Error)
    // The batch is over (its answer dropped) once every check ran or was let go: none can start later.
    await waitFor('the batch dropped', () =>
      logger.entries.some((entry) => entry.obj.request_id === 'gone' && entry.msg.includes('answer was dropped')),
    )
    expect(sites.requests('slow-ttfb').filter((r) => r.host.startsWith(host)).length).toBeLessThanOrEqual(2)
    expect(server.inFlight).toBe(0)
  })
})

describe('close()', () => {
  it('answers the checks in flight, then stops', async () => {
    const { server, url } = await start()
    const posted = postChecks(url, {
      request_id: 'drain',
      checks: [check(1, sites.url('slow-ttfb--drain', '/?ms=500')), check(2, sites.url('status-500'))],
    })
    await waitFor('a check in flight', () => server.inFlight > 0)
    const closing = server.close()
    const answer = await posted
    expect(answer.status).toBe(200)
    expect(answer.headers.get('connection')).toBe('close')
    expect((answer.json as Answer).results.map((r) => r.ok)).toEqual([true, false])
    expect(await closing).toEqual({ drained: true })
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow()
  })

  it('cuts checks that outlive the drain timeout', async () => {
    const { server, url } = await start()
    const posted = postChecks(url, {
      request_id: 'cut',
      checks: [check(1, sites.url('hang'), { timeout_ms: 5_000 })],
    }).catch((error: Error) => error)
    await waitFor('a check in flight', () => server.inFlight > 0)
    const started = Date.now()
    expect(await server.close({ timeoutMs: 200 })).toEqual({ drained: false })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await posted).toBeInstanceOf(Error)
  })
})
