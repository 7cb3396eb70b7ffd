// `pnpm --filter @jetmon/history run bench`: the CheckRecorder against a real MariaDB, paced like
// the capacity target (100 000 endpoints at a 100 s interval = 1 000 checks per simulated second,
// the flush timer ticking every simulated second). Prints one JSON line of figures.
//
// Database: BENCH_DATABASE_URL (a server URL; a scratch database is created on it) or, by default,
// an embedded MariaDB in a temporary folder — then the server's CPU is measured too, and attributed
// to each kind of statement (the recorder sends one statement at a time).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createScratchDatabase, type Db, type EmbeddedMariadb, startEmbeddedMariadb } from '@jetmon/db'
import { drizzle } from 'drizzle-orm/mysql2'
import { CheckRecorder, type CheckSample, type HistoryMode } from '../src/index.js'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200_000)
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 100_000)
const CHECKS_PER_SECOND = Number(process.env.BENCH_RATE ?? 1_000)
const MODE = (process.env.BENCH_HISTORY_MODE ?? 'all') as HistoryMode
const CHECKPOINT_MS = process.env.BENCH_ROLLUP_CHECKPOINT_MS ? Number(process.env.BENCH_ROLLUP_CHECKPOINT_MS) : null
const STATE_FLUSH_MS = 300_000
const HOUR_MS = 3_600_000
const TICK_MS = 10 // /proc/<pid>/stat counts CPU in ticks of 10 ms (USER_HZ = 100)

type TestPool = Awaited<ReturnType<typeof createScratchDatabase>>['pool']
type Kind = 'history' | 'rollupInsert' | 'rollupMerge' | 'state' | 'other'

function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits

/** Deterministic, fleet-like samples: 2 % failures, RTTs spread log-normally around ~150 ms. */
function sampleAt(n: number, t0: number): CheckSample {
  const endpointId = BigInt(1 + (n % ENDPOINTS))
  const failed = n % 50 === 7
  const jitter = Math.sin(n * 12.9898) * 43_758.5453
  const u = jitter - Math.floor(jitter)
  const rtt = Math.round(Math.exp(Math.log(150) + (u - 0.5) * 3))
  return {
    endpointId,
    blogId: endpointId + 9_000_000_000_000_000n,
    checkedAt: new Date(t0 + (n * 1_000) / CHECKS_PER_SECOND),
    vantage: 'local',
    method: 'GET',
    httpCode: failed ? null : 200,
    errorCode: failed ? 2 : 0,
    rttMs: failed ? null : rtt,
    dnsMs: failed ? null : 1,
    tcpMs: failed ? null : Math.round(rtt / 4),
    tlsMs: failed ? null : Math.round(rtt / 3),
    ttfbMs: failed ? null : Math.round(rtt / 2),
    failed,
    tlsVersion: failed ? null : 'TLSv1.3',
  }
}

/** Per kind of statement: statements, rows and server CPU (ms), with `merging` telling rollup kinds apart. */
function meteredDb(pool: TestPool, serverPid: number | null) {
  const meter = new Map<Kind, { statements: number; rows: number; dbCpuMs: number }>()
  const state = { merging: false }
  const kindOf = (text: string): Kind => {
    if (text.startsWith('INSERT INTO jetmon_check_history')) return 'history'
    if (text.startsWith('INSERT INTO jetmon_check_rollups')) return state.merging ? 'rollupMerge' : 'rollupInsert'
    if (text.startsWith('INSERT INTO jetmon_endpoint_state')) return 'state'
    return 'other'
  }
  const wrapped = new Proxy(pool, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (key !== 'query' || typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { sql?: string }).sql ?? '')
        const before = serverPid ? procCpuMs(serverPid) : 0
        const result = await value.apply(target, args)
        const entry = meter.get(kindOf(text)) ?? { statements: 0, rows: 0, dbCpuMs: 0 }
        entry.statements++
        entry.rows += (text.match(/\),\(/g)?.length ?? 0) + 1
        if (serverPid) entry.dbCpuMs += procCpuMs(serverPid) - before
        meter.set(kindOf(text), entry)
        return result
      }
    },
  })
  const db = drizzle(wrapped, { mode: 'default' }) as unknown as Db
  return { db, meter, state }
}

