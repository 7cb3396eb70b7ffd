import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { refusedPort } from '@jetmon/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApiClient, type ReceivedResponse, type SentRequest } from './client.js'
import { JetmonApiError, JetmonResponseError, JetmonTransportError, JetmonUsageError } from './errors.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const TOKEN = 'jm_test_token_0123456789'
let server: Server
let origin: string
let seen: Seen[] = []
let handler: Handler

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req-123', ...headers })
  res.end(JSON.stringify(body))
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    handler(req, res, body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
})

beforeEach(() => {
  seen = []
  handler = (_req, res) => json(res, 200, { ok: true })
})

const client = (options: Partial<Parameters<typeof createApiClient>[0]> = {}) =>
  createApiClient({ baseUrl: `${origin}/api/v1`, token: TOKEN, ...options })

describe('request: success', () => {
  it('sends auth and JSON headers and exposes request id and rate-limit headers', async () => {
    handler = (_req, res) =>
      json(
        res,
        200,
        { status: 'ok' },
        { 'X-RateLimit-Limit': '600', 'X-RateLimit-Remaining': '599', 'X-RateLimit-Reset': '1777777777' },
      )
    const response = await client().request<{ status: string }>({ method: 'GET', path: '/health' })
    expect(response).toMatchObject({
      status: 200,
      data: { status: 'ok' },
      requestId: 'req-123',
      rateLimit: { limit: 600, remaining: 599, reset: 1_777_777_777 },
      idempotencyReplayed: false,
    })
    expect(response.headers['x-ratelimit-limit']).toBe('600')
    const [request] = seen
    expect(request?.method).toBe('GET')
    expect(request?.url).toBe('/api/v1/health')
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(request?.headers.accept).toBe('application/json')
    expect(request?.headers['user-agent']).toBe('@jetmon/api-client')
    expect(request?.headers['content-type']).toBeUndefined()
    expect(request?.headers['idempotency-key']).toBeUndefined()
  })

  it('reports no rate limit when the headers are absent, and honours a custom user agent', async () => {
    const response = await client({ userAgent: 'jetmon2-cli/1.0' }).request({ method: 'GET', path: '/me' })
    expect(response.rateLimit).toBeNull()
    expect(seen[0]?.headers['user-agent']).toBe('jetmon2-cli/1.0')
  })

  it('serializes query values: arrays as CSV, dates as RFC 3339, bigints exactly, empty values left out', async () => {
    await client().request({
      method: 'GET',
      path: '/events?active=true',
      query: {
        state__in: ['Down', 'Seems Down'],
        started_at__gte: new Date('2026-05-01T00:00:00Z'),
        blog_id: 9_007_199_254_740_993n,
        limit: 5,
        q: undefined,
        endpoint_id: null,
        check_type__in: [],
      },
    })
    const url = new URL(seen[0]!.url, origin)
    expect(url.pathname).toBe('/api/v1/events')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      active: 'true',
      state__in: 'Down,Seems Down',
      started_at__gte: '2026-05-01T00:00:00.000Z',
      blog_id: '9007199254740993',
      limit: '5',
    })
  })

  it('sends a JSON body, ids beyond 2^53 as strings, and the idempotency key', async () => {
    handler = (_req, res) => json(res, 201, { id: 7 }, { 'Idempotency-Replayed': 'true' })
    const response = await client().request<{ id: number }>({
      method: 'POST',
      path: '/sites',
      body: { blog_id: 9_007_199_254_740_993n, small_id: 42n, monitor_url: 'https://example.com/' },
      idempotencyKey: 'create-site-1',
    })
    expect(response.status).toBe(201)
    expect(response.data).toEqual({ id: 7 })
    expect(response.idempotencyReplayed).toBe(true)
    expect(seen[0]?.headers['idempotency-key']).toBe('create-site-1')
    expect(seen[0]?.headers['content-type']).toBe('application/json')
    expect(seen[0]?.body).toBe('{"blog_id":"9007199254740993","small_id":42,"monitor_url":"https://example.com/"}')
  })

  it('returns undefined data for 204 No Content', async () => {
    handler = (_req, res) => {
      res.writeHead(204, { 'x-request-id': 'req-204' })
      res.end()
    }
    const response = await client().request({ method: 'DELETE', path: '/sites/42' })
    expect(response).toMatchObject({ status: 204, data: undefined, requestId: 'req-204' })
  })

  it('passes extra headers but never lets them replace Authorization', async () => {
    await client().request({
      method: 'GET',
      path: '/me',
      headers: { 'X-Request-ID': 'mine-1', Authorization: 'Bearer stolen', 'X-Jetmon-Tenant-ID': 't1' },
    })
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(seen[0]?.headers['x-request-id']).toBe('mine-1')
    expect(seen[0]?.headers['x-jetmon-tenant-id']).toBe('t1')
  })

  it('joins paths to a base URL with or without a trailing slash', async () => {
    await createApiClient({ baseUrl: `${origin}/api/v1/`, token: TOKEN }).request({ method: 'GET', path: '/sites' })
    await createApiClient({ baseUrl: origin, token: TOKEN }).request({ method: 'GET', path: '/health' })
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/sites', '/health'])
  })

  it('logs one debug line per request without the token', async () => {
    const lines: unknown[] = []
    await client({ logger: { debug: (fields) => lines.push(fields) } }).request({ method: 'GET', path: '/me' })
    expect(lines).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/v1/me', status: 200, requestId: 'req-123' }),
    ])
    expect(JSON.stringify(lines)).not.toContain(TOKEN)
  })
})

