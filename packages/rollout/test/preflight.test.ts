import { MIGRATIONS_TABLE, rolloutJobs, rolloutLocks } from '@jetmon/db'
import type { VeriflierTarget } from '@jetmon/monitor'
import { useTestDatabase } from '@jetmon/testkit'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PreflightCheck, preflight } from '../src/index.js'
import { countEveryTable, insertSites, type Peers, startPeers, upsertHost } from './_checks-helpers.js'

const database = useTestDatabase()
let peers: Peers
let eu: VeriflierTarget
let us: VeriflierTarget
const NOW = new Date('2026-06-01T12:00:00.000Z')

beforeAll(async () => {
  peers = await startPeers()
  eu = await peers.veriflier('eu-1', 'eu-west')
  us = await peers.veriflier('us-1', 'us-east')
})
afterAll(async () => {
  await peers?.close()
})

type Ctx = Parameters<typeof preflight>[0]
function ctx(extra: Partial<Ctx> = {}): Ctx {
  return {
    db: database().db,
    actor: 'test:preflight',
    clock: () => NOW,
    check: peers.check,
    bucketTotal: 1000,
    projectionEnabled: true,
    verifliers: [eu, us],
    veriflierQuorum: 2,
    veriflierTimeoutMs: 5_000,
    ...extra,
  }
}

const byName = (checks: PreflightCheck[]) => Object.fromEntries(checks.map((check) => [check.name, check]))
const failing = (checks: PreflightCheck[]) => checks.filter((check) => !check.ok).map((check) => check.name)

