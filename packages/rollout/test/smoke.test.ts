import { events, eventTransitions, monitorSites, rolloutJobs, rolloutSessions, siteTenants } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, InvalidParametersError, smoke } from '../src/index.js'
import { countEveryTable, insertSites, type Peers, startPeers } from './_checks-helpers.js'

const database = useTestDatabase()
let peers: Peers

beforeAll(async () => {
  peers = await startPeers()
})
afterAll(async () => {
  await peers?.close()
})

function ctx(extra: Partial<Parameters<typeof smoke>[0]> = {}): Parameters<typeof smoke>[0] {
  return {
    db: database().db,
    actor: 'test:smoke',
    check: peers.check,
    bucketTotal: 1000,
    projectionEnabled: true,
    endpointDefaults: { timeoutMs: 3_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 },
    ...extra,
  }
}

describe('smoke', () => {
  it('checks the sample with HEAD + legacy by default and writes nothing but its job row', async () => {
    const { db } = database()
    const ids = await insertSites(db, [
      { url: peers.sites.url('ok'), bucketNo: 10 },
      { url: peers.sites.url('status-500'), bucketNo: 11 },
      // HEAD + legacy does not read the body: an empty page passes.
      { url: peers.sites.url('empty'), bucketNo: 12 },
      { url: peers.sites.url('ok'), bucketNo: 13, active: 0 },
      { url: peers.sites.url('ok'), bucketNo: 20 },
    ])
    peers.sites.clearRequests()
    const before = await countEveryTable(db)

    const result = await smoke(ctx(), { bucketMin: 10, bucketMax: 19 })

    const after = await countEveryTable(db)
    expect(after).toEqual({ ...before, jetmon_rollout_jobs: before.jetmon_rollout_jobs! + 1 })
    expect(result.policy).toEqual({ method: 'HEAD', profile: 'legacy' })
    expect(result.verdicts.map((v) => v.endpointId).sort()).toEqual([ids[0], ids[1], ids[2]].sort())
    const byId = new Map(result.verdicts.map((v) => [v.endpointId, v]))
    expect(byId.get(ids[0]!)).toMatchObject({ verdict: 'up', httpStatus: 200, error: null })
    expect(byId.get(ids[1]!)).toMatchObject({ verdict: 'down', httpStatus: 500, error: 'http_status' })
    expect(byId.get(ids[2]!)).toMatchObject({ verdict: 'up' })
    expect(result.summary).toEqual({
      activeEndpoints: 3,
      checked: 3,
      up: 2,
      down: 1,
      unknown: 0,
      errors: { http_status: 1 },
    })
    expect(result.warnings).toEqual([expect.stringContaining('1 of 3 sampled endpoints fail with HEAD + legacy')])
    expect(peers.sites.requests('ok').map((r) => r.method)).toEqual(['HEAD'])

    const [job] = await db.select().from(rolloutJobs).where(eq(rolloutJobs.id, result.jobId))
    expect(job).toMatchObject({
      step: 'smoke',
      outcome: 'applied',
      actor: 'test:smoke',
      parameters: { bucket_min: 10, bucket_max: 19, sample: 50, method: 'HEAD', profile: 'legacy', verifliers: false },
    })
    expect((job!.result as { failures: unknown[] }).failures).toEqual([
      expect.objectContaining({ endpoint_id: ids[1]!.toString(), verdict: 'down', error: 'http_status' }),
    ])
  })

  it('takes the same deterministic sample every time, spread over the range, with the policy asked for', async () => {
    const { db } = database()
    const urls = Array.from({ length: 30 }, (_, i) => ({
      url: peers.sites.url('ok', `/${i}`),
      bucketNo: 100 + (i % 10),
    }))
    await insertSites(db, urls)
    const first = await smoke(ctx(), { bucketMin: 100, bucketMax: 109, sample: 7, method: 'GET', profile: 'full' })
    const second = await smoke(ctx(), { bucketMin: 100, bucketMax: 109, sample: 7, method: 'GET', profile: 'full' })
    expect(first.verdicts).toHaveLength(7)
    expect(second.verdicts.map((v) => v.endpointId)).toEqual(first.verdicts.map((v) => v.endpointId))
    // Not simply the lowest ids.
    const ids = first.verdicts.map((v) => v.endpointId).sort((a, b) => (a < b ? -1 : 1))
    expect(ids[6]! - ids[0]!).toBeGreaterThan(6n)
    expect(first.summary).toMatchObject({ activeEndpoints: 30, checked: 7, up: 7 })
    expect(first.policy).toEqual({ method: 'GET', profile: 'full' })
  })

  it('runs at most `concurrency` checks at once', async () => {
    const { db } = database()
    await insertSites(
      db,
      Array.from({ length: 12 }, (_, i) => ({ url: peers.sites.url('ok', `/c${i}`), bucketNo: 300 })),
    )
    let running = 0
    let most = 0
    const check: typeof peers.check = async (request) => {
      running++
      most = Math.max(most, running)
      try {
        return await peers.check(request)
      } finally {
        running--
      }
    }
    const result = await smoke(ctx({ check, concurrency: 3 }), { bucketMin: 300, bucketMax: 300 })
    expect(result.summary.checked).toBe(12)
    expect(most).toBe(3)
  })

  it('calls an empty range a warning, and asks the verifliers when told to', async () => {
    const empty = await smoke(ctx(), { bucketMin: 900, bucketMax: 909 })
    expect(empty.summary).toMatchObject({ activeEndpoints: 0, checked: 0 })
    expect(empty.warnings).toEqual([expect.stringContaining('no active endpoint in buckets 900–909')])

    const { db } = database()
    const [up, down] = await insertSites(db, [
      { url: peers.sites.url('ok'), bucketNo: 400 },
      { url: peers.sites.url('status-500'), bucketNo: 400 },
    ])
    const eu = await peers.veriflier('eu-1', 'eu-west')
    const us = await peers.veriflier('us-1', 'us-east')
    const before = await countEveryTable(db)
    const result = await smoke(ctx({ verifliers: [eu, us] }), { bucketMin: 400, bucketMax: 400, verifliers: true })
    expect(await countEveryTable(db)).toEqual({ ...before, jetmon_rollout_jobs: before.jetmon_rollout_jobs! + 1 })
    const byId = new Map(result.verdicts.map((v) => [v.endpointId, v]))
    expect(byId.get(up!)?.votes?.map((vote) => `${vote.veriflier}:${vote.vote}`)).toEqual(['eu-1:up', 'us-1:up'])
    expect(byId.get(down!)?.votes?.map((vote) => `${vote.veriflier}:${vote.vote}:${vote.httpStatus}`)).toEqual([
      'eu-1:down:500',
      'us-1:down:500',
    ])
    expect(result.summary.veriflierDisagreements).toBe(0)

    const none = await smoke(ctx(), { bucketMin: 400, bucketMax: 400, verifliers: true })
    expect(none.warnings).toContainEqual(expect.stringContaining('none are configured'))
  })

  it("checks a gateway tenant's endpoint through the private-target guard, as trigger-now does", async () => {
    const { db } = database()
    const [id] = await insertSites(db, [{ url: peers.sites.url('ok'), bucketNo: 500 }])
    const [site] = await db.select().from(monitorSites).where(eq(monitorSites.endpointId, id!))
    await db.insert(siteTenants).values({ tenantId: 'tenant-a', blogId: site!.blogId })
    const result = await smoke(ctx(), { bucketMin: 500, bucketMax: 500 })
    expect(result.verdicts[0]).toMatchObject({ verdict: 'unknown', error: 'monitor_error' })
    expect(result.verdicts[0]!.detail).toMatch(/^target not allowed/)
    expect(await db.select().from(events).where(eq(events.endpointId, id!))).toEqual([])
    expect(await db.select().from(eventTransitions).where(eq(eventTransitions.endpointId, id!))).toEqual([])
  })

  it('refuses a range outside BUCKET_TOTAL, a sample above 500 and an unknown policy', async () => {
    const refused = (path: string) => ({ code: 'INVALID_PARAMETERS', issues: [{ path, message: expect.any(String) }] })
    await expect(smoke(ctx(), { bucketMin: 0, bucketMax: 1000 })).rejects.toMatchObject(refused('bucket_max'))
    await expect(smoke(ctx(), { bucketMin: 5, bucketMax: 4 })).rejects.toBeInstanceOf(InvalidParametersError)
    await expect(smoke(ctx(), { bucketMin: 5, bucketMax: 4 })).rejects.toMatchObject(refused('bucket_max'))
    await expect(smoke(ctx(), { bucketMin: 0, bucketMax: 1, sample: 501 })).rejects.toMatchObject(refused('sample'))
    await expect(smoke(ctx(), { bucketMin: 0, bucketMax: 1, profile: 'strict' as never })).rejects.toMatchObject(
      refused('profile'),
    )
  })

  it('records its job with an open session, and refuses an unknown or closed one', async () => {
    const { db } = database()
    const session = await createSession(ctx(), { name: 'smoke-session', bucket_min: 0, bucket_max: 9 })
    const result = await smoke(ctx(), { bucketMin: 0, bucketMax: 9, sessionId: session.id })
    const [job] = await db.select().from(rolloutJobs).where(eq(rolloutJobs.id, result.jobId))
    expect(job?.sessionId).toBe(session.id)
    await expect(smoke(ctx(), { bucketMin: 0, bucketMax: 9, sessionId: 999_999_999n })).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    })
    await db.update(rolloutSessions).set({ state: 'closed' }).where(eq(rolloutSessions.id, session.id))
    await expect(smoke(ctx(), { bucketMin: 0, bucketMax: 9, sessionId: session.id })).rejects.toMatchObject({
      code: 'SESSION_CLOSED',
    })
  })
})
