// End to end: `jetmon2 serve` refuses to check a gateway tenant's URL when it reaches the network
// the monitor runs in (here: loopback, where every fixture lives), through trigger-now, while the
// operator's own endpoints are checked; CHECK_ALLOW_PRIVATE_TARGETS=false (applied by a reload)
// extends the refusal to every endpoint.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createJetmonClient, type JetmonClient } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import { createTestDatabase, refusedPort, type TestDatabase } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetmon2, lines, spawnJetmon2 } from './jetmon2.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon-e2e-guard-'))
const configFile = join(tmp, 'jetmon2.json')
let sites: FixtureServer
let dns: DnsServer
let t: TestDatabase
let monitor: ChildProcess
let output: ReturnType<typeof lines>
let operator: JetmonClient
let gateway: JetmonClient
let apiPort = 0
/** The gateway acts for one tenant per request. */
const asTenant = { headers: { 'X-Jetmon-Tenant-ID': 'tenant-e2e' } }

function writeConfig(overrides: Record<string, unknown> = {}) {
  writeFileSync(
    configFile,
    JSON.stringify({
      DATABASE_URL: t.url,
      HOST_ID: `e2e-guard-${t.name}`,
      DNS_SERVERS: [dns.server],
      CA_FILE: join(tmp, 'ca.pem'),
      VERIFLIERS: [],
      CHECK_TIMEOUT_MS: 3_000,
      TARGET_RELOAD_SEC: 1,
      DASHBOARD_PORT: 0,
      API_PORT: apiPort,
      WPCOM_NOTIFY_ENABLE: false,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...overrides,
    }),
  )
}

const env = () => ({ JETMON_CONFIG: configFile, DATABASE_URL: '' })

beforeAll(async () => {
  sites = await startFixtureServer({ requestLogLimit: 100 })
  dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(join(tmp, 'ca.pem'), sites.ca)
  t = await createTestDatabase()
  apiPort = await refusedPort() // free until the monitor's REST API binds it
  writeConfig()
  monitor = spawnJetmon2(['serve'], env())
  output = lines(monitor)
  const listening = await output.until(/REST API listening/, 45_000)
  const { url } = JSON.parse(listening) as { url: string }
  const admin = await createApiKey({ ctx: { db: t.db }, input: { consumer: 'e2e', scope: 'admin', createdBy: 'e2e' } })
  const gatewayKey = await createApiKey({
    ctx: { db: t.db },
    input: { consumer: 'gateway', scope: 'write', createdBy: 'e2e' },
  })
  operator = createJetmonClient({ baseUrl: url, token: admin.token })
  gateway = createJetmonClient({ baseUrl: url, token: gatewayKey.token })
  await output.until(/monitor running/)
}, 90_000)

afterAll(async () => {
  if (monitor?.exitCode === null) monitor.kill('SIGKILL')
  await Promise.all([sites?.close(), dns?.close()])
  await t?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

describe('jetmon2 serve and URLs that reach its own network', () => {
  it('refuses a tenant’s loopback URL in trigger-now ("target not allowed"), and checks the operator’s', async () => {
    await gateway.call(
      'sites.create',
      { body: { blog_id: 8101, monitor_url: sites.url('ok', '/tenant'), check_interval_sec: 3600 } },
      asTenant,
    )
    await operator.call('sites.create', {
      body: { blog_id: 8102, monitor_url: sites.url('ok', '/operator'), check_interval_sec: 3600 },
    })
    sites.clearRequests()
    const tenant = await gateway.call('sites.triggerNow', { params: { blog_id: 8101 } }, asTenant)
    expect(tenant.data.results[0]).toMatchObject({ success: false, error: 'monitor_error', error_code: 99 })
    expect(tenant.data.results[0]!.error_detail).toMatch(/^target not allowed: .*loopback/)
    const own = await operator.call('sites.triggerNow', { params: { blog_id: 8102 } })
    expect(own.data.results[0]).toMatchObject({ success: true, http_code: 200 })
    expect(sites.requests('ok').map((request) => request.path)).toEqual(['/operator'])
  }, 60_000)

  it('refuses every endpoint’s loopback URL after a reload with CHECK_ALLOW_PRIVATE_TARGETS=false', async () => {
    writeConfig({ CHECK_ALLOW_PRIVATE_TARGETS: false })
    expect((await jetmon2(['reload'], env())).code).toBe(0)
    await output.until(/configuration reloaded/)
    const own = await operator.call('sites.triggerNow', { params: { blog_id: 8102 } })
    expect(own.data.results[0]).toMatchObject({ success: false, error: 'monitor_error' })
    expect(own.data.results[0]!.error_detail).toMatch(/^target not allowed: /)
  }, 60_000)
})
