import { endpointConfig, rolloutPolicyStageRows } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq, inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  applyPolicyStage,
  createSession,
  type DryRunOutcome,
  type ExecutionOutcome,
  type InvalidParametersError,
  listPolicyStages,
  pauseSession,
  type RollbackPlan,
  type RolloutContext,
  rollbackPolicyStage,
  type StagePlan,
} from '../src/index.js'
import { contextOf, insertEndpoints, setPolicy } from './_helpers.js'

const getDb = useTestDatabase()
const clock = manualClock(new Date('2031-03-01T00:00:00.000Z'))
const ctx = (extra: Partial<RolloutContext> = {}) => contextOf(getDb().db, clock.now, 'key:1', extra)

async function stage(parameters: object, extra: Partial<RolloutContext> = {}) {
  const planned = (await applyPolicyStage(ctx(extra), { parameters })) as DryRunOutcome<StagePlan>
  expect(planned.blocked).toEqual([])
  const done = (await applyPolicyStage(ctx(extra), {
    parameters,
    dryRun: false,
    confirmationToken: planned.confirmationToken,
  })) as ExecutionOutcome<StagePlan, { stage_id: bigint; moved: number }>
  return { planned, done }
}

async function policies(ids: bigint[]) {
  const rows = await getDb().db.select().from(endpointConfig).where(inArray(endpointConfig.endpointId, ids))
  return ids.map((id) => {
    const row = rows.find((r) => r.endpointId === id)
    return row ? `${row.requestMethod ?? '-'}/${row.detectionProfile ?? '-'}` : 'none'
  })
}

describe('policy stages', () => {
  it('read NULL as the fleet default, pick the lowest ids first and announce the change through updated_at', async () => {
    const { db } = getDb()
    const ids = await insertEndpoints(db, [10, 10, 11, 12, 12])
    // One endpoint says GET/full explicitly, one is on HEAD/legacy; the others have no row (the default).
    await setPolicy(db, [ids[1] as bigint], 'GET', 'full', clock.now())
    await setPolicy(db, [ids[2] as bigint], 'HEAD', 'legacy', clock.now())
    clock.advance(60_000)

    const range = { bucket_min: 10, bucket_max: 19 }
    const onDefault = { ...range, from: { method: 'GET', profile: 'full' }, to: { method: 'HEAD', profile: 'legacy' } }
    const { planned, done } = await stage({ ...onDefault, size: 3 })
    expect(planned.plan).toMatchObject({ selected: 3, endpoint_ids: [ids[0], ids[1], ids[3]] })
    expect(done.result.moved).toBe(3)
    expect(await policies(ids)).toEqual(['HEAD/legacy', 'HEAD/legacy', 'HEAD/legacy', 'HEAD/legacy', 'none'])
    const [changed] = await db
      .select()
      .from(endpointConfig)
      .where(eq(endpointConfig.endpointId, ids[0] as bigint))
    expect(changed?.updatedAt).toEqual(clock.now())
    const saved = await db
      .select()
      .from(rolloutPolicyStageRows)
      .where(eq(rolloutPolicyStageRows.stageId, done.result.stage_id))
    expect(saved.map((row) => [row.endpointId, row.previousMethod, row.previousProfile])).toEqual([
      [ids[0], null, null],
      [ids[1], 'GET', 'full'],
      [ids[3], null, null],
    ])

    // With HEAD/legacy as the fleet default, the endpoint without a row is on HEAD/legacy already.
    const headDefault = { checkPolicyDefaults: { requestMethod: 'HEAD' as const, detectionProfile: 'legacy' as const } }
    const none = (await applyPolicyStage(ctx(headDefault), {
      parameters: { ...onDefault, size: 10 },
    })) as DryRunOutcome<StagePlan>
    expect(none.blocked.map((b) => b.code)).toEqual(['no_endpoints'])

    // Without `from`: every endpoint not on `to`.
    const rest = (await applyPolicyStage(ctx(), {
      parameters: { ...range, to: { method: 'HEAD', profile: 'legacy' }, size: 10 },
    })) as DryRunOutcome<StagePlan>
    expect(rest.plan).toMatchObject({ selected: 1, endpoint_ids: [ids[4]] })
    expect(rest.warnings.map((w) => w.code)).toEqual(['fewer_than_size'])

    // The rollback restores NULL where there was no value, and skips an endpoint changed since.
    await setPolicy(db, [ids[3] as bigint], 'GET', 'simple_http', clock.now())
    const rollbackDry = (await rollbackPolicyStage(ctx(), {
      parameters: { stage_id: done.result.stage_id.toString() },
    })) as DryRunOutcome<RollbackPlan>
    expect(rollbackDry.plan).toMatchObject({ restore: 2, skipped: 1, stages: [{ skipped_endpoint_ids: [ids[3]] }] })
    await rollbackPolicyStage(ctx(), {
      parameters: { stage_id: done.result.stage_id.toString() },
      dryRun: false,
      confirmationToken: rollbackDry.confirmationToken,
    })
    expect(await policies(ids)).toEqual(['-/-', 'GET/full', 'HEAD/legacy', 'GET/simple_http', 'none'])
    const [listed] = await listPolicyStages(getDb(), { bucketMin: 10, bucketMax: 19 })
    expect(listed).toMatchObject({ id: done.result.stage_id, moved: 3, restored: 2, state: 'rolled_back' })
    const twice = (await rollbackPolicyStage(ctx(), {
      parameters: { stage_id: done.result.stage_id.toString() },
    })) as DryRunOutcome<unknown>
    expect(twice.blocked.map((b) => b.code)).toEqual(['stage_rolled_back'])
  })

  it('require a size of at least 1, a `to` other than `from`, and no paused session of the range', async () => {
    const error = await applyPolicyStage(ctx(), {
      parameters: {
        bucket_min: 30,
        bucket_max: 39,
        from: { method: 'GET', profile: 'full' },
        to: { method: 'GET', profile: 'full' },
        size: 0,
      },
    }).catch((e: unknown) => e)
    expect((error as InvalidParametersError).issues.map((i) => i.path)).toEqual(['size', 'to'])
    const same = await applyPolicyStage(ctx(), {
      parameters: {
        bucket_min: 30,
        bucket_max: 39,
        from: { method: 'GET', profile: 'full' },
        to: { method: 'GET', profile: 'full' },
        size: 1,
      },
    }).catch((e: unknown) => e)
    expect((same as InvalidParametersError).issues.map((i) => i.path)).toEqual(['to'])

    await insertEndpoints(getDb().db, [35])
    const session = await createSession(ctx(), { name: 'paused', bucket_min: 30, bucket_max: 39 })
    await pauseSession(ctx(), session.id)
    const paused = (await applyPolicyStage(ctx(), {
      parameters: { bucket_min: 35, bucket_max: 35, to: { method: 'HEAD', profile: 'legacy' }, size: 1 },
    })) as DryRunOutcome<unknown>
    expect(paused.blocked.map((b) => b.code)).toEqual(['session_paused'])
  })
})
