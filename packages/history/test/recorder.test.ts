import { checkHistory, checkRollups, endpointState } from '@jetmon/db'
import { createTestDatabase, manualClock, recordingLogger, type TestDatabase } from '@jetmon/testkit'
import { asc, count, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CheckRecorder, type CheckRecorderOptions, histogramOf, InvalidSampleError, RTT_BUCKETS } from '../src/index.js'
import {
  countingDb,
  failedSample,
  freshEndpoints,
  HISTORY_INSERT,
  ManualTimers,
  ROLLUP_UPSERT,
  STATE_UPSERT,
  sample,
} from './_helpers.js'

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.drop()
})

const HOUR = 3_600_000
const T0 = Date.parse('2030-01-01T10:00:00.000Z')

function setup(options: Partial<CheckRecorderOptions> = {}) {
  const counting = countingDb(database.pool)
  const timers = new ManualTimers()
  const clock = manualClock(T0)
  const recorder = new CheckRecorder({ db: counting.db, timers, clock: clock.now, ...options })
  return { ...counting, timers, clock, recorder }
}

async function historyCount(ids: bigint[]): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(checkHistory).where(inArray(checkHistory.endpointId, ids))
  return row?.n ?? 0
}

async function rollupsOf(ids: bigint[]) {
  return database.db
    .select()
    .from(checkRollups)
    .where(inArray(checkRollups.endpointId, ids))
    .orderBy(asc(checkRollups.endpointId), asc(checkRollups.hourStart))
}

/** Lets the promise chain started by a synchronous `record()` run to completion. */
async function settle(recorder: CheckRecorder): Promise<void> {
  await recorder.tick()
}

