import { createDatabase, type Database } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EndpointSource } from '../src/index.js'

const database = useTestDatabase()
let single: Database

beforeAll(() => {
  // One connection, so that its session counters are this source's reads and nothing else's.
  single = createDatabase(database().url, { connectionLimit: 1 })
})
afterAll(async () => {
  await single.close()
})

let fleet = 0

/**
 * Grows the fleet to `size` endpoints, each with a configuration row, and one `endpoint_changed`
 * audit row for every tenth, all stamped long ago: a fleet with a history of changes.
 */
async function grow(size: number): Promise<void> {
  const pool = database().pool
  for (let from = fleet; from < size; from += 5_000) {
    const to = Math.min(size, from + 5_000)
    const sites: string[] = []
    for (let i = from; i < to; i++) sites.push(`(${i + 1}, ${1_000 + i}, ${i % 1000}, 'https://e${i}.example/')`)
    await pool.query(
      `INSERT INTO jetpack_monitor_sites (jetpack_monitor_site_id, blog_id, bucket_no, monitor_url) VALUES ${sites.join(',')}`,
    )
    await pool.query(
      `INSERT INTO jetmon_endpoint_config (endpoint_id, timeout_ms, created_at, updated_at)
       SELECT jetpack_monitor_site_id, 5000, '2020-01-01', '2020-01-01' FROM jetpack_monitor_sites WHERE jetpack_monitor_site_id BETWEEN ${from + 1} AND ${to}`,
    )
    await pool.query(
      `INSERT INTO jetmon_audit_log (event_type, source, metadata, created_at)
       SELECT 'endpoint_changed', 'api:test', JSON_OBJECT('endpoint_id', CAST(jetpack_monitor_site_id AS CHAR)), '2020-01-01'
       FROM jetpack_monitor_sites WHERE jetpack_monitor_site_id BETWEEN ${from + 1} AND ${to} AND jetpack_monitor_site_id % 10 = 0`,
    )
  }
  fleet = size
}

/** What the API does, three times: a new endpoint, a configuration change, a URL change it announces. */
async function threeChanges(round: number): Promise<void> {
  const pool = database().pool
  fleet++
  await pool.query(
    `INSERT INTO jetpack_monitor_sites (jetpack_monitor_site_id, blog_id, bucket_no, monitor_url) VALUES (${fleet}, 77, 1, 'https://new${round}.example/')`,
  )
  await pool.query(
    `UPDATE jetmon_endpoint_config SET timeout_ms = ${6_000 + round}, updated_at = NOW(3) WHERE endpoint_id = 2`,
  )
  await pool.query(
    `UPDATE jetpack_monitor_sites SET monitor_url = 'https://moved${round}.example/' WHERE jetpack_monitor_site_id = 3`,
  )
  await pool.query(
    `INSERT INTO jetmon_audit_log (event_type, source, metadata) VALUES ('endpoint_changed', 'api:test', JSON_OBJECT('endpoint_id', '3'))`,
  )
}

/** Rows the server's storage engine read for this connection, and the statements it ran. */
async function counters(): Promise<{ rows: number; statements: number }> {
  const [rows] = (await single.pool.query(
    "SHOW SESSION STATUS WHERE Variable_name LIKE 'Handler_read%' OR Variable_name = 'Questions'",
  )) as unknown as [{ Variable_name: string; Value: string }[]]
  let read = 0
  let statements = 0
  for (const row of rows) {
    if (row.Variable_name === 'Questions') statements = Number(row.Value)
    else read += Number(row.Value)
  }
  return { rows: read, statements }
}

async function costOfRefresh(source: EndpointSource) {
  const before = await counters()
  const summary = await source.refresh()
  const after = await counters()
  return {
    rowsExamined: after.rows - before.rows,
    // The SHOW STATUS between them is one statement.
    statements: after.statements - before.statements - 1,
    upserts: summary.upserts,
  }
}

describe('the incremental refresh', () => {
  it('costs the database the same rows and statements with a fleet ten times larger', async () => {
    const source = new EndpointSource({ db: single.db, lookbackMs: 0 })
    await grow(2_000)
    await source.setRanges([{ min: 0, max: 999 }])
    await source.refresh()
    await threeChanges(1)
    const small = await costOfRefresh(source)
    expect(small.upserts).toBe(3)

    await grow(20_000)
    await source.fullReconcile()
    // Two refreshes move the new-endpoint scan past the ids the reconciliation already read.
    await source.refresh()
    await source.refresh()
    expect(source.size).toBe(20_000)
    await threeChanges(2)
    const large = await costOfRefresh(source)
    expect(large.upserts).toBe(3)

    expect(large.statements).toBe(small.statements)
    expect(large.rowsExamined).toBeLessThanOrEqual(small.rowsExamined + 10)
    expect(large.rowsExamined).toBeLessThan(100)
    await source.stop()
  })
})
