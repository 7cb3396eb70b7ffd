import { events, rolloutLocks } from '@jetmon/db'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq, inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  activateRange,
  adoptRange,
  createSession,
  type DryRunOutcome,
  type ExecutionOutcome,
  getSessionWithJobs,
  pauseSession,
  type ReleaseResult,
  reconcileRange,
  releaseRange,
  resumeSession,
  rolloutStatus,
} from '../src/index.js'
import { contextOf, insertEndpoints, markChecked, registerHost } from './_helpers.js'

const getDb = useTestDatabase()
const clock = manualClock(new Date('2031-02-01T00:00:00.000Z'))
const ctx = () => contextOf(getDb().db, clock.now, 'key:1', { bucketTotal: 1000 })

async function dry(step: typeof activateRange | typeof releaseRange | typeof adoptRange, parameters: object) {
  return (await step(ctx(), { parameters })) as DryRunOutcome<Record<string, unknown>>
}

async function execute<R>(
  step: typeof activateRange | typeof releaseRange | typeof adoptRange,
  parameters: object,
  extra: Record<string, unknown> = {},
) {
  const planned = await dry(step, parameters)
  expect(planned.blocked).toEqual([])
  return (await step(
    { ...ctx(), ...extra },
    { parameters, dryRun: false, confirmationToken: planned.confirmationToken },
  )) as ExecutionOutcome<unknown, R>
}

const codes = (problems: { code: string }[]) => problems.map((p) => p.code)

describe('activate', () => {
  it('is blocked for a host that is not registered, not api-controlled or without a live lease, and beyond BUCKET_TOTAL', async () => {
    const { db } = getDb()
    expect(codes((await dry(activateRange, { bucket_min: 0, bucket_max: 9, host_id: 'ghost' })).blocked)).toEqual([
      'host_not_registered',
    ])
    await registerHost(db, clock.now(), { hostId: 'act-active', mode: 'active', leaseMs: -1 })
    expect(codes((await dry(activateRange, { bucket_min: 0, bucket_max: 9, host_id: 'act-active' })).blocked)).toEqual([
      'host_not_api_controlled',
      'host_not_fresh',
    ])
    await registerHost(db, clock.now(), { hostId: 'act-ok', leaseMs: 86_400_000 })
    expect(codes((await dry(activateRange, { bucket_min: 990, bucket_max: 1009, host_id: 'act-ok' })).blocked)).toEqual(
      ['range_out_of_bounds'],
    )
  })

  it('is blocked where a pinned or dynamic host owns buckets, and warns until adoption ran for the whole range', async () => {
    const { db } = getDb()
    await registerHost(db, clock.now(), { hostId: 'act-ok', leaseMs: 86_400_000 })
    await registerHost(db, clock.now(), { hostId: 'act-pinned', mode: 'active', pinned: { min: 45, max: 60 } })
    const pinned = await dry(activateRange, { bucket_min: 40, bucket_max: 49, host_id: 'act-ok' })
    expect(codes(pinned.blocked)).toEqual(['range_pinned'])
    expect(codes(pinned.warnings)).toEqual(['adoption_not_run'])

    await registerHost(db, clock.now(), { hostId: 'act-dynamic', mode: 'active', leaseMs: 1_000 })
    expect(codes((await dry(activateRange, { bucket_min: 20, bucket_max: 29, host_id: 'act-ok' })).blocked)).toEqual([
      'range_dynamic_owner',
    ])
    // Their leases run out: they own nothing any more.
    clock.advance(31_000)
    await registerHost(db, clock.now(), { hostId: 'act-ok', leaseMs: 86_400_000 })

    await execute(adoptRange, { bucket_min: 20, bucket_max: 24 })
    expect(
      (await dry(activateRange, { bucket_min: 20, bucket_max: 29, host_id: 'act-ok' })).warnings[0]?.message,
    ).toContain('5 bucket(s)')
    await execute(adoptRange, { bucket_min: 25, bucket_max: 29 })
    const clean = await dry(activateRange, { bucket_min: 20, bucket_max: 29, host_id: 'act-ok' })
    expect(clean.blocked).toEqual([])
    expect(clean.warnings).toEqual([])
  })
})

describe('adopt', () => {
  it('opens an event for what v1 reports down once, with a plan free of times', async () => {
    const { db } = getDb()
    const [down] = await insertEndpoints(db, [500], { siteStatus: 2 })
    const planned = await dry(adoptRange, { bucket_min: 500, bucket_max: 500 })
    expect(planned.plan).toMatchObject({
      adopt: { seems_down: 0, down: 1 },
      examples: [{ endpoint_id: down, state: 'Down', started_at: null }],
    })
    clock.advance(1_000)
    const done = await adoptRange(ctx(), {
      parameters: { bucket_min: 500, bucket_max: 500 },
      dryRun: false,
      confirmationToken: planned.confirmationToken,
    })
    expect(done).toMatchObject({ dryRun: false, result: { adopted: { seems_down: 0, down: 1 } } })
    expect(
      await db
        .select()
        .from(events)
        .where(inArray(events.endpointId, [down as bigint])),
    ).toHaveLength(1)
    const again = await dry(adoptRange, { bucket_min: 500, bucket_max: 500 })
    expect(again.plan).toMatchObject({ adopt: { seems_down: 0, down: 0 }, already_open: 1 })
    expect(codes(again.warnings)).toEqual(['nothing_to_adopt'])
  })
})