describe('request: errors', () => {
  it('maps the error envelope to JetmonApiError', async () => {
    handler = (_req, res) =>
      json(res, 404, { error: { code: 'site_not_found', message: 'no site with blog_id 42', request_id: 'req-env' } })
    const error = await client()
      .request({ method: 'GET', path: '/sites/42' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonApiError)
    expect(error).toMatchObject({
      name: 'JetmonApiError',
      status: 404,
      code: 'site_not_found',
      message: 'no site with blog_id 42',
      requestId: 'req-env',
      details: undefined,
      body: undefined,
    })
  })

  it('carries field details of a 400', async () => {
    handler = (_req, res) =>
      json(res, 400, {
        error: {
          code: 'invalid_request',
          message: 'the request body is invalid',
          request_id: 'r',
          details: [{ path: 'monitor_url', message: 'must be an http(s) URL' }],
        },
      })
    await expect(client().request({ method: 'POST', path: '/sites', body: {} })).rejects.toMatchObject({
      code: 'invalid_request',
      details: [{ path: 'monitor_url', message: 'must be an http(s) URL' }],
    })
  })

  it('carries Retry-After and the rate limit of a 429', async () => {
    handler = (_req, res) =>
      json(
        res,
        429,
        { error: { code: 'rate_limited', message: 'rate limit exceeded', request_id: 'r' } },
        {
          'Retry-After': '17',
          'X-RateLimit-Limit': '120',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': '1777777800',
        },
      )
    await expect(client().request({ method: 'POST', path: '/sites', body: {} })).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfterSeconds: 17,
      rateLimit: { limit: 120, remaining: 0, reset: 1_777_777_800 },
    })
  })

  it('falls back to the X-Request-ID header when the envelope has no request id', async () => {
    handler = (_req, res) => json(res, 503, { error: { code: 'db_unavailable', message: 'database did not answer' } })
    await expect(client().request({ method: 'GET', path: '/health' })).rejects.toMatchObject({
      code: 'db_unavailable',
      requestId: 'req-123',
    })
  })

  it('handles a non-JSON 502 from a proxy', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html', 'x-request-id': 'edge-9' })
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
    }
    const error = await client()
      .request({ method: 'GET', path: '/sites' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonApiError)
    expect(error).toMatchObject({
      status: 502,
      code: 'unexpected_response',
      requestId: 'edge-9',
      body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    })
    expect((error as Error).message).toMatch(/502 .*not a Jetmon error.*502 Bad Gateway/)
  })

  it('handles an empty error body and JSON that is not an envelope', async () => {
    handler = (_req, res) => {
      res.writeHead(503)
      res.end()
    }
    await expect(client().request({ method: 'GET', path: '/health' })).rejects.toMatchObject({
      status: 503,
      code: 'unexpected_response',
      message: 'the API answered 503 with an empty body',
      requestId: null,
    })
    handler = (_req, res) => json(res, 500, { message: 'oops' })
    await expect(client().request({ method: 'GET', path: '/health' })).rejects.toMatchObject({
      status: 500,
      code: 'unexpected_response',
    })
  })

  it('rejects a 2xx body that is not JSON', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('hello')
    }
    const error = await client()
      .request({ method: 'GET', path: '/health' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonResponseError)
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', status: 200 })
  })

  it('times out when the answer does not come, and when the body stalls', async () => {
    handler = () => {} // never answers
    const started = Date.now()
    const error = await client({ timeoutMs: 150 })
      .request({ method: 'GET', path: '/slow' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonTransportError)
    expect(error).toMatchObject({ code: 'TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(2_000)

    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"data": [')
    }
    await expect(client({ timeoutMs: 150 }).request({ method: 'GET', path: '/stall' })).rejects.toMatchObject({
      code: 'TIMEOUT',
    })
  })

  it('reports an abort by the caller', async () => {
    handler = () => {}
    const controller = new AbortController()
    const pending = client().request({ method: 'GET', path: '/slow', signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ name: 'JetmonTransportError', code: 'ABORTED' })
  })

  it('reports a refused connection as a transport error', async () => {
    const port = await refusedPort()
    const error = await createApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN })
      .request({ method: 'GET', path: '/health' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonTransportError)
    expect(error).toMatchObject({ code: 'TRANSPORT_FAILED' })
    expect((error as Error).cause).toBeDefined()
  })
})

