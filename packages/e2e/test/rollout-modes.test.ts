// Two `jetmon2 serve` processes in the rollout modes: one `api-controlled`, one `standby`. A rollout
// lock hands the api-controlled host one bucket range: it checks exactly that range and acknowledges
// the lock, while the standby host checks nothing. Set to releasing, the lock is drained and
// acknowledged released, and no check of the range happens after that. Each process sends its own
// User-Agent, so the fixture's request log tells who checked what.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHistory, endpointConfig, hosts, monitorSites, rolloutLocks } from '@jetmon/db'
import { createTestDatabase, refusedPort, type TestDatabase, waitFor } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { jetmon2, lines, spawnJetmon2 } from './jetmon2.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon-rollout-'))
const ENDPOINTS = 20
const INTERVAL_SEC = 1
const LOCK = { min: 100, max: 349 }
const children: ChildProcess[] = []
let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let standbyOps: number
let controlledOps: number
/** endpoint id → bucket */
const buckets = new Map<bigint, number>()
/** endpoint id → the host name its checks request */
const hostNames = new Map<bigint, string>()

function configFile(host: string, config: Record<string, unknown>): string {
  const file = join(tmp, `${host}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      DATABASE_URL: t.url,
      HOST_ID: host,
      USER_AGENT: `Jetmon-e2e/${host}`,
      DNS_SERVERS: [dns.server],
      BUCKET_LEASE_SEC: 3,
      TARGET_RELOAD_SEC: 1,
      CHECK_TIMEOUT_MS: 2_000,
      DASHBOARD_PORT: 0,
      API_PORT: 0,
      WPCOM_NOTIFY_ENABLE: false,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...config,
    }),
  )
  return file
}

async function startMonitor(host: string, config: Record<string, unknown>): Promise<void> {
  const child = spawnJetmon2(['serve'], { JETMON_CONFIG: configFile(host, config), DATABASE_URL: '' })
  children.push(child)
  const output = lines(child)
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${host} exited with ${code}:\n${output.all.join('\n')}`))),
  )
  await Promise.race([output.until(/monitor running/, 60_000), exited])
}

/** Hosts (by User-Agent) that requested each fixture site at or after `from` (epoch ms). */
function checkersSince(from: number): Map<string, string[]> {
  const byHost = new Map<string, string[]>()
  for (const request of sites.requests('fleet')) {
    if (request.at.getTime() < from) continue
    const host = String(request.headers['user-agent']).replace('Jetmon-e2e/', '')
    byHost.set(host, [...(byHost.get(host) ?? []), request.host])
  }
  return byHost
}

async function lockRow(id: bigint) {
  const [row] = await t.db.select().from(rolloutLocks).where(eq(rolloutLocks.id, id))
  return row!
}