describe('release', () => {
  it('is blocked when no lock covers the range or a lock reaches beyond it', async () => {
    expect(codes((await dry(releaseRange, { bucket_min: 600, bucket_max: 609 })).blocked)).toEqual([
      'nothing_to_release',
    ])
    await registerHost(getDb().db, clock.now(), { hostId: 'rel-a', leaseMs: 86_400_000 })
    await execute(adoptRange, { bucket_min: 600, bucket_max: 619 })
    await execute(activateRange, { bucket_min: 600, bucket_max: 619, host_id: 'rel-a' })
    expect(codes((await dry(releaseRange, { bucket_min: 600, bucket_max: 609 })).blocked)).toEqual([
      'lock_exceeds_range',
    ])
  })

  it('waits on the clock for the host to acknowledge, and says when it did not in time', async () => {
    const { db } = getDb()
    await registerHost(db, clock.now(), { hostId: 'rel-b', leaseMs: 86_400_000 })
    await execute(adoptRange, { bucket_min: 700, bucket_max: 719 })
    await execute(activateRange, { bucket_min: 700, bucket_max: 709, host_id: 'rel-b' })
    await execute(activateRange, { bucket_min: 710, bucket_max: 719, host_id: 'rel-b' })

    // The host acknowledges during the second wait.
    let sleeps = 0
    const acknowledging = async (ms: number) => {
      sleeps++
      clock.advance(ms)
      if (sleeps === 2) {
        await db
          .update(rolloutLocks)
          .set({ state: 'released', releasedAt: clock.now() })
          .where(eq(rolloutLocks.hostId, 'rel-b'))
      }
    }
    const released = await execute<ReleaseResult>(
      releaseRange,
      { bucket_min: 700, bucket_max: 719 },
      { sleep: acknowledging },
    )
    expect(released.result).toMatchObject({ acknowledged: true, waited_ms: 1_000 })
    expect(released.result.locks.map((lock) => lock.state)).toEqual(['released', 'released'])

    // No acknowledgement: the default wait of 20 s passes on the clock, in 500 ms polls.
    await execute(activateRange, { bucket_min: 700, bucket_max: 709, host_id: 'rel-b' })
    let polls = 0
    const silent = await execute<ReleaseResult>(
      releaseRange,
      { bucket_min: 700, bucket_max: 709 },
      {
        sleep: async (ms: number) => {
          polls++
          clock.advance(ms)
        },
      },
    )
    expect(silent.result).toMatchObject({ acknowledged: false, waited_ms: 20_000, locks: [{ state: 'releasing' }] })
    expect(polls).toBe(40)
  })
})

describe('reconcile and status', () => {
  it('passes once every active endpoint was checked since then, nothing drifts and no lock is in transition', async () => {
    const { db } = getDb()
    await registerHost(db, clock.now(), { hostId: 'rec-a', leaseMs: 86_400_000 })
    const ids = await insertEndpoints(db, [800, 801, 805])
    const [drifting] = await insertEndpoints(db, [802], { siteStatus: 0 })
    await execute(activateRange, { bucket_min: 800, bucket_max: 809, host_id: 'rec-a' })
    const range = { bucket_min: 800, bucket_max: 809 }

    let report = await reconcileRange(ctx(), { parameters: range })
    expect(report).toMatchObject({ passed: false, endpoints: 4, unchecked: 4, drift: { count: 1 } })
    expect(report.locks_in_transition).toMatchObject([{ host_id: 'rec-a', phase: 'activating' }])
    expect(report.offenders.map((o) => `${o.endpoint_id}:${o.reason}`)).toEqual([
      ...[...ids, drifting].sort((a, b) => Number((a as bigint) - (b as bigint))).map((id) => `${id}:not_checked`),
      `${drifting}:projection_drift`,
    ])

    await db.update(rolloutLocks).set({ acknowledgedAt: clock.now() }).where(eq(rolloutLocks.hostId, 'rec-a'))
    await markChecked(db, [...ids, drifting as bigint], clock.now())
    // Adoption takes the drifting row over: v1 saw it fail, and now an event says so.
    await execute(adoptRange, range)
    report = await reconcileRange(ctx(), { parameters: range })
    expect(report).toMatchObject({ passed: true, unchecked: 0, drift: { count: 0 }, offenders: [] })

    // A later `since` than the checks: not passed again.
    const later = new Date(clock.now().getTime() + 1).toISOString()
    expect(await reconcileRange(ctx(), { parameters: { ...range, since: later } })).toMatchObject({
      passed: false,
      unchecked: 4,
    })

    const status = await rolloutStatus(ctx())
    const owned = status.ranges.find((r) => r.bucketMin === 800)
    expect(owned).toMatchObject({
      bucketMax: 809,
      owner: { kind: 'lock', hostId: 'rec-a', phase: 'active' },
      inTransition: false,
      endpoints: 4,
      checkedRecently: 4,
      freshness: 1,
    })
    expect(status.ranges.at(-1)).toMatchObject({ bucketMax: 999 })
    expect(status.hosts.find((h) => h.hostId === 'rec-a')).toMatchObject({ mode: 'api-controlled', live: true })
  })

  it('sessions group jobs newest first; pausing and resuming are jobs too', async () => {
    const session = await createSession(ctx(), { name: 'sessions test', bucket_min: 900, bucket_max: 909 })
    await adoptRange(ctx(), { parameters: { bucket_min: 900, bucket_max: 909 }, sessionId: session.id })
    await pauseSession(ctx(), session.id)
    await resumeSession(ctx(), session.id)
    const shown = await getSessionWithJobs(getDb(), session.id)
    expect(shown?.session.state).toBe('active')
    expect(shown?.jobs.map((job) => job.step)).toEqual(['resume', 'pause', 'adopt'])
  })
})