describe('preflight', () => {
  it('passes every check for a clean range and a fresh api-controlled host, and records its job only', async () => {
    const { db } = database()
    await insertSites(db, [{ url: peers.sites.url('ok'), bucketNo: 10 }])
    await upsertHost(db, { hostId: 'host-b', mode: 'api-controlled', heartbeatAt: new Date(NOW.getTime() - 5_000) })
    const before = await countEveryTable(db)

    const result = await preflight(ctx(), { bucketMin: 10, bucketMax: 19, hostId: 'host-b' })

    expect(failing(result.checks)).toEqual([])
    expect(result.ok).toBe(true)
    expect(result.checks.map((check) => check.name)).toEqual([
      'database_migrated',
      'host_registered',
      'host_api_controlled',
      'host_heartbeat_fresh',
      'no_overlapping_lock',
      'no_pinned_host',
      'no_dynamic_owner',
      'verifliers_reachable',
      'verifliers_protocol',
      'verifliers_distinct',
      'verifliers_quorum',
      'audit_clean',
      'projection_enabled',
    ])
    expect(byName(result.checks).verifliers_quorum?.details).toMatchObject({ quorum: 2, usable_vantages: 2 })
    expect(await countEveryTable(db)).toEqual({ ...before, jetmon_rollout_jobs: before.jetmon_rollout_jobs! + 1 })
    const [job] = await db.select().from(rolloutJobs).where(eq(rolloutJobs.id, result.jobId))
    expect(job).toMatchObject({
      step: 'preflight',
      outcome: 'applied',
      parameters: { bucket_min: 10, bucket_max: 19, host_id: 'host-b' },
    })
  })

  it('blocks on an unknown host, a host in another mode and a stale heartbeat', async () => {
    const { db } = database()
    const unknown = await preflight(ctx(), { bucketMin: 10, bucketMax: 19, hostId: 'nobody' })
    expect(unknown.ok).toBe(false)
    expect(failing(unknown.checks)).toEqual(['host_registered', 'host_api_controlled', 'host_heartbeat_fresh'])
    expect(byName(unknown.checks).host_registered?.message).toContain('ROLLOUT_MODE=api-controlled')

    await upsertHost(db, { hostId: 'host-active', mode: 'active', heartbeatAt: new Date(NOW.getTime() - 120_000) })
    const wrong = await preflight(ctx(), { bucketMin: 10, bucketMax: 19, hostId: 'host-active' })
    expect(failing(wrong.checks)).toEqual(['host_api_controlled', 'host_heartbeat_fresh'])
    expect(byName(wrong.checks).host_heartbeat_fresh?.message).toContain('120 s ago')
    const [job] = await db.select().from(rolloutJobs).where(eq(rolloutJobs.id, wrong.jobId))
    expect(job?.outcome).toBe('blocked')
  })

  it('blocks on another lock, a pinned host or a dynamic host on the range; warns on its own lock', async () => {
    const { db } = database()
    const heartbeatAt = new Date(NOW.getTime() - 1_000)
    await upsertHost(db, { hostId: 'host-c', mode: 'api-controlled', heartbeatAt })
    await upsertHost(db, {
      hostId: 'pinned-1',
      mode: 'active',
      heartbeatAt,
      pinned: true,
      bucketMin: 25,
      bucketMax: 34,
    })
    await upsertHost(db, { hostId: 'dyn-1', mode: 'active', heartbeatAt, bucketMin: 38, bucketMax: 60 })
    // An expired dynamic host owns nothing any more.
    await upsertHost(db, {
      hostId: 'dyn-gone',
      mode: 'active',
      heartbeatAt: new Date(NOW.getTime() - 600_000),
      leaseExpiresAt: new Date(NOW.getTime() - 500_000),
      bucketMin: 0,
      bucketMax: 999,
    })
    const lock = { activatedAt: NOW, createdBy: 'test', state: 'active' as const }
    await db.insert(rolloutLocks).values([
      { ...lock, bucketMin: 30, bucketMax: 31, hostId: 'host-other' },
      { ...lock, bucketMin: 20, bucketMax: 20, hostId: 'host-x', state: 'released' as const },
    ])

    const result = await preflight(ctx(), { bucketMin: 20, bucketMax: 39, hostId: 'host-c' })
    expect(failing(result.checks)).toEqual(['no_overlapping_lock', 'no_pinned_host', 'no_dynamic_owner'])
    const checks = byName(result.checks)
    expect(checks.no_overlapping_lock?.details).toMatchObject({ locks: [{ bucket_min: 30, host_id: 'host-other' }] })
    expect(checks.no_pinned_host?.message).toContain('pinned-1 (25–34)')
    expect(checks.no_dynamic_owner?.message).toContain('dyn-1 (38–60)')
    expect(checks.no_dynamic_owner?.message).not.toContain('dyn-gone')

    await db.insert(rolloutLocks).values({ ...lock, bucketMin: 70, bucketMax: 79, hostId: 'host-c' })
    const again = await preflight(ctx(), { bucketMin: 70, bucketMax: 79, hostId: 'host-c' })
    expect(failing(again.checks)).toEqual(['no_overlapping_lock'])
    expect(byName(again.checks).no_overlapping_lock?.severity).toBe('warning')
    expect(again.ok).toBe(true)
  })

  it('counts verifliers that share an id or a region once toward the quorum, and reports unreachable and incompatible ones', async () => {
    const { db } = database()
    await upsertHost(db, { hostId: 'host-d', mode: 'api-controlled', heartbeatAt: NOW })
    const euTwin = await peers.veriflier('eu-2', 'eu-west')
    const gone: VeriflierTarget = {
      id: 'gone-1',
      region: 'ap-south',
      url: `http://127.0.0.1:${peers.sites.refusedPort}/`,
      token: 'x',
    }
    const wrongToken: VeriflierTarget = { ...us, id: 'us-2', region: 'us-west', token: 'not-the-token-0000' }

    const result = await preflight(ctx({ verifliers: [eu, euTwin, gone, wrongToken], veriflierQuorum: 2 }), {
      bucketMin: 100,
      bucketMax: 109,
      hostId: 'host-d',
    })
    const checks = byName(result.checks)
    expect(failing(result.checks)).toEqual([
      'verifliers_reachable',
      'verifliers_protocol',
      'verifliers_distinct',
      'verifliers_quorum',
    ])
    expect(checks.verifliers_reachable?.message).toContain('gone-1')
    expect(checks.verifliers_protocol?.message).toContain('us-2')
    expect(checks.verifliers_protocol?.message).toContain('401')
    expect(checks.verifliers_distinct?.details).toEqual({ vantages: [['eu-1', 'eu-2'], ['gone-1'], ['us-2']] })
    expect(checks.verifliers_quorum?.details).toMatchObject({ quorum: 2, vantages: 3, usable_vantages: 1 })
    expect(result.ok).toBe(false)

    const none = await preflight(ctx({ verifliers: [] }), { bucketMin: 100, bucketMax: 109, hostId: 'host-d' })
    expect(failing(none.checks)).toEqual(['verifliers_reachable'])
    expect(none.ok).toBe(true)
  })

  it('blocks on a blocking audit finding in the range, a pending migration and the projection turned off', async () => {
    const { db } = database()
    await upsertHost(db, { hostId: 'host-e', mode: 'api-controlled', heartbeatAt: NOW })
    await insertSites(db, [
      { url: 'not a url', bucketNo: 600 },
      { url: 'ftp://example.com/', bucketNo: 700 },
    ])
    const audited = await preflight(ctx({ projectionEnabled: false }), {
      bucketMin: 600,
      bucketMax: 600,
      hostId: 'host-e',
    })
    expect(failing(audited.checks)).toEqual(['audit_clean', 'projection_enabled'])
    expect(byName(audited.checks).audit_clean?.message).toContain('invalid_monitor_url (1)')

    const [[last]] = (await db.execute(
      sql.raw(`SELECT tag, hash FROM \`${MIGRATIONS_TABLE}\` ORDER BY tag DESC LIMIT 1`),
    )) as unknown as [{ tag: string; hash: string }[]]
    await db.execute(sql.raw(`DELETE FROM \`${MIGRATIONS_TABLE}\` WHERE tag = '${last!.tag}'`))
    try {
      const pending = await preflight(ctx(), { bucketMin: 601, bucketMax: 601, hostId: 'host-e' })
      expect(failing(pending.checks)).toEqual(['database_migrated'])
      expect(byName(pending.checks).database_migrated?.details).toMatchObject({ pending: [last!.tag] })
    } finally {
      await db.execute(sql`INSERT INTO ${sql.raw(MIGRATIONS_TABLE)} (tag, hash) VALUES (${last!.tag}, ${last!.hash})`)
    }
  })

  it('refuses a range upside down and an empty host id', async () => {
    await expect(preflight(ctx(), { bucketMin: 9, bucketMax: 1, hostId: 'h' })).rejects.toMatchObject({
      code: 'INVALID_PARAMETERS',
      issues: [{ path: 'bucket_max' }],
    })
    await expect(preflight(ctx(), { bucketMin: 0, bucketMax: 1, hostId: ' ' })).rejects.toMatchObject({
      issues: [{ path: 'host_id' }],
    })
  })
})
