import { Resolver } from 'node:dns/promises'
import { connect as netConnect } from 'node:net'
import dnsPacket from 'dns-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DnsServer, loopbackAddresses, startDnsServer } from '../src/fixtures/index.js'

let dns: DnsServer

beforeAll(async () => {
  dns = await startDnsServer({ zone: { 'custom.example.test': { A: ['127.0.0.9'], ttl: 5 } } })
})

afterAll(async () => {
  await dns.close()
})

/** A resolver as the checker builds one: c-ares, pointed at the test server, failing fast. */
function resolver(options: { timeout?: number } = {}): Resolver {
  const r = new Resolver({ timeout: options.timeout ?? 300, tries: 1 })
  r.setServers([dns.server])
  return r
}

/** The error code a lookup fails with, or 'resolved'. */
async function failure(lookup: Promise<unknown>): Promise<string> {
  try {
    await lookup
    return 'resolved'
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error)
  }
}

describe('answers', () => {
  it('answers A and AAAA records', async () => {
    expect(await resolver().resolve4('ok.dns.test')).toEqual(['127.0.0.1'])
    expect(await resolver().resolve6('dual.dns.test')).toEqual(['::1'])
    expect(await resolver().resolve4('custom.example.test', { ttl: true })).toEqual([{ address: '127.0.0.9', ttl: 5 }])
  })

  it('follows CNAMEs inside the zone', async () => {
    expect(await resolver().resolve4('cname.dns.test')).toEqual(['127.0.0.1'])
    expect(await resolver().resolveCname('cname.dns.test')).toEqual(['ok.dns.test'])
  })

  it('matches wildcards and spreads names over addresses by hash', async () => {
    const addresses = loopbackAddresses(2, 21)
    dns.setRecord('*.spread.test', { A: addresses, pick: 'hash' })
    const first = await resolver().resolve4('site-1.spread.test')
    expect(first).toHaveLength(1)
    expect(await resolver().resolve4('site-1.spread.test')).toEqual(first)
    const seen = new Set<string>()
    for (let i = 0; i < 30; i++)
      for (const address of await resolver().resolve4(`s${i}.deep.spread.test`)) seen.add(address)
    expect(seen.size).toBeGreaterThan(5)
    expect([...seen].every((address) => addresses.includes(address))).toBe(true)
  })

  it('rotates through addresses on rotate.dns.test', async () => {
    const answers = new Set<string>()
    for (let i = 0; i < 4; i++) for (const address of await resolver().resolve4('rotate.dns.test')) answers.add(address)
    expect(answers.size).toBe(4)
  })

  it('answers the fixture and bench domains', async () => {
    expect(await resolver().resolve4('ok.fixture.test')).toEqual(['127.0.0.1'])
    expect(await resolver().resolve4('ok--42.bench.test')).toEqual(['127.0.0.1'])
  })
})

describe('failures', () => {
  it.each([
    ['nxdomain.dns.test', 'ENOTFOUND'],
    ['not-in-the-zone.dns.test', 'ENOTFOUND'],
    ['servfail.dns.test', 'ESERVFAIL'],
    ['refused.dns.test', 'EREFUSED'],
    ['drop.dns.test', 'ETIMEOUT'],
    ['dangling.dns.test', 'ENOTFOUND'],
    ['cname-loop.dns.test', 'ESERVFAIL'],
    ['empty.dns.test', 'ENODATA'],
    ['v6only.dns.test', 'ENODATA'],
  ])('%s fails with %s', async (name, code) => {
    expect(await failure(resolver().resolve4(name))).toBe(code)
  })

  it('answers slowly on slow.dns.test', async () => {
    const started = performance.now()
    expect(await resolver({ timeout: 2000 }).resolve4('slow.dns.test')).toEqual(['127.0.0.1'])
    expect(performance.now() - started).toBeGreaterThanOrEqual(450)
    expect(await failure(resolver({ timeout: 200 }).resolve4('slow.dns.test'))).toBe('ETIMEOUT')
  })

  it('changes and removes records at run time', async () => {
    dns.setRecord('flip.dns.test', { A: ['127.0.0.7'] })
    expect(await resolver().resolve4('flip.dns.test')).toEqual(['127.0.0.7'])
    dns.setRecord('flip.dns.test', { behaviour: 'servfail' })
    expect(await failure(resolver().resolve4('flip.dns.test'))).toBe('ESERVFAIL')
    dns.setRecord('flip.dns.test', undefined)
    expect(await failure(resolver().resolve4('flip.dns.test'))).toBe('ENOTFOUND')
    expect(() => dns.setRecord('bad.dns.test', { A: ['::1'] })).toThrow(/not an IPv4 address/)
  })
})

describe('transports and the query log', () => {
  it('truncates over UDP so the client retries over TCP', async () => {
    expect(await resolver().resolve4('truncated.dns.test')).toEqual(['127.0.0.1'])
    const log = dns.queries.filter((query) => query.name === 'truncated.dns.test')
    expect(log.map((query) => [query.transport, query.outcome])).toEqual([
      ['udp', 'truncated'],
      ['tcp', 'NOERROR'],
    ])
  })

  it('truncates answers larger than the client accepts over UDP', async () => {
    dns.setRecord('big.dns.test', { A: loopbackAddresses(2, 254) })
    expect(await resolver().resolve4('big.dns.test')).toHaveLength(253)
    expect(dns.queries.filter((query) => query.name === 'big.dns.test').map((query) => query.transport)).toEqual([
      'udp',
      'tcp',
    ])
  })

  it('answers over TCP with length-prefixed messages', async () => {
    const socket = netConnect({ host: dns.address, port: dns.port })
    const response = await new Promise<dnsPacket.DecodedPacket>((resolve, reject) => {
      let buffered = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk])
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          resolve(dnsPacket.decode(buffered.subarray(2)))
        }
      })
      socket.once('error', reject)
      socket.write(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'ok.dns.test' }] }))
    })
    socket.destroy()
    expect(response.id).toBe(7)
    expect(response.answers?.map((answer) => ('data' in answer ? answer.data : null))).toEqual(['127.0.0.1'])
  })

  it('logs each query with its outcome', async () => {
    await failure(resolver().resolve4('servfail.dns.test'))
    expect(dns.queries.at(-1)).toMatchObject({
      name: 'servfail.dns.test',
      type: 'A',
      transport: 'udp',
      outcome: 'SERVFAIL',
    })
    await resolver().resolve4('cname.dns.test')
    expect(dns.queries.at(-1)).toMatchObject({ outcome: 'NOERROR', answers: ['ok.dns.test', '127.0.0.1'] })
  })
})
