/**
 * The README's first example, run as written against the test kit's fixture sites instead of the
 * internet: `example.com` is a fixture site, the DNS server is the fixture's, and the test CA is
 * trusted next to the system roots. It prints what its comments say, for a site that is up and
 * for one whose certificate has expired.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

let sites: FixtureServer
let dns: DnsServer
const files: URL[] = []

beforeAll(async () => {
  sites = await startFixtureServer({
    requestLogLimit: 0,
    sites: { example: { body: '<!doctype html><title>Example Domain</title><p>Example Domain</p>' } },
  })
  dns = await startDnsServer({ zone: sites.zone() })
})

afterAll(async () => {
  vi.restoreAllMocks()
  for (const file of files) rmSync(file, { force: true })
  await Promise.all([sites?.close(), dns?.close()])
})

/** Runs the example with `url` in place of https://example.com/; what it printed. */
async function runExample(url: string): Promise<unknown[][]> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  expect(code, 'the README has a ts example').toContain("url: 'https://example.com/'")
  expect(code).toContain("dnsServers: ['1.1.1.1'],")
  const file = new URL(`./.readme-example-${process.pid}-${files.length}.ts`, import.meta.url)
  files.push(file)
  writeFileSync(
    file,
    code
      .replace("url: 'https://example.com/'", `url: ${JSON.stringify(url)}`)
      .replace(
        "dnsServers: ['1.1.1.1'],",
        `dnsServers: [${JSON.stringify(dns.server)}], ca: ${JSON.stringify(sites.ca)},`,
      ),
  )
  const printed: unknown[][] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args)
  })
  try {
    await import(file.href)
  } finally {
    log.mockRestore()
  }
  return printed
}

describe('README example', () => {
  it('prints the time and advisories of a site that is up, and its status type', async () => {
    const printed = await runExample(sites.url('example', '/', { https: true }))
    expect(printed).toEqual([[expect.stringMatching(/^up in \d+ ms$/), []], ['success']])
  })

  it('prints why a site whose certificate has expired is down, and its status type', async () => {
    const url = sites.url('expired', '/', { https: true })
    const printed = await runExample(url)
    expect(printed).toEqual([
      [
        expect.stringMatching(
          /^(\S+) is down: tls_expired — the certificate has expired \(on \d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
        ),
      ],
      ['https'],
    ])
    expect(String(printed[0]?.[0])).toContain(`${url} is down`)
  })
})