describe('history batching', () => {
  it('writes 5 000 healthy checks in all mode with 5 INSERT statements of 1 000 rows', async () => {
    const { recorder, count: sent, statements } = setup()
    const ids = freshEndpoints(500)
    for (let i = 0; i < 5_000; i++) {
      recorder.record(sample({ endpointId: ids[i % 500]!, checkedAt: new Date(T0 + i), rttMs: 10 + (i % 300) }))
    }
    // Reaching maxBatch flushes without waiting for the timer.
    await settle(recorder)
    expect(await historyCount(ids)).toBe(5_000)
    expect(sent(HISTORY_INSERT)).toBe(5)
    const stats = recorder.stats()
    expect(stats.tables.history).toEqual({ statements: 5, rows: 5_000 })
    expect(stats.tables.history.rows / stats.tables.history.statements).toBeGreaterThanOrEqual(100)
    // Nothing else was written per check: rollups and state wait for their own period.
    expect(sent(ROLLUP_UPSERT)).toBe(0)
    expect(sent(STATE_UPSERT)).toBe(0)
    expect(statements).toHaveLength(5)
    expect(stats.pendingHistory).toBe(0)
    expect(stats.pendingRollups).toBe(500)
    expect(stats.pendingState).toBe(500)
    await recorder.stop()
  })

  it('keeps failed checks only in failures mode, while every check reaches its rollup', async () => {
    const { recorder, count: sent } = setup({ historyMode: 'failures' })
    const ids = freshEndpoints(100)
    for (let i = 0; i < 5_000; i++) recorder.record(sample({ endpointId: ids[i % 100]!, checkedAt: new Date(T0 + i) }))
    await settle(recorder)
    expect(sent(HISTORY_INSERT)).toBe(0)
    expect(await historyCount(ids)).toBe(0)

    recorder.record(failedSample({ endpointId: ids[0]!, checkedAt: new Date(T0 + 6_000) }))
    const outcome = await recorder.flush()
    expect(outcome).toMatchObject({ ok: true, pending: 0 })
    expect(await historyCount(ids)).toBe(1)
    expect(sent(HISTORY_INSERT)).toBe(1)
    expect(sent(ROLLUP_UPSERT)).toBe(1)
    const rollups = await rollupsOf(ids)
    expect(rollups).toHaveLength(100)
    expect(rollups.reduce((n, r) => n + r.checks, 0)).toBe(5_001)
    expect(rollups.reduce((n, r) => n + r.failures, 0)).toBe(1)
    await recorder.stop()
  })

  it('flushes a partial batch on the timer tick; state when its period is due; rollups once the hour is over', async () => {
    const { recorder, count: sent, timers, clock } = setup({ stateFlushMs: 300_000, rollupGraceMs: 120_000 })
    const ids = freshEndpoints(3)
    for (const id of ids) recorder.record(sample({ endpointId: id, checkedAt: new Date(T0) }))
    expect(sent(HISTORY_INSERT)).toBe(0)

    const tickAt = async (ms: number) => {
      clock.set(new Date(T0 + ms))
      timers.fire()
      await settle(recorder)
    }
    await tickAt(1_000)
    expect(await historyCount(ids)).toBe(3)
    expect(sent(HISTORY_INSERT)).toBe(1)
    expect([sent(ROLLUP_UPSERT), sent(STATE_UPSERT)]).toEqual([0, 0])

    await tickAt(299_999)
    expect(sent(STATE_UPSERT)).toBe(0)
    await tickAt(300_000)
    expect(sent(STATE_UPSERT)).toBe(1)

    // A check of the next hour: its rollup waits for that hour to end.
    recorder.record(sample({ endpointId: ids[0]!, checkedAt: new Date(T0 + HOUR + 5) }))
    await tickAt(HOUR + 119_999)
    expect(sent(ROLLUP_UPSERT)).toBe(0)
    await tickAt(HOUR + 120_000)
    expect(sent(ROLLUP_UPSERT)).toBe(1)
    expect(await rollupsOf(ids)).toHaveLength(3)
    expect(recorder.stats().pendingRollups).toBe(1)
    await tickAt(HOUR + 121_000)
    expect(sent(ROLLUP_UPSERT)).toBe(1) // no empty statements
    expect(sent(HISTORY_INSERT)).toBe(2)
    expect(recorder.stats().lastFlushMs).toBeGreaterThanOrEqual(0)

    await recorder.stop()
    expect(timers.cleared).toBe(1)
    expect(await rollupsOf(ids)).toHaveLength(4) // stop() writes the current hour too
  })

  it('writes the current hour at each checkpoint when asked to, and the writes add up', async () => {
    const { recorder, count: sent, timers, clock } = setup({ rollupCheckpointMs: 60_000 })
    const [id] = freshEndpoints(1) as [bigint]
    recorder.record(sample({ endpointId: id, rttMs: 10, checkedAt: new Date(T0) }))
    clock.advance(60_000)
    timers.fire()
    await settle(recorder)
    expect(sent(ROLLUP_UPSERT)).toBe(1)
    recorder.record(sample({ endpointId: id, rttMs: 20, checkedAt: new Date(T0 + 61_000) }))
    clock.advance(60_000)
    timers.fire()
    await settle(recorder)
    expect(sent(ROLLUP_UPSERT)).toBe(2)
    const [row] = await rollupsOf([id])
    expect(row).toMatchObject({ checks: 2, rttSumMs: 30 })
    expect(row!.rttHist).toEqual(histogramOf([10, 20]))
    await recorder.stop()
  })

  it('refuses samples the database would reject, so a bad row can never block a batch', async () => {
    const { recorder } = setup()
    const [id] = freshEndpoints(1) as [bigint]
    const bad: Partial<Parameters<typeof sample>[0]>[] = [
      { rttMs: -1 },
      { dnsMs: Number.NaN },
      { ttfbMs: Number.POSITIVE_INFINITY },
      { vantage: 'v'.repeat(65) },
      { vantage: '' },
      { method: 'PROPPATCHX' },
      { httpCode: 70_000 },
      { errorCode: 1.5 },
      { checkedAt: new Date(Number.NaN) },
      { checkedAt: new Date('+010000-01-01T00:00:00Z') },
      { tlsVersion: 'x'.repeat(17) },
    ]
    for (const overrides of bad) {
      expect(() => recorder.record(sample({ endpointId: id, ...overrides })), JSON.stringify(overrides)).toThrow(
        InvalidSampleError,
      )
    }
    expect(() => recorder.record(sample({ endpointId: -1n }))).toThrow(/endpointId/)
    recorder.record(sample({ endpointId: id, rttMs: 12.6, dnsMs: 0.4 }))
    expect(recorder.stats().pending).toBe(3) // one history row, one rollup, one state: nothing of the rejects
    expect((await recorder.flush()).ok).toBe(true)
    const [row] = await database.db.select().from(checkHistory).where(eq(checkHistory.endpointId, id))
    expect(row).toMatchObject({ rttMs: 13, dnsMs: 0, blogId: id + 9_000_000_000_000_000n })
  })
  it('stores vantages and TLS versions byte for byte, whatever characters they hold', async () => {
    const { recorder } = setup()
    const [id] = freshEndpoints(1) as [bigint]
    const vantage = `it's a \\ "veriflier"; DROP TABLE x; -- ?é🙂`
    recorder.record(sample({ endpointId: id, vantage }))
    recorder.record(sample({ endpointId: id, tlsVersion: "TLS'1.3\\", checkedAt: new Date(T0 + 1) }))
    expect((await recorder.stop()).ok).toBe(true)
    const rows = await database.db
      .select({ vantage: checkHistory.vantage })
      .from(checkHistory)
      .where(eq(checkHistory.endpointId, id))
      .orderBy(asc(checkHistory.checkedAt))
    expect(rows.map((r) => r.vantage)).toEqual([vantage, 'local'])
    const [state] = await database.db.select().from(endpointState).where(eq(endpointState.endpointId, id))
    expect(state!.tlsVersion).toBe("TLS'1.3\\")
  })
})

