// `pnpm --filter @jetmon/slo run bench`: one minute's evaluation of BENCH_OBJECTIVES objectives
// (default 10 000), one per site, each site with one endpoint and, for one site in a hundred, a
// confirmed outage in the last hour (its objective pages). Times `evaluateObjectives` over
// BENCH_RUNS consecutive minutes (the first opens the alerts, the others find them as they are) and
// counts the statements the database answered and the CPU time of this process. Prints one JSON line.
//
// Database: BENCH_DATABASE_URL (a server URL; a scratch database is created on it) or, by default,
// an embedded MariaDB in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  createScratchDatabase,
  type Db,
  type EmbeddedMariadb,
  events,
  eventTransitions,
  monitorSites,
  sloObjectives,
  startEmbeddedMariadb,
} from '@jetmon/db'
import { sql } from 'drizzle-orm'
import { evaluateObjectives } from '../src/index.js'

const OBJECTIVES = Number(process.env.BENCH_OBJECTIVES ?? 10_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CHUNK = 1_000
const NOW = Date.parse('2026-05-20T12:00:00Z')
const MINUTE = 60_000

const round = (value: number, digits = 0) => Number(value.toFixed(digits))

async function questions(db: Db): Promise<number> {
  const [rows] = (await db.execute(sql`SHOW GLOBAL STATUS LIKE 'Questions'`)) as unknown as [{ Value: string }[]]
  return Number(rows[0]?.Value ?? 0)
}

async function seed(db: Db): Promise<void> {
  const created = new Date(NOW - 40 * 86_400_000)
  for (let from = 0; from < OBJECTIVES; from += CHUNK) {
    const n = Math.min(CHUNK, OBJECTIVES - from)
    const sites = Array.from({ length: n }, (_, i) => ({
      blogId: BigInt(from + i + 1),
      monitorUrl: `https://site-${from + i + 1}.example/`,
    }))
    await db.insert(monitorSites).values(sites)
    await db.insert(sloObjectives).values(
      sites.map((site) => ({
        name: `availability ${site.blogId}`,
        blogId: site.blogId,
        sli: 'availability' as const,
        target: 99.9,
        window: '30d',
        createdBy: 'bench',
        createdAt: created,
        updatedAt: created,
      })),
    )
  }
  // One site in a hundred was down for ten minutes half an hour ago.
  const [rows] = (await db.execute(
    sql`SELECT jetpack_monitor_site_id AS endpointId, blog_id AS blogId FROM ${monitorSites} WHERE blog_id % 100 = 0`,
  )) as unknown as [{ endpointId: string; blogId: string }[]]
  const start = new Date(NOW - 30 * MINUTE)
  const end = new Date(NOW - 20 * MINUTE)
  for (const row of rows) {
    const [header] = await db.insert(events).values({
      blogId: BigInt(row.blogId),
      endpointId: BigInt(row.endpointId),
      checkType: 'http',
      severity: 4,
      state: 'Down',
      startedAt: start,
      endedAt: end,
      resolutionReason: 'verifier_cleared',
      updatedAt: end,
    })
    await db.insert(eventTransitions).values([
      {
        eventId: BigInt(header.insertId),
        blogId: BigInt(row.blogId),
        endpointId: BigInt(row.endpointId),
        severityAfter: 4,
        stateAfter: 'Down',
        reason: 'opened',
        source: 'bench',
        changedAt: start,
      },
      {
        eventId: BigInt(header.insertId),
        blogId: BigInt(row.blogId),
        endpointId: BigInt(row.endpointId),
        severityBefore: 4,
        stateBefore: 'Down',
        stateAfter: 'Resolved',
        reason: 'verifier_cleared',
        source: 'bench',
        changedAt: end,
      },
    ])
  }
}

async function main(): Promise<void> {
  let server: EmbeddedMariadb | null = null
  let dir: string | null = null
  let serverUrl = process.env.BENCH_DATABASE_URL
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'jetmon-slo-bench-'))
    server = await startEmbeddedMariadb({ dir, database: 'jetmon_bench' })
    serverUrl = server.url
  }
  const database = await createScratchDatabase(serverUrl, { prefix: 'jt_bench_' })
  try {
    const { db } = database
    const seedStarted = performance.now()
    await seed(db)
    const seedMs = performance.now() - seedStarted
    const runs = []
    for (let i = 0; i < RUNS; i++) {
      const before = await questions(db)
      const cpu = process.cpuUsage()
      const started = performance.now()
      const report = await evaluateObjectives({ ctx: { db, source: 'slo:bench' }, now: new Date(NOW + i * MINUTE) })
      const ms = performance.now() - started
      const used = process.cpuUsage(cpu)
      const statements = (await questions(db)) - before - 1
      runs.push({
        ms: round(ms),
        cpuMs: round((used.user + used.system) / 1000),
        statements,
        opened: report.opened,
        closed: report.closed,
        failedSites: report.failedSites,
      })
    }
    const last = runs.at(-1)!
    console.log(
      JSON.stringify({
        bench: 'slo-evaluator',
        node: process.version,
        objectives: OBJECTIVES,
        seedMs: round(seedMs),
        runs,
        // Once a minute: the share of one core and the statements per second it takes.
        cpuShareOfOneCore: round(last.cpuMs / MINUTE, 3),
        statementsPerSecond: round(last.statements / 60, 1),
        server: process.env.BENCH_DATABASE_URL ? 'given' : 'embedded MariaDB',
      }),
    )
  } finally {
    await database.drop()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