describe('tracing hooks', () => {
  it('show each request as sent and its answer as received, an error answer included', async () => {
    handler = (_req, res) =>
      json(res, 404, { error: { code: 'site_not_found', message: 'no site' } }, { 'x-extra': 'yes' })
    const sent: SentRequest[] = []
    const received: ReceivedResponse[] = []
    const error = await client({ onRequest: (r) => sent.push(r), onResponse: (r) => received.push(r) })
      .request({
        method: 'POST',
        path: '/sites',
        body: { blog_id: 1 },
        idempotencyKey: 'idem-1',
        headers: { 'X-Request-ID': 'rid-1' },
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonApiError)
    expect(sent).toEqual([
      {
        method: 'POST',
        url: `${origin}/api/v1/sites`,
        headers: expect.objectContaining({
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': 'idem-1',
          'x-request-id': 'rid-1',
        }),
      },
    ])
    // What the hook saw is what the server got.
    for (const [name, value] of Object.entries(sent[0]?.headers ?? {})) expect(seen[0]?.headers[name]).toBe(value)
    expect(received).toEqual([
      {
        request: sent[0],
        status: 404,
        headers: expect.objectContaining({ 'x-extra': 'yes', 'x-request-id': 'req-123' }),
        durationMs: expect.any(Number),
      },
    ])
  })

  it('report a request that got no answer, and a hook that throws changes nothing', async () => {
    const port = await refusedPort()
    const received: ReceivedResponse[] = []
    const error = await createApiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: TOKEN,
      onRequest: () => {
        throw new Error('a broken tracer')
      },
      onResponse: (r) => received.push(r),
    })
      .request({ method: 'GET', path: '/health' })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TRANSPORT_FAILED' })
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({ status: null, headers: {}, error })
    const ok = await client({
      onResponse: () => {
        throw new Error('a broken tracer')
      },
    }).request({ method: 'GET', path: '/me' })
    expect(ok.status).toBe(200)
  })
})

describe('origin guard', () => {
  it.each([
    ['an absolute URL elsewhere', 'https://evil.example/steal'],
    ['a protocol-relative URL', '//evil.example/steal'],
    ['the same host on another port', 'http://127.0.0.1:1/api/v1/sites'],
    ['the same host over another scheme', 'https://127.0.0.1/api/v1/sites'],
  ])('refuses %s without sending anything', async (_name, path) => {
    const error = await client()
      .request({ method: 'GET', path })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JetmonUsageError)
    expect(error).toMatchObject({ code: 'FOREIGN_ORIGIN' })
    expect(seen).toEqual([])
  })

  it('is not fooled by a path that turns into a user-info host', async () => {
    const api = createApiClient({ baseUrl: origin, token: TOKEN })
    await expect(api.request({ method: 'GET', path: '@evil.example/x' })).rejects.toMatchObject({
      code: 'INVALID_PATH',
    })
    await expect(api.request({ method: 'GET', path: '//evil.example/x' })).rejects.toMatchObject({
      code: 'FOREIGN_ORIGIN',
    })
    expect(seen).toEqual([])
  })

  it('allows an absolute URL on the configured origin', async () => {
    await client().request({ method: 'GET', path: `${origin}/api/v1/sites?limit=2#frag` })
    expect(seen[0]?.url).toBe('/api/v1/sites?limit=2')
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('does not follow redirects (which could carry the token elsewhere)', async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: 'https://evil.example/' })
      res.end()
    }
    await expect(client().request({ method: 'GET', path: '/sites' })).rejects.toMatchObject({ status: 302 })
    expect(seen).toHaveLength(1)
  })
})