describe('rollups', () => {
  it('aggregate local checks per endpoint and UTC hour, with a histogram of successful RTTs', async () => {
    const { recorder, count: sent } = setup()
    const [a, b] = freshEndpoints(2) as [bigint, bigint]
    const rttsA = [5, 7, 40, 41, 900]
    rttsA.forEach((rttMs, i) => {
      recorder.record(sample({ endpointId: a, rttMs, checkedAt: new Date(T0 + i * 60_000) }))
    })
    recorder.record(failedSample({ endpointId: a, checkedAt: new Date(T0 + 30 * 60_000) }))
    // A failure with a response (HTTP 500) counts as a failure, its RTT stays out of the latency figures.
    recorder.record(
      sample({ endpointId: a, httpCode: 500, errorCode: 10, failed: true, rttMs: 3, checkedAt: new Date(T0 + 1) }),
    )
    recorder.record(sample({ endpointId: a, rttMs: 100, checkedAt: new Date(T0 + HOUR + 5) }))
    recorder.record(sample({ endpointId: b, rttMs: 8, checkedAt: new Date(T0 + 10) }))
    // Veriflier checks go to history only.
    recorder.record(sample({ endpointId: a, vantage: 'veriflier-eu', rttMs: 5_000, checkedAt: new Date(T0 + 20) }))
    await recorder.flush()

    expect(sent(ROLLUP_UPSERT)).toBe(1)
    const rows = await rollupsOf([a, b])
    expect(rows.map((r) => [r.endpointId, r.hourStart.toISOString(), r.checks, r.failures, r.rttSumMs])).toEqual([
      [a, '2030-01-01T10:00:00.000Z', 7, 2, 5 + 7 + 40 + 41 + 900],
      [a, '2030-01-01T11:00:00.000Z', 1, 0, 100],
      [b, '2030-01-01T10:00:00.000Z', 1, 0, 8],
    ])
    expect(rows[0]!.rttHist).toEqual(histogramOf(rttsA))
    expect(rows[0]!.blogId).toBe(a + 9_000_000_000_000_000n)
    expect(await historyCount([a, b])).toBe(10)
    await recorder.stop()
  })

  it('add up across a restart: a second recorder on the same hour adds to the stored row', async () => {
    const [id] = freshEndpoints(1) as [bigint]
    const first = setup().recorder
    const second = setup().recorder
    const before = [3, 50, 51, 1_200]
    const after = [4, 49, 2_500, 70_000]
    before.forEach((rttMs, i) => {
      first.record(sample({ endpointId: id, rttMs, checkedAt: new Date(T0 + i) }))
    })
    first.record(failedSample({ endpointId: id, checkedAt: new Date(T0 + 100) }))
    await first.stop()

    after.forEach((rttMs, i) => {
      second.record(sample({ endpointId: id, rttMs, checkedAt: new Date(T0 + 1_000 + i) }))
    })
    second.record(failedSample({ endpointId: id, checkedAt: new Date(T0 + 2_000) }))
    await second.stop()

    const [row] = await rollupsOf([id])
    expect(row).toMatchObject({ checks: 10, failures: 2, rttSumMs: [...before, ...after].reduce((a, b) => a + b) })
    expect(row!.rttHist).toEqual(histogramOf([...before, ...after]))
    expect(row!.rttHist).toHaveLength(RTT_BUCKETS)
  })

  it('add up when two live recorders write the same hours concurrently (lease handover)', async () => {
    const ids = freshEndpoints(50)
    const recorders = [setup().recorder, setup().recorder]
    const expected = new Map<bigint, number[]>()
    for (let round = 0; round < 4; round++) {
      recorders.forEach((recorder, r) => {
        for (let i = 0; i < 200; i++) {
          const id = ids[i % 50]!
          const rttMs = 1 + ((i * 37 + round * 11 + r * 5) % 3_000)
          expected.set(id, [...(expected.get(id) ?? []), rttMs])
          recorder.record(sample({ endpointId: id, rttMs, checkedAt: new Date(T0 + round * 1_000 + i) }))
        }
      })
      await Promise.all(recorders.map((recorder) => recorder.flush()))
    }
    await Promise.all(recorders.map((recorder) => recorder.stop()))
    const rows = await rollupsOf(ids)
    expect(rows).toHaveLength(50)
    for (const row of rows) {
      const values = expected.get(row.endpointId)!
      expect(row.checks).toBe(values.length)
      expect(row.rttSumMs).toBe(values.reduce((a, b) => a + b))
      expect(row.rttHist).toEqual(histogramOf(values))
    }
  })

  it('merge with a row whose histogram is NULL or short (written by another tool)', async () => {
    const [id] = freshEndpoints(1) as [bigint]
    await database.pool.query(
      'INSERT INTO jetmon_check_rollups (endpoint_id, hour_start, blog_id, checks, failures, rtt_sum_ms, rtt_hist) VALUES (?, ?, 1, 2, 0, 10, NULL), (?, ?, 1, 1, 0, 4, ?)',
      [id, new Date(T0), id, new Date(T0 + HOUR), JSON.stringify([0, 0, 0, 1])],
    )
    const { recorder } = setup()
    recorder.record(sample({ endpointId: id, rttMs: 4, checkedAt: new Date(T0 + 5) }))
    recorder.record(sample({ endpointId: id, rttMs: 4, checkedAt: new Date(T0 + HOUR + 5) }))
    await recorder.stop()
    const rows = await rollupsOf([id])
    expect(rows.map((r) => [r.checks, r.rttSumMs])).toEqual([
      [3, 14],
      [2, 8],
    ])
    expect(rows[0]!.rttHist).toEqual(histogramOf([4]))
    expect(rows[1]!.rttHist).toEqual(histogramOf([4, 4]))
  })
})

