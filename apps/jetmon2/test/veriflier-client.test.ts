import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  askVerifliers,
  decide,
  quorumOf,
  type VeriflierCheck,
  type VeriflierTarget,
  type VeriflierVote,
} from '@jetmon/monitor'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import {
  createVeriflierServer,
  type VeriflierServer,
  type VeriflierServerOptions,
  veriflier2ConfigSchema,
} from '@jetmon/veriflier2'
import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const TOKEN = 'client-test-token-0123456789'

let sites: FixtureServer
let dns: DnsServer
const verifliers: VeriflierServer[] = []
const stubs: Server[] = []
let eu: VeriflierTarget
let us: VeriflierTarget
let unreachable: VeriflierTarget
let silent: VeriflierTarget

async function startVeriflier(id: string, region: string, options: Partial<VeriflierServerOptions> = {}) {
  const config = v.parse(veriflier2ConfigSchema, {
    VERIFLIER_ID: id,
    VERIFLIER_REGION: region,
    VERIFLIER_TOKENS: [TOKEN],
    PORT: 0,
    BIND: '127.0.0.1',
    DNS_SERVERS: [dns.server],
  })
  const server = createVeriflierServer({ config, ...options })
  verifliers.push(server)
  const { url } = await server.listen()
  return { id, region, url, token: TOKEN }
}

/** A local HTTP server standing in for a broken veriflier. */
async function stub(status: number, body: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(body)
  })
  stubs.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

beforeAll(async () => {
  sites = await startFixtureServer()
  dns = await startDnsServer({ zone: sites.zone() })
  eu = await startVeriflier('eu-1', 'eu-west')
  us = await startVeriflier('us-1', 'us-east')
  unreachable = { id: 'gone-1', region: 'ap-south', url: `http://127.0.0.1:${sites.refusedPort}`, token: TOKEN }
  // Accepts the connection, never answers: a veriflier that hangs.
  silent = { id: 'hung-1', region: 'sa-east', url: `http://127.0.0.1:${sites.stalledPort}/`, token: TOKEN }
})

