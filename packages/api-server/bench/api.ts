// `pnpm bench:api`: the API figures of docs/operations.md, "Benchmarks". Loads BENCH_ENDPOINTS endpoints (default 100 000)
// and BENCH_HISTORY_ROWS check-history rows (default 1 000 000) into an embedded MariaDB, serves
// the API in this process, and drives it from a second process with autocannon at BENCH_RATE
// requests/s (default 100) for BENCH_SECONDS (default 30) per route:
//   GET /sites (50 rows, pages spread over the fleet) and GET /sites/{id}/uptime?window=30d
//   (sites with a full 30 days of history and incidents), and GET /slos/{id}/status (an objective
//   on each of those sites: availability of the site, or latency of its endpoint, over 30 days).
// Prints one JSON line per route, then a summary line with the targets.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createApiKey } from '@jetmon/api-keys'
import { createDatabase, migrate, noopLogger, startEmbeddedMariadb } from '@jetmon/db'
import { createObjective } from '@jetmon/slo'
import { createApiApp, startApiServer } from '../src/index.js'

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 100_000)
const HISTORY_ROWS = Number(process.env.BENCH_HISTORY_ROWS ?? 1_000_000)
const RATE = Number(process.env.BENCH_RATE ?? 100)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const ROOT = join(import.meta.dirname, '..', '..', '..')
const DB = 'jetmon_api_bench'
/** Sites with a full 30 days of 5-minute history (8 640 rows each): the uptime route's targets. */
const BUSY_SITES = 100
const CHECKS_30D = 8_640
const FIRST_BLOG = 1_000_000

const log = (message: string) => process.stderr.write(`${message}\n`)
const server = await startEmbeddedMariadb({ dir: join(ROOT, '.jetmon', 'bench-db'), database: DB })
{
  const { pool, close } = createDatabase(server.url, { connectionLimit: 1 })
  await pool.query(`DROP DATABASE IF EXISTS ${DB}`)
  await pool.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await close()
}
const database = createDatabase(server.url, { connectionLimit: 10 })
await migrate(database.pool)
const { pool } = database
const now = Date.now()
const sql = (date: number) => `'${new Date(date).toISOString().slice(0, 23).replace('T', ' ')}'`

// ── the fleet ────────────────────────────────────────────────────────────────────────────────
let started = Date.now()
for (let from = 0; from < ENDPOINTS; from += 10_000) {
  const sites: string[] = []
  const state: string[] = []
  for (let i = from; i < Math.min(ENDPOINTS, from + 10_000); i++) {
    sites.push(
      `(${i + 1}, ${FIRST_BLOG + i}, ${i % 1000}, 'https://site-${i}.example.com/', ${i % 50 === 49 ? 0 : 1}, 5)`,
    )
    state.push(`(${i + 1}, ${sql(now - (i % 300) * 1000)}, 200, 0)`)
  }
  await pool.query(
    `INSERT INTO jetpack_monitor_sites (jetpack_monitor_site_id, blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES ${sites.join(',')}`,
  )
  await pool.query(
    `INSERT INTO jetmon_endpoint_state (endpoint_id, last_checked_at, last_http_code, last_error_code) VALUES ${state.join(',')}`,
  )
}
// Open incidents on 1 % of the fleet, of every state, with their opening transition.
const openEvents: string[] = []
for (let i = 0; i < ENDPOINTS; i += 100) {
  const state = ['Seems Down', 'Down', 'Warning', 'Degraded'][(i / 100) % 4]!
  const severity = { Warning: 1, Degraded: 2, 'Seems Down': 3, Down: 4 }[state]
  const type = state === 'Warning' ? 'tls_expiry' : state === 'Degraded' ? 'latency' : 'http'
  openEvents.push(
    `(${FIRST_BLOG + i}, ${i + 1}, '${type}', ${severity}, '${state}', ${sql(now - 600_000)}, ${sql(now)})`,
  )
}
await pool.query(
  `INSERT INTO jetmon_events (blog_id, endpoint_id, check_type, severity, state, started_at, updated_at) VALUES ${openEvents.join(',')}`,
)
log(`fleet: ${ENDPOINTS} endpoints, ${openEvents.length} open events in ${Date.now() - started} ms`)

