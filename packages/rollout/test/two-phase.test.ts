import { createHash } from 'node:crypto'
import { rolloutJobs, rolloutLocks, rolloutTokens } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { desc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  activateRange,
  ConfirmationError,
  canonicalJson,
  type DryRunOutcome,
  InvalidParametersError,
  releaseRange,
} from '../src/index.js'
import { contextOf, registerHost } from './_helpers.js'

const getDb = useTestDatabase()
const clock = manualClock(new Date('2031-01-01T00:00:00.000Z'))

/** A dry run of activate for a range of its own, on a fresh api-controlled host. */
async function dryActivate(range: [number, number], host: string, principal = 'key:1') {
  const { db } = getDb()
  await registerHost(db, clock.now(), { hostId: host, leaseMs: 3_600_000 })
  const parameters = { bucket_min: range[0], bucket_max: range[1], host_id: host }
  const dry = (await activateRange(contextOf(db, clock.now, principal), { parameters })) as DryRunOutcome<unknown>
  return { parameters, dry }
}

async function refusal(promise: Promise<unknown>): Promise<ConfirmationError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfirmationError)
  return error as ConfirmationError
}

async function jobOf(id: bigint) {
  const [row] = await getDb().db.select().from(rolloutJobs).where(eq(rolloutJobs.id, id))
  return row
}

async function locksOf(hostId: string) {
  return getDb().db.select().from(rolloutLocks).where(eq(rolloutLocks.hostId, hostId))
}