async function main(): Promise<void> {
  let server: EmbeddedMariadb | null = null
  let dir: string | null = null
  let serverUrl = process.env.BENCH_DATABASE_URL
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'jetmon-history-bench-'))
    server = await startEmbeddedMariadb({ dir, database: 'jetmon_bench' })
    serverUrl = server.url
  }
  const database = await createScratchDatabase(serverUrl, { prefix: 'jt_bench_' })
  try {
    // The measured run crosses an hour boundary (after 90 s), as a long run does every hour.
    const t0 = Date.parse('2030-01-01T00:58:30.000Z')
    let simulatedMs = t0
    const noTimers = { setTimeout: () => 0, clearTimeout: () => {} } // the bench drives the ticks
    const options = { historyMode: MODE, rollupCheckpointMs: CHECKPOINT_MS, clock: () => new Date(simulatedMs) }

    // Warm-up, not measured: one check per endpoint an hour earlier, flushed, so that the measured
    // state upserts update existing rows (the steady state). It also gives the memory held per
    // endpoint between flushes (one rollup delta and one state entry).
    const warm = new CheckRecorder({ db: database.db, timers: noTimers, ...options })
    globalThis.gc?.()
    const heap0 = process.memoryUsage().heapUsed
    for (let n = 0; n < ENDPOINTS; n++) warm.record(sampleAt(n, t0 - HOUR_MS))
    await warm.tick() // history written; rollups and state stay pending
    globalThis.gc?.()
    const bytesPerPendingEndpoint = Math.round((process.memoryUsage().heapUsed - heap0) / ENDPOINTS)
    await warm.stop()

    const metered = meteredDb(database.pool, server?.pid ?? null)
    const recorder = new CheckRecorder({ db: metered.db, timers: noTimers, ...options })
    const dbCpu0 = server ? procCpuMs(server.pid) : 0
    const cpu0 = cpuMicros()
    const wall0 = performance.now()
    let recordCpu = 0
    for (let n = 0; n < SAMPLES; n += CHECKS_PER_SECOND) {
      const end = Math.min(SAMPLES, n + CHECKS_PER_SECOND)
      const before = cpuMicros()
      for (let i = n; i < end; i++) recorder.record(sampleAt(i, t0))
      recordCpu += cpuMicros() - before
      simulatedMs = t0 + (end * 1_000) / CHECKS_PER_SECOND
      await recorder.tick()
    }
    const outcome = await recorder.stop() // the drain: writes both hours' rollups as fresh rows
    const wallMs = performance.now() - wall0
    const cpuUs = cpuMicros() - cpu0
    const dbCpuMs = server ? procCpuMs(server.pid) - dbCpu0 : null
    const stats = recorder.stats()
    if (!outcome.ok) throw new Error(`the final flush failed: ${JSON.stringify(stats)}`)

    // A restart, measured apart: a new recorder writes one more check per endpoint into the hour
    // the first one already wrote, so every rollup row takes the SQL histogram-merge path.
    metered.state.merging = true
    const restarted = new CheckRecorder({ db: metered.db, timers: noTimers, ...options })
    for (let n = 0; n < ENDPOINTS; n++) restarted.record(sampleAt(SAMPLES + n, t0))
    await restarted.stop()

    const perRow = (kind: Kind) => {
      const m = metered.meter.get(kind)
      return m && server ? round((m.dbCpuMs * 1000) / m.rows, 1) : null
    }
    const dbUsPerRow = {
      history: perRow('history'),
      rollupInsert: perRow('rollupInsert'),
      rollupMerge: perRow('rollupMerge'),
      state: perRow('state'),
    }
    // Steady state, derived from the per-row costs: each check adds a history row (all mode), each
    // endpoint a state row per STATE_FLUSH period and a rollup row per hour (merges only at restarts).
    const intervalMs = (ENDPOINTS / CHECKS_PER_SECOND) * 1_000
    const steady =
      dbUsPerRow.history !== null && dbUsPerRow.state !== null && dbUsPerRow.rollupInsert !== null
        ? (MODE === 'all' ? dbUsPerRow.history : 0.02 * dbUsPerRow.history) +
          dbUsPerRow.state * Math.min(1, intervalMs / STATE_FLUSH_MS) +
          (CHECKPOINT_MS
            ? (dbUsPerRow.rollupMerge ?? 0) * Math.min(1, intervalMs / CHECKPOINT_MS)
            : dbUsPerRow.rollupInsert * Math.min(1, intervalMs / HOUR_MS))
        : null

    console.log(
      JSON.stringify({
        node: process.version,
        samples: SAMPLES,
        endpoints: ENDPOINTS,
        historyMode: MODE,
        rollupCheckpointMs: CHECKPOINT_MS,
        simulatedChecksPerSec: CHECKS_PER_SECOND,
        wallSec: round(wallMs / 1000, 3),
        samplesPerSec: Math.round(SAMPLES / (wallMs / 1000)),
        statements: stats.statements,
        statementsPerSec: round(stats.statements / (wallMs / 1000), 1),
        rowsPerStatement: Math.round(stats.rowsWritten / stats.statements),
        historyRowsPerStatement: stats.tables.history.statements
          ? Math.round(stats.tables.history.rows / stats.tables.history.statements)
          : 0,
        tables: stats.tables,
        cpuUsPerSample: round(cpuUs / SAMPLES),
        recordCpuUsPerSample: round(recordCpu / SAMPLES),
        dbCpuUsPerSample: dbCpuMs === null ? null : round((dbCpuMs * 1000) / SAMPLES),
        dbUsPerRow,
        steadyStateDbUsPerCheck: steady === null ? null : round(steady, 1),
        steadyStateDbCoreShareAt1000ChecksPerSec: steady === null ? null : round((steady * 1000) / 1e6, 3),
        bytesPerPendingEndpoint,
        errors: stats.errors,
        dropped: stats.dropped,
      }),
    )
  } finally {
    await database.drop()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
