import { createChecker } from '@jetmon/checker'
import { hosts, monitorSites, noopLogger } from '@jetmon/db'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiApp } from '../src/index.js'
import { envelopeOf, useTestApi } from './_helpers.js'

let sites: FixtureServer
let dns: DnsServer
let check: ReturnType<typeof createChecker>

const harness = useTestApi({
  deps: {
    rolloutChecks: () => ({
      check,
      bucketTotal: 1000,
      projectionEnabled: true,
      verifliers: [],
      endpointDefaults: { timeoutMs: 3_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 },
    }),
  },
})

beforeAll(async () => {
  sites = await startFixtureServer()
  dns = await startDnsServer({ zone: sites.zone() })
  check = createChecker({ dnsServers: [dns.server], ca: [sites.ca] })
})
afterAll(async () => {
  await Promise.all([sites?.close(), dns?.close()])
})

let nextBlogId = 8_100_000_000n
async function insertSites(rows: { url: string; bucketNo: number }[]): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const row of rows) {
    const [header] = await harness()
      .database.db.insert(monitorSites)
      .values({ blogId: nextBlogId++, monitorUrl: row.url, bucketNo: row.bucketNo })
    ids.push(BigInt(header.insertId))
  }
  return ids
}

async function countEveryTable(): Promise<Record<string, number>> {
  const { db } = harness().database
  const [tables] = (await db.execute(
    sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'`,
  )) as unknown as [{ name: string }[]]
  const counts: Record<string, number> = {}
  for (const { name } of tables) {
    const [rows] = (await db.execute(sql.raw(`SELECT COUNT(*) AS n FROM \`${name}\``))) as unknown as [
      { n: number | string }[],
    ]
    counts[name] = Number(rows[0]?.n ?? 0)
  }
  return counts
}

const post = (path: string, body: unknown, token?: string) =>
  harness().fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(token ? { token } : {}),
  })

describe('POST /rollout/preflight', () => {
  it('answers every check and the job, admin scope only', async () => {
    const now = new Date()
    await harness()
      .database.db.insert(hosts)
      .values({ hostId: 'api-host-b', rolloutMode: 'api-controlled', heartbeatAt: now, leaseExpiresAt: now })
    const { data } = await harness().client.admin.call('rollout.preflight', {
      body: { bucket_min: 0, bucket_max: 9, host_id: 'api-host-b' },
    })
    expect(data.job_id).toEqual(expect.any(Number))
    expect(data.ok).toBe(true)
    expect(data.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['verifliers_reachable'])
    expect(data.checks.find((c) => c.name === 'host_api_controlled')).toMatchObject({ ok: true, severity: 'blocking' })

    const refused = await post(
      '/rollout/preflight',
      { bucket_min: 0, bucket_max: 9, host_id: 'x' },
      harness().tokens.write,
    )
    expect(refused.status).toBe(403)
  })
})

