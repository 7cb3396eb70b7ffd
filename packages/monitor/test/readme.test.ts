import { createChecker } from '@jetmon/checker'
import { monitorSites } from '@jetmon/db'
import { listOpenEvents } from '@jetmon/eventstore'
import { refusedPort } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { askVerifliers, ConfirmationPipeline, decide, type MonitoredEndpoint, quorumOf } from '../src/index.js'
import { useCheckFixtures } from './fixtures.js'

// The README's usage example, composed the same way against a real database, a real site and a
// veriflier that cannot be reached.

const world = useCheckFixtures()

describe('README usage', () => {
  it('checks an endpoint through the pipeline; a failure the verifliers cannot confirm stays Seems Down', async () => {
    const verifliers = [
      { id: 'eu-1', region: 'eu-west', url: `http://127.0.0.1:${await refusedPort()}/`, token: 'secret' },
    ]
    const quorum = quorumOf(verifliers.length, 'auto')
    const pipeline = new ConfirmationPipeline({
      db: world.db,
      check: createChecker({ dnsServers: [world.dns.server], ca: world.sites.ca }),
      decide,
      askVerifliers: async (endpoint, request) => {
        const votes = await askVerifliers({
          verifliers,
          checks: [{ ...request, endpointId: endpoint.endpointId, blogId: endpoint.blogId }],
          timeoutMs: 15_000,
          quorum,
        })
        return votes.get(endpoint.endpointId) ?? []
      },
      settings: {
        hostId: 'mon-1',
        numOfChecks: 3,
        retryIntervalMs: 20_000,
        failedCheckIntervalMs: 60_000,
        flapWindowMs: 900_000,
        veriflierCount: verifliers.length,
        quorum,
        projection: true,
      },
    })
    world.sites.setSite('readme', { status: 200 })
    const url = world.sites.url('readme')
    const [row] = await world.db.insert(monitorSites).values({ blogId: 100n, monitorUrl: url }).$returningId()
    const endpoint: MonitoredEndpoint = {
      endpointId: BigInt(row!.endpointId),
      blogId: 100n,
      url,
      intervalMs: 60_000,
      timeoutMs: 10_000,
      method: 'GET',
      redirectPolicy: 'follow',
      maxRedirects: 10,
      keyword: null,
      forbiddenKeywords: null,
      keywordCaseSensitive: true,
      customHeaders: null,
      latencyThresholdMs: null,
      tlsExpiryWarnDays: 30,
      alertCooldownMinutes: null,
    }

    expect(await pipeline.runCheck(endpoint)).toBeUndefined()

    world.sites.setSite('readme', { status: 500 })
    for (let i = 0; i < 3; i++) expect(await pipeline.runCheck(endpoint)).toBe(20_000)
    await pipeline.settle()
    const open = await listOpenEvents({ ctx: { db: world.db }, endpointId: endpoint.endpointId })
    expect(open.map((event) => [event.checkType, event.state])).toEqual([['http', 'Seems Down']])
    expect(pipeline.confirmationUnavailable(endpoint.endpointId)).toBe(true)
  })
})
