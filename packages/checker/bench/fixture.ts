// The benchmark's fixture fleet, in its own process so that its CPU is not counted as the
// checker's: virtual sites on 100 loopback addresses and a DNS server answering *.bench.test.
import { loopbackAddresses, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'

const addresses = loopbackAddresses(2, 101)
const sites = await startFixtureServer({
  addresses,
  domain: 'bench.test',
  requestLogLimit: 0,
  legacyTls: false,
  fallbackSite: 'ok',
})
const dns = await startDnsServer({ zone: { '*.bench.test': { A: addresses, pick: 'hash' } }, queryLogLimit: 0 })
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, addresses, httpPort: sites.httpPort, httpsPort: sites.httpsPort, dns: dns.server, ca: sites.ca })}\n`,
)
process.on('SIGTERM', () => {
  void Promise.all([sites.close(), dns.close()]).then(() => process.exit(0))
})