describe('paginate', () => {
  const pages: Record<string, { data: number[]; next: string | null }> = {
    '': { data: [1, 2], next: 'c1' },
    c1: { data: [3, 4], next: 'c2' },
    c2: { data: [5], next: null },
  }

  beforeEach(() => {
    handler = (req, res) => {
      const url = new URL(req.url ?? '/', origin)
      const page = pages[url.searchParams.get('cursor') ?? '']
      if (!page) return json(res, 400, { error: { code: 'invalid_cursor', message: 'bad cursor', request_id: 'r' } })
      json(res, 200, { data: page.data.map((id) => ({ id })), page: { next: page.next, limit: 2 } })
    }
  })

  it('walks three pages in order, passing the limit, the filters and each cursor', async () => {
    const items: { id: number }[] = []
    for await (const item of client().paginate<{ id: number }>({
      path: '/sites',
      limit: 2,
      query: { state: 'Down' },
    })) {
      items.push(item)
    }
    expect(items.map((item) => item.id)).toEqual([1, 2, 3, 4, 5])
    expect(seen.map((s) => s.url)).toEqual([
      '/api/v1/sites?state=Down&limit=2',
      '/api/v1/sites?state=Down&limit=2&cursor=c1',
      '/api/v1/sites?state=Down&limit=2&cursor=c2',
    ])
  })

  it('fetches lazily: stopping early fetches no further pages', async () => {
    for await (const item of client().paginate<{ id: number }>({ path: '/sites' })) {
      if (item.id === 1) break
    }
    expect(seen).toHaveLength(1)
  })

  it('propagates API errors from a later page', async () => {
    pages.c1 = { data: [3], next: 'bogus' }
    const items: unknown[] = []
    const run = async () => {
      for await (const item of client().paginate({ path: '/sites' })) items.push(item)
    }
    await expect(run()).rejects.toMatchObject({ code: 'invalid_cursor', status: 400 })
    expect(items).toHaveLength(3)
    pages.c1 = { data: [3, 4], next: 'c2' }
  })

  it('stops on a cursor loop and on a response that is not a list', async () => {
    handler = (_req, res) => json(res, 200, { data: [1], page: { next: 'same', limit: 1 } })
    const loop = async () => {
      for await (const _ of client().paginate({ path: '/sites' })) {
        // drain
      }
    }
    await expect(loop()).rejects.toMatchObject({ code: 'PAGINATION_LOOP' })
    expect(seen).toHaveLength(2)

    handler = (_req, res) => json(res, 200, { sites: [] })
    await expect(loop()).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
  })
})

describe('createApiClient options', () => {
  it.each([
    [{ baseUrl: 'not a url', token: TOKEN }],
    [{ baseUrl: 'ftp://127.0.0.1', token: TOKEN }],
    [{ baseUrl: 'http://127.0.0.1/api?x=1', token: TOKEN }],
    [{ baseUrl: 'http://user:pw@127.0.0.1/api', token: TOKEN }],
    [{ baseUrl: 'http://127.0.0.1', token: '' }],
    [{ baseUrl: 'http://127.0.0.1', token: 'a\r\nX-Evil: 1' }],
    [{ baseUrl: 'http://127.0.0.1', token: TOKEN, timeoutMs: 0 }],
  ])('rejects %j', (options) => {
    expect(() => createApiClient(options)).toThrow(expect.objectContaining({ code: 'INVALID_CLIENT_OPTIONS' }))
  })

  it('rejects relative paths without a leading slash', async () => {
    await expect(client().request({ method: 'GET', path: 'sites' })).rejects.toMatchObject({ code: 'INVALID_PATH' })
  })

  it('exposes the normalized base URL', () => {
    expect(createApiClient({ baseUrl: `${origin}/api/v1/`, token: TOKEN }).baseUrl).toBe(`${origin}/api/v1`)
  })
})