describe('endpoint state', () => {
  it('is written coarsely: one multi-row upsert per state flush, newest sample per endpoint', async () => {
    const { recorder, count: sent, clock, timers } = setup({ stateFlushMs: 300_000 })
    const ids = freshEndpoints(300)
    const expires = new Date('2030-03-01T00:00:00.000Z')
    for (let i = 0; i < 1_500; i++) {
      const id = ids[i % 300]!
      const late = i >= 1_200
      recorder.record(
        sample({
          endpointId: id,
          checkedAt: new Date(T0 + i * 1_000),
          httpCode: late ? 503 : 200,
          errorCode: late ? 10 : 0,
          failed: late,
          sslExpiresAt: i < 300 ? expires : null,
          tlsVersion: i < 300 ? 'TLSv1.3' : null,
        }),
      )
    }
    // A sample arriving out of order (an older check finishing late) does not win.
    recorder.record(sample({ endpointId: ids[0]!, checkedAt: new Date(T0), httpCode: 204 }))
    for (let s = 0; s < 299; s++) {
      clock.advance(1_000)
      timers.fire()
    }
    await settle(recorder)
    expect(sent(STATE_UPSERT)).toBe(0)
    clock.advance(1_000)
    timers.fire()
    await settle(recorder)
    expect(sent(STATE_UPSERT)).toBe(1)

    const rows = await database.db.select().from(endpointState).where(inArray(endpointState.endpointId, ids))
    expect(rows).toHaveLength(300)
    const first = rows.find((r) => r.endpointId === ids[0])!
    expect(first).toMatchObject({
      lastCheckedAt: new Date(T0 + 1_200 * 1_000),
      lastHttpCode: 503,
      lastErrorCode: 10,
      sslExpiresAt: expires,
      tlsVersion: 'TLSv1.3',
    })
    expect(first.updatedAt).toEqual(new Date(T0 + 300_000))
    await recorder.stop()
  })

  it('never rolls back: a host flushing older state after another host keeps the newer row', async () => {
    const [id] = freshEndpoints(1) as [bigint]
    const newer = setup().recorder
    const older = setup().recorder
    newer.record(
      sample({ endpointId: id, checkedAt: new Date(T0 + 60_000), httpCode: 500, errorCode: 10, failed: true }),
    )
    await newer.stop()
    older.record(sample({ endpointId: id, checkedAt: new Date(T0), httpCode: 200, tlsVersion: 'TLSv1.2' }))
    await older.stop()
    const [row] = await database.db.select().from(endpointState).where(eq(endpointState.endpointId, id))
    expect(row).toMatchObject({ lastCheckedAt: new Date(T0 + 60_000), lastHttpCode: 500, lastErrorCode: 10 })
    expect(row!.tlsVersion).toBeNull()
  })
})