describe('POST /rollout/smoke', () => {
  it('checks HTTP and HTTPS sites of the sample and writes nothing but its job', async () => {
    const [http, https, failing] = await insertSites([
      { url: sites.url('ok'), bucketNo: 20 },
      { url: sites.url('valid', '/', { https: true }), bucketNo: 21 },
      { url: sites.url('expired', '/', { https: true }), bucketNo: 22 },
    ])
    await harness().api.audit.flush()
    const before = await countEveryTable()
    const { data } = await harness().client.admin.call('rollout.smoke', { body: { bucket_min: 20, bucket_max: 29 } })
    await harness().api.audit.flush()
    // The job, and the API's own access row for the request (every request has one).
    expect(await countEveryTable()).toEqual({
      ...before,
      jetmon_rollout_jobs: before.jetmon_rollout_jobs! + 1,
      jetmon_audit_log: before.jetmon_audit_log! + 1,
    })

    expect(data).toMatchObject({ method: 'HEAD', profile: 'legacy', warnings: [expect.stringContaining('1 of 3')] })
    expect(data.summary).toEqual({
      active_endpoints: 3,
      checked: 3,
      up: 2,
      down: 1,
      unknown: 0,
      errors: { tls_expired: 1 },
      veriflier_disagreements: null,
    })
    const byId = new Map(data.verdicts.map((verdict) => [BigInt(verdict.endpoint_id), verdict]))
    expect(byId.get(http!)).toMatchObject({ verdict: 'up', http_status: 200, bucket_no: 20 })
    expect(byId.get(https!)).toMatchObject({
      verdict: 'up',
      http_status: 200,
      url: sites.url('valid', '/', { https: true }),
    })
    expect(byId.get(failing!)).toMatchObject({ verdict: 'down', error: 'tls_expired', error_code: 6 })
  })

  it('answers 400 with the path of each problem', async () => {
    const bad = await post('/rollout/smoke', { bucket_min: -1, bucket_max: 9, sample: 501, method: 'POST', extra: 1 })
    expect(bad.status).toBe(400)
    const error = await envelopeOf(bad)
    expect(error.code).toBe('invalid_request')
    expect(error.details?.map((d) => d.path).sort()).toEqual(['bucket_min', 'extra', 'method', 'sample'])

    for (const [body, path] of [
      [{ bucket_min: 0, bucket_max: 1000 }, 'bucket_max'],
      [{ bucket_min: 9, bucket_max: 1 }, 'bucket_max'],
    ] as const) {
      const response = await post('/rollout/smoke', body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect((await envelopeOf(response)).details).toEqual([{ path, message: expect.any(String) }])
    }
  })

  it('answers 404 for an unknown session', async () => {
    const response = await post('/rollout/smoke', { bucket_min: 0, bucket_max: 1, session_id: 999_999_999 })
    expect(response.status).toBe(404)
    expect((await envelopeOf(response)).code).toBe('session_not_found')
  })

  it('answers 503 probe_unavailable in a process that cannot run checks', async () => {
    const bare = createApiApp({ db: harness().database.db, logger: noopLogger })
    const response = await bare.app.request('/api/v1/rollout/smoke', {
      method: 'POST',
      headers: { authorization: `Bearer ${harness().tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ bucket_min: 0, bucket_max: 1 }),
    })
    expect(response.status).toBe(503)
    expect((await envelopeOf(response)).code).toBe('probe_unavailable')
    await bare.close()
  })
})

describe('POST /rollout/compare and GET /rollout/compare/{job_id}', () => {
  it('returns the disagreements and pages every row, or only the disagreements', async () => {
    const [ok, empty, head405] = await insertSites([
      { url: sites.url('ok'), bucketNo: 40 },
      { url: sites.url('empty'), bucketNo: 41 },
      { url: sites.url('head-405'), bucketNo: 42 },
    ])
    const { admin } = harness().client
    const { data } = await admin.call('rollout.compare', {
      body: {
        bucket_min: 40,
        bucket_max: 49,
        a: { method: 'HEAD', profile: 'legacy' },
        b: { method: 'GET', profile: 'full' },
      },
    })
    expect(data.summary).toMatchObject({ compared: 3, agree: 1, disagree: 2 })
    expect(data.disagreements.map((row) => [BigInt(row.endpoint_id), row.a_verdict, row.b_verdict])).toEqual([
      [empty, 'up', 'down'],
      [head405, 'down', 'up'],
    ])
    expect(data.disagreements[0]!.b).toMatchObject({ error: 'empty_body', http_status: 200 })

    const first = await admin.call('rollout.compareResults', { params: { job_id: data.job_id }, query: { limit: 2 } })
    expect(first.data.data.map((row) => BigInt(row.endpoint_id))).toEqual([ok, empty])
    const second = await admin.call('rollout.compareResults', {
      params: { job_id: data.job_id },
      query: { limit: 2, cursor: first.data.page.next! },
    })
    expect(second.data.data.map((row) => BigInt(row.endpoint_id))).toEqual([head405])
    expect(second.data.page.next).toBeNull()
    const only = await admin.call('rollout.compareResults', {
      params: { job_id: data.job_id },
      query: { disagreements: true },
    })
    expect(only.data.data.map((row) => row.disagree)).toEqual([true, true])

    const missing = await harness().fetch('/rollout/compare/999999999')
    expect(missing.status).toBe(404)
    expect((await envelopeOf(missing)).code).toBe('compare_job_not_found')

    const noPolicy = await post('/rollout/compare', { bucket_min: 0, bucket_max: 1, a: { method: 'HEAD' } })
    expect((await envelopeOf(noPolicy)).details?.map((d) => d.path).sort()).toEqual(['a.profile', 'b'])
  })
})