// ── history: full 30 days for the busy sites, the rest spread thinly over the fleet ──────────
started = Date.now()
let written = 0
const flush = async (rows: string[]) => {
  if (rows.length === 0) return
  await pool.query(
    `INSERT INTO jetmon_check_history (endpoint_id, blog_id, checked_at, vantage, method, http_code, error_code, rtt_ms, dns_ms, tcp_ms, tls_ms, ttfb_ms) VALUES ${rows.join(',')}`,
  )
  written += rows.length
  rows.length = 0
}
const rows: string[] = []
const busyRows = Math.min(HISTORY_ROWS, BUSY_SITES * CHECKS_30D)
for (let n = 0; n < busyRows; n++) {
  const site = n % BUSY_SITES
  const k = Math.floor(n / BUSY_SITES)
  const at = now - 30 * 86_400_000 + k * 300_000 + site * 1000
  const failed = k % 997 < 3
  const rtt = 80 + ((n * 7919) % 900)
  rows.push(
    `(${site + 1}, ${FIRST_BLOG + site}, ${sql(at)}, 'local', 'GET', ${failed ? 'NULL' : 200}, ${failed ? 2 : 0}, ${failed ? 'NULL' : rtt}, 5, 10, 30, ${failed ? 'NULL' : rtt - 40})`,
  )
  if (rows.length === 5_000) await flush(rows)
}
for (let n = busyRows; n < HISTORY_ROWS; n++) {
  const endpoint = BUSY_SITES + (n % (ENDPOINTS - BUSY_SITES))
  const at = now - ((n * 104_729) % (30 * 86_400_000))
  rows.push(
    `(${endpoint + 1}, ${FIRST_BLOG + endpoint}, ${sql(at)}, 'local', 'GET', 200, 0, ${100 + (n % 500)}, 5, 10, 30, ${60 + (n % 500)})`,
  )
  if (rows.length === 5_000) await flush(rows)
}
await flush(rows)
// Confirmed incidents on the busy sites: one an hour long every few days.
const incidents: string[] = []
for (let site = 0; site < BUSY_SITES; site++) {
  for (let day = 1; day < 30; day += 3) {
    const start = now - day * 86_400_000 - site * 60_000
    incidents.push(
      `(${FIRST_BLOG + site}, ${site + 1}, 'http', 4, 'Down', ${sql(start)}, ${sql(start + 3_600_000)}, 'verifier_cleared', ${sql(start + 3_600_000)})`,
    )
  }
}
await pool.query(
  `INSERT INTO jetmon_events (blog_id, endpoint_id, check_type, severity, state, started_at, ended_at, resolution_reason, updated_at) VALUES ${incidents.join(',')}`,
)
await pool.query(
  `INSERT INTO jetmon_event_transitions (event_id, blog_id, endpoint_id, severity_before, severity_after, state_before, state_after, reason, source, changed_at)
   SELECT id, blog_id, endpoint_id, 3, 4, 'Seems Down', 'Down', 'verifier_confirmed', 'bench', started_at FROM jetmon_events WHERE ended_at IS NOT NULL`,
)
await pool.query('ANALYZE TABLE jetpack_monitor_sites, jetmon_events, jetmon_check_history, jetmon_event_transitions')
log(`history: ${written} rows, ${incidents.length} closed incidents in ${Date.now() - started} ms`)

// ── objectives: one per busy site, availability and latency in turn ─────────────────────────
const objectiveIds: bigint[] = []
for (let site = 0; site < BUSY_SITES; site++) {
  const latency = site % 2 === 1
  const objective = await createObjective({
    ctx: { db: database.db },
    tenantId: null,
    createdBy: 'bench',
    fields: {
      name: `bench ${site}`,
      blog_id: FIRST_BLOG + site,
      ...(latency ? { endpoint_id: site + 1, sli: 'latency', latency_threshold_ms: 500 } : { sli: 'availability' }),
      target: 99.9,
      window: '30d',
    },
  })
  objectiveIds.push(objective.id)
}

// ── serve and load ───────────────────────────────────────────────────────────────────────────
const api = createApiApp({ db: database.db, logger: noopLogger, historyRetentionDays: 30 })
const http = await startApiServer(api, { port: 0 })
const { token } = await createApiKey({
  ctx: { db: database.db },
  input: {
    consumer: 'bench',
    scope: 'read',
    rateLimitPerMinute: 1_000_000,
    createdBy: 'bench',
  },
})

interface LoadResult {
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  latency_ms: { p50: number; p90: number; p99: number; max: number }
}

async function load(name: string, paths: string[]) {
  const cpuBefore = process.cpuUsage()
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'load.ts'),
      http.url.replace(/\/api\/v1$/, ''),
      token,
      String(RATE),
      String(SECONDS),
      JSON.stringify(paths),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
  )
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  await new Promise((resolve) => child.on('close', resolve))
  const cpu = process.cpuUsage(cpuBefore)
  const result = JSON.parse(out) as LoadResult
  const line = {
    route: name,
    node: process.version,
    rate: RATE,
    seconds: SECONDS,
    ...result,
    server_cpu_us_per_request: Math.round((cpu.user + cpu.system) / Math.max(1, result.requests)),
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
  return line
}

// Pages spread over the fleet: the first page and pages starting at cursors across the id space.
const sitePaths = ['/api/v1/sites?limit=50']
{
  let cursor: string | null = null
  for (let page = 0; page < 40 && sitePaths.length < 40; page++) {
    const response = await fetch(`${http.url}/sites?limit=50${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const body = (await response.json()) as { page: { next: string | null } }
    cursor = body.page.next
    if (!cursor) break
    sitePaths.push(`/api/v1/sites?limit=50&cursor=${cursor}`)
  }
}
const uptimePaths = Array.from(
  { length: BUSY_SITES },
  (_, site) => `/api/v1/sites/${FIRST_BLOG + site}/uptime?window=30d`,
)
const statusPaths = objectiveIds.map((id) => `/api/v1/slos/${id}/status`)
// Warm-up: one pass over each path.
for (const path of [...sitePaths, ...uptimePaths, ...statusPaths]) {
  await fetch(`${http.url.replace(/\/api\/v1$/, '')}${path}`, { headers: { authorization: `Bearer ${token}` } })
}
const sites = await load('GET /sites', sitePaths)
const uptime = await load('GET /sites/{blog_id}/uptime?window=30d', uptimePaths)
const status = await load('GET /slos/{id}/status', statusPaths)
process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    endpoints: ENDPOINTS,
    history_rows: written,
    sites_p99_ms: sites.latency_ms.p99,
    sites_target_p99_ms: 50,
    uptime_p99_ms: uptime.latency_ms.p99,
    uptime_target_p99_ms: 100,
    slo_status_p99_ms: status.latency_ms.p99,
    slo_status_target_p99_ms: 50,
    ok:
      sites.latency_ms.p99 <= 50 &&
      uptime.latency_ms.p99 <= 100 &&
      status.latency_ms.p99 <= 50 &&
      [sites, uptime, status].every((line) => line.non2xx === 0),
  })}\n`,
)
await http.close(1_000)
await database.close()
await server.stop()
