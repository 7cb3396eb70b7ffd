/**
 * The README's first example, run as written against a loopback stand-in for the REST API (its
 * URL and token from JETMON_API_URL and JETMON_API_TOKEN, as the example reads them): it prints the
 * health answer and the sites of every page, and sends trigger-now with its idempotency key; an
 * error envelope and a dropped connection end in the branches of its catch.
 */
import { once } from 'node:events'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

const TOKEN = 'jm_readme_token_0123456789'
const files: URL[] = []
let server: Server
let origin: string
let seen: { method: string; url: URL; headers: IncomingMessage['headers'] }[] = []
let triggerAnswer: (res: ServerResponse) => void

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${seen.length}`, ...headers })
  res.end(JSON.stringify(body))
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin)
    seen.push({ method: req.method ?? '', url, headers: req.headers })
    req.resume()
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      json(res, 401, { error: { code: 'unauthorized', message: 'missing or unknown token', request_id: 'req-401' } })
    } else if (req.method === 'GET' && url.pathname === '/api/v1/health') {
      json(
        res,
        200,
        { status: 'ok' },
        { 'X-RateLimit-Limit': '600', 'X-RateLimit-Remaining': '599', 'X-RateLimit-Reset': '1777777777' },
      )
    } else if (req.method === 'GET' && url.pathname === '/api/v1/sites') {
      // Two pages: the client follows page.next with cursor=.
      if (url.searchParams.get('cursor') === null) {
        json(res, 200, { data: [{ blog_id: 7, current_state: 'Down' }], page: { next: 'c2', limit: 200 } })
      } else {
        json(res, 200, {
          data: [{ blog_id: '9007199254740993', current_state: 'Seems Down' }],
          page: { next: null, limit: 200 },
        })
      }
    } else if (req.method === 'POST' && url.pathname === '/api/v1/sites/42/trigger-now') {
      triggerAnswer(res)
    } else {
      json(res, 404, { error: { code: 'not_found', message: 'no such route', request_id: 'req-404' } })
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  vi.restoreAllMocks()
  for (const file of files) rmSync(file, { force: true })
  delete process.env.JETMON_API_URL
  delete process.env.JETMON_API_TOKEN
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
})

/** Runs the example against `baseUrl`; what it printed with console.log and console.error. */
async function runExample(baseUrl: string): Promise<{ log: unknown[][]; error: unknown[][] }> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(code, 'the README has a ts example').toContain('process.env.JETMON_API_URL')
  const file = new URL(`./.readme-example-${process.pid}-${files.length}.ts`, import.meta.url)
  files.push(file)
  writeFileSync(file, code as string)
  process.env.JETMON_API_URL = baseUrl
  process.env.JETMON_API_TOKEN = TOKEN
  seen = []
  const printed = { log: [] as unknown[][], error: [] as unknown[][] }
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.log.push(args)
  })
  const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    printed.error.push(args)
  })
  try {
    await import(file.href)
  } finally {
    log.mockRestore()
    error.mockRestore()
  }
  return printed
}

describe('README example', () => {
  it('prints the health answer and every page of Down sites, then triggers a check idempotently', async () => {
    triggerAnswer = (res) => json(res, 202, { blog_id: 42, results: [] })
    const printed = await runExample(`${origin}/api/v1`)
    expect(printed.log).toEqual([
      ['ok', 'req-1', { limit: 600, remaining: 599, reset: 1_777_777_777 }],
      [7, 'Down'],
      ['9007199254740993', 'Seems Down'],
    ])
    expect(printed.error).toEqual([])
    const [, firstPage, secondPage, trigger] = seen
    expect(firstPage?.url.searchParams.get('limit')).toBe('200')
    expect(firstPage?.url.searchParams.getAll('state__in').join(',')).toBe('Down,Seems Down')
    expect(secondPage?.url.searchParams.get('cursor')).toBe('c2')
    expect(trigger?.headers['idempotency-key']).toBe('trigger-42-2026-05-01T10:00')
  })

  it('prints the status, code, message and request id of an error answer', async () => {
    triggerAnswer = (res) =>
      json(res, 409, {
        error: { code: 'idempotency_conflict', message: 'key reused with another body', request_id: 'req-409' },
      })
    const printed = await runExample(`${origin}/api/v1`)
    expect(printed.error).toEqual([[409, 'idempotency_conflict', 'key reused with another body', 'req-409']])
  })

  it('prints the code and message of a transport failure', async () => {
    triggerAnswer = (res) => res.socket?.destroy() // the connection drops: no answer at all
    const printed = await runExample(`${origin}/api/v1`)
    expect(printed.error).toEqual([['TRANSPORT_FAILED', expect.any(String)]])
  })
})
