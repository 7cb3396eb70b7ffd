import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVeriflierHealthProbe } from './veriflier-health.js'

let base: string
let closedPort: number
let hits = 0
const server = createServer((req, res) => {
  hits++
  if (req.url === '/eu/v1/health') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: 'ok', id: 'eu', region: 'eu-west', version: '2.0.1', in_flight: 3 }))
  } else if (req.url === '/slow/v1/health') {
    setTimeout(() => res.end('{"status":"ok"}'), 1_000)
  } else {
    res.writeHead(503)
    res.end('{"status":"draining"}')
  }
})

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // A port nothing listens on: taken, then released.
  const spare = createServer()
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve))
  closedPort = (spare.address() as AddressInfo).port
  await new Promise<void>((resolve) => spare.close(() => resolve()))
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('veriflier health probe', () => {
  it('reports each veriflier reachable or why not, and reuses answers for its TTL', async () => {
    const probe = createVeriflierHealthProbe({
      targets: () => [
        { id: 'eu', region: 'eu-west', url: `${base}/eu/`, token: 'never-sent' } as never,
        { id: 'slow', region: 'us', url: `${base}/slow` },
        { id: 'sick', region: 'ap', url: `${base}/sick/` },
        { id: 'gone', region: 'sa', url: `http://127.0.0.1:${closedPort}/` },
      ],
      timeoutMs: 300,
      ttlMs: 60_000,
    })
    const statuses = await probe.read()
    expect(statuses.map((s) => [s.id, s.reachable])).toEqual([
      ['eu', true],
      ['slow', false],
      ['sick', false],
      ['gone', false],
    ])
    expect(statuses[0]).toMatchObject({ version: '2.0.1', inFlight: 3 })
    expect(statuses[0]!.latencyMs).toBeGreaterThanOrEqual(0)
    expect(statuses[1]!.error).toBe('no answer within 300 ms')
    expect(statuses[2]!.error).toBe('answered HTTP 503')
    expect(statuses[3]!.error).toBe('ECONNREFUSED')
    const before = hits
    await probe.read()
    expect(hits).toBe(before)
  })
})