describe('when the database fails', () => {
  it('keeps the rows, retries on the next tick, logs once per failure streak, then writes everything', async () => {
    const logger = recordingLogger()
    const { recorder, timers, clock } = setup({ logger })
    const ids = freshEndpoints(10)
    // Take the table away: a failing INSERT on the real server.
    await database.pool.query('RENAME TABLE jetmon_check_history TO jetmon_check_history_away')
    try {
      for (let i = 0; i < 2_500; i++) recorder.record(sample({ endpointId: ids[i % 10]!, checkedAt: new Date(T0 + i) }))
      for (let s = 0; s < 3; s++) {
        clock.advance(1_000)
        timers.fire()
        await settle(recorder)
      }
      const stats = recorder.stats()
      expect(stats.pendingHistory).toBe(2_500)
      expect(stats.errors).toBeGreaterThanOrEqual(3)
      expect(stats.tables.history.statements).toBe(0)
      expect(logger.entries.filter((l) => l.level === 'error')).toHaveLength(1)
      expect(logger.entries[0]!.msg).toMatch(/could not write history rows.*retried/)
      const outcome = await recorder.flush()
      expect(outcome.ok).toBe(false)
      expect(outcome.pending).toBeGreaterThanOrEqual(2_500)
    } finally {
      await database.pool.query('RENAME TABLE jetmon_check_history_away TO jetmon_check_history')
    }
    clock.advance(1_000)
    timers.fire()
    await settle(recorder)
    expect(await historyCount(ids)).toBe(2_500)
    expect(recorder.stats()).toMatchObject({ pendingHistory: 0, dropped: { history: 0, rollups: 0 } })
    expect(logger.entries.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([
      expect.stringMatching(/recovered/),
    ])
    await recorder.stop()
    const rollups = await rollupsOf(ids)
    expect(rollups.reduce((n, r) => n + r.checks, 0)).toBe(2_500)
  })

  it('drops the oldest rows beyond the bound, counts them, and keeps the newest', async () => {
    const { recorder, timers } = setup({ maxPendingRows: 1_500, maxBatch: 500 })
    const [id] = freshEndpoints(1) as [bigint]
    await database.pool.query('RENAME TABLE jetmon_check_history TO jetmon_check_history_away')
    try {
      for (let i = 0; i < 1_000; i++) recorder.record(sample({ endpointId: id, checkedAt: new Date(T0 + i) }))
      timers.fire()
      await settle(recorder)
      for (let i = 1_000; i < 2_000; i++) recorder.record(sample({ endpointId: id, checkedAt: new Date(T0 + i) }))
      timers.fire()
      await settle(recorder)
      expect(recorder.stats()).toMatchObject({ pendingHistory: 1_500, dropped: { history: 500 } })
    } finally {
      await database.pool.query('RENAME TABLE jetmon_check_history_away TO jetmon_check_history')
    }
    await recorder.stop()
    const rows = await database.db
      .select({ checkedAt: checkHistory.checkedAt })
      .from(checkHistory)
      .where(eq(checkHistory.endpointId, id))
      .orderBy(asc(checkHistory.checkedAt))
    expect(rows).toHaveLength(1_500)
    expect(rows[0]!.checkedAt).toEqual(new Date(T0 + 500))
    expect(rows.at(-1)!.checkedAt).toEqual(new Date(T0 + 1_999))
  })

  it('keeps rollup deltas of a failed upsert and adds later ones to them', async () => {
    const { recorder, timers, clock } = setup()
    const [id] = freshEndpoints(1) as [bigint]
    recorder.record(sample({ endpointId: id, rttMs: 10, checkedAt: new Date(T0) }))
    await database.pool.query('RENAME TABLE jetmon_check_rollups TO jetmon_check_rollups_away')
    try {
      clock.set(new Date(T0 + HOUR + 120_000)) // the hour is over: its rollups are due
      timers.fire()
      await settle(recorder)
      expect(recorder.stats()).toMatchObject({ pendingRollups: 1, errors: 1 })
      // A late check of the same hour is added to the kept delta: still one row to write.
      recorder.record(sample({ endpointId: id, rttMs: 20, checkedAt: new Date(T0 + 1) }))
      expect(recorder.stats().pendingRollups).toBe(1)
    } finally {
      await database.pool.query('RENAME TABLE jetmon_check_rollups_away TO jetmon_check_rollups')
    }
    clock.advance(1_000)
    timers.fire()
    await settle(recorder)
    const [row] = await rollupsOf([id])
    expect(row).toMatchObject({ checks: 2, rttSumMs: 30 })
    expect(row!.rttHist).toEqual(histogramOf([10, 20]))
    expect(recorder.stats().pendingRollups).toBe(0)
    await recorder.stop()
  })

  it('drops the oldest hour of rollups first beyond the bound', async () => {
    const { recorder } = setup({ maxPendingRollups: 5 })
    const ids = freshEndpoints(3)
    for (const hour of [0, 1, 2]) {
      for (const id of ids) recorder.record(sample({ endpointId: id, checkedAt: new Date(T0 + hour * HOUR) }))
    }
    expect(recorder.stats()).toMatchObject({ pendingRollups: 5, dropped: { rollups: 4 } })
    await recorder.stop()
    const rows = await rollupsOf(ids)
    expect(rows.map((r) => r.hourStart.getTime() - T0).sort((a, b) => a - b)).toEqual([
      HOUR,
      HOUR,
      2 * HOUR,
      2 * HOUR,
      2 * HOUR,
    ])
  })
})
