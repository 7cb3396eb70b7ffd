// `pnpm bench:capacity`: the whole monitor (leases, endpoint source, scheduler, checker, pipeline,
// history writer) against a local fleet: BENCH_ENDPOINTS endpoints (default 100 000) at a
// BENCH_INTERVAL_SEC interval (default 100 s, i.e. 1 000 checks/s) for BENCH_SECONDS (default 600).
// Prints one JSON line: checks/s, missed checks, dispatch lag percentiles, CPU per check of the
// monitor process and of the checker alone at the same rate (their ratio is the pipeline's
// overhead), database statements and CPU, RSS.
// BENCH_SCHEME=https (BENCH_CERT=rsa, the default, or ecdsa) makes the fleet HTTPS sites with an
// RSA-2048 or ECDSA P-256 certificate; the figures are the same.
// Then the saturation throughput (bench/_saturation.ts): a real `jetmon2 serve` on the same fleet,
// made due faster than it can check (BENCH_SATURATION_RATE checks/s, default 20 000), for
// BENCH_SATURATION_SEC (default 60; 0 skips it) with one checking process pinned to one core, then
// with BENCH_PROCESSES (default one per core), and the scaling efficiency between the two.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createChecker } from '@jetmon/checker'
import { createDatabase, migrate, startEmbeddedMariadb } from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import * as v from 'valibot'
import { jetmon2ConfigSchema } from '../src/config.js'
import { MonitorService } from '../src/monitor/service.js'
import { measureSaturation } from './_saturation.js'

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 100_000)
const SCHEME = process.env.BENCH_SCHEME === 'https' ? 'https' : 'http'
// An HTTPS check costs the fixture a TLS handshake too: 200 checks/s by default instead of 1 000.
const INTERVAL_SEC = Number(process.env.BENCH_INTERVAL_SEC ?? (SCHEME === 'https' ? 500 : 100))
const SECONDS = Number(process.env.BENCH_SECONDS ?? 600)
const CERT = process.env.BENCH_CERT === 'ecdsa' ? 'ecdsa' : 'rsa'
const SATURATION_SEC = Number(process.env.BENCH_SATURATION_SEC ?? 60)
const SATURATION_RATE = Number(process.env.BENCH_SATURATION_RATE ?? 20_000)
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? availableParallelism())
const ROOT = join(import.meta.dirname, '..', '..', '..')
const TICKS = 100

const cpuMsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS
}

// BENCH_DB_DIR: another database directory, so that two runs on one machine do not share (and drop) one database.
const server = await startEmbeddedMariadb({
  dir: process.env.BENCH_DB_DIR ?? join(ROOT, '.jetmon', 'bench-db'),
  database: 'jetmon_bench',
})
const { pool, close } = createDatabase(server.url, { connectionLimit: 4 })
await pool.query('DROP DATABASE IF EXISTS jetmon_bench')
await pool.query('CREATE DATABASE jetmon_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci')
await pool.query('USE jetmon_bench')
await close()
const database = createDatabase(server.url, { connectionLimit: 4 })
await migrate(database.pool)

