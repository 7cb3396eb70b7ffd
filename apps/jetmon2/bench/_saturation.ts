// Saturation throughput of a real `jetmon2 serve`, for `pnpm bench:capacity`: the fleet is made due
// faster than any monitor here can check it (the scheduler always has a backlog), and the checks
// completed per second are the throughput. Once with one checking process pinned to one core
// (`taskset -c 0`), once with one per core; the fixture's and the database's CPU are read beside
// it, so that the scaling efficiency compares what the monitor got with the cores left to it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const TICKS = 100 // USER_HZ: /proc/<pid>/stat counts CPU in ticks of 10 ms

export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS
  } catch {
    return 0
  }
}

export interface SaturationOptions {
  root: string
  /** The bench database, with the fleet in it. */
  databaseUrl: string
  dnsServer: string
  caFile?: string | undefined
  fixturePid: number
  databasePid: number
  /** Measured seconds per run, after `warmupSec`. */
  seconds: number
  warmupSec: number
  /** The checking processes of the "all cores" run. */
  allProcesses: number
  /** MAX_IN_FLIGHT of each process. */
  maxInFlight: number
}

export interface SaturationRun {
  processes: number
  /** The monitor was held to one core with `taskset -c 0`. */
  pinnedToOneCore: boolean
  checksPerSec: number
  /** Passed checks per second: the throughput the efficiency is computed from. */
  okChecksPerSec: number
  /** The share of those checks that passed (the fixture's sites are healthy: anything else is a fault of the run). */
  okShare: number
  /** CPU of the supervisor and its workers, in cores. */
  monitorCores: number
  monitorCpuUsPerCheck: number
  fixtureCores: number
  databaseCores: number
  /** The highest p99 dispatch lag any process reported during the run (a backlog: it grows). */
  peakLagP99Ms: number
  seconds: number
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Scrape {
  completed: number
  ok: number
  lagP99Ms: number
  pids: number[]
}

async function scrape(opsPort: number, supervisorPid: number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
  let completed = 0
  let ok = 0
  let lagP99Ms = 0
  for (const line of text.split('\n')) {
    if (/^jetmon_checks_total[{ ]/.test(line)) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1))
      completed += value
      if (line.includes('result="ok"')) ok += value
    }
    if (/^jetmon_scheduler_lag_seconds\{[^}]*quantile="0\.99"/.test(line))
      lagP99Ms = Math.max(lagP99Ms, Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000)
  }
  const readiness = (await (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).json()) as {
    workers?: { pid: number | null }[]
  }
  const pids = readiness.workers?.flatMap((w) => (w.pid ? [w.pid] : [])) ?? [supervisorPid]
  return { completed, ok, lagP99Ms: Math.round(lagP99Ms), pids }
}