beforeAll(async () => {
  t = await createTestDatabase()
  sites = await startFixtureServer({ requestLogLimit: 100_000, sites: { fleet: { status: 200 } } })
  dns = await startDnsServer({ zone: sites.zone() })
  // Endpoints spread over the whole bucket space: 0, 50, 100, … 950.
  for (let i = 0; i < ENDPOINTS; i++) {
    const bucketNo = i * 50
    const monitorUrl = sites.url(`fleet--${i}`)
    const [row] = await t.db
      .insert(monitorSites)
      .values({ blogId: BigInt(8100 + i), monitorUrl, bucketNo })
      .$returningId()
    const endpointId = BigInt(row!.endpointId)
    buckets.set(endpointId, bucketNo)
    hostNames.set(endpointId, new URL(monitorUrl).hostname)
    await t.db.insert(endpointConfig).values({ endpointId, checkIntervalSec: INTERVAL_SEC })
  }
  standbyOps = await refusedPort()
  do controlledOps = await refusedPort()
  while (controlledOps === standbyOps)
  await Promise.all([
    startMonitor('ctl', { ROLLOUT_MODE: 'api-controlled', ROLLOUT_POLL_SEC: 1, DASHBOARD_PORT: controlledOps }),
    startMonitor('spare', { ROLLOUT_MODE: 'standby', DASHBOARD_PORT: standbyOps }),
  ])
}, 90_000)

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all([t?.drop(), sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

it('an api-controlled host checks exactly its activated range and drains it on release; a standby host checks nothing', async () => {
  const registered = await t.db.select().from(hosts).orderBy(hosts.hostId)
  expect(registered.map((h) => [h.hostId, h.rolloutMode, h.status, h.bucketMin])).toEqual([
    ['ctl', 'api-controlled', 'active', null],
    ['spare', 'standby', 'active', null],
  ])
  // Both are ready (each holds its lease) and say what they are.
  const readyz = async (port: number) =>
    (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { ok: boolean; checks: Record<string, string> }
  expect(await readyz(standbyOps)).toMatchObject({
    ok: true,
    checks: { rollout_mode: 'standby', leases: 'none: standby checks nothing' },
  })
  expect(await readyz(controlledOps)).toMatchObject({
    ok: true,
    checks: { rollout_mode: 'api-controlled', leases: 'none: no range activated for this host' },
  })

  const started = Date.now()
  const [inserted] = await t.db.insert(rolloutLocks).values({
    hostId: 'ctl',
    bucketMin: LOCK.min,
    bucketMax: LOCK.max,
    state: 'active',
    activatedAt: sql`NOW(3)`,
    createdBy: 'e2e',
  })
  const lockId = BigInt(inserted.insertId)
  const inLock = [...buckets].filter(([, b]) => b >= LOCK.min && b <= LOCK.max).map(([id]) => id)
  expect(inLock).toHaveLength(5)

  // Picked up within a poll, loaded, acknowledged; then every endpoint of the range is checked.
  await waitFor('the activation acknowledged', async () => (await lockRow(lockId)).acknowledgedAt, {
    timeoutMs: 10_000,
    intervalMs: 100,
  })
  expect(await t.db.select().from(hosts).where(eq(hosts.hostId, 'ctl'))).toMatchObject([
    { bucketMin: LOCK.min, bucketMax: LOCK.max },
  ])
  // /readyz is asked until it names the range: once in a CI run it still said none right after
  // the acknowledgement.
  const leasesNamed = await waitFor(
    '/readyz to name the activated range',
    async () => {
      const answer = await readyz(controlledOps)
      return answer.checks.leases === `${LOCK.min}–${LOCK.max}` ? answer : undefined
    },
    { timeoutMs: 5_000, intervalMs: 100 },
  )
  expect(leasesNamed).toMatchObject({ ok: true, checks: { leases: `${LOCK.min}–${LOCK.max}` } })
  const checkedEndpoints = async () =>
    new Set((await t.db.select({ id: checkHistory.endpointId }).from(checkHistory)).map((row) => row.id))
  await waitFor(
    'every endpoint of the range in the check history twice',
    async () => {
      const rows = await t.db.select({ id: checkHistory.endpointId }).from(checkHistory)
      return inLock.every((id) => rows.filter((row) => row.id === id).length >= 2)
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  // Exactly that range: history only for its buckets, requests only from the api-controlled host.
  expect([...(await checkedEndpoints())].sort()).toEqual([...inLock].sort())
  const checkers = checkersSince(started)
  expect([...checkers.keys()]).toEqual(['ctl'])
  expect(new Set(checkers.get('ctl'))).toEqual(new Set(inLock.map((id) => hostNames.get(id))))

  // `jetmon2 status` shows each host's mode and buckets.
  const status = await jetmon2(['status', '--json'], { JETMON_CONFIG: join(tmp, 'spare.json'), DATABASE_URL: '' })
  expect(status.code, status.stderr).toBe(0)
  const processes = JSON.parse(status.stdout) as { process: string; stats: Record<string, unknown> }[]
  expect(processes.find((p) => p.process === 'ctl:monitor')?.stats).toMatchObject({
    rollout_mode: 'api-controlled',
  })
  expect(processes.find((p) => p.process === 'spare:monitor')?.stats).toMatchObject({
    rollout_mode: 'standby',
    buckets: 'none',
  })

  // Release: drained within a poll plus the check timeout, then acknowledged.
  await t.db
    .update(rolloutLocks)
    .set({ state: 'releasing', releaseRequestedAt: sql`NOW(3)` })
    .where(eq(rolloutLocks.id, lockId))
  const released = await waitFor(
    'the release acknowledged',
    async () => {
      const row = await lockRow(lockId)
      return row.state === 'released' ? row : undefined
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  )
  expect(released.releasedAt).not.toBeNull()
  // By the database clock: a poll (1 s) plus the check timeout (2 s), and some slack for a busy machine.
  expect(released.releasedAt!.getTime() - released.releaseRequestedAt!.getTime()).toBeLessThan(1_000 + 2_000 + 3_000)
  const releasedAt = released.releasedAt!.getTime()

  // Time passes (the host renews its lease twice, 1 s apart: more than an interval) …
  const heartbeat = async () =>
    (await t.db.select().from(hosts).where(eq(hosts.hostId, 'ctl')))[0]!.heartbeatAt.getTime()
  await waitFor('two renewals after the release', async () => (await heartbeat()) > releasedAt + 2 * 1_000, {
    timeoutMs: 10_000,
    intervalMs: 200,
  })
  // … and nothing of the range was checked after the acknowledgment, nor anything else.
  const after = await t.db
    .select({ id: checkHistory.endpointId, checkedAt: checkHistory.checkedAt })
    .from(checkHistory)
    .where(sql`${checkHistory.checkedAt} >= ${released.releasedAt}`)
  expect(after).toEqual([])
  expect(checkersSince(releasedAt + 1)).toEqual(new Map())
  expect(await t.db.select().from(hosts).where(eq(hosts.hostId, 'ctl'))).toMatchObject([{ bucketMin: null }])
}, 90_000)
