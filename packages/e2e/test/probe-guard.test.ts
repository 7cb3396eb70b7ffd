// End to end: `jetmon2 serve` refuses to check a gateway tenant's URL when it reaches the network
// the monitor runs in (here: loopback, where every fixture lives), through trigger-now, while the
// operator's own endpoints are checked; CHECK_ALLOW_PRIVATE_TARGETS=false (applied by a reload)
// extends the refusal to every endpoint.
import { createJetmonClient, type JetmonClient } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import type { FixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetmon2 } from './jetmon2.js'
import { type RunningServe, startServe } from './serve.js'

let serve: RunningServe
let sites: FixtureServer
let output: RunningServe['output']
let env: RunningServe['env']
let writeConfig: RunningServe['writeConfig']
let operator: JetmonClient
let gateway: JetmonClient
/** The gateway acts for one tenant per request. */
const asTenant = { headers: { 'X-Jetmon-Tenant-ID': 'tenant-e2e' } }

beforeAll(async () => {
  serve = await startServe({ name: 'guard', sites: { requestLogLimit: 100 } })
  ;({ sites, output, env, writeConfig } = serve)
  const { db } = serve.t
  const admin = await createApiKey({ ctx: { db }, input: { consumer: 'e2e', scope: 'admin', createdBy: 'e2e' } })
  const gatewayKey = await createApiKey({
    ctx: { db },
    input: { consumer: 'gateway', scope: 'write', createdBy: 'e2e' },
  })
  operator = createJetmonClient({ baseUrl: serve.apiUrl, token: admin.token })
  gateway = createJetmonClient({ baseUrl: serve.apiUrl, token: gatewayKey.token })
}, 90_000)

afterAll(() => serve?.close())

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
