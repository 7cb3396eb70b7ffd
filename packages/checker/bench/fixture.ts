// The benchmark's fixture fleet, in its own process so that its CPU is not counted as the
// checker's: virtual sites on 100 loopback addresses and a DNS server answering *.bench.test.
// Besides the fixture server's own ports (plain HTTP, and HTTPS with its RSA-2048 chain), two
// HTTPS ports serve the same page with a leaf for *.bench.test of each key type a fleet meets:
// `httpsPorts.rsa` (RSA-2048) and `httpsPorts.ecdsa` (ECDSA P-256), both under the test CA.
import { get } from 'node:http'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createTestPki, loopbackAddresses, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'

const addresses = loopbackAddresses(2, 101)
const pki = await createTestPki()
const sites = await startFixtureServer({
  addresses,
  domain: 'bench.test',
  requestLogLimit: 0,
  legacyTls: false,
  fallbackSite: 'ok',
  pki,
})
const dns = await startDnsServer({ zone: { '*.bench.test': { A: addresses, pick: 'hash' } }, queryLogLimit: 0 })

// The page the plain port answers for a healthy site, so that both schemes read the same bytes.
const page = await new Promise<{ body: Buffer; type: string }>((resolve, reject) => {
  get({ host: addresses[0], port: sites.httpPort, path: '/', headers: { host: 'ok--0.bench.test' } }, (res) => {
    const chunks: Buffer[] = []
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    res.on('end', () =>
      resolve({ body: Buffer.concat(chunks), type: String(res.headers['content-type'] ?? 'text/html') }),
    )
    res.on('error', reject)
  }).on('error', reject)
})

/** One HTTPS port on every address, serving `page` with a leaf of `keyType`. */
async function httpsFleet(keyType: 'rsa-2048' | 'ecdsa-p256'): Promise<{ port: number; servers: Server[] }> {
  const leaf = await pki.issueLeaf({ hosts: ['*.bench.test', 'bench.test'], keyType })
  const servers: Server[] = []
  let port = 0
  for (const address of addresses) {
    const server = createHttpsServer({ key: leaf.key, cert: leaf.chain }, (_req, res) => {
      res.writeHead(200, { 'content-type': page.type, 'content-length': page.body.length, connection: 'close' })
      res.end(page.body)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, address, () => resolve())
    })
    port = (server.address() as AddressInfo).port
    servers.push(server)
  }
  return { port, servers }
}
const rsa = await httpsFleet('rsa-2048')
const ecdsa = await httpsFleet('ecdsa-p256')

process.stdout.write(
  `${JSON.stringify({
    pid: process.pid,
    addresses,
    httpPort: sites.httpPort,
    httpsPort: sites.httpsPort,
    httpsPorts: { rsa: rsa.port, ecdsa: ecdsa.port },
    dns: dns.server,
    ca: sites.ca,
  })}\n`,
)
process.on('SIGTERM', () => {
  for (const server of [...rsa.servers, ...ecdsa.servers]) server.close()
  void Promise.all([sites.close(), dns.close()]).then(() => process.exit(0))
})
