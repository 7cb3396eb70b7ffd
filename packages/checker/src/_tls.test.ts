import { connect, type TLSSocket } from 'node:tls'
import { type FixtureServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CertificateCache, peerCertificateFromSession } from './_tls.js'

let sites: FixtureServer

beforeAll(async () => {
  sites = await startFixtureServer({ fallbackSite: 'ok', requestLogLimit: 0 })
})

afterAll(async () => {
  await sites?.close()
})

/** A completed handshake with the fixture's HTTPS port, handed to `inspect` before the socket closes. */
function handshake<T>(host: string, inspect: (socket: TLSSocket) => T): Promise<T> {
  const url = new URL(sites.url(host, '/', { https: true }))
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: Number(url.port),
      servername: url.hostname,
      ca: sites.ca,
    })
    socket.once('secureConnect', () => {
      try {
        resolve(inspect(socket))
      } catch (error) {
        reject(error)
      } finally {
        socket.destroy()
      }
    })
    socket.once('error', reject)
  })
}

describe('peerCertificateFromSession', () => {
  it("finds the server certificate in the runtime's encoded session", async () => {
    const { der, raw } = await handshake('ok', (socket) => ({
      der: peerCertificateFromSession(socket.getSession() as Buffer),
      raw: socket.getPeerX509Certificate()?.raw,
    }))
    expect(raw).toBeDefined()
    expect(der?.equals(raw as Buffer)).toBe(true)
  })

  it('reads a bare DER session and one behind a header, and refuses bytes that are neither', () => {
    // SEQUENCE { INTEGER 1, [3] { SEQUENCE { 0x05 0x00 } } }: the [3] field holds the certificate.
    const der = Buffer.from([0x30, 0x09, 0x02, 0x01, 0x01, 0xa3, 0x04, 0x30, 0x02, 0x05, 0x00])
    expect(peerCertificateFromSession(der)?.toString('hex')).toBe('30020500')
    const name = Buffer.from('example.com')
    const header = Buffer.concat([
      Buffer.from('\0nodejs:tls:session:1\0', 'latin1'),
      Buffer.from([0, name.length]),
      name,
    ])
    expect(peerCertificateFromSession(Buffer.concat([header, der]))?.toString('hex')).toBe('30020500')
    expect(peerCertificateFromSession(Buffer.from('not a session'))).toBeNull()
    expect(peerCertificateFromSession(Buffer.concat([header, der.subarray(0, 6)]))).toBeNull()
  })
})

describe('CertificateCache', () => {
  it('parses a certificate once and hands the same entry to every handshake that presents it', async () => {
    const cache = new CertificateCache()
    const first = await handshake('ok', (socket) => cache.peerCertificate(socket))
    const second = await handshake('ok', (socket) => cache.peerCertificate(socket))
    expect(first?.subject).toBeTruthy()
    expect(second).toBe(first)
  })
})
