import { endpointConfig, monitorSites, siteTenants } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { loadEndpointConfigs } from '../src/index.js'

const database = useTestDatabase()

describe('loadEndpointConfigs', () => {
  it('reads any endpoints in one call with the scheduler defaults, whatever their bucket', async () => {
    const { db } = database()
    const big = 2n ** 60n + 7n
    await db.insert(monitorSites).values([
      { endpointId: 101n, blogId: big, bucketNo: 3, monitorUrl: 'https://a.example/', checkInterval: 5 },
      { endpointId: 102n, blogId: 42n, bucketNo: 900, monitorUrl: 'http://b.example/', monitorActive: 0 },
    ])
    await db.insert(endpointConfig).values({
      endpointId: 101n,
      checkIntervalSec: 30,
      requestMethod: 'HEAD',
      forbiddenKeywords: ['fatal error'],
      customHeaders: { 'X-Token': 'secret' },
    })

    const loaded = await loadEndpointConfigs(db, [101n, 102n, 103n], {
      timeoutMs: 7_000,
      tlsExpiryWarnDays: 14,
      alertCooldownMinutes: 10,
    })
    expect([...loaded.keys()].sort()).toEqual([101n, 102n])
    expect(loaded.get(101n)).toMatchObject({
      active: true,
      config: {
        blogId: big,
        url: 'https://a.example/',
        intervalMs: 30_000,
        method: 'HEAD',
        timeoutMs: 7_000,
        forbiddenKeywords: ['fatal error'],
        customHeaders: { 'X-Token': 'secret' },
        tlsExpiryWarnDays: 14,
      },
    })
    expect(loaded.get(102n)).toMatchObject({ active: false, config: { intervalMs: 300_000, method: 'GET' } })
    expect((await loadEndpointConfigs(db, [])).size).toBe(0)
  })

  it('gives a NULL request method and detection profile the fleet defaults, and keeps stored ones', async () => {
    const { db } = database()
    await db.insert(monitorSites).values([
      { endpointId: 301n, blogId: 3001n, bucketNo: 1, monitorUrl: 'https://bare.example/' },
      { endpointId: 302n, blogId: 3002n, bucketNo: 1, monitorUrl: 'https://nulls.example/' },
      { endpointId: 303n, blogId: 3003n, bucketNo: 1, monitorUrl: 'https://set.example/' },
    ])
    await db
      .insert(endpointConfig)
      .values([{ endpointId: 302n }, { endpointId: 303n, requestMethod: 'GET', detectionProfile: 'simple_http' }])
    const policy = (loaded: Awaited<ReturnType<typeof loadEndpointConfigs>>) =>
      [301n, 302n, 303n].map((id) => [loaded.get(id)?.config.method, loaded.get(id)?.config.profile])

    expect(policy(await loadEndpointConfigs(db, [301n, 302n, 303n]))).toEqual([
      ['GET', 'full'],
      ['GET', 'full'],
      ['GET', 'simple_http'],
    ])
    const fleet = { timeoutMs: 10_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 }
    const legacy = await loadEndpointConfigs(db, [301n, 302n, 303n], {
      ...fleet,
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
    })
    expect(policy(legacy)).toEqual([
      ['HEAD', 'legacy'],
      ['HEAD', 'legacy'],
      ['GET', 'simple_http'],
    ])
  })

  it('marks the endpoints of sites a gateway tenant owns', async () => {
    const { db } = database()
    await db.insert(monitorSites).values([
      { endpointId: 201n, blogId: 2001n, bucketNo: 1, monitorUrl: 'https://tenant.example/' },
      { endpointId: 202n, blogId: 2001n, bucketNo: 1, monitorUrl: 'https://tenant.example/login' },
      { endpointId: 203n, blogId: 2002n, bucketNo: 1, monitorUrl: 'https://operator.example/' },
    ])
    // Two tenants share one site: still one endpoint each, still owned.
    await db.insert(siteTenants).values([
      { tenantId: 'tenant-a', blogId: 2001n },
      { tenantId: 'tenant-b', blogId: 2001n },
    ])
    const loaded = await loadEndpointConfigs(db, [201n, 202n, 203n])
    expect([...loaded.values()].map(({ config }) => [config.endpointId, config.tenantOwned])).toEqual(
      expect.arrayContaining([
        [201n, true],
        [202n, true],
        [203n, false],
      ]),
    )
    expect(loaded.size).toBe(3)
  })
})
