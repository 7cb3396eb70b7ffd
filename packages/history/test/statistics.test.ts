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
