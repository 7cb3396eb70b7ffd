import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CheckRecorder,
  type CheckSample,
  histogramOf,
  percentileFromHistogram,
  percentileNearestRank,
  pruneHistory,
  uptimeAndLatency,
  vantageSummary,
} from '../src/index.js'
import { failedSample, freshEndpoints, ManualTimers, sample } from './_helpers.js'

let database: TestDatabase

const HOUR = 3_600_000
const DAY = 86_400_000
const NOW = Date.parse('2030-06-01T12:30:00.000Z')
const RETENTION_DAYS = 30
const ids = freshEndpoints(2)
const other = freshEndpoints(1)
/** What was recorded, to compute the truth independently of the database. */
const recorded: CheckSample[] = []

/** A sample every 20 minutes per endpoint over 40 days; some failures, some veriflier checks. */
function* samples(): Generator<CheckSample> {
  let n = 0
  for (let t = NOW - 40 * DAY; t < NOW; t += 20 * 60_000) {
    for (const endpointId of [...ids, ...other]) {
      n++
      const checkedAt = new Date(t + Number(endpointId % 7n) * 1_000)
      if (n % 29 === 0) yield failedSample({ endpointId, checkedAt })
      else if (n % 31 === 0)
        yield sample({ endpointId, checkedAt, httpCode: 503, errorCode: 10, failed: true, rttMs: 2 })
      else yield sample({ endpointId, checkedAt, rttMs: Math.floor(20 + ((n * 7919) % 1_000) ** 1.2 / 3) })
      if (n % 13 === 0) yield sample({ endpointId, checkedAt, vantage: 'veriflier-us', rttMs: 9_999 })
    }
  }
}

beforeAll(async () => {
  database = await createTestDatabase()
  const recorder = new CheckRecorder({ db: database.db, timers: new ManualTimers() })
  for (const s of samples()) {
    recorded.push(s)
    recorder.record(s)
  }
  expect((await recorder.stop()).ok).toBe(true)
  // As in production: raw history beyond retention is gone, only the rollups remain.
  await pruneHistory({ ctx: { db: database.db, clock: () => new Date(NOW) }, retentionDays: RETENTION_DAYS })
})
afterAll(async () => {
  await database?.drop()
})

function truth(from: number, to: number) {
  const inWindow = recorded.filter(
    (s) => ids.includes(s.endpointId) && s.vantage === 'local' && +s.checkedAt >= from && +s.checkedAt < to,
  )
  const rtts = inWindow.filter((s) => !s.failed && s.rttMs !== null).map((s) => s.rttMs as number)
  return {
    checks: inWindow.length,
    failures: inWindow.filter((s) => s.failed).length,
    rtts: Float64Array.from(rtts).sort(),
  }
}

const query = (from: number, to: number, historyMode: 'all' | 'failures' = 'all') =>
  uptimeAndLatency({
    ctx: { db: database.db, clock: () => new Date(NOW) },
    endpointIds: ids,
    from: new Date(from),
    to: new Date(to),
    retentionDays: RETENTION_DAYS,
    historyMode,
  })

describe('uptimeAndLatency', () => {
  it('inside retention: exact counts and exact nearest-rank percentiles from raw history', async () => {
    const from = NOW - 7 * DAY - 17 * 60_000 // not hour-aligned: raw history is exact to the millisecond
    const result = await query(from, NOW)
    const expected = truth(from, NOW)
    expect(result.source).toBe('raw')
    expect(result.checks).toBe(expected.checks)
    expect(result.failures).toBe(expected.failures)
    expect(result.failures).toBeGreaterThan(0)
    expect(result.rttSamples).toBe(expected.rtts.length)
    for (const [field, p] of [
      ['p50Ms', 50],
      ['p90Ms', 90],
      ['p95Ms', 95],
      ['p99Ms', 99],
      ['maxMs', 100],
    ] as const) {
      expect(result[field], field).toBe(percentileNearestRank(expected.rtts, p))
    }
    expect(result.meanMs).toBeCloseTo(expected.rtts.reduce((a, b) => a + b) / expected.rtts.length, 9)
  })

  it('beyond retention: rollups for the old part, merged histograms, percentiles within the bucket bound', async () => {
    const from = NOW - 40 * DAY - 30 * 60_000 // hour-aligned (NOW is hh:30)
    const result = await query(from, NOW)
    const expected = truth(from, NOW)
    expect(result.source).toBe('rollup')
    expect(result.checks).toBe(expected.checks)
    expect(result.failures).toBe(expected.failures)
    expect(result.rttSamples).toBe(expected.rtts.length)
    const hist = histogramOf(expected.rtts)
    for (const [field, p] of [
      ['p50Ms', 50],
      ['p95Ms', 95],
      ['p99Ms', 99],
    ] as const) {
      const raw = percentileNearestRank(expected.rtts, p)!
      expect(result[field], field).toBe(percentileFromHistogram(hist, p))
      expect(result[field]).toBeGreaterThanOrEqual(raw)
      expect(result[field]).toBeLessThan((raw * 4) / 3)
    }
    // Sums are exact even through rollups.
    expect(result.meanMs).toBeCloseTo(expected.rtts.reduce((a, b) => a + b) / expected.rtts.length, 9)
  })

  it('entirely beyond retention: rollup hours counted whole', async () => {
    const from = NOW - 35 * DAY - 30 * 60_000
    const to = from + 2 * DAY
    const result = await query(from, to)
    expect(result).toMatchObject({ source: 'rollup', ...pick(truth(from, to)) })
    // A window starting mid-hour includes that whole hour (resolution one hour).
    const midHour = await query(from + 10 * 60_000, to)
    expect(midHour.checks).toBe(result.checks)
  })

  it('with HISTORY_MODE=failures: rollups only, since raw history lacks healthy checks', async () => {
    const from = NOW - 3 * DAY - 30 * 60_000
    const result = await query(from, NOW, 'failures')
    expect(result).toMatchObject({ source: 'rollup', ...pick(truth(from, NOW)) })
  })

  it('gives zeros and nulls for no endpoints or an empty window', async () => {
    const empty = {
      checks: 0,
      failures: 0,
      rttSamples: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      meanMs: null,
      source: 'raw',
    }
    expect(
      await uptimeAndLatency({
        ctx: { db: database.db, clock: () => new Date(NOW) },
        endpointIds: [],
        from: new Date(NOW - DAY),
        to: new Date(NOW),
        retentionDays: 30,
      }),
    ).toMatchObject(empty)
    expect(await query(NOW, NOW - HOUR)).toMatchObject(empty)
  })
})