const fixtureChild = spawn(
  process.execPath,
  ['--conditions=@jetmon/source', '--import', 'tsx', join(ROOT, 'packages/checker/bench/fixture.ts')],
  { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
)
const fixture = JSON.parse(
  await new Promise<string>((resolve) => createInterface({ input: fixtureChild.stdout }).once('line', resolve)),
) as { pid: number; httpPort: number; httpsPorts: { rsa: number; ecdsa: number }; dns: string; ca: string }
const port = SCHEME === 'https' ? fixture.httpsPorts[CERT] : fixture.httpPort
const urlOf = (i: number) => `${SCHEME}://ok--${i}.bench.test:${port}/`
// The monitor trusts the fixture's CA as an operator's CA_FILE.
const caFile = join(mkdtempSync(join(tmpdir(), 'jetmon-capacity-')), 'ca.pem')
writeFileSync(caFile, fixture.ca)

// The fleet: names under *.bench.test, resolved by the fixture's DNS server on every check.
const started = Date.now()
for (let from = 0; from < ENDPOINTS; from += 5_000) {
  const rows: string[] = []
  for (let i = from; i < Math.min(ENDPOINTS, from + 5_000); i++) {
    rows.push(`(${100_000 + i}, ${i % 1000}, '${urlOf(i)}', 1, 1)`)
  }
  await database.pool.query(
    `INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES ${rows.join(',')}`,
  )
}
await database.pool.query(
  `INSERT INTO jetmon_endpoint_config (endpoint_id, check_interval_sec, timeout_ms) SELECT jetpack_monitor_site_id, ${INTERVAL_SEC}, 5000 FROM jetpack_monitor_sites`,
)
const seedMs = Date.now() - started

// The reference: the checker alone at the same steady rate, on the same fleet and resolver. At a
// steady 1 000 checks/s the event loop wakes for nearly every check, so a checker measured flat
// out (pnpm bench:checker) costs less per check than the same checker paced like a monitor; the
// pipeline's overhead is the difference between two paced runs.
const CHECKER_ONLY_SEC = Number(process.env.BENCH_CHECKER_ONLY_SEC ?? 60)
const checkerOnly = await (async () => {
  const check = createChecker({ dnsServers: [fixture.dns], ca: [fixture.ca] })
  const rate = ENDPOINTS / INTERVAL_SEC
  const tickMs = 10
  let due = 0
  let done = 0
  let next = 0
  const inFlight = new Set<Promise<unknown>>()
  const cpu0 = process.cpuUsage()
  const t0 = Date.now()
  while (Date.now() - t0 < CHECKER_ONLY_SEC * 1000) {
    due += (rate * tickMs) / 1000
    while (due >= 1) {
      due--
      const i = next++ % ENDPOINTS
      const run = check({ url: urlOf(i), timeoutMs: 5_000 }).then(() => {
        done++
        inFlight.delete(run)
      })
      inFlight.add(run)
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs))
  }
  await Promise.all(inFlight)
  const cpu = process.cpuUsage(cpu0)
  return { checks: done, cpuUsPerCheck: Math.round((cpu.user + cpu.system) / done) }
})()

const config = v.parse(jetmon2ConfigSchema, {
  HOST_ID: 'bench',
  DNS_SERVERS: [fixture.dns],
  CA_FILE: caFile,
  DASHBOARD_PORT: 0,
  API_PORT: 0,
  WPCOM_NOTIFY_ENABLE: false,
  CHECK_TIMEOUT_MS: 5_000,
  MAX_IN_FLIGHT: 500,
  LOG_LEVEL: 'warn',
})
const monitorUrl = new URL(server.url)
monitorUrl.pathname = '/jetmon_bench'
const service = new MonitorService({
  config,
  databaseUrl: monitorUrl.toString(),
  logger: createLogger({ level: 'warn', format: 'json', destination: process.stderr }),
})
// Start-up counts: the lag of every dispatch from the service's start (the peak of the windowed
// p99, sampled every second, bounds the p99 over the whole run), when the first check and the
// whole fleet were dispatching, and the peak RSS.
const internals = service as unknown as {
  checking: { scheduler: import('@jetmon/scheduler').Scheduler } | null
  sources: { recorder?: { stats(): { statements: number; rowsWritten: number } } }
  pressure: { judge: { dispatched(lagMs: number): void } } | null
}
const stats = () => internals.checking!.scheduler.stats()
const recorder = () => internals.sources.recorder!.stats()
const serviceStartedAt = Date.now()
let startupPeakLagP99 = 0
let startupMaxLag = 0
let firstDispatchMs: number | null = null
let fleetLoadedMs: number | null = null
let peakRss = 0
// Every dispatch's lag from the start on (the scheduler is only reachable once start() returns, but
// the pressure judge hears of each dispatch): the first dispatch, and the p99 over the whole run.
const lags: number[] = []
const hook = setInterval(() => {
  const judge = internals.pressure?.judge
  if (!judge) return
  clearInterval(hook)
  const dispatched = judge.dispatched.bind(judge)
  judge.dispatched = (lagMs) => {
    if (lags.length === 0) firstDispatchMs = Date.now() - serviceStartedAt
    lags.push(lagMs)
    dispatched(lagMs)
  }
}, 5)
const startupSampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  const scheduler = internals.checking?.scheduler
  if (!scheduler) return
  const s = scheduler.stats()
  startupPeakLagP99 = Math.max(startupPeakLagP99, s.lagMs.p99)
  startupMaxLag = Math.max(startupMaxLag, s.lagMs.max)
  if (fleetLoadedMs === null && s.endpoints >= ENDPOINTS) fleetLoadedMs = Date.now() - serviceStartedAt
}, 1_000)
await service.start()
const serviceStartMs = Date.now() - serviceStartedAt

