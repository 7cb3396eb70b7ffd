// One `jetmon2 serve` with MONITOR_PROCESSES=2: the supervisor and its worker share the host's
// buckets through their own leases, one ops port serves both, a killed worker's buckets are taken
// over while it is restarted, and SIGTERM drains both.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { endpointConfig, hosts as hostLeases, monitorSites, processHealth } from '@jetmon/db'
import { createTestDatabase, runToCompletion, spawnSource, type TestDatabase, waitFor } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const tmp = mkdtempSync(join(tmpdir(), 'jetmon-processes-'))
const ENDPOINTS = 24
const INTERVAL_SEC = 2
const LEASE_SEC = 3
let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let serve: ChildProcess | undefined
const output: string[] = []

interface Worker {
  worker: number
  host_id: string
  pid: number | null
  state: string
  restarts: number
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** When each endpoint (by host name) was checked between `from` and `to`, from the fixture's request log. */
function checksBetween(from: number, to: number): Map<string, number[]> {
  const byEndpoint = new Map<string, number[]>()
  for (const request of sites.requests('fleet')) {
    const at = request.at.getTime()
    if (at < from || at >= to) continue
    const list = byEndpoint.get(request.host) ?? []
    list.push(at)
    byEndpoint.set(request.host, list)
  }
  return byEndpoint
}

/**
 * Waits until every endpoint was checked `times` times since `from`, then holds that no endpoint was
 * checked twice within half an interval: a second process checking it would dispatch it at the same
 * phase, right next to the first.
 */
async function checkedOncePerInterval(from: number, times: number): Promise<void> {
  const seen = await waitFor(
    `every endpoint checked ${times} times`,
    () => {
      const checks = checksBetween(from, Date.now())
      return checks.size === ENDPOINTS && [...checks.values()].every((at) => at.length >= times) ? checks : undefined
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  for (const [endpoint, at] of seen) {
    const sorted = [...at].sort((a, b) => a - b)
    const gaps = sorted.slice(1).map((time, i) => time - (sorted[i] as number))
    expect(Math.min(...gaps), `${endpoint} checked at ${sorted.join(', ')}`).toBeGreaterThan((INTERVAL_SEC * 1000) / 2)
  }
}

beforeAll(async () => {
  t = await createTestDatabase()
  sites = await startFixtureServer({ requestLogLimit: 100_000, sites: { fleet: { status: 200 } } })
  dns = await startDnsServer({ zone: sites.zone() })
  for (let i = 0; i < ENDPOINTS; i++) {
    const [row] = await t.db
      .insert(monitorSites)
      .values({
        blogId: BigInt(9100 + i),
        monitorUrl: sites.url(`fleet--${i}`),
        bucketNo: Math.floor((i * 1000) / ENDPOINTS),
      })
      .$returningId()
    await t.db.insert(endpointConfig).values({ endpointId: BigInt(row!.endpointId), checkIntervalSec: INTERVAL_SEC })
  }
}, 60_000)

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL')
  await Promise.all([t?.drop(), sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

it('checks every endpoint once per interval with two processes, survives a killed worker and drains on SIGTERM', async () => {
  const opsPort = await freePort()
  const file = join(tmp, 'config.json')
  writeFileSync(
    file,
    JSON.stringify({
      DATABASE_URL: t.url,
      HOST_ID: 'cores',
      DNS_SERVERS: [dns.server],
      BUCKET_LEASE_SEC: LEASE_SEC,
      TARGET_RELOAD_SEC: 1,
      CHECK_TIMEOUT_MS: 2_000,
      DASHBOARD_PORT: opsPort,
      API_PORT: 0,
      WPCOM_NOTIFY_ENABLE: false,
      SLO_EVALUATOR_ENABLE: false,
      LOG_LEVEL: 'info',
    }),
  )
  serve = spawnSource(join(ROOT, 'apps/jetmon2/src/cli.ts'), ['serve'], {
    env: { JETMON_CONFIG: file, DATABASE_URL: '', LOG_FORMAT: 'json', MONITOR_PROCESSES: '2' },
  })
  for (const stream of [serve.stdout, serve.stderr])
    createInterface({ input: stream! }).on('line', (l) => output.push(l))
  const exited = new Promise<number | null>((resolve) => serve!.once('exit', (code) => resolve(code)))
  const ready = async () => {
    const response = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => null)
    return response
      ? ((await response.json()) as { ok: boolean; checks: Record<string, string>; workers?: Worker[] })
      : null
  }
  const running = (want: (workers: Worker[]) => boolean) =>
    waitFor(
      'the supervisor and its worker checking',
      async () => {
        const readiness = await ready()
        return readiness?.ok && readiness.workers && want(readiness.workers) ? readiness : undefined
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-40).join('\n')}`)
    })

  // One ops port for the host, showing both processes; each holds a lease of its own, and their
  // bucket ranges do not overlap.
  const first = await running((workers) => workers.length === 2 && workers.every((w) => w.state === 'running'))
  expect(first.checks.workers).toBe('2 of 2 processes checking')
  expect(first.workers!.map((w) => w.host_id)).toEqual(['cores', 'cores/w2'])
  // Both run with a checking process's runtime settings: `serve` re-executed itself with them, under
  // the same process id, and forked its worker with them.
  expect(first.workers![0]!.pid).toBe(serve.pid)
  for (const { pid } of first.workers!) {
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContainEqual(
      expect.stringMatching(/^--max-semi-space-size=\d+$/),
    )
  }
  const leases = (await t.db.select().from(hostLeases)).filter((row) => row.status === 'active')
  expect(leases.map((row) => row.hostId).sort()).toEqual(['cores', 'cores/w2'])
  const [a, b] = leases.map((row) => [row.bucketMin!, row.bucketMax!]).sort((x, y) => x[0]! - y[0]!)
  expect(a![1], JSON.stringify(leases.map((r) => [r.hostId, r.bucketMin, r.bucketMax]))).toBeLessThan(b![0]!)

  // `jetmon2 status` lists both, the supervisor saying how many of the host's processes check. Its
  // health row is written on its own heartbeat, which can come just before the worker was counted.
  await waitFor(
    "the supervisor's health row counting both processes",
    async () => {
      const [row] = await t.db.select().from(processHealth).where(eq(processHealth.processId, 'cores:monitor'))
      return row?.stats?.processes === '2 of 2 processes checking' ? true : undefined
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  const status = await runToCompletion(
    spawnSource(join(ROOT, 'apps/jetmon2/src/cli.ts'), ['status', '--json'], {
      env: { JETMON_CONFIG: file, DATABASE_URL: '' },
    }),
  )
  const rows = JSON.parse(status.stdout) as { process: string; state: string; stats: Record<string, unknown> }[]
  const mine = rows.filter((row) => row.process.startsWith('cores'))
  expect(mine.map((row) => row.process).sort()).toEqual(['cores/w2:monitor', 'cores:monitor'])
  expect(mine.find((row) => row.process === 'cores:monitor')?.stats.processes).toBe('2 of 2 processes checking')

  // Both processes check: their series are on the one /metrics, each with its worker label.
  await checkedOncePerInterval(Date.now(), 3)
  const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
  expect(metrics).toMatch(/jetmon_checks_total\{[^}]*worker="1"[^}]*\} [1-9]/)
  expect(metrics).toMatch(/jetmon_checks_total\{[^}]*worker="2"[^}]*\} [1-9]/)

  // SIGKILL the worker: its buckets go to the supervisor meanwhile, and it is restarted.
  const victim = first.workers!.find((w) => w.worker === 2)!.pid!
  const killedAt = Date.now()
  process.kill(victim, 'SIGKILL')
  await waitFor(
    'every endpoint checked after the kill',
    () => (checksBetween(killedAt + 200, Date.now()).size === ENDPOINTS ? true : undefined),
    { timeoutMs: LEASE_SEC * 1000 + INTERVAL_SEC * 1000 + 5_000, intervalMs: 200 },
  )
  const again = await running((workers) => workers[1]?.state === 'running' && workers[1].restarts === 1)
  expect(again.workers![1]!.pid).not.toBe(victim)
  // Once the leases settled again (a renewal of each after the restart), nothing is checked twice.
  await new Promise((resolve) => setTimeout(resolve, LEASE_SEC * 1000))
  await checkedOncePerInterval(Date.now(), 2)

  // SIGTERM drains both: the worker exits, both leases are released, the supervisor exits 0.
  const worker = again.workers![1]!.pid!
  serve.kill('SIGTERM')
  expect(await exited).toBe(0)
  expect(() => process.kill(worker, 0)).toThrow()
  const after = await t.db.select().from(hostLeases)
  expect(after.filter((row) => row.status === 'active').map((row) => row.hostId)).toEqual([])
}, 240_000)
