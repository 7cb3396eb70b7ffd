// `pnpm bench:api`: the API figures of docs/operations.md, "Benchmarks". Loads BENCH_ENDPOINTS endpoints (default 100 000)
// and BENCH_HISTORY_ROWS check-history rows (default 1 000 000) into an embedded MariaDB, serves
// the API in this process, and drives it from a second process with autocannon at BENCH_RATE
// requests/s (default 100) for BENCH_SECONDS (default 30) per route: every list route (sites, with
// and without `q=`, events, a site's events, webhooks, alert contacts, objectives, a site's
// objectives, keys, audit), GET /sites/{id}/uptime?window=30d (sites with a full 30 days of
// history and incidents) and GET /slos/{id}/status (an objective on each of those sites:
// availability of the site, or latency of its endpoint, over 30 days).
//
// Before each route is measured, one sequential pass over its paths checks that each answers, then
// a warm-up load runs through the same load process at the same rate for BENCH_WARMUP_SECONDS
// (default min(5, BENCH_SECONDS)) and is not recorded: every route, the first one included, is
// measured after the API process's JIT and the database's caches have seen it at the bench rate.
//
// First, the runtime's floor: a bare node:http server in the same process answering each request
// with the bytes of a GET /sites page, loaded the same way (BENCH_FLOOR=0 skips it).
// Prints one JSON line per route and for the floor (latency percentiles, the API process's CPU per
// request, user and system apart, the database server's CPU per request, SQL statements per
// request), then a summary line with the targets and the floor's CPU per request. BENCH_ROUTES=sites,status,… runs only the routes whose names contain one of those words;
// BENCH_PROFILE=<dir> writes a V8 CPU profile of the API process per route (`<route>.cpuprofile`).
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { createApiKey } from '@jetmon/api-keys'
import { createDatabase, migrate, noopLogger, startEmbeddedMariadb } from '@jetmon/db'
import { refreshUrlTrigrams } from '@jetmon/read-models'
import { createObjective } from '@jetmon/slo'
import { createApiApp, startApiServer } from '../src/index.js'

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 100_000)
const HISTORY_ROWS = Number(process.env.BENCH_HISTORY_ROWS ?? 1_000_000)
const RATE = Number(process.env.BENCH_RATE ?? 100)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? Math.min(5, SECONDS))
const ROOT = join(import.meta.dirname, '..', '..', '..')
const DB = 'jetmon_api_bench'
/** Sites with a full 30 days of 5-minute history (8 640 rows each): the uptime route's targets. */
const BUSY_SITES = 100
const CHECKS_30D = 8_640
const FIRST_BLOG = 1_000_000

const log = (message: string) => process.stderr.write(`${message}\n`)
const server = await startEmbeddedMariadb({ dir: join(ROOT, '.jetmon', 'bench-api-db'), database: DB })
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
// The URL trigrams of the new endpoints (queued by the table's triggers), as the first search would.
started = Date.now()
const { handled } = await refreshUrlTrigrams(database.db)
log(`url trigrams: ${handled} endpoints indexed in ${Date.now() - started} ms`)

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

// ── delivery configuration: webhooks and alert contacts to list ───────────────────────────────
const CONFIGS = 200
{
  const hooks: string[] = []
  const contacts: string[] = []
  for (let i = 0; i < CONFIGS; i++) {
    hooks.push(`('https://hooks-${i}.example.com/jetmon', X'00112233445566778899', 'whsec_ab', 'bench')`)
    contacts.push(`('contact ${i}', 'email', '{"address":"ops-${i}@example.com"}', 'ops@', ${1 + (i % 4)}, 'bench')`)
  }
  await pool.query(`INSERT INTO jetmon_webhooks (url, secret, secret_preview, created_by) VALUES ${hooks.join(',')}`)
  await pool.query(
    `INSERT INTO jetmon_alert_contacts (label, transport, destination, destination_preview, min_severity, created_by) VALUES ${contacts.join(',')}`,
  )
}
// The seeding's garbage is not the API's: collected before anything is served (`--expose-gc`).
;(globalThis as { gc?: () => void }).gc?.()

