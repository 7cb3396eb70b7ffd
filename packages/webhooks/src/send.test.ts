import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPingPayload, createWebhookDispatcher, sendWebhook, WEBHOOK_USER_AGENT } from './send.js'
import { verifySignature } from './signature.js'

interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

let server: Server
let base: string
const received: Received[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      if (req.url === '/ok') res.writeHead(204).end()
      else if (req.url === '/teapot') res.writeHead(418, { 'content-type': 'text/plain' }).end('short and stout')
      else if (req.url === '/big') res.writeHead(500).end(`${'é'.repeat(1023)}xyz${'a'.repeat(10_000)}`)
      else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end()
      else if (req.url === '/silent') {
        // Never answers.
      } else res.writeHead(404).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const now = new Date()
const body = JSON.stringify(buildPingPayload({ pingId: 'ping_test', webhookId: 7n, now }))

describe('sendWebhook', () => {
  it('POSTs the body with the documented headers and a signature per secret, newest first', async () => {
    const result = await sendWebhook({
      url: `${base}/ok`,
      secrets: ['whsec_NEW', 'whsec_OLD'],
      body,
      eventType: 'ping',
      deliveryId: 'ping_test',
      now,
      allowPrivateTargets: true,
    })
    expect(result).toMatchObject({ outcome: 'answered', statusCode: 204, ok: true, responseExcerpt: '', error: null })
    const request = received.at(-1)!
    expect(request.method).toBe('POST')
    expect(request.body).toBe(body)
    expect(JSON.parse(request.body)).toEqual({
      id: 'ping_test',
      type: 'ping',
      occurred_at: now.toISOString(),
      webhook: { id: 7 },
    })
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['user-agent']).toBe(WEBHOOK_USER_AGENT)
    expect(WEBHOOK_USER_AGENT).toMatch(/^Jetmon-Webhooks\/\d+\.\d+\.\d+/)
    expect(request.headers['x-jetmon-event']).toBe('ping')
    expect(request.headers['x-jetmon-delivery']).toBe('ping_test')
    const header = request.headers['x-jetmon-signature'] as string
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/)
    expect(header.startsWith(`t=${Math.floor(now.getTime() / 1000)},`)).toBe(true)
    for (const secret of ['whsec_NEW', 'whsec_OLD']) {
      expect(verifySignature({ secret, header, body: request.body, now })).toMatchObject({ ok: true })
    }
    // The first entry is the new secret's.
    const first = header.split(',')[1]!
    const [t] = header.split(',')
    expect(verifySignature({ secret: 'whsec_NEW', header: `${t},${first}`, body, now }).ok).toBe(true)
  })

  it('returns a non-2xx answer with its body, and redirects as answers', async () => {
    const teapot = await sendWebhook({
      url: `${base}/teapot`,
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 1,
      now,
      allowPrivateTargets: true,
    })
    expect(teapot).toMatchObject({
      outcome: 'answered',
      statusCode: 418,
      ok: false,
      responseExcerpt: 'short and stout',
    })
    const redirect = await sendWebhook({
      url: `${base}/redirect`,
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 2,
      now,
      allowPrivateTargets: true,
    })
    expect(redirect).toMatchObject({ outcome: 'answered', statusCode: 302, ok: false })
    expect(received.at(-1)!.path).toBe('/redirect')
  })

  it('keeps only the first 2 KiB of a body, never half a character', async () => {
    const result = await sendWebhook({
      url: `${base}/big`,
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 3,
      now,
      allowPrivateTargets: true,
    })
    if (result.outcome !== 'answered') throw new Error(result.error)
    expect(result.statusCode).toBe(500)
    // 1023 × 2 bytes + 'xy' = 2048 bytes exactly.
    expect(result.responseExcerpt).toBe(`${'é'.repeat(1023)}xy`)
    expect(Buffer.byteLength(result.responseExcerpt)).toBe(2048)
  })

  it('reports no answer within the timeout as a failure', async () => {
    const result = await sendWebhook({
      url: `${base}/silent`,
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 4,
      now,
      allowPrivateTargets: true,
      timeoutMs: 300,
    })
    expect(result).toMatchObject({ outcome: 'failed', error: 'no complete answer within 0.3 s' })
    expect(result.durationMs).toBeGreaterThanOrEqual(250)
  })

  it('reports a refused connection as a failure', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const result = await sendWebhook({
      url: `http://127.0.0.1:${port}/`,
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 5,
      now,
      allowPrivateTargets: true,
    })
    expect(result.outcome).toBe('failed')
    if (result.outcome === 'failed') expect(result.error).toContain('ECONNREFUSED')
  })

  it('refuses private targets at connection time unless they are allowed', async () => {
    const before = received.length
    const port = new URL(base).port
    for (const url of [
      `http://127.0.0.1:${port}/ok`,
      `http://localhost:${port}/ok`,
      `http://[::ffff:7f00:1]:${port}/ok`,
    ]) {
      const result = await sendWebhook({ url, secrets: ['whsec_A'], body, eventType: 'ping', deliveryId: 6, now })
      expect(result.outcome, url).toBe('refused')
      if (result.outcome === 'refused') expect(result.refusal.kind).toBe('loopback')
    }
    expect(received.length).toBe(before)
  })

  it('judges the address a name resolves to, with a shared dispatcher', async () => {
    const dispatcher = createWebhookDispatcher({
      resolve: (_hostname, _options, callback) => callback(null, [{ address: '169.254.169.254', family: 4 }]),
    })
    try {
      const result = await sendWebhook({
        url: 'http://innocent.example/hook',
        secrets: ['whsec_A'],
        body,
        eventType: 'ping',
        deliveryId: 7,
        now,
        dispatcher,
      })
      expect(result).toMatchObject({ outcome: 'refused' })
      if (result.outcome === 'refused') {
        expect(result.refusal).toMatchObject({
          hostname: 'innocent.example',
          address: '169.254.169.254',
          kind: 'metadata',
        })
      }
    } finally {
      await dispatcher.close()
    }
  })

  it('fails without sending for a URL that is not http(s)', async () => {
    const result = await sendWebhook({
      url: 'ftp://example.com/',
      secrets: ['whsec_A'],
      body,
      eventType: 'ping',
      deliveryId: 8,
      now,
    })
    expect(result).toMatchObject({ outcome: 'failed', error: 'webhook URLs must be http or https, not ftp:' })
  })
})
