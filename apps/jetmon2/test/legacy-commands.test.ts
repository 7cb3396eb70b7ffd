/**
 * `jetmon2 legacy audit|adopt`, run as the real binary against a migrated test database: output
 * (table and JSON), exit codes, and the events adoption leaves behind.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { events, eventTransitions, monitorSites } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { asc, between, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, jetmon2 as runJetmon2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon2-legacy-'))
let database: TestDatabase
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  database = await createTestDatabase()
  const config = join(tmp, 'config.json')
  writeFileSync(config, JSON.stringify({ BUCKET_TOTAL: 100 }))
  env = { JETMON_CONFIG: config, DATABASE_URL: database.url, JETMON_DATA_DIR: join(tmp, 'no-db') }
})
afterAll(async () => {
  await database?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

const jetmon2 = (args: string[]): Promise<CliResult> => runJetmon2(args, env)

async function seed(rows: { blogId: bigint; url: string; bucket: number; status?: number; at?: Date }[]) {
  const [header] = await database.db.insert(monitorSites).values(
    rows.map((row) => ({
      blogId: row.blogId,
      monitorUrl: row.url,
      bucketNo: row.bucket,
      siteStatus: row.status ?? 1,
      lastStatusChange: row.at ?? null,
    })),
  )
  return rows.map((_, index) => BigInt(header.insertId) + BigInt(index))
}

// Each test starts the binary several times: a few seconds each on a loaded machine.
describe('jetmon2 legacy audit', { timeout: 60_000 }, () => {
  it('reports a clean range with exit 0, and blocking findings with exit 1, as JSON or a table', async () => {
    await seed([
      { blogId: 1n, url: 'https://clean.example', bucket: 1 },
      { blogId: 2n, url: 'https://clean-down.example', bucket: 1, status: 2 },
      { blogId: 3n, url: 'https://dup.example', bucket: 2 },
      { blogId: 3n, url: 'https://dup.example', bucket: 2 },
      { blogId: 4n, url: 'https://far.example', bucket: 100 },
    ])
    const clean = await jetmon2(['legacy', 'audit', '--bucket-min', '1', '--bucket-max', '1', '--output', 'json'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(JSON.parse(clean.stdout)).toEqual({
      range: { bucket_min: 1, bucket_max: 1 },
      bucket_total: 100,
      active_rows: 2,
      blocking: false,
      findings: [
        {
          code: 'awaiting_adoption',
          severity: 'warning',
          count: 1,
          message: expect.stringContaining('jetmon2 legacy adopt'),
          examples: [
            {
              endpoint_id: expect.any(Number),
              blog_id: 2,
              bucket_no: 1,
              monitor_url: 'https://clean-down.example',
              monitor_active: true,
              site_status: 2,
              check_interval: 5,
            },
          ],
        },
      ],
    })

    // The whole table: the duplicate and the bucket beyond BUCKET_TOTAL block.
    const whole = await jetmon2(['legacy', 'audit', '--output', 'table'])
    expect(whole.code).toBe(1)
    expect(whole.stdout).toContain(
      'jetpack_monitor_sites, all buckets (BUCKET_TOTAL 100): 5 active row(s), 2 blocking finding(s), 1 warning(s).',
    )
    expect(whole.stdout).toMatch(/blocking\s+duplicate_active_url\s+1/)
    expect(whole.stdout).toMatch(/blocking\s+bucket_out_of_range\s+1/)
    expect(whole.stdout).toContain('https://far.example')
    expect(whole.stderr).toContain('2 blocking finding(s) in all buckets: duplicate_active_url, bucket_out_of_range')
  })

  it('refuses half a range as a usage error', async () => {
    const result = await jetmon2(['legacy', 'audit', '--bucket-min', '3'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--bucket-max: give it with --bucket-min')
  })
})

describe('jetmon2 legacy adopt', { timeout: 60_000 }, () => {
  it('dry-runs by default, adopts with --execute, and adopts nothing twice', async () => {
    const at = new Date('2026-03-01T10:00:00.000Z')
    const [, seemsDown, down] = await seed([
      { blogId: 10n, url: 'https://up.example', bucket: 10 },
      { blogId: 11n, url: 'https://seems.example', bucket: 10, status: 0, at },
      { blogId: 12n, url: 'https://down.example', bucket: 11, status: 2, at },
    ])
    const ids = [seemsDown as bigint, down as bigint]
    const inRange = () =>
      database.db
        .select({ id: monitorSites.endpointId })
        .from(monitorSites)
        .where(between(monitorSites.bucketNo, 10, 11))
    expect(await inRange()).toHaveLength(3)

    const dry = await jetmon2(['legacy', 'adopt', '--bucket-min', '10', '--bucket-max', '11', '--output', 'table'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain('Dry run: would adopt 2 incident(s) (1 Down, 1 Seems Down) in buckets 10–11.')
    expect(dry.stdout).toContain('https://seems.example')
    expect(await database.db.select().from(events).where(inArray(events.endpointId, ids))).toEqual([])

    const done = await jetmon2([
      'legacy',
      'adopt',
      '--bucket-min',
      '10',
      '--bucket-max',
      '11',
      '--execute',
      '--output',
      'json',
    ])
    expect(done.code, done.stderr).toBe(0)
    expect(JSON.parse(done.stdout)).toMatchObject({
      execute: true,
      range: { bucket_min: 10, bucket_max: 11 },
      adopted: { seems_down: 1, down: 1 },
      already_open: 0,
      skipped: 0,
      examples: [
        {
          endpoint_id: Number(seemsDown),
          state: 'Seems Down',
          started_at: at.toISOString(),
          event_id: expect.any(Number),
        },
        { endpoint_id: Number(down), state: 'Down', started_at: at.toISOString(), event_id: expect.any(Number) },
      ],
    })
    expect(done.stderr).toContain('adopted 2 of 2')
    const transitions = await database.db
      .select({ reason: eventTransitions.reason, source: eventTransitions.source })
      .from(eventTransitions)
      .where(inArray(eventTransitions.endpointId, ids))
      .orderBy(asc(eventTransitions.id))
    expect(transitions).toEqual([
      { reason: 'adopted', source: `cli:${userInfo().username}` },
      { reason: 'adopted', source: `cli:${userInfo().username}` },
    ])
    const [downEvent] = await database.db
      .select()
      .from(events)
      .where(eq(events.endpointId, down as bigint))
    expect(downEvent).toMatchObject({ state: 'Down', downNotifiedAt: at })

    const again = await jetmon2([
      'legacy',
      'adopt',
      '--bucket-min',
      '10',
      '--bucket-max',
      '11',
      '--execute',
      '--output',
      'json',
    ])
    expect(JSON.parse(again.stdout)).toMatchObject({ adopted: { seems_down: 0, down: 0 }, already_open: 2 })
  })

  it('needs a range', async () => {
    const result = await jetmon2(['legacy', 'adopt', '--execute'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--bucket-min: required')
  })
})
