import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { noopLogger, siteTenants } from '@jetmon/db'
import { DEFAULT_ENDPOINT_DEFAULTS } from '@jetmon/scheduler'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfirmationPipeline, checkRequestOf, type MonitoredEndpoint } from '../src/pipeline.js'
import { MonitorProbe } from '../src/probe.js'
import { askVerifliers } from '../src/veriflier-client.js'
import { monitoredEndpoint, pipelineSettings, useCheckFixtures } from './fixtures.js'

// A gateway tenant chooses its sites' URLs: checks of them must never reach the network the
// monitor runs in. Everything here is on loopback, which is exactly what the guard refuses.

const world = useCheckFixtures({ requestLogLimit: 100 })
let receiver: Server
let received: unknown[] = []

beforeAll(async () => {
  // A stand-in veriflier that records what the monitor sends and answers every check "up".
  receiver = createServer(async (req: IncomingMessage, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const parsed = JSON.parse(body) as { checks: { endpoint_id: string }[] }
    received.push(parsed)
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        veriflier: { id: 'v1', region: 'test', version: '2.0.0' },
        results: parsed.checks.map((c) => ({
          endpoint_id: c.endpoint_id,
          ok: true,
          error: null,
          error_code: 0,
          http_status: 200,
          timings: { dns_ms: 1, connect_ms: 1, tls_ms: null, ttfb_ms: 1, transfer_ms: 1, total_ms: 4 },
          tls: null,
          dns: null,
          detail: null,
        })),
      }),
    )
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  receiver?.close()
})

async function endpointOf(options: { tenant?: string }): Promise<{ endpointId: bigint; blogId: bigint; site: string }> {
  const { ep, name } = await world.endpoint({})
  if (options.tenant) await world.db.insert(siteTenants).values({ tenantId: options.tenant, blogId: ep.blogId })
  return { endpointId: ep.endpointId, blogId: ep.blogId, site: name }
}

function probeWith(owned: (endpointId: bigint) => MonitoredEndpoint | undefined = () => undefined) {
  const pipeline = new ConfirmationPipeline({
    db: world.db,
    check: world.check,
    decide: () => 'inconclusive',
    settings: pipelineSettings({ hostId: 'guard-host' }),
  })
  return new MonitorProbe({
    db: world.db,
    check: world.check,
    pipeline,
    owned,
    defaults: () => DEFAULT_ENDPOINT_DEFAULTS,
    projection: () => true,
    logger: noopLogger,
  })
}

describe('trigger-now of a gateway tenant’s endpoint', () => {
  it('refuses a loopback target as monitor_error "target not allowed", and still checks the operator’s own endpoint', async () => {
    const tenant = await endpointOf({ tenant: 'tenant-a' })
    const operator = await endpointOf({})
    world.sites.clearRequests()
    const answers = await probeWith().probe([tenant, operator], 'api:gateway')
    expect(answers).toHaveLength(2)
    expect(answers[0]).toMatchObject({
      endpoint_id: Number(tenant.endpointId),
      success: false,
      error: 'monitor_error',
      error_code: 99,
      http_code: null,
      outcome: 'failed',
    })
    expect(answers[0]!.error_detail).toMatch(/^target not allowed: .*127\.0\.0\.1.*loopback/)
    expect(answers[1]).toMatchObject({ endpoint_id: Number(operator.endpointId), success: true, http_code: 200 })
    expect(world.sites.requests(tenant.site)).toEqual([])
    expect(world.sites.requests(operator.site)).toHaveLength(1)
  })
})

describe('the check request of a tenant’s endpoint', () => {
  it('asks the checker and the verifliers to refuse private targets', async () => {
    const tenant = await endpointOf({ tenant: 'tenant-b' })
    const base = monitoredEndpoint({
      endpointId: tenant.endpointId,
      blogId: tenant.blogId,
      url: world.sites.url(tenant.site),
    })
    expect(checkRequestOf({ ...base, tenantOwned: true }).refusePrivateTargets).toBe(true)
    expect(checkRequestOf(base).refusePrivateTargets).toBeUndefined()

    received = []
    const veriflier = {
      id: 'v1',
      region: 'test',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
      token: 'token',
    }
    for (const tenantOwned of [true, false]) {
      await askVerifliers({
        verifliers: [veriflier],
        checks: [{ ...checkRequestOf({ ...base, tenantOwned }), endpointId: tenant.endpointId }],
        timeoutMs: 2_000,
      })
    }
    expect(received.map((body) => (body as { checks: { refuse_private_targets: unknown }[] }).checks[0])).toEqual([
      expect.objectContaining({ refuse_private_targets: true }),
      expect.objectContaining({ refuse_private_targets: false }),
    ])
  })
})
