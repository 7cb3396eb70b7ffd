import { rolloutComparisonResults, rolloutJobs } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compare, isCompareJob, listComparisonResults, smoke } from '../src/index.js'
import { countEveryTable, insertSites, type Peers, startPeers } from './_checks-helpers.js'

const database = useTestDatabase()
let peers: Peers

beforeAll(async () => {
  peers = await startPeers()
})
afterAll(async () => {
  await peers?.close()
})

function ctx(): Parameters<typeof compare>[0] {
  return {
    db: database().db,
    actor: 'test:compare',
    check: peers.check,
    bucketTotal: 1000,
    projectionEnabled: true,
    endpointDefaults: { timeoutMs: 3_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 },
  }
}

const legacy = { method: 'HEAD', profile: 'legacy' } as const
const full = { method: 'GET', profile: 'full' } as const

describe('compare', () => {
  it('checks each sampled endpoint under both policies, stores a row each and returns the disagreements', async () => {
    const { db } = database()
    const [ok, empty, head405, down] = await insertSites(db, [
      { url: peers.sites.url('ok'), bucketNo: 10 },
      // HEAD + legacy reads no body; GET + full calls an empty page down.
      { url: peers.sites.url('empty'), bucketNo: 11 },
      // HEAD answers 405, GET 200.
      { url: peers.sites.url('head-405'), bucketNo: 12 },
      { url: peers.sites.url('status-500'), bucketNo: 13 },
    ])
    const before = await countEveryTable(db)

    const result = await compare(ctx(), { bucketMin: 10, bucketMax: 19, sample: 10, a: legacy, b: full })

    const after = await countEveryTable(db)
    expect(after).toEqual({
      ...before,
      jetmon_rollout_jobs: before.jetmon_rollout_jobs! + 1,
      jetmon_rollout_comparison_results: before.jetmon_rollout_comparison_results! + 4,
    })
    expect(result.summary).toEqual({
      activeEndpoints: 4,
      compared: 4,
      agree: 2,
      disagree: 2,
      a: { up: 2, down: 2, unknown: 0 },
      b: { up: 2, down: 2, unknown: 0 },
    })
    expect(result.disagreements.map((row) => [row.endpointId, row.aVerdict, row.bVerdict])).toEqual([
      [empty, 'up', 'down'],
      [head405, 'down', 'up'],
    ])
    expect(result.disagreements[0]!.bDetail).toMatchObject({ error: 'empty_body', httpStatus: 200 })
    expect(result.disagreements[1]!.aDetail).toMatchObject({ error: 'http_status', httpStatus: 405 })

    const all = await listComparisonResults({ db }, { jobId: result.jobId })
    expect(all.map((row) => [row.endpointId, row.disagree])).toEqual([
      [ok, false],
      [empty, true],
      [head405, true],
      [down, false],
    ])
    const firstPage = await listComparisonResults({ db }, { jobId: result.jobId, limit: 1, disagreements: true })
    const secondPage = await listComparisonResults(
      { db },
      { jobId: result.jobId, limit: 1, disagreements: true, after: firstPage[0]!.id },
    )
    expect([...firstPage, ...secondPage].map((row) => row.endpointId)).toEqual([empty, head405])

    const [job] = await db.select().from(rolloutJobs).where(eq(rolloutJobs.id, result.jobId))
    expect(job).toMatchObject({ step: 'compare', outcome: 'applied', parameters: { a: legacy, b: full, sample: 10 } })
    expect(await isCompareJob({ db }, result.jobId)).toBe(true)
  })

  it('compares the same sample smoke checks', async () => {
    const { db } = database()
    await insertSites(
      db,
      Array.from({ length: 20 }, (_, i) => ({ url: peers.sites.url('ok', `/s${i}`), bucketNo: 200 + (i % 5) })),
    )
    const smoked = await smoke(ctx(), { bucketMin: 200, bucketMax: 204, sample: 6 })
    const compared = await compare(ctx(), { bucketMin: 200, bucketMax: 204, sample: 6, a: legacy, b: full })
    const rows = await db
      .select({ endpointId: rolloutComparisonResults.endpointId })
      .from(rolloutComparisonResults)
      .where(eq(rolloutComparisonResults.jobId, compared.jobId))
    expect(rows.map((row) => row.endpointId).sort()).toEqual(smoked.verdicts.map((v) => v.endpointId).sort())
    expect(await isCompareJob({ db }, smoked.jobId)).toBe(false)
  })

  it('calls an empty range and two identical policies warnings, and refuses a policy it does not know', async () => {
    const result = await compare(ctx(), { bucketMin: 950, bucketMax: 959, a: legacy, b: legacy })
    expect(result.summary.compared).toBe(0)
    expect(result.warnings).toEqual([
      expect.stringContaining('no active endpoint in buckets 950–959'),
      expect.stringContaining('a and b are the same policy'),
    ])
    await expect(
      compare(ctx(), { bucketMin: 0, bucketMax: 1, a: legacy, b: { method: 'POST', profile: 'full' } as never }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMETERS', issues: [{ path: 'b.method' }] })
  })
})
