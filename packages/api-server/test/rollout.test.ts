import { createApiKey } from '@jetmon/api-keys'
import {
  endpointConfig,
  endpointState,
  events,
  hosts,
  idempotencyKeys,
  monitorSites,
  rolloutJobs,
  rolloutLocks,
} from '@jetmon/db'
import { eq, inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { envelopeOf, useTestApi } from './_helpers.js'

const harness = useTestApi({ manualClock: true, deps: { bucketTotal: 1000, rollout: { tokenTtlSec: 600 } } })

type Json = Record<string, unknown>

async function post(path: string, body: unknown, init: { token?: string; idempotencyKey?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (init.idempotencyKey) headers['idempotency-key'] = init.idempotencyKey
  const response = await harness().fetch(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers,
    ...(init.token ? { token: init.token } : {}),
  })
  return response
}

async function ok(path: string, body: unknown, init: { token?: string; idempotencyKey?: string } = {}) {
  const response = await post(path, body, init)
  const json = (await response.json()) as Json
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

async function registerHost(hostId: string, mode: 'active' | 'standby' | 'api-controlled' = 'api-controlled') {
  const now = harness().clock.now()
  const values = {
    hostId,
    rolloutMode: mode,
    status: 'active' as const,
    heartbeatAt: now,
    leaseExpiresAt: new Date(now.getTime() + 24 * 3_600_000),
    startedAt: now,
  }
  await harness().database.db.insert(hosts).values(values).onDuplicateKeyUpdate({ set: values })
}

let nextBlog = 9_100_000n
async function insertEndpoints(buckets: number[], siteStatus = 1): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const bucketNo of buckets) {
    const blogId = ++nextBlog
    const [header] = await harness()
      .database.db.insert(monitorSites)
      .values({ blogId, monitorUrl: `https://r-${blogId}.example.test/`, bucketNo, siteStatus })
    ids.push(BigInt(header.insertId))
  }
  return ids
}

