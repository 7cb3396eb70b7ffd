// The monitor measured by `pnpm bench:capacity`, in a process of its own: the benchmark's process
// seeds the database and runs the checker-only reference, and neither its memory nor its garbage
// may count against the monitor's. Reads its options from BENCH_MONITOR (JSON), runs a
// MonitorService on the seeded fleet (warm-up, then the measured seconds), drains it and prints
// one JSON line of figures: dispatch, start-up, CPU per check, database, memory.
import { readFileSync } from 'node:fs'
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { createLogger } from '@jetmon/logging'
import type { Scheduler } from '@jetmon/scheduler'
import * as v from 'valibot'
import { jetmon2ConfigSchema } from '../src/config.js'
import { MonitorService } from '../src/monitor/service.js'
import { heapGrowthFlag, limitHeapGrowth, TUNED_ENV } from '../src/runtime.js'

export interface CapacityMonitorOptions {
  databaseUrl: string
  dnsServer: string
  caFile: string
  endpoints: number
  intervalSec: number
  seconds: number
  databasePid: number
  fixturePid: number
}

const TICKS = 100
const MB = 1024 * 1024
const cpuMsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS
}

// The process's resident memory by kind (/proc/self/status): anonymous (heaps, malloc arenas,
// buffers) and file-backed (the node binary and the libraries it maps).
const residentMb = () => {
  const status = readFileSync('/proc/self/status', 'utf8')
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0)
  return { anonMb: Math.round(kb('RssAnon') / 1024), fileMb: Math.round(kb('RssFile') / 1024) }
}
// V8's heap by space, committed (what it holds from the system) in MB.
const heapSpacesMb = () =>
  Object.fromEntries(
    getHeapSpaceStatistics()
      .filter((space) => space.physical_space_size >= MB)
      .map((space) => [space.space_name.replace(/_space$/, ''), Math.round(space.physical_space_size / MB)]),
  )

const options = JSON.parse(process.env.BENCH_MONITOR ?? '{}') as CapacityMonitorOptions
const ENDPOINTS = options.endpoints
const INTERVAL_SEC = options.intervalSec
// As `jetmon2 serve` does first (capacity.ts started this process with the rest of its settings).
const heapGrowth = heapGrowthFlag(process.execArgv, process.env)
limitHeapGrowth()
// The process before the monitor holds anything: the runtime and the code it loaded.
const baseRss = process.memoryUsage().rss
const baseResident = residentMb()
const baseHeapTotal = process.memoryUsage().heapTotal

