// The fleet as the monitor tests and benchmarks use it: names from the DNS server, sites spread
// over loopback addresses, and nothing left open once both are closed.
import { Resolver } from 'node:dns/promises'
import { connect as netConnect } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { loopbackAddresses, startDnsServer, startFixtureServer } from '../src/fixtures/index.js'
import { handleCounts, handshake, rawRequest, trackTimers } from './_clients.js'

describe('closing', () => {
  // First in this file, so that the baseline is not disturbed by other tests' servers.
  it('leaves no servers, sockets or timers behind, even with connections and answers pending', async () => {
    const before = handleCounts()
    const timers = trackTimers('/src/fixtures/')
    const server = await startFixtureServer({ addresses: ['127.0.0.1', '127.0.0.2'] })
    const dns = await startDnsServer()

    // Work in progress at close: a stalled TCP connection, an endless event stream, a stalled
    // body, a pending slow DNS answer.
    const stalled = netConnect({ host: '127.0.0.1', port: server.stalledPort })
    stalled.on('error', () => {})
    const stalledClosed = new Promise((resolve) => stalled.once('close', resolve))
    const stream = rawRequest({ port: server.httpPort, hostHeader: server.hostname('event-stream'), timeoutMs: 10_000 })
    const body = rawRequest({
      port: server.httpsPort,
      hostHeader: server.hostname('stall-body'),
      timeoutMs: 10_000,
      tls: { ca: [server.ca] },
    })
    const resolver = new Resolver({ timeout: 300, tries: 1 })
    resolver.setServers([dns.server])
    const slow = resolver.resolve4('slow.dns.test').catch((error: NodeJS.ErrnoException) => error.code)
    await vi.waitFor(() => {
      expect(server.requests('event-stream')).toHaveLength(1)
      expect(server.requests('stall-body')).toHaveLength(1)
      expect(dns.queries.some((query) => query.name === 'slow.dns.test')).toBe(true)
    })

    expect(timers.pending().length).toBeGreaterThan(0) // the tracking sees the servers' timers
    await Promise.all([server.close(), dns.close()])
    // When close() resolves, listeners are released and the servers' timers (pauses, event-stream
    // ticks, delayed DNS answers) are cleared.
    const afterClose = handleCounts()
    expect(afterClose.TCPServerWrap).toBe(before.TCPServerWrap)
    expect(afterClose.UDPWrap).toBe(before.UDPWrap)
    expect(timers.pending()).toEqual([])
    timers.stop()
    expect((await stream).ending).toBe('end')
    expect((await body).ending).not.toBe('timeout')
    await stalledClosed
    expect(await slow).toBe('ETIMEOUT')

    // The clients' sockets (ended by the server) go away too.
    await vi.waitFor(() => expect(handleCounts().TCPSocketWrap).toBe(before.TCPSocketWrap))
    expect(server.errors).toEqual([])
  })
})

describe('fixture server and DNS server together', () => {
  it('resolves site names to the fixture addresses and serves them over HTTP and HTTPS', async () => {
    const server = await startFixtureServer({ addresses: loopbackAddresses(2, 9), legacyTls: false })
    const dns = await startDnsServer({ zone: server.zone() })
    try {
      const resolver = new Resolver({ timeout: 500, tries: 1 })
      resolver.setServers([dns.server])
      const [address] = await resolver.resolve4(server.hostname('status-503'))
      expect(server.addresses).toContain(address)

      const plain = await rawRequest({
        host: address,
        port: server.httpPort,
        hostHeader: server.hostname('status-503'),
      })
      expect(plain.status).toBe(503)
      const secure = await handshake({
        host: address,
        port: server.httpsPort,
        servername: server.hostname('ok'),
        ca: [server.ca],
      })
      expect(secure).toMatchObject({ ok: true, protocol: 'TLSv1.3' })
      expect(server.requests('status-503').at(-1)?.localAddress).toBe(address)
    } finally {
      await Promise.all([server.close(), dns.close()])
    }
  })
})