describe('the rollout routes', () => {
  it('answer capabilities and an ownership map with v1 everywhere no lock covers', async () => {
    const caps = await harness().client.admin.call('rollout.capabilities', {})
    expect(caps.data).toMatchObject({
      api_version: 'v1',
      modes: ['active', 'standby', 'api-controlled'],
      token_ttl_sec: 600,
      bucket_total: 1000,
      sample: { default: 50, max: 500 },
    })
    const status = await harness().client.admin.call('rollout.status', {})
    expect(status.data.ranges[0]).toMatchObject({ bucket_min: 0, owner: { kind: 'v1' }, in_transition: false })
    const write = await harness().fetch('/rollout/status', { token: harness().tokens.write })
    expect(write.status).toBe(403)
  })

  it('move a range forward and back: session, adopt, activate, reconcile, policy stages, pause, rollback, release', async () => {
    const h = harness()
    const { db } = h.database
    await registerHost('api-host-a')
    const ids = await insertEndpoints([100, 100, 101, 102])
    const down = await insertEndpoints([101], 2)
    const all = [...ids, ...down]

    const session = await ok('/rollout/sessions', { name: 'move 100-109', bucket_min: 100, bucket_max: 109 })
    const sessionId = session.id
    const range = { bucket_min: 100, bucket_max: 109, session_id: sessionId }

    // Adopt: the dry run shows the Down site, the execution opens its event.
    const adoptDry = await ok('/rollout/adopt', range)
    expect(adoptDry).toMatchObject({ dry_run: true, step: 'adopt', plan: { adopt: { seems_down: 0, down: 1 } } })
    const adopted = await ok('/rollout/adopt', {
      ...range,
      dry_run: false,
      confirmation_token: adoptDry.confirmation_token,
    })
    expect(adopted).toMatchObject({ dry_run: false, result: { adopted: { seems_down: 0, down: 1 } } })
    expect(await db.select().from(events).where(inArray(events.endpointId, down))).toHaveLength(1)

    // Activate: a lock for the host; the status shows it in transition until the host acknowledges.
    const activateDry = await ok('/rollout/activate', { ...range, host_id: 'api-host-a' })
    expect(activateDry).toMatchObject({ blocked: [], warnings: [] })
    const activated = await ok('/rollout/activate', {
      ...range,
      host_id: 'api-host-a',
      dry_run: false,
      confirmation_token: activateDry.confirmation_token,
    })
    const lockId = (activated.result as Json).lock_id as number
    let status = (await h.client.admin.call('rollout.status', {})).data
    expect(status.ranges.find((r) => r.bucket_min === 100)).toMatchObject({
      bucket_max: 109,
      owner: { kind: 'lock', lock_id: lockId, host_id: 'api-host-a', phase: 'activating' },
      in_transition: true,
      endpoints: 5,
      checked_recently: 0,
    })

    // Reconcile fails until the host acknowledged and checked every endpoint.
    const failing = await ok('/rollout/reconcile', range)
    expect(failing).toMatchObject({ passed: false, endpoints: 5, unchecked: 5 })
    expect((failing.locks_in_transition as unknown[]).length).toBe(1)
    expect((failing.offenders as Json[]).map((o) => o.endpoint_id)).toEqual(all.map(Number))
    const now = h.clock.now()
    await db
      .update(rolloutLocks)
      .set({ acknowledgedAt: now })
      .where(eq(rolloutLocks.id, BigInt(lockId)))
    for (const endpointId of all) await db.insert(endpointState).values({ endpointId, lastCheckedAt: now })
    const passing = await ok('/rollout/reconcile', range)
    expect(passing).toMatchObject({ passed: true, unchecked: 0, drift: { count: 0 }, offenders: [] })
    status = (await h.client.admin.call('rollout.status', {})).data
    expect(status.ranges.find((r) => r.bucket_min === 100)).toMatchObject({
      owner: { phase: 'active' },
      in_transition: false,
      freshness: 1,
    })

    // Two policy stages: HEAD/legacy for all, then two endpoints on to GET/simple_http.
    const stageBody = { ...range, to: { method: 'HEAD', profile: 'legacy' }, size: 100 }
    const stageDry = await ok('/rollout/policy-stages', stageBody)
    expect(stageDry.plan).toMatchObject({ selected: 5, endpoint_ids: all.map(Number) })
    const stage1 = await ok('/rollout/policy-stages', {
      ...stageBody,
      dry_run: false,
      confirmation_token: stageDry.confirmation_token,
    })
    const second = {
      ...range,
      from: { method: 'HEAD', profile: 'legacy' },
      to: { method: 'GET', profile: 'simple_http' },
      size: 2,
    }
    const secondDry = await ok('/rollout/policy-stages', second)
    await ok('/rollout/policy-stages', { ...second, dry_run: false, confirmation_token: secondDry.confirmation_token })
    const configs = await db.select().from(endpointConfig).where(inArray(endpointConfig.endpointId, all))
    const policyOf = (id: bigint) => {
      const row = configs.find((c) => c.endpointId === id)
      return `${row?.requestMethod}/${row?.detectionProfile}`
    }
    expect(all.map(policyOf)).toEqual([
      'GET/simple_http',
      'GET/simple_http',
      'HEAD/legacy',
      'HEAD/legacy',
      'HEAD/legacy',
    ])
    const listed = await h.client.admin.call('rollout.listPolicyStages', {
      query: { bucket_min: 100, bucket_max: 109 },
    })
    expect(listed.data.data.map((s) => [s.moved, s.state])).toEqual([
      [2, 'applied'],
      [5, 'applied'],
    ])

    // Paused: the next stage is blocked; resumed, it plans again.
    await ok(`/rollout/sessions/${sessionId}/pause`, {})
    const pausedDry = await ok('/rollout/policy-stages', second)
    expect((pausedDry.blocked as Json[]).map((b) => b.code)).toEqual(['session_paused'])
    const refused = await post('/rollout/policy-stages', {
      ...second,
      dry_run: false,
      confirmation_token: pausedDry.confirmation_token,
    })
    expect(refused.status).toBe(422)
    expect(await envelopeOf(refused)).toMatchObject({
      code: 'plan_blocked',
      details: [{ path: 'blocked.session_paused' }],
    })
    await ok(`/rollout/sessions/${sessionId}/resume`, {})

    // Someone changes one endpoint by hand; rolling back stage 1 alone skips it and what stage 2 moved.
    await db
      .update(endpointConfig)
      .set({ requestMethod: 'GET', detectionProfile: 'full' })
      .where(eq(endpointConfig.endpointId, all[4] as bigint))
    const rollbackDry = await ok(`/rollout/policy-stages/${(stage1.result as Json).stage_id}/rollback`, {})
    expect(rollbackDry.plan).toMatchObject({ restore: 2, skipped: 3 })
    expect((rollbackDry.warnings as Json[])[0]?.code).toBe('rows_changed_since')

    // Rollback-all, newest first: stage 2 back to HEAD/legacy, then stage 1 back to the defaults.
    const allDry = await ok('/rollout/policy-stages/rollback-all', range)
    expect(allDry.plan).toMatchObject({ restore: 6, skipped: 1 })
    await ok('/rollout/policy-stages/rollback-all', {
      ...range,
      dry_run: false,
      confirmation_token: allDry.confirmation_token,
    })
    const after = await db.select().from(endpointConfig).where(inArray(endpointConfig.endpointId, all))
    expect(all.map((id) => after.find((c) => c.endpointId === id)?.requestMethod ?? null)).toEqual([
      null,
      null,
      null,
      null,
      'GET',
    ])

    // Release: the host has not acknowledged within a wait of 0 s; once it does, v1 owns the range again.
    const releaseDry = await ok('/rollout/release', range)
    expect(releaseDry.plan).toMatchObject({ locks: [{ lock_id: lockId, host_id: 'api-host-a', state: 'active' }] })
    const released = await ok('/rollout/release', {
      ...range,
      dry_run: false,
      confirmation_token: releaseDry.confirmation_token,
      wait_sec: 0,
    })
    expect(released.result).toMatchObject({ acknowledged: false, locks: [{ state: 'releasing' }] })
    status = (await h.client.admin.call('rollout.status', {})).data
    expect(status.ranges.find((r) => r.bucket_min === 100)).toMatchObject({
      owner: { phase: 'releasing' },
      in_transition: true,
    })
    await db
      .update(rolloutLocks)
      .set({ state: 'released', releasedAt: h.clock.now() })
      .where(eq(rolloutLocks.id, BigInt(lockId)))
    status = (await h.client.admin.call('rollout.status', {})).data
    expect(status.ranges.find((r) => r.bucket_min <= 100 && 100 <= r.bucket_max)?.owner).toEqual({ kind: 'v1' })

    // The session lists its jobs, newest first.
    const shown = await h.client.admin.call('rollout.getSession', { params: { id: sessionId as number } })
    const steps = shown.data.jobs.map((job) => `${job.step}:${job.outcome}`)
    expect(steps[0]).toBe('release:applied')
    expect(steps.at(-1)).toBe('adopt:planned')
    expect(steps).toContain('policy-stage:refused')
  })

  it('answer each refusal of the two-phase rule with its code, and never a stack or SQL', async () => {
    const h = harness()
    await registerHost('api-host-b')
    await registerHost('standby-host', 'standby')
    const body = { bucket_min: 200, bucket_max: 209, host_id: 'api-host-b' }

    const missing = await post('/rollout/activate', { ...body, dry_run: false })
    expect(missing.status).toBe(409)
    expect((await envelopeOf(missing)).code).toBe('confirmation_required')

    const dry = await ok('/rollout/activate', body)
    const other = (
      await createApiKey({
        ctx: { db: h.database.db },
        input: { consumer: 'other-admin', scope: 'admin', rateLimitPerMinute: 100_000, createdBy: 'test' },
      })
    ).token
    const mismatch = await post(
      '/rollout/activate',
      { ...body, dry_run: false, confirmation_token: dry.confirmation_token },
      { token: other },
    )
    expect(mismatch.status).toBe(409)
    expect((await envelopeOf(mismatch)).code).toBe('confirmation_mismatch')

    const otherParams = await post('/rollout/activate', {
      ...body,
      bucket_max: 208,
      dry_run: false,
      confirmation_token: dry.confirmation_token,
    })
    expect((await envelopeOf(otherParams)).code).toBe('confirmation_mismatch')

    h.clock.advance(600_000)
    const expired = await post('/rollout/activate', {
      ...body,
      dry_run: false,
      confirmation_token: dry.confirmation_token,
    })
    expect(expired.status).toBe(409)
    const expiredError = await envelopeOf(expired)
    expect(expiredError.code).toBe('confirmation_expired')
    expect(expiredError.message).not.toMatch(/select|insert|update|jetmon_|at .*\.ts/i)

    const blockedDry = await ok('/rollout/activate', { ...body, host_id: 'standby-host' })
    expect((blockedDry.blocked as Json[]).map((b) => b.code)).toEqual(['host_not_api_controlled'])
    const blocked = await post('/rollout/activate', {
      ...body,
      host_id: 'standby-host',
      dry_run: false,
      confirmation_token: blockedDry.confirmation_token,
    })
    expect(blocked.status).toBe(422)
    expect((await envelopeOf(blocked)).code).toBe('plan_blocked')

    const changedDry = await ok('/rollout/activate', body)
    await registerHost('api-host-b', 'standby')
    const changed = await post('/rollout/activate', {
      ...body,
      dry_run: false,
      confirmation_token: changedDry.confirmation_token,
    })
    expect(changed.status).toBe(409)
    expect((await envelopeOf(changed)).code).toBe('plan_changed')

    const invalid = await post('/rollout/policy-stages', { bucket_min: 5, bucket_max: 9, to: { method: 'GET' } })
    expect(invalid.status).toBe(400)
    const invalidError = await envelopeOf(invalid)
    expect(invalidError.code).toBe('invalid_request')
    expect(invalidError.details?.map((d) => d.path).sort()).toEqual(['size', 'to.profile'])

    const unknown = await post('/rollout/sessions/999999/pause', {})
    expect(unknown.status).toBe(404)
    expect((await envelopeOf(unknown)).code).toBe('session_not_found')
  })

  it('apply a lost execution once when it is retried with the same Idempotency-Key', async () => {
    const h = harness()
    await registerHost('api-host-c')
    const body = { bucket_min: 300, bucket_max: 309, host_id: 'api-host-c' }
    const dry = await ok('/rollout/activate', body, { idempotencyKey: 'dry-300' })
    // A dry run's answer holds its token: the idempotency record keeps its status only.
    const [kept] = await h.database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.idemKey, 'dry-300'))
    expect(kept?.statusCode).toBe(200)
    expect(Buffer.from(kept?.responseBody ?? []).toString('utf8')).not.toContain(String(dry.confirmation_token))
    const dryAgain = await post('/rollout/activate', body, { idempotencyKey: 'dry-300' })
    expect(dryAgain.status).toBe(409)
    expect((await envelopeOf(dryAgain)).code).toBe('idempotency_replay_withheld')

    const execute = { ...body, dry_run: false, confirmation_token: dry.confirmation_token }
    const first = await post('/rollout/activate', execute, { idempotencyKey: 'activate-300' })
    expect(first.status).toBe(200)
    const firstBody = await first.json()
    // The answer was lost: the client sends the same request again.
    const retry = await post('/rollout/activate', execute, { idempotencyKey: 'activate-300' })
    expect(retry.status).toBe(200)
    expect(retry.headers.get('idempotency-replayed')).toBe('true')
    expect(await retry.json()).toEqual(firstBody)
    const locks = await h.database.db.select().from(rolloutLocks).where(eq(rolloutLocks.hostId, 'api-host-c'))
    expect(locks).toHaveLength(1)
    const applied = await h.database.db
      .select()
      .from(rolloutJobs)
      .where(eq(rolloutJobs.outcome, 'applied'))
      .then((rows) => rows.filter((row) => row.step === 'activate' && row.parameters.host_id === 'api-host-c'))
    expect(applied).toHaveLength(1)
  })
})