// ── serve and load ───────────────────────────────────────────────────────────────────────────
const api = createApiApp({ db: database.db, logger: noopLogger, historyRetentionDays: 30 })
const http = await startApiServer(api, { port: 0 })
const origin = http.url.replace(/\/api\/v1$/, '')
const keyOf = async (scope: 'read' | 'admin') =>
  (
    await createApiKey({
      ctx: { db: database.db },
      input: { consumer: `bench-${scope}`, scope, rateLimitPerMinute: 1_000_000, createdBy: 'bench' },
    })
  ).token
const readToken = await keyOf('read')
const adminToken = await keyOf('admin')

interface LoadResult {
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  latency_ms: { p50: number; p90: number; p99: number; max: number }
}

/** CPU time (µs) the database server has used so far, from /proc (null where there is none). */
function databaseCpuUs(): number | null {
  try {
    const stat = readFileSync(`/proc/${server.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
  } catch {
    return null
  }
}

/** Statements the database has received so far (its own status query included, subtracted by the caller). */
async function statementsSoFar(): Promise<number> {
  const [rows] = (await pool.query("SHOW GLOBAL STATUS LIKE 'Questions'")) as unknown as [{ Value: string }[]]
  return Number(rows[0]!.Value)
}

const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : null
const session = profileDir ? new Session() : null
if (session && profileDir) {
  mkdirSync(profileDir, { recursive: true })
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
}

interface RouteLine extends LoadResult {
  route: string
  server_cpu_us_per_request: number
}

/** Runs the load process against `paths` at the bench rate for `seconds`: its JSON line, parsed. */
async function runLoad(paths: string[], token: string, seconds: number, target = origin): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'load.ts'),
      target,
      token,
      String(RATE),
      String(seconds),
      JSON.stringify(paths),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
  )
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  await new Promise((resolve) => child.on('close', resolve))
  return JSON.parse(out) as LoadResult
}

async function load(name: string, paths: string[], token: string, target = origin): Promise<RouteLine> {
  // Warm-up at the bench rate, not recorded (its audit rows written before the figures start).
  if (WARMUP_SECONDS > 0) await runLoad(paths, token, WARMUP_SECONDS, target)
  await api.audit.flush()
  const statementsBefore = await statementsSoFar()
  const dbCpuBefore = databaseCpuUs()
  if (session) await session.post('Profiler.start')
  const cpuBefore = process.cpuUsage()
  const result = await runLoad(paths, token, SECONDS, target)
  // The audit rows of these requests are part of their cost: written before the figures are taken.
  await api.audit.flush()
  const cpu = process.cpuUsage(cpuBefore)
  if (session && profileDir) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(join(profileDir, `${name.replace(/[^A-Za-z0-9]+/g, '_')}.cpuprofile`), JSON.stringify(profile))
  }
  const dbCpuAfter = databaseCpuUs()
  const statements = (await statementsSoFar()) - statementsBefore - 1
  const requests = Math.max(1, result.requests)
  const line = {
    route: name,
    node: process.version,
    rate: RATE,
    seconds: SECONDS,
    ...result,
    server_cpu_us_per_request: Math.round((cpu.user + cpu.system) / requests),
    server_user_us_per_request: Math.round(cpu.user / requests),
    server_system_us_per_request: Math.round(cpu.system / requests),
    db_cpu_us_per_request:
      dbCpuBefore === null || dbCpuAfter === null ? null : Math.round((dbCpuAfter - dbCpuBefore) / requests),
    statements_per_request: Math.round((statements / requests) * 100) / 100,
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
  return line
}

const get = async (path: string, token = readToken) => {
  const response = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } })
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as { page?: { next: string | null } }
}

/** The first page of `path` and up to 39 more, following the cursors: pages spread over the list. */
async function pagesOf(path: string, token = readToken): Promise<string[]> {
  const paths = [path]
  let cursor: string | null | undefined = (await get(path, token)).page?.next
  while (cursor && paths.length < 40) {
    const next = `${path}&cursor=${encodeURIComponent(cursor)}`
    paths.push(next)
    cursor = (await get(next, token)).page?.next
  }
  return paths
}

const busyBlogs = Array.from({ length: BUSY_SITES }, (_, site) => FIRST_BLOG + site)
// Substrings of URLs: one site's name, a digit run matching a few hundred sites, a common word.
const queries = busyBlogs.map(
  (blog, i) =>
    [`site-${blog - FIRST_BLOG}.`, `-${(i * 37) % 1000}`, `site-${i % 10}${(i * 7) % 10}`, 'example'][i % 4]!,
)
interface RouteSpec {
  name: string
  paths: () => Promise<string[]>
  token?: string
  /** p99 the route must meet, ms. */
  target: number
}
const specs: RouteSpec[] = [
  { name: 'GET /sites', paths: () => pagesOf('/api/v1/sites?limit=50'), target: 50 },
  {
    name: 'GET /sites?q=',
    paths: async () => queries.map((q) => `/api/v1/sites?limit=50&q=${encodeURIComponent(q)}`),
    target: 50,
  },
  { name: 'GET /events', paths: () => pagesOf('/api/v1/events?limit=50'), target: 50 },
  {
    name: 'GET /sites/{blog_id}/events',
    paths: async () => busyBlogs.map((blog) => `/api/v1/sites/${blog}/events?limit=50`),
    target: 50,
  },
  { name: 'GET /webhooks', paths: () => pagesOf('/api/v1/webhooks?limit=50'), target: 50 },
  { name: 'GET /alert-contacts', paths: () => pagesOf('/api/v1/alert-contacts?limit=50'), target: 50 },
  { name: 'GET /slos', paths: () => pagesOf('/api/v1/slos?limit=50'), target: 50 },
  {
    name: 'GET /sites/{blog_id}/slos',
    paths: async () => busyBlogs.map((blog) => `/api/v1/sites/${blog}/slos`),
    target: 50,
  },
  { name: 'GET /keys', paths: async () => ['/api/v1/keys?limit=50'], token: adminToken, target: 50 },
  { name: 'GET /audit', paths: () => pagesOf('/api/v1/audit?limit=50', adminToken), token: adminToken, target: 50 },
  {
    name: 'GET /sites/{blog_id}/uptime?window=30d',
    paths: async () => busyBlogs.map((blog) => `/api/v1/sites/${blog}/uptime?window=30d`),
    target: 100,
  },
  {
    name: 'GET /slos/{id}/status',
    paths: async () => objectiveIds.map((id) => `/api/v1/slos/${id}/status`),
    target: 50,
  },
]
const only = process.env.BENCH_ROUTES?.split(',')
  .map((word) => word.trim())
  .filter(Boolean)
const chosen = only ? specs.filter((spec) => only.some((word) => spec.name.includes(word))) : specs

// The runtime's floor, measured the same way: a bare node:http server in this process answering
// every request with a page of GET /sites (its bytes, prepared once), at the bench rate over the
// same keep-alive connections. What a route costs above it is the API's own work.
let floor: RouteLine | null = null
if (process.env.BENCH_FLOOR !== '0') {
  const page = Buffer.from(
    await (
      await fetch(`${origin}/api/v1/sites?limit=50`, { headers: { authorization: `Bearer ${readToken}` } })
    ).text(),
  )
  const bare = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': page.length })
    response.end(page)
  })
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
  const { port } = bare.address() as AddressInfo
  floor = await load('bare node:http (a GET /sites page)', ['/'], readToken, `http://127.0.0.1:${port}`)
  await new Promise((resolve) => bare.close(resolve))
}

const lines: (RouteLine & { target: number })[] = []
for (const spec of chosen) {
  const token = spec.token ?? readToken
  const paths = await spec.paths()
  // Every path answers (a failure stops the bench here); the warm-up load runs in `load`.
  for (const path of paths) await get(path, token)
  lines.push({ ...(await load(spec.name, paths, token)), target: spec.target })
}
process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    endpoints: ENDPOINTS,
    history_rows: written,
    p99_ms: Object.fromEntries(lines.map((line) => [line.route, line.latency_ms.p99])),
    target_p99_ms: Object.fromEntries(lines.map((line) => [line.route, line.target])),
    server_cpu_us_per_request: Object.fromEntries(lines.map((line) => [line.route, line.server_cpu_us_per_request])),
    target_server_cpu_us_per_request: 1000,
    ...(floor ? { floor_cpu_us_per_request: floor.server_cpu_us_per_request } : {}),
    ok: lines.every(
      (line) => line.latency_ms.p99 <= line.target && line.non2xx === 0 && line.server_cpu_us_per_request <= 1000,
    ),
  })}\n`,
)
session?.disconnect()
await http.close(1_000)
await database.close()
await server.stop()