const config = v.parse(jetmon2ConfigSchema, {
  HOST_ID: 'bench',
  DNS_SERVERS: [options.dnsServer],
  CA_FILE: options.caFile,
  DASHBOARD_PORT: 0,
  API_PORT: 0,
  WPCOM_NOTIFY_ENABLE: false,
  CHECK_TIMEOUT_MS: 5_000,
  MAX_IN_FLIGHT: 500,
  LOG_LEVEL: 'warn',
})
const service = new MonitorService({
  config,
  databaseUrl: options.databaseUrl,
  logger: createLogger({ level: 'warn', format: 'json', destination: process.stderr }),
})
// Start-up counts: the lag of every dispatch from the service's start (the peak of the windowed
// p99, sampled every second, bounds the p99 over the whole run), when the first check and the
// whole fleet were dispatching, and the peak RSS.
const internals = service as unknown as {
  checking: { scheduler: Scheduler } | null
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
const db0 = cpuMsOf(options.databasePid)
const fx0 = cpuMsOf(options.fixturePid)
const t0 = Date.now()
let peakLagP99 = 0
let maxBacklog = 0
let peakRssMeasured = 0
// The garbage collector's pauses over the measured seconds, by kind (scavenges of the young
// generation, full mark-compacts, incremental marking steps): what a heap setting costs the checks.
const pauses: Record<string, { count: number; totalMs: number; maxMs: number }> = {}
const KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP]: 'minorMarkSweep',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incrementalMarking',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
}
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other'
    const p = pauses[kind] ?? { count: 0, totalMs: 0, maxMs: 0 }
    pauses[kind] = p
    p.count++
    p.totalMs += entry.duration
    p.maxMs = Math.max(p.maxMs, entry.duration)
  }
})
gcObserver.observe({ entryTypes: ['gc'] })
const sampler = setInterval(() => {
  peakRssMeasured = Math.max(peakRssMeasured, process.memoryUsage().rss)
  const s = stats()
  peakLagP99 = Math.max(peakLagP99, s.lagMs.p99)
  maxBacklog = Math.max(maxBacklog, s.dueBacklog)
}, 5_000)
await new Promise((r) => setTimeout(r, options.seconds * 1000))
clearInterval(sampler)
gcObserver.disconnect()
clearInterval(startupSampler)
const wallMs = Date.now() - t0
const s1 = stats()
const r1 = recorder()
const cpu = process.cpuUsage(cpu0)
const checks = s1.completed - s0.completed
const memory = process.memoryUsage()
const heldEndpoints = s1.endpoints
const report = {
  seconds: Math.round(wallMs / 1000),
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
  gcPausesMs: Object.fromEntries(
    Object.entries(pauses).map(([kind, p]) => [
      kind,
      { count: p.count, totalMs: Math.round(p.totalMs), maxMs: Math.round(p.maxMs) },
    ]),
  ),
  db: {
    statementsPerSec: Number((((r1.statements - r0.statements) / wallMs) * 1000).toFixed(1)),
    rowsPerSec: Math.round(((r1.rowsWritten - r0.rowsWritten) / wallMs) * 1000),
    cpuShareOfOneCore: Number(((cpuMsOf(options.databasePid) - db0) / wallMs).toFixed(3)),
  },
  fixtureCpuShareOfOneCore: Number(((cpuMsOf(options.fixturePid) - fx0) / wallMs).toFixed(3)),
  // The monitor's own process, at the end of the run and at its peak (sampled every second from its start).
  /** The runtime settings of the monitor's process (src/runtime.ts). */
  runtime: {
    tuned: process.env[TUNED_ENV] ?? null,
    flags: [
      ...process.execArgv.filter((arg) => !/^--(conditions|import|expose-gc)|^tsx$/.test(arg)),
      ...(heapGrowth ? [heapGrowth] : []),
    ],
    ...(process.env.MALLOC_ARENA_MAX ? { mallocArenaMax: process.env.MALLOC_ARENA_MAX } : {}),
  },
  rssMb: Math.round(memory.rss / MB),
  peakRssMb: Math.round(Math.max(peakRss, memory.rss) / MB),
  heapUsedMb: Math.round(memory.heapUsed / MB),
  memory: {
    /** Before the service started: the runtime and the code loaded (tsx's compiled sources included). */
    baseRssMb: Math.round(baseRss / MB),
    baseResident: { ...baseResident, heapTotalMb: Math.round(baseHeapTotal / MB) },
    /** The peak over the measured seconds only (after the warm-up: the fleet loaded, every endpoint checked or due). */
    peakRssMbMeasured: Math.round(Math.max(peakRssMeasured, memory.rss) / MB),
    heapTotalMb: Math.round(memory.heapTotal / MB),
    heapSpacesMb: heapSpacesMb(),
    resident: residentMb(),
    externalMb: Math.round(memory.external / MB),
    arrayBuffersMb: Math.round(memory.arrayBuffers / MB),
    endpointsHeld: heldEndpoints,
    /** RSS at the end per endpoint held, and above the base. */
    rssBytesPerEndpoint: Math.round(memory.rss / heldEndpoints),
    rssAboveBaseBytesPerEndpoint: Math.round((memory.rss - baseRss) / heldEndpoints),
    heapUsedBytesPerEndpoint: Math.round(memory.heapUsed / heldEndpoints),
  },
}
// Then what of it is live: the heap and the RSS after a full garbage collection (taken after every
// other figure, so that the collection changes none of them).
const gc = (globalThis as { gc?: () => void }).gc
if (gc) {
  for (let i = 0; i < 3; i++) gc()
  const collected = process.memoryUsage()
  Object.assign(report.memory, {
    heapUsedAfterGcMb: Math.round(collected.heapUsed / MB),
    rssAfterGcMb: Math.round(collected.rss / MB),
    heapTotalAfterGcMb: Math.round(collected.heapTotal / MB),
    residentAfterGc: residentMb(),
    heapUsedAfterGcBytesPerEndpoint: Math.round(collected.heapUsed / heldEndpoints),
  })
  // V8 returns the pages a collection freed to the system from a background task: the RSS a little later.
  await new Promise((r) => setTimeout(r, 2_000))
  Object.assign(report.memory, { rssAfterGcSettledMb: Math.round(process.memoryUsage().rss / MB) })
}
await service.drain(20_000)
process.stdout.write(`${JSON.stringify(report)}\n`)
process.exit(0)