async function run(options: SaturationOptions, processes: number, pin: boolean, dir: string): Promise<SaturationRun> {
  const opsPort = await freePort()
  const file = join(dir, `serve-${processes}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      DATABASE_URL: options.databaseUrl,
      HOST_ID: `saturation-${processes}`,
      DNS_SERVERS: [options.dnsServer],
      ...(options.caFile ? { CA_FILE: options.caFile } : {}),
      DASHBOARD_PORT: opsPort,
      API_PORT: 0,
      WPCOM_NOTIFY_ENABLE: false,
      SLO_EVALUATOR_ENABLE: false,
      DELIVERY_WORKERS_ENABLE: false,
      CHECK_TIMEOUT_MS: 5_000,
      MAX_IN_FLIGHT: options.maxInFlight,
      // Only the rollups are written: the database shares this machine and must not be what limits.
      HISTORY_MODE: 'failures',
      LOG_LEVEL: 'error',
    }),
  )
  const node = [
    process.execPath,
    '--conditions=@jetmon/source',
    '--import',
    'tsx',
    join(options.root, 'apps/jetmon2/src/cli.ts'),
    'serve',
  ]
  const command = pin ? ['taskset', '-c', '0', ...node] : node
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), {
    cwd: options.root,
    env: { ...process.env, JETMON_CONFIG: file, DATABASE_URL: '', MONITOR_PROCESSES: String(processes) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const errors: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => {
    errors.push(chunk.toString())
    if (errors.length > 50) errors.shift()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const deadline = Date.now() + 180_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${errors.join('')}`)
      const readiness = await fetch(`http://127.0.0.1:${opsPort}/readyz`)
        .then((r) => r.json() as Promise<{ ok: boolean; workers?: { state: string }[] }>)
        .catch(() => null)
      if (readiness?.ok && (processes === 1 || readiness.workers?.every((w) => w.state === 'running'))) break
      if (Date.now() > deadline) throw new Error(`serve did not become ready:\n${errors.join('')}`)
      await sleep(500)
    }
    await sleep(options.warmupSec * 1000)
    const before = await scrape(opsPort, child.pid!)
    const monitor0 = before.pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0)
    const fixture0 = cpuMsOf(options.fixturePid)
    const database0 = cpuMsOf(options.databasePid)
    const t0 = Date.now()
    let peakLagP99Ms = 0
    while (Date.now() - t0 < options.seconds * 1000) {
      await sleep(Math.min(5_000, Math.max(0, options.seconds * 1000 - (Date.now() - t0))))
      peakLagP99Ms = Math.max(peakLagP99Ms, (await scrape(opsPort, child.pid!)).lagP99Ms)
    }
    const after = await scrape(opsPort, child.pid!)
    const wallMs = Date.now() - t0
    const monitorMs = after.pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0) - monitor0
    const checks = after.completed - before.completed
    return {
      processes,
      pinnedToOneCore: pin,
      checksPerSec: Math.round((checks / wallMs) * 1000),
      okChecksPerSec: Math.round(((after.ok - before.ok) / wallMs) * 1000),
      okShare: Number(((after.ok - before.ok) / Math.max(1, checks)).toFixed(3)),
      monitorCores: Number((monitorMs / wallMs).toFixed(2)),
      monitorCpuUsPerCheck: Math.round((monitorMs * 1000) / checks),
      fixtureCores: Number(((cpuMsOf(options.fixturePid) - fixture0) / wallMs).toFixed(2)),
      databaseCores: Number(((cpuMsOf(options.databasePid) - database0) / wallMs).toFixed(2)),
      peakLagP99Ms,
      seconds: Math.round(wallMs / 1000),
    }
  } finally {
    child.kill('SIGTERM')
    const late = setTimeout(() => child.kill('SIGKILL'), 45_000)
    await exited
    clearTimeout(late)
  }
}

/**
 * One core, then all: the throughput of each, and the scaling efficiency. The monitor's cores are
 * what the fixture and the database left of the machine (all of one core when pinned):
 * `efficiency = (passed checks/s with all ÷ cores left to it) ÷ (passed checks/s with one ÷ its core)`. 1.0 is
 * perfect; the target is 0.8 or better for each added core.
 */
export async function measureSaturation(options: SaturationOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'jetmon-saturation-'))
  const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0
  try {
    const one = await run(options, 1, canPin, dir)
    const all = await run(options, options.allProcesses, false, dir)
    const coresLeftOne = canPin ? 1 : Math.min(1, options.allProcesses - one.fixtureCores - one.databaseCores)
    const coresLeftAll = options.allProcesses - all.fixtureCores - all.databaseCores
    const perCoreOne = one.okChecksPerSec / coresLeftOne
    const perCoreAll = all.okChecksPerSec / coresLeftAll
    return {
      definition:
        'passed checks per second of jetmon2 serve with more due than it can check (MAX_IN_FLIGHT per process, HISTORY_MODE failures); efficiency = (all-core passed checks/s per core left by the fixture and the database) / (one-core passed checks/s)',
      one,
      all,
      speedup: Number((all.okChecksPerSec / one.okChecksPerSec).toFixed(2)),
      coresLeftToMonitor: { one: Number(coresLeftOne.toFixed(2)), all: Number(coresLeftAll.toFixed(2)) },
      scalingEfficiency: Number((perCoreAll / perCoreOne).toFixed(2)),
      // The same from CPU per check: above 1.0, a check costs more CPU with several processes.
      cpuPerCheckRatioAllToOne: Number((all.monitorCpuUsPerCheck / one.monitorCpuUsPerCheck).toFixed(2)),
      target: 0.8,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
