// `pnpm bench:capacity`: the whole monitor (leases, endpoint source, scheduler, checker, pipeline,
// history writer) against a local fleet: BENCH_ENDPOINTS endpoints (default 100 000) at a
// BENCH_INTERVAL_SEC interval (default 100 s, i.e. 1 000 checks/s) for BENCH_SECONDS (default 600).
// Prints one JSON line: checks/s, missed checks, dispatch lag percentiles, CPU per check of the
// monitor process and of the checker alone at the same rate (their ratio is the pipeline's
// overhead), database statements and CPU, and the memory of the monitor: it runs in a process of
// its own (bench/_capacity-monitor.ts), apart from the seeding and the checker-only reference.
// BENCH_SCHEME=https (BENCH_CERT=rsa, the default, or ecdsa) makes the fleet HTTPS sites with an
// RSA-2048 or ECDSA P-256 certificate; the figures are the same.
// Then the saturation throughput (bench/_saturation.ts): a real `jetmon2 serve` on the same fleet,
// made due faster than it can check (BENCH_SATURATION_RATE checks/s, default 20 000), for
// BENCH_SATURATION_SEC (default 60; 0 skips it) with one checking process pinned to one core, then
// with BENCH_PROCESSES (default one per core), and the scaling efficiency between the two.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createChecker } from '@jetmon/checker'
import { createDatabase, migrate, startEmbeddedMariadb } from '@jetmon/db'
import { checkingProcessLaunch } from '../src/runtime.js'
import type { CapacityMonitorOptions } from './_capacity-monitor.js'
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

const monitorUrl = new URL(server.url)
monitorUrl.pathname = '/jetmon_bench'
// The monitor runs in a process of its own (bench/_capacity-monitor.ts): its memory is its own,
// without this process's seeding, checker-only reference and their garbage.
const monitorOptions: CapacityMonitorOptions = {
  databaseUrl: monitorUrl.toString(),
  dnsServer: fixture.dns,
  caFile,
  endpoints: ENDPOINTS,
  intervalSec: INTERVAL_SEC,
  seconds: SECONDS,
  databasePid: server.pid,
  fixturePid: fixture.pid,
}
// The monitor's process starts with the runtime settings `jetmon2 serve` gives a checking process
// (src/runtime.ts; JETMON_RUNTIME_TUNED=off measures V8's and glibc's defaults instead).
// --expose-gc: after its figures, the monitor reports what of its heap is live. BENCH_MONITOR_NODE_FLAGS:
// more Node.js or V8 flags for the monitor's process alone (e.g. --optimize-for-size).
const launch = checkingProcessLaunch(
  [
    ...(process.env.BENCH_MONITOR_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    '--expose-gc',
    '--conditions=@jetmon/source',
    '--import',
    'tsx',
  ],
  process.env,
)
const monitorChild = spawn(process.execPath, [...launch.execArgv, join(import.meta.dirname, '_capacity-monitor.ts')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  cwd: ROOT,
  env: { ...launch.env, BENCH_MONITOR: JSON.stringify(monitorOptions) },
})
const monitorLine = await new Promise<string>((resolve, reject) => {
  createInterface({ input: monitorChild.stdout }).once('line', resolve)
  monitorChild.once('exit', (code) => reject(new Error(`the monitor's process exited (${code}) without its figures`)))
})
const monitor = JSON.parse(monitorLine) as { monitorCpuUsPerCheck: number } & Record<string, unknown>
const report = {
  bench: 'capacity',
  node: process.version,
  scheme: SCHEME,
  ...(SCHEME === 'https' ? { certificate: CERT === 'rsa' ? 'RSA-2048' : 'ECDSA P-256' } : {}),
  endpoints: ENDPOINTS,
  intervalSec: INTERVAL_SEC,
  seedMs,
  targetChecksPerSec: Math.round(ENDPOINTS / INTERVAL_SEC),
  ...monitor,
  checkerOnlyCpuUsPerCheckSameRate: checkerOnly.cpuUsPerCheck,
  pipelineRatio: Number((monitor.monitorCpuUsPerCheck / checkerOnly.cpuUsPerCheck).toFixed(2)),
  /** This process: the seeding and the checker-only reference (not the monitor). */
  benchProcessRssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
  ...(process.env.BENCH_MONITOR_NODE_FLAGS ? { monitorNodeFlags: process.env.BENCH_MONITOR_NODE_FLAGS } : {}),
}
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