describe('the two-phase rule', () => {
  it('a dry run changes nothing, records a planned job and stores only the hash of a token bound to key, step and parameters', async () => {
    const { db } = getDb()
    const { dry } = await dryActivate([0, 9], 'tp-dry')
    expect(dry).toMatchObject({
      dryRun: true,
      step: 'activate',
      plan: { bucket_min: 0, bucket_max: 9, host_id: 'tp-dry' },
      blocked: [],
    })
    expect(dry.confirmationToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/)
    expect(dry.expiresAt.getTime() - clock.now().getTime()).toBe(600_000)
    expect(await locksOf('tp-dry')).toEqual([])
    expect(await jobOf(dry.jobId)).toMatchObject({ step: 'activate', dryRun: true, outcome: 'planned' })
    const tokens = await db.select().from(rolloutTokens).where(eq(rolloutTokens.jobId, dry.jobId))
    expect(tokens).toHaveLength(1)
    expect(tokens[0]).toMatchObject({
      tokenHash: createHash('sha256').update(dry.confirmationToken).digest('hex'),
      actor: 'key:1',
      step: 'activate',
      blocked: false,
      usedAt: null,
    })
    expect(canonicalJson(tokens[0])).not.toContain(dry.confirmationToken)
  })

  it('executes with the token, once, and records the execution', async () => {
    const { db } = getDb()
    const { parameters, dry } = await dryActivate([10, 19], 'tp-ok')
    const done = await activateRange(contextOf(db, clock.now), {
      parameters,
      dryRun: false,
      confirmationToken: dry.confirmationToken,
    })
    expect(done).toMatchObject({ dryRun: false, step: 'activate', plan: dry.plan })
    const locks = await locksOf('tp-ok')
    expect(locks).toMatchObject([{ bucketMin: 10, bucketMax: 19, state: 'active', jobId: done.jobId }])
    expect(await jobOf(done.jobId)).toMatchObject({ dryRun: false, outcome: 'applied', errorCode: null })
  })

  it('refuses an execution without a token: confirmation_required, recorded', async () => {
    const { parameters } = await dryActivate([20, 29], 'tp-missing')
    const error = await refusal(activateRange(contextOf(getDb().db, clock.now), { parameters, dryRun: false }))
    expect(error.code).toBe('CONFIRMATION_REQUIRED')
    expect(await jobOf(error.jobId)).toMatchObject({ outcome: 'refused', errorCode: 'confirmation_required' })
    expect(await locksOf('tp-missing')).toEqual([])
  })

  it('refuses the token of another API key: confirmation_mismatch', async () => {
    const { parameters, dry } = await dryActivate([30, 39], 'tp-key', 'key:1')
    const error = await refusal(
      activateRange(contextOf(getDb().db, clock.now, 'key:2'), {
        parameters,
        dryRun: false,
        confirmationToken: dry.confirmationToken,
      }),
    )
    expect(error.code).toBe('CONFIRMATION_MISMATCH')
    expect(error.message).toContain('another API key')
    expect(await jobOf(error.jobId)).toMatchObject({ outcome: 'refused', errorCode: 'confirmation_mismatch' })
    expect(await locksOf('tp-key')).toEqual([])
  })

  it('refuses the token with other parameters: confirmation_mismatch', async () => {
    const { dry } = await dryActivate([40, 49], 'tp-params')
    const error = await refusal(
      activateRange(contextOf(getDb().db, clock.now), {
        parameters: { bucket_min: 40, bucket_max: 48, host_id: 'tp-params' },
        dryRun: false,
        confirmationToken: dry.confirmationToken,
      }),
    )
    expect(error.code).toBe('CONFIRMATION_MISMATCH')
    expect(error.message).toContain('parameters differ')
    expect(await locksOf('tp-params')).toEqual([])
  })

  it('refuses the token of another step: confirmation_mismatch', async () => {
    const { dry } = await dryActivate([50, 59], 'tp-step')
    const error = await refusal(
      releaseRange(contextOf(getDb().db, clock.now), {
        parameters: { bucket_min: 50, bucket_max: 59 },
        dryRun: false,
        confirmationToken: dry.confirmationToken,
      }),
    )
    expect(error.code).toBe('CONFIRMATION_MISMATCH')
    expect(error.message).toContain('confirms a activate dry run')
  })

  it('refuses a token past its lifetime on the clock: confirmation_expired', async () => {
    const { db } = getDb()
    const { parameters, dry } = await dryActivate([60, 69], 'tp-expired')
    const ctx = contextOf(db, clock.now, 'key:1', { tokenTtlSec: 60 })
    // The lifetime is the one of the dry run: 600 s here; 60 s for a dry run made with tokenTtlSec 60.
    const short = (await activateRange(ctx, { parameters })) as DryRunOutcome<unknown>
    expect(short.expiresAt.getTime() - clock.now().getTime()).toBe(60_000)
    clock.advance(60_000)
    const error = await refusal(
      activateRange(ctx, { parameters, dryRun: false, confirmationToken: short.confirmationToken }),
    )
    expect(error.code).toBe('CONFIRMATION_EXPIRED')
    expect(await jobOf(error.jobId)).toMatchObject({ outcome: 'refused', errorCode: 'confirmation_expired' })
    // The 600 s token of the first dry run is still good, a millisecond before it runs out.
    clock.advance(600_000 - 60_000 - 1)
    await registerHost(db, clock.now(), { hostId: 'tp-expired', leaseMs: 3_600_000 })
    await expect(
      activateRange(ctx, { parameters, dryRun: false, confirmationToken: dry.confirmationToken }),
    ).resolves.toMatchObject({ dryRun: false })
  })

  it('refuses a used token: confirmation_expired, and one of two racing executions runs', async () => {
    const { db } = getDb()
    const { parameters, dry } = await dryActivate([70, 79], 'tp-reuse')
    const execute = () =>
      activateRange(contextOf(db, clock.now), { parameters, dryRun: false, confirmationToken: dry.confirmationToken })
    const settled = await Promise.allSettled([execute(), execute()])
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
    const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toMatchObject({ code: 'CONFIRMATION_EXPIRED' })
    const again = await refusal(execute())
    expect(again.code).toBe('CONFIRMATION_EXPIRED')
    expect(again.message).toContain('already used')
    expect(await locksOf('tp-reuse')).toHaveLength(1)
  })

  it('refuses to execute a dry run that had blockers: plan_blocked with the blockers', async () => {
    const { db } = getDb()
    await registerHost(db, clock.now(), { hostId: 'tp-standby', mode: 'standby', leaseMs: 3_600_000 })
    const parameters = { bucket_min: 80, bucket_max: 89, host_id: 'tp-standby' }
    const ctx = contextOf(db, clock.now)
    const dry = (await activateRange(ctx, { parameters })) as DryRunOutcome<unknown>
    expect(dry.blocked.map((b) => b.code)).toEqual(['host_not_api_controlled'])
    expect(await jobOf(dry.jobId)).toMatchObject({ outcome: 'blocked' })
    const error = await refusal(
      activateRange(ctx, { parameters, dryRun: false, confirmationToken: dry.confirmationToken }),
    )
    expect(error.code).toBe('PLAN_BLOCKED')
    expect(error.blocked.map((b) => b.code)).toEqual(['host_not_api_controlled'])
    expect(await jobOf(error.jobId)).toMatchObject({ outcome: 'refused', errorCode: 'plan_blocked' })
    expect(await locksOf('tp-standby')).toEqual([])
  })

  it('refuses when the plan computed now differs from the dry run: plan_changed, and the token stays unused', async () => {
    const { db } = getDb()
    const { parameters, dry } = await dryActivate([90, 99], 'tp-changed')
    // Someone else takes part of the range between the dry run and the execution.
    const other = await dryActivate([95, 97], 'tp-changed-other')
    await activateRange(contextOf(db, clock.now), {
      parameters: other.parameters,
      dryRun: false,
      confirmationToken: other.dry.confirmationToken,
    })
    const error = await refusal(
      activateRange(contextOf(db, clock.now), { parameters, dryRun: false, confirmationToken: dry.confirmationToken }),
    )
    expect(error.code).toBe('PLAN_CHANGED')
    expect(error.blocked.map((b) => b.code)).toEqual(['range_locked'])
    expect(await jobOf(error.jobId)).toMatchObject({ outcome: 'refused', errorCode: 'plan_changed' })
    expect(await locksOf('tp-changed')).toEqual([])
    const [token] = await db
      .select()
      .from(rolloutTokens)
      .where(eq(rolloutTokens.jobId, dry.jobId))
      .orderBy(desc(rolloutTokens.id))
    expect(token?.usedAt).toBeNull()
  })

  it('refuses invalid parameters with one problem per path and records nothing', async () => {
    const { db } = getDb()
    const before = await db.select().from(rolloutJobs)
    const error = await activateRange(contextOf(db, clock.now), {
      parameters: { bucket_min: 5, bucket_max: 4, host_id: '', extra: 1 },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidParametersError)
    const paths = (error as InvalidParametersError).issues.map((i) => i.path)
    expect(new Set(paths).size).toBe(paths.length)
    expect(paths).toEqual(expect.arrayContaining(['host_id', 'extra']))
    expect(await db.select().from(rolloutJobs)).toHaveLength(before.length)
  })

  it('forgets tokens a day after they expired, when the next dry run is made', async () => {
    const { db } = getDb()
    const { dry } = await dryActivate([100, 109], 'tp-purge')
    clock.advance(600_000 + 86_400_000 + 1)
    expect(await db.select().from(rolloutTokens).where(eq(rolloutTokens.jobId, dry.jobId))).toHaveLength(1)
    const later = await dryActivate([110, 119], 'tp-purge')
    expect(await db.select().from(rolloutTokens).where(eq(rolloutTokens.jobId, dry.jobId))).toHaveLength(0)
    expect(await db.select().from(rolloutTokens).where(eq(rolloutTokens.jobId, later.dry.jobId))).toHaveLength(1)
  })
})