afterAll(async () => {
  await Promise.all(verifliers.map((server) => server.close({ timeoutMs: 0 })))
  for (const server of stubs) server.closeAllConnections()
  await Promise.all(stubs.map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all([sites?.close(), dns?.close()])
})

const summary = (votes: VeriflierVote[] | undefined) => votes?.map((vote) => `${vote.veriflier}:${vote.vote}`)

describe('askVerifliers', () => {
  const ok: VeriflierCheck = { endpointId: 1n, blogId: 100n, url: '', timeoutMs: 3_000 }
  const failing: VeriflierCheck = { endpointId: 2n, blogId: 100n, url: '' }
  const hanging: VeriflierCheck = { endpointId: 18446744073709551615n, url: '', timeoutMs: 300 }
  beforeAll(() => {
    ok.url = sites.url('ok')
    failing.url = sites.url('status-500')
    hanging.url = sites.url('hang')
  })

  it('collects a vote per veriflier and endpoint; an unreachable veriflier votes error', async () => {
    const votes = await askVerifliers({
      verifliers: [eu, us, unreachable],
      checks: [ok, failing, hanging],
      timeoutMs: 5_000,
    })
    expect([...votes.keys()]).toEqual([1n, 2n, 18446744073709551615n])
    expect(summary(votes.get(1n))).toEqual(['eu-1:up', 'us-1:up', 'gone-1:error'])
    expect(summary(votes.get(2n))).toEqual(['eu-1:down', 'us-1:down', 'gone-1:error'])
    expect(summary(votes.get(18446744073709551615n))).toEqual(['eu-1:down', 'us-1:down', 'gone-1:error'])

    expect(votes.get(1n)?.[0]).toMatchObject({
      veriflier: 'eu-1',
      region: 'eu-west',
      httpStatus: 200,
      errorCode: 0,
      error: null,
      rttMs: expect.any(Number),
      checkMs: expect.any(Number),
    })
    expect(votes.get(2n)?.[1]).toMatchObject({
      region: 'us-east',
      httpStatus: 500,
      errorCode: 10,
      error: 'http_status',
    })
    expect(votes.get(18446744073709551615n)?.[0]).toMatchObject({ error: 'timeout', errorCode: 1 })
    expect(votes.get(1n)?.[2]).toMatchObject({
      region: 'ap-south',
      httpStatus: null,
      errorCode: null,
      error: 'unreachable',
      checkMs: null,
      detail: expect.stringMatching(/ECONNREFUSED/),
    })

    const quorum = quorumOf(3, 'auto')
    expect(decide(votes.get(1n)!, quorum)).toBe('false_alarm')
    expect(decide(votes.get(2n)!, quorum)).toBe('confirmed')
    expect(decide(votes.get(1n)!, 3)).toBe('inconclusive')
  })

  it('turns a refused token, a non-2xx and a malformed answer into error votes', async () => {
    const wrongToken = { ...eu, id: 'eu-bad-token', token: 'not-the-token-0123456789' }
    const notJson = { id: 'stub-html', region: 'x', url: await stub(200, '<html>proxy error</html>'), token: TOKEN }
    const wrongShape = { id: 'stub-shape', region: 'x', url: await stub(200, '{"results": "none"}'), token: TOKEN }
    const noResult = {
      id: 'stub-empty',
      region: 'x',
      url: await stub(200, '{"veriflier":{"id":"s","region":"x","version":"0"},"results":[]}'),
      token: TOKEN,
    }
    const overloaded = { id: 'stub-503', region: 'x', url: await stub(503, 'upstream down'), token: TOKEN }
    const votes = await askVerifliers({
      verifliers: [wrongToken, notJson, wrongShape, noResult, overloaded],
      checks: [failing],
      timeoutMs: 5_000,
    })
    const [refused, html, shape, empty, unavailable] = votes.get(2n)!
    expect(refused).toMatchObject({
      vote: 'error',
      error: 'bad_status',
      detail: expect.stringMatching(/^veriflier answered HTTP 401: unauthorized: /),
    })
    expect(html).toMatchObject({
      vote: 'error',
      error: 'malformed_response',
      detail: expect.stringMatching(/not JSON/),
    })
    expect(shape).toMatchObject({ vote: 'error', error: 'malformed_response' })
    expect(empty).toMatchObject({ vote: 'error', error: 'missing_result' })
    expect(unavailable).toMatchObject({ vote: 'error', error: 'bad_status', detail: /HTTP 503: upstream down/ })
    expect(decide(votes.get(2n)!, 1)).toBe('inconclusive')
  })

  it('counts a monitor_error result as an error vote, never as down', async () => {
    const broken = await startVeriflier('broken-1', 'eu-central', {
      checker: () => Promise.reject(new Error('resolver unavailable')),
    })
    const votes = await askVerifliers({ verifliers: [broken, eu], checks: [failing], timeoutMs: 5_000 })
    expect(votes.get(2n)?.[0]).toMatchObject({ vote: 'error', errorCode: 99, error: 'monitor_error' })
    expect(summary(votes.get(2n))).toEqual(['broken-1:error', 'eu-1:down'])
  })

  it('gives up on a veriflier that does not answer within timeoutMs', async () => {
    const started = Date.now()
    const votes = await askVerifliers({ verifliers: [silent, eu], checks: [ok], timeoutMs: 400 })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(votes.get(1n)?.[0]).toMatchObject({ vote: 'error', error: 'timeout', rttMs: expect.any(Number) })
    expect(votes.get(1n)?.[0]?.rttMs).toBeGreaterThanOrEqual(350)
    expect(votes.get(1n)?.[1]).toMatchObject({ vote: 'up' })
  })

  it('with a quorum, returns once the outcome is settled instead of waiting for a hung veriflier', async () => {
    const started = Date.now()
    const votes = await askVerifliers({
      verifliers: [eu, silent, us],
      checks: [ok, failing],
      timeoutMs: 15_000,
      quorum: 2,
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(summary(votes.get(1n))).toEqual(['eu-1:up', 'hung-1:error', 'us-1:up'])
    expect(summary(votes.get(2n))).toEqual(['eu-1:down', 'hung-1:error', 'us-1:down'])
    expect(votes.get(2n)?.[1]).toMatchObject({ error: 'abandoned' })
    expect(decide(votes.get(1n)!, 2)).toBe('false_alarm')
    expect(decide(votes.get(2n)!, 2)).toBe('confirmed')
  })

  it('with a quorum the answers so far cannot settle, waits for the last veriflier', async () => {
    // Two up votes of three with quorum 3: a third answer could still make it a false alarm.
    const votes = await askVerifliers({ verifliers: [eu, us, silent], checks: [ok], timeoutMs: 500, quorum: 3 })
    expect(votes.get(1n)?.[2]).toMatchObject({ vote: 'error', error: 'timeout' })
  })

  it('splits more than 100 checks over several requests', async () => {
    const checks = Array.from({ length: 150 }, (_, i) => ({ endpointId: BigInt(5000 + i), url: sites.url('ok') }))
    const votes = await askVerifliers({ verifliers: [eu], checks, timeoutMs: 10_000 })
    expect(votes.size).toBe(150)
    expect([...votes.values()].every((list) => list.length === 1 && list[0]?.vote === 'up')).toBe(true)
  })

  it('returns no votes when there is nothing to ask', async () => {
    expect((await askVerifliers({ verifliers: [eu], checks: [], timeoutMs: 1_000 })).size).toBe(0)
    const none = await askVerifliers({ verifliers: [], checks: [ok], timeoutMs: 1_000 })
    expect(none.get(1n)).toEqual([])
    expect(decide(none.get(1n)!, quorumOf(0, 'auto'))).toBe('inconclusive')
  })
})
