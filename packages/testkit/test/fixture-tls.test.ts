import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FixtureServer, startFixtureServer, type TlsVariant } from '../src/fixtures/index.js'
import { handshake, rawRequest } from './_clients.js'

let server: FixtureServer

beforeAll(async () => {
  server = await startFixtureServer()
})

afterAll(async () => {
  expect(server.errors).toEqual([])
  await server.close()
})

/** A verifying handshake with the HTTPS port, SNI = the site's host name, trusting only the test root. */
function connectTo(site: string) {
  return handshake({ port: server.httpsPort, servername: server.hostname(site), ca: [server.ca] })
}

describe('certificate variants by SNI name', () => {
  it('presents a valid RSA-2048 chain over TLS 1.3 on valid (and on any ordinary site)', async () => {
    for (const site of ['valid', 'ok']) {
      const result = await connectTo(site)
      expect(result).toMatchObject({ ok: true, protocol: 'TLSv1.3' })
      expect(result.peer?.bits).toBe(2048)
      expect(result.peer?.issuer.CN).toBe('Jetmon Test Intermediate CA')
    }
  })

  it.each<[TlsVariant, string]>([
    ['expired', 'CERT_HAS_EXPIRED'],
    ['notyet', 'CERT_NOT_YET_VALID'],
    ['selfsigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['wronghost', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['nochain', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['untrusted', 'SELF_SIGNED_CERT_IN_CHAIN'],
  ])('%s fails verification with %s', async (site, code) => {
    expect(await connectTo(site)).toMatchObject({ ok: false, code })
  })

  it('presents a certificate that expires within days on expiring', async () => {
    const result = await connectTo('expiring')
    expect(result.ok).toBe(true)
    const daysLeft = (Date.parse(result.peer?.valid_to ?? '') - Date.now()) / 86_400_000
    expect(daysLeft).toBeGreaterThan(3)
    expect(daysLeft).toBeLessThan(6)
  })

  it('sends the intermediate on valid and only the leaf on nochain', async () => {
    // Without a trusted root node can only report the certificates the server sent.
    const sent = async (site: string) =>
      (await handshake({ port: server.httpsPort, servername: server.hostname(site), rejectUnauthorized: false }))
        .sentChainLength
    expect(await sent('valid')).toBe(2)
    expect(await sent('nochain')).toBe(1)
    expect(await sent('untrusted')).toBe(2)
  })

  it('verifies IP-literal connections (no SNI) against the 127.0.0.1 SAN', async () => {
    const result = await handshake({ port: server.httpsPort, ca: [server.ca] })
    expect(result).toMatchObject({ ok: true })
    expect(result.peer?.issuer.CN).toBe('Jetmon Test Root CA')
    expect(new X509Certificate(result.peer?.raw ?? Buffer.alloc(0)).checkIP('127.0.0.1')).toBe('127.0.0.1')
  })

  it('logs SNI names and the variant served', async () => {
    await connectTo('expired')
    expect(server.handshakes.at(-1)).toMatchObject({
      servername: server.hostname('expired'),
      site: 'expired',
      variant: 'expired',
    })
  })
})

describe('HTTPS requests', () => {
  it('serves sites over HTTPS and logs the TLS version', async () => {
    const response = await rawRequest({
      port: server.httpsPort,
      hostHeader: server.hostname('status-503'),
      tls: { ca: [server.ca] },
    })
    expect(response.status).toBe(503)
    expect(server.requests('status-503').at(-1)).toMatchObject({ https: true, tlsProtocol: 'TLSv1.3' })
  })

  it('receives no request from a client that rejected the certificate', async () => {
    const response = await rawRequest({
      port: server.httpsPort,
      hostHeader: server.hostname('selfsigned'),
      headers: { 'X-Secret-Token': 'must-not-leak' },
      tls: { ca: [server.ca] },
    })
    expect(response.error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    expect(server.requests('selfsigned')).toEqual([])
  })
})

describe('legacy TLS listener', () => {
  // Node 20's bundled OpenSSL 3 can still speak TLS 1.0/1.1 at security level 0; if a platform
  // cannot, this fails loudly instead of quietly skipping the deprecated-protocol checks.
  it('is supported on this platform', () => {
    expect(server.supportsLegacyTls).toBe(true)
    expect(server.legacyTlsPort).toEqual(expect.any(Number))
  })

  const legacy = { ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1' } as const

  it('negotiates TLS 1.1 with a client that allows it, and TLS 1.0 when the client caps there', async () => {
    const port = server.legacyTlsPort ?? 0
    const servername = server.hostname('ok')
    expect(await handshake({ port, servername, ca: [server.ca], ...legacy })).toMatchObject({
      ok: true,
      protocol: 'TLSv1.1',
    })
    expect(await handshake({ port, servername, ca: [server.ca], ...legacy, maxVersion: 'TLSv1' })).toMatchObject({
      ok: true,
      protocol: 'TLSv1',
    })
  })

  it('refuses clients that require TLS 1.2 or later', async () => {
    const result = await handshake({ port: server.legacyTlsPort ?? 0, servername: 'ok.fixture.test', ca: [server.ca] })
    expect(result.ok).toBe(false)
    expect(result.code).toMatch(/^ERR_SSL_/)
  })

  it('serves HTTP over TLS 1.0', async () => {
    const response = await rawRequest({
      port: server.legacyTlsPort ?? 0,
      hostHeader: server.hostname('ok'),
      tls: { ca: [server.ca], ...legacy, maxVersion: 'TLSv1' },
    })
    expect(response.status).toBe(200)
    expect(server.requests('ok').at(-1)?.tlsProtocol).toBe('TLSv1')
  })
})