// Warm-up: one interval lets every endpoint reach its first phase slot.
const warmup = Math.min(INTERVAL_SEC, 30) * 1000
await new Promise((r) => setTimeout(r, warmup))
const s0 = stats()
const r0 = recorder()
const cpu0 = process.cpuUsage()
const db0 = cpuMsOf(server.pid)
const fx0 = cpuMsOf(fixture.pid)
const t0 = Date.now()
let peakLagP99 = 0
let maxBacklog = 0
const sampler = setInterval(() => {
  const s = stats()
  peakLagP99 = Math.max(peakLagP99, s.lagMs.p99)
  maxBacklog = Math.max(maxBacklog, s.dueBacklog)
}, 5_000)
await new Promise((r) => setTimeout(r, SECONDS * 1000))
clearInterval(sampler)
clearInterval(startupSampler)
const wallMs = Date.now() - t0
const s1 = stats()
const r1 = recorder()
const cpu = process.cpuUsage(cpu0)
const checks = s1.completed - s0.completed
const report = {
  bench: 'capacity',
  node: process.version,
  scheme: SCHEME,
  ...(SCHEME === 'https' ? { certificate: CERT === 'rsa' ? 'RSA-2048' : 'ECDSA P-256' } : {}),
  endpoints: ENDPOINTS,
  intervalSec: INTERVAL_SEC,
  seconds: Math.round(wallMs / 1000),
  seedMs,
  targetChecksPerSec: Math.round(ENDPOINTS / INTERVAL_SEC),
  checksPerSec: Math.round((checks / wallMs) * 1000),
  missedChecks: s1.missed - s0.missed,
  overruns: s1.overruns - s0.overruns,
  failedRuns: s1.failed - s0.failed,
  lagMs: { ...s1.lagMs, peakP99OverRun: peakLagP99 },
  startup: {
    serviceStartMs,
    firstDispatchMs,
    fleetLoadedMs,
    peakLagP99IncludingStartup: Math.max(startupPeakLagP99, peakLagP99),
    wholeRunLagMs: (() => {
      const sorted = Float64Array.from(lags).sort()
      const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
      return { p50: at(0.5), p99: at(0.99), max: Math.round(sorted.at(-1) ?? 0), count: sorted.length }
    })(),
    maxLagIncludingStartup: startupMaxLag,
  },
  maxDueBacklog: maxBacklog,
  monitorCpuUsPerCheck: Math.round((cpu.user + cpu.system) / checks),
  checkerOnlyCpuUsPerCheckSameRate: checkerOnly.cpuUsPerCheck,
  pipelineRatio: Number(((cpu.user + cpu.system) / checks / checkerOnly.cpuUsPerCheck).toFixed(2)),
  db: {
    statementsPerSec: Number((((r1.statements - r0.statements) / wallMs) * 1000).toFixed(1)),
    rowsPerSec: Math.round(((r1.rowsWritten - r0.rowsWritten) / wallMs) * 1000),
    cpuShareOfOneCore: Number(((cpuMsOf(server.pid) - db0) / wallMs).toFixed(3)),
  },
  fixtureCpuShareOfOneCore: Number(((cpuMsOf(fixture.pid) - fx0) / wallMs).toFixed(3)),
  rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
  peakRssMb: Math.round(Math.max(peakRss, process.memoryUsage().rss) / 1024 / 1024),
  heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
}
await service.drain(20_000)
// Flat out: the whole fleet due every ENDPOINTS / SATURATION_RATE seconds.
const saturationIntervalSec = Math.max(1, Math.round(ENDPOINTS / SATURATION_RATE))
await database.pool.query(`UPDATE jetmon_endpoint_config SET check_interval_sec = ${saturationIntervalSec}`)
const saturation =
  SATURATION_SEC > 0
    ? await measureSaturation({
        root: ROOT,
        databaseUrl: monitorUrl.toString(),
        dnsServer: fixture.dns,
        caFile,
        fixturePid: fixture.pid,
        databasePid: server.pid,
        seconds: SATURATION_SEC,
        warmupSec: 10,
        allProcesses: PROCESSES,
        maxInFlight: 256,
      }).catch((error: Error) => ({ error: error.message.slice(0, 2_000) }))
    : null
process.stdout.write(
  `${JSON.stringify({ ...report, ...(saturation ? { saturation: { offeredChecksPerSec: Math.round(ENDPOINTS / saturationIntervalSec), ...saturation } } : {}) })}\n`,
)
fixtureChild.kill('SIGTERM')
await database.close()
await server.stop()
process.exit(0)
