import { checkHistory, checkRollups } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { and, count, gte, inArray, lt } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidOptionsError, pruneHistory, pruneRollups } from '../src/index.js'
import { countingDb, freshEndpoints } from './_helpers.js'

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.drop()
})

const DAY = 86_400_000
const NOW = Date.parse('2030-06-01T12:00:00.000Z')
const clock = () => new Date(NOW)

async function seedHistory(ids: bigint[], days: number, perDay: number): Promise<void> {
  const rows = []
  for (const id of ids) {
    for (let i = 0; i < days * perDay; i++) {
      rows.push({
        endpointId: id,
        blogId: id,
        // Newest first, so ids do not follow time: pruning must not rely on them doing so.
        checkedAt: new Date(NOW - 1_000 - (i * DAY) / perDay),
        vantage: 'local',
        method: 'GET',
        errorCode: 0,
      })
    }
  }
  for (let i = 0; i < rows.length; i += 1_000) await database.db.insert(checkHistory).values(rows.slice(i, i + 1_000))
}

async function countHistory(ids: bigint[], before?: Date): Promise<number> {
  const [row] = await database.db
    .select({ n: count() })
    .from(checkHistory)
    .where(
      and(
        inArray(checkHistory.endpointId, ids),
        before ? lt(checkHistory.checkedAt, before) : gte(checkHistory.checkedAt, new Date(0)),
      ),
    )
  return row?.n ?? 0
}

describe('pruneHistory', () => {
  it('deletes rows older than retention in bounded batches and keeps the rest', async () => {
    const ids = freshEndpoints(23)
    await seedHistory(ids, 40, 12) // 23 × 480 rows, 40 days
    const cutoff = new Date(NOW - 30 * DAY)
    const old = await countHistory(ids, cutoff)
    const total = await countHistory(ids)
    expect(old).toBe(23 * 10 * 12)

    const { db, statements } = countingDb(database.pool)
    const deleted = await pruneHistory({ ctx: { db, clock }, retentionDays: 30, batchSize: 50, endpointsPerScan: 7 })
    expect(deleted).toBe(old)
    expect(await countHistory(ids, cutoff)).toBe(0)
    expect(await countHistory(ids)).toBe(total - old)

    const deletes = statements.filter((s) => /^delete from `jetmon_check_history`/.test(s.sql))
    // Every DELETE is bounded by LIMIT batchSize, and the work took many of them.
    expect(deletes.length).toBeGreaterThanOrEqual(Math.ceil(old / 50))
    for (const statement of deletes) {
      expect(statement.sql).toMatch(/ limit \?$/)
      expect(statement.params.at(-1)).toBe(50)
    }
    expect(statements.some((s) => /^select .* group by/.test(s.sql))).toBe(true)

    expect(await pruneHistory({ ctx: { db, clock }, retentionDays: 30, batchSize: 50 })).toBe(0)
  })

  it('refuses a retention or batch size that makes no sense', async () => {
    await expect(pruneHistory({ ctx: { db: database.db }, retentionDays: 0 })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    )
    await expect(pruneHistory({ ctx: { db: database.db }, retentionDays: 30, batchSize: 0 })).rejects.toThrow(
      /batchSize/,
    )
  })
})

describe('pruneRollups', () => {
  it('keeps 400 days of hourly rollups by default', async () => {
    const ids = freshEndpoints(3)
    const rows = ids.flatMap((id) =>
      [1, 100, 399, 401, 500].map((daysAgo) => ({
        endpointId: id,
        blogId: id,
        hourStart: new Date(Math.floor((NOW - daysAgo * DAY) / 3_600_000) * 3_600_000),
        checks: 1,
        rttHist: [],
      })),
    )
    await database.db.insert(checkRollups).values(rows)
    const deleted = await pruneRollups({ ctx: { db: database.db, clock }, batchSize: 2 })
    expect(deleted).toBe(6)
    const left = await database.db
      .select({ hourStart: checkRollups.hourStart })
      .from(checkRollups)
      .where(inArray(checkRollups.endpointId, ids))
    expect(left).toHaveLength(9)
    expect(left.every((r) => r.hourStart.getTime() >= NOW - 400 * DAY)).toBe(true)
  })
})
