// `pnpm bench:legacy`: `auditLegacySites` over a v1 table of BENCH_ROWS rows (default 1 000 000),
// as v1 leaves it: 1 000 buckets, 5 % inactive, 1 % Seems Down and 1 % Down, plus a few rows of each
// kind of finding. Seeds with INSERT … SELECT over a numbers table, then times the audit of the
// whole table and of one bucket range. Prints one JSON line of figures.
//
// Database: BENCH_DATABASE_URL (a server URL; a scratch database is created on it) or, by default,
// an embedded MariaDB in a temporary folder. BENCH_KEEP=1 keeps the scratch database and prints its
// URL on stderr, to run `jetmon2 legacy audit` against it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createScratchDatabase, type Db, type EmbeddedMariadb, monitorSites, startEmbeddedMariadb } from '@jetmon/db'
import { sql } from 'drizzle-orm'
import { auditLegacySites, type LegacyAudit } from '../src/index.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BUCKET_TOTAL = 1000
const CHUNK = 100_000

const round = (value: number, digits = 0) => Number(value.toFixed(digits))
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

/** Rows `from` … `from + count − 1` of the synthetic fleet, in one statement. */
async function seedChunk(db: Db, from: number, count: number): Promise<void> {
  // 10^6 numbers from six digits, without recursion (MySQL caps recursive CTEs at 1 000 by default).
  await db.execute(sql`
    INSERT INTO ${monitorSites} (blog_id, bucket_no, monitor_url, monitor_active, site_status, last_status_change, check_interval)
    SELECT n + 1,
           n % ${BUCKET_TOTAL},
           CONCAT('https://site-', n, '.example.com/'),
           IF(n % 20 = 19, 0, 1),
           CASE n % 100 WHEN 0 THEN 2 WHEN 1 THEN 0 ELSE 1 END,
           IF(n % 100 IN (0, 1), TIMESTAMP('2026-03-01 00:00:00') + INTERVAL (n % 86400) SECOND, NULL),
           5
    FROM (
      SELECT d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d + 100000 * d5.d + ${from} AS n
      FROM (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d0
      CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d1
      CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d2
      CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d3
      CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d4
      CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
            UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d5
    ) numbers
    WHERE n < ${from + count}`)
}

/** A few rows of each kind of finding, spread over the table. */
async function seedFindings(db: Db): Promise<void> {
  const rows: (typeof monitorSites.$inferInsert)[] = []
  for (let i = 0; i < 20; i++) {
    // A second active row for an existing blog and URL.
    const n = i * 49_999 + 2
    rows.push({ blogId: BigInt(n + 1), bucketNo: n % BUCKET_TOTAL, monitorUrl: `https://site-${n}.example.com/` })
  }
  for (let i = 0; i < 10; i++)
    rows.push({ blogId: 9_000_000n + BigInt(i), bucketNo: i, monitorUrl: `site-${i} example` })
  for (let i = 0; i < 5; i++)
    rows.push({ blogId: 9_100_000n + BigInt(i), bucketNo: 10 + i, monitorUrl: 'https://odd.example/', siteStatus: 9 })
  for (let i = 0; i < 5; i++)
    rows.push({
      blogId: 9_200_000n + BigInt(i),
      bucketNo: 20 + i,
      monitorUrl: 'https://fast.example/',
      checkInterval: 0,
    })
  for (let i = 0; i < 3; i++)
    rows.push({ blogId: 9_300_000n + BigInt(i), bucketNo: BUCKET_TOTAL + i, monitorUrl: 'https://far.example/' })
  await db.insert(monitorSites).values(rows)
}

async function timed(fn: () => Promise<LegacyAudit>): Promise<{ ms: number; audit: LegacyAudit }> {
  const started = performance.now()
  const audit = await fn()
  return { ms: performance.now() - started, audit }
}

async function main(): Promise<void> {
  let server: EmbeddedMariadb | null = null
  let dir: string | null = null
  let serverUrl = process.env.BENCH_DATABASE_URL
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'jetmon-legacy-bench-'))
    server = await startEmbeddedMariadb({ dir, database: 'jetmon_bench' })
    serverUrl = server.url
  }
  const keep = process.env.BENCH_KEEP === '1'
  const database = await createScratchDatabase(serverUrl, { prefix: 'jt_bench_' })
  try {
    const { db } = database
    const seedStarted = performance.now()
    for (let from = 0; from < ROWS; from += CHUNK) await seedChunk(db, from, Math.min(CHUNK, ROWS - from))
    await seedFindings(db)
    await db.execute(sql`ANALYZE TABLE ${monitorSites}`)
    const seedMs = performance.now() - seedStarted

    const whole = () => auditLegacySites({ ctx: { db }, bucketTotal: BUCKET_TOTAL })
    const range = () => auditLegacySites({ ctx: { db }, bucketMin: 0, bucketMax: 99, bucketTotal: BUCKET_TOTAL })
    await whole() // warm the buffer pool: the audit of a live table reads pages already in memory
    const wholeRuns: number[] = []
    let last: LegacyAudit | null = null
    for (let i = 0; i < RUNS; i++) {
      const run = await timed(whole)
      wholeRuns.push(run.ms)
      last = run.audit
    }
    const rangeRuns: number[] = []
    for (let i = 0; i < RUNS; i++) rangeRuns.push((await timed(range)).ms)

    console.log(
      JSON.stringify({
        bench: 'legacy-audit',
        node: process.version,
        rows: ROWS + 43,
        activeRows: last?.activeRows ?? 0,
        findings: Object.fromEntries((last?.findings ?? []).map((f) => [f.code, f.count])),
        seedMs: round(seedMs),
        wholeTableMs: { median: round(median(wholeRuns)), runs: wholeRuns.map((ms) => round(ms)) },
        range0to99Ms: { median: round(median(rangeRuns)), runs: rangeRuns.map((ms) => round(ms)) },
        server: process.env.BENCH_DATABASE_URL ? 'given' : 'embedded MariaDB',
      }),
    )
    if (keep) process.stderr.write(`kept the seeded database: DATABASE_URL=${database.url}\n`)
  } finally {
    if (!keep) {
      await database.drop()
      await server?.stop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    } else {
      await database.close()
    }
  }
}

await main()
