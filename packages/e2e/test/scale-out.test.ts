// Three `jetmon2 serve` processes share the bucket space through leases; one is killed with
// SIGKILL and its endpoints are taken over. Each process sends its own User-Agent, so the fixture's
// request log tells which host checked which endpoint.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { endpointConfig, hosts as hostLeases, monitorSites } from '@jetmon/db'
import { createTestDatabase, spawnSource, type TestDatabase, waitFor } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const tmp = mkdtempSync(join(tmpdir(), 'jetmon-scale-'))
const ENDPOINTS = 30
const INTERVAL_SEC = 2
const LEASE_SEC = 3
const children = new Map<string, ChildProcess>()
let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer

function startMonitor(host: string): Promise<void> {
  const config = {
    DATABASE_URL: t.url,
    HOST_ID: host,
    USER_AGENT: `Jetmon-e2e/${host}`,
    DNS_SERVERS: [dns.server],
    BUCKET_LEASE_SEC: LEASE_SEC,
    TARGET_RELOAD_SEC: 1,
    CHECK_TIMEOUT_MS: 2_000,
    DASHBOARD_PORT: 0,
    API_PORT: 0,
    WPCOM_NOTIFY_ENABLE: false,
    LOG_LEVEL: 'info',
  }
  const file = join(tmp, `${host}.json`)
  writeFileSync(file, JSON.stringify(config))
  const child = spawnSource(join(ROOT, 'apps/jetmon2/src/cli.ts'), ['serve'], {
    env: { JETMON_CONFIG: file, DATABASE_URL: '', LOG_FORMAT: 'json' },
  })
  children.set(host, child)
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${host} did not start:\n${output}`)), 30_000)
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output += `${line}\n`
        if (/monitor running/.test(line)) {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code !== null) reject(new Error(`${host} exited with ${code}:\n${output}`))
    })
  })
}

/** Which hosts checked each endpoint between `from` and `to` (by the fixture's request log). */
function checkersBetween(from: number, to: number): Map<string, string[]> {
  const byEndpoint = new Map<string, string[]>()
  for (const request of sites.requests('fleet')) {
    const at = request.at.getTime()
    if (at < from || at >= to) continue
    const host = String(request.headers['user-agent']).replace('Jetmon-e2e/', '')
    const list = byEndpoint.get(request.host) ?? []
    list.push(host)
    byEndpoint.set(request.host, list)
  }
  return byEndpoint
}

beforeAll(async () => {
  t = await createTestDatabase()
  sites = await startFixtureServer({ requestLogLimit: 100_000, sites: { fleet: { status: 200 } } })
  dns = await startDnsServer({ zone: sites.zone() })
  // Endpoints spread over the whole bucket space.
  for (let i = 0; i < ENDPOINTS; i++) {
    const [row] = await t.db
      .insert(monitorSites)
      .values({
        blogId: BigInt(7000 + i),
        monitorUrl: sites.url(`fleet--${i}`),
        bucketNo: Math.floor((i * 1000) / ENDPOINTS),
      })
      .$returningId()
    await t.db.insert(endpointConfig).values({ endpointId: BigInt(row!.endpointId), checkIntervalSec: INTERVAL_SEC })
  }
}, 60_000)

afterAll(async () => {
  for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all([t?.drop(), sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

/** Three live hosts, each holding a bucket range, no two ranges overlapping. */
async function leasesSettled(): Promise<boolean> {
  const rows = await t.db.select().from(hostLeases)
  const held = rows
    .filter((row) => row.bucketMin !== null && row.bucketMax !== null)
    .map((row) => [row.bucketMin as number, row.bucketMax as number] as const)
    .sort((a, b) => a[0] - b[0])
  if (held.length !== 3) return false
  return held.every((range, i) => i === 0 || range[0] > (held[i - 1] as readonly [number, number])[1])
}

it('shares the endpoints among three hosts, and takes over a killed host’s within two lease periods', async () => {
  await Promise.all(['host-a', 'host-b', 'host-c'].map(startMonitor))
  // The leases have settled once the three hosts hold disjoint bucket ranges; once each host has
  // renewed again after that, it has applied the split and a check it started before is answered.
  await waitFor('three hosts holding disjoint bucket ranges', leasesSettled, { timeoutMs: 30_000, intervalMs: 200 })
  const settledAt = new Map(
    (await t.db.select().from(hostLeases)).map((row) => [row.hostId, row.heartbeatAt.getTime()]),
  )
  await waitFor(
    'every host renewing its lease after the split settled',
    async () =>
      (await leasesSettled()) &&
      (await t.db.select().from(hostLeases)).every(
        (row) => row.heartbeatAt.getTime() > (settledAt.get(row.hostId) ?? 0),
      ),
    { timeoutMs: 30_000, intervalMs: 200 },
  )

  // The steady state is observed until every endpoint has been checked three times (two whole
  // intervals at least): long enough for a second host checking the same endpoint to show.
  const windowStart = Date.now()
  const steady = await waitFor(
    'every endpoint checked three times',
    () => {
      const seen = checkersBetween(windowStart, Date.now())
      return seen.size === ENDPOINTS && [...seen.values()].every((hosts) => hosts.length >= 3) ? seen : undefined
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  expect(steady.size).toBe(ENDPOINTS) // every endpoint is checked
  const owners = new Map<string, string>()
  for (const [endpoint, hosts] of steady) {
    // …by exactly one host in the steady state: nothing is checked twice per interval.
    expect(new Set(hosts), endpoint).toHaveProperty('size', 1)
    expect(hosts.length, endpoint).toBeLessThanOrEqual(5)
    owners.set(endpoint, hosts[0] as string)
  }
  const shares = new Map<string, number>()
  for (const host of owners.values()) shares.set(host, (shares.get(host) ?? 0) + 1)
  expect([...shares.keys()].sort()).toEqual(['host-a', 'host-b', 'host-c'])

  const killedAt = Date.now()
  children.get('host-b')?.kill('SIGKILL')
  const orphans = [...owners].filter(([, host]) => host === 'host-b').map(([endpoint]) => endpoint)
  expect(orphans.length).toBeGreaterThan(0)

  // Within two lease periods (plus one interval to get its turn) every orphan is checked again.
  const deadline = killedAt + 2 * LEASE_SEC * 1000 + INTERVAL_SEC * 1000 + 1_000
  const takenOver = () => {
    const checked = checkersBetween(killedAt + 500, Date.now())
    return orphans.every((endpoint) => (checked.get(endpoint) ?? []).length > 0) ? checked : undefined
  }
  const after =
    (await waitFor('every orphan checked again', takenOver, {
      timeoutMs: Math.max(0, deadline - Date.now()),
      intervalMs: 200,
    }).catch(() => undefined)) ?? checkersBetween(killedAt + 500, Date.now())
  for (const endpoint of orphans) {
    const hosts = after.get(endpoint) ?? []
    expect(hosts.length, `${endpoint} was not taken over`).toBeGreaterThan(0)
    expect(hosts.every((h) => h === 'host-a' || h === 'host-c')).toBe(true)
  }
}, 90_000)