function pick(t: ReturnType<typeof truth>) {
  return { checks: t.checks, failures: t.failures, rttSamples: t.rtts.length }
}

describe('by vantage', () => {
  /** What the recorder was given for one endpoint and vantage inside `[from, to)`. */
  const recordedOf = (endpointId: bigint, vantage: string, from: number, to: number) =>
    recorded.filter(
      (s) => s.endpointId === endpointId && s.vantage === vantage && +s.checkedAt >= from && +s.checkedAt < to,
    )

  it('reads one veriflier’s raw checks only, even over a window reaching beyond retention', async () => {
    const retainedFrom = Math.ceil((NOW - RETENTION_DAYS * DAY) / HOUR) * HOUR
    const veriflier = recorded.filter(
      (s) => ids.includes(s.endpointId) && s.vantage === 'veriflier-us' && +s.checkedAt >= retainedFrom,
    )
    expect(veriflier.length).toBeGreaterThan(0)
    const result = await uptimeAndLatency({
      ctx: { db: database.db, clock: () => new Date(NOW) },
      endpointIds: ids,
      from: new Date(NOW - 40 * DAY),
      to: new Date(NOW),
      retentionDays: RETENTION_DAYS,
      vantage: 'veriflier-us',
    })
    expect(result).toMatchObject({
      source: 'raw',
      checks: veriflier.length,
      failures: 0,
      rttSamples: veriflier.length,
      p50Ms: 9_999,
      maxMs: 9_999,
    })
  })

  it('vantageSummary: local first, each vantage’s figures, and the newest maxSamples for percentiles', async () => {
    const endpointId = ids[0]!
    const from = NOW - 2 * DAY
    const scope = { endpointId }
    const common = { ctx: { db: database.db }, scope, from: new Date(from), to: new Date(NOW), now: new Date(NOW) }
    const summary = await vantageSummary({ ...common, retentionDays: RETENTION_DAYS })
    expect(summary.rawFrom).toEqual(new Date(from))
    expect(summary.vantages.map((v) => v.vantage)).toEqual(['local', 'veriflier-us'])
    const local = recordedOf(endpointId, 'local', from, NOW)
    const localRtts = Float64Array.from(
      local.filter((s) => !s.failed && s.rttMs !== null).map((s) => s.rttMs as number),
    ).sort()
    expect(summary.vantages[0]).toEqual({
      vantage: 'local',
      checks: local.length,
      failures: local.filter((s) => s.failed).length,
      lastCheckedAt: new Date(Math.max(...local.map((s) => +s.checkedAt))),
      rttSamples: localRtts.length,
      truncated: false,
      p50Ms: percentileNearestRank(localRtts, 50),
      p95Ms: percentileNearestRank(localRtts, 95),
    })
    const us = recordedOf(endpointId, 'veriflier-us', from, NOW)
    expect(summary.vantages[1]).toMatchObject({ checks: us.length, failures: 0, p50Ms: 9_999, truncated: false })

    // With a cut of 3 samples the local percentiles come from its 3 newest successful checks.
    const newest = local
      .filter((s) => !s.failed && s.rttMs !== null)
      .sort((a, b) => +b.checkedAt - +a.checkedAt)
      .slice(0, 3)
      .map((s) => s.rttMs as number)
    const cut = await vantageSummary({ ...common, retentionDays: RETENTION_DAYS, maxSamples: 3 })
    expect(cut.vantages[0]).toMatchObject({
      rttSamples: localRtts.length,
      truncated: true,
      p50Ms: percentileNearestRank(Float64Array.from(newest).sort(), 50),
      p95Ms: Math.max(...newest),
    })
    // Nothing retained, nothing read.
    const old = await vantageSummary({
      ...common,
      from: new Date(NOW - 40 * DAY),
      to: new Date(NOW - 35 * DAY),
      retentionDays: RETENTION_DAYS,
    })
    expect(old).toEqual({ rawFrom: null, vantages: [] })
    await expect(vantageSummary({ ...common, retentionDays: 0 })).rejects.toThrow(/retentionDays/)
    await expect(vantageSummary({ ...common, retentionDays: 30, maxSamples: 0 })).rejects.toThrow(/maxSamples/)
  })
})
