// The fault suite: real `jetmon2` and `veriflier2` processes on a private MariaDB, each scenario
// breaking one thing the way production breaks it (SIGKILL, a database crash, a partition, an
// operator acting behind the monitor's back) and then counting what was lost or doubled. A
// scenario passes only with nothing lost; duplicates are what at-least-once delivery allows, and
// the summary line shows them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createScratchDatabase,
  endpointConfig,
  eventTransitions,
  monitorSites,
  type ScratchDatabase,
  webhooks,
} from '@jetmon/db'
import { closeEvent, listOpenEvents } from '@jetmon/eventstore'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { generateWebhookSecret, secretPreview } from '@jetmon/webhooks'
import { asc, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest'
import {
  configFile,
  type HookReceiver,
  killAll,
  type Ledger,
  type PrivateDatabase,
  type Relay,
  ROOT,
  type Service,
  startHookReceiver,
  startPrivateDatabase,
  startRelay,
  startService,
  startWpcomReceiver,
  tally,
  type WpcomReceiver,
  waitFor,
} from '../src/harness.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon-faults-'))
const VERIFLIER_TOKEN = 'faults-veriflier-token-0123456789'
const WPCOM_TOKEN = 'faults-wpcom-token-0123456789'
let server: PrivateDatabase
let sites: FixtureServer
let dns: DnsServer
let wpcom: WpcomReceiver
let hooks: HookReceiver
const verifliers: { id: string; region: string; url: string; relay: Relay; service: Service }[] = []
const scratch: ScratchDatabase[] = []

/**
 * Keeps a scenario's counts on its test, for the reporter, and asserts that nothing was lost. When
 * something was, the processes' logs are kept under .jetmon/faults/ for whoever reads the failure.
 */
function record(context: TestContext, ledger: Ledger, services: Service[] = []): void {
  context.task.meta.faults = ledger
  if (ledger.lost > 0 && services.length > 0) {
    const dir = join(ROOT, '.jetmon', 'faults')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `${context.task.name.replace(/[^a-z0-9]+/gi, '-')}.log`)
    writeFileSync(file, services.map((s) => `== ${s.name}\n${s.output.join('\n')}`).join('\n\n'))
    ledger.detail = `${ledger.detail ?? ''} (logs: ${file})`
  }
  expect(ledger.lost, ledger.detail ?? 'nothing lost').toBe(0)
}

beforeAll(async () => {
  server = await startPrivateDatabase(join(tmp, 'db'))
  sites = await startFixtureServer({ requestLogLimit: 50_000, sites: {} })
  dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(join(tmp, 'ca.pem'), sites.ca)
  wpcom = await startWpcomReceiver()
  hooks = await startHookReceiver()
  for (const [id, region] of [
    ['v-eu', 'eu-west'],
    ['v-us', 'us-east'],
  ] as const) {
    const service = await startService(
      id,
      'veriflier2',
      ['serve'],
      {
        ...configFile(tmp, id, {}),
        VERIFLIER_CONFIG: join(tmp, `${id}.json`),
        VERIFLIER_ID: id,
        VERIFLIER_REGION: region,
        VERIFLIER_TOKENS: JSON.stringify([VERIFLIER_TOKEN]),
        PORT: '0',
        BIND: '127.0.0.1',
        DNS_SERVERS: JSON.stringify([dns.server]),
        CA_FILE: join(tmp, 'ca.pem'),
        USER_AGENT: 'Jetmon-Veriflier/faults',
      },
      /listening on/,
    )
    const line = await service.line(/listening on/)
    const url = /(https?:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] as string
    verifliers.push({ id, region, url, relay: await startRelay(url), service })
  }
}, 120_000)

afterAll(async () => {
  await killAll()
  await Promise.all(scratch.map((db) => db.drop().catch(() => {})))
  await Promise.all([
    sites?.close(),
    dns?.close(),
    wpcom?.close(),
    hooks?.close(),
    ...verifliers.map((v) => v.relay.close()),
  ])
  await server?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

async function database(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(server.url)
  scratch.push(db)
  return db
}

/** One endpoint per blog, checked every 2 s. */
async function addEndpoints(t: ScratchDatabase, site: string, blogIds: number[]): Promise<Map<number, bigint>> {
  const ids = new Map<number, bigint>()
  for (const blogId of blogIds) {
    const [row] = await t.db
      .insert(monitorSites)
      .values({ blogId: BigInt(blogId), monitorUrl: sites.url(`${site}-${blogId}`), bucketNo: (blogId * 37) % 1000 })
      .$returningId()
    const endpointId = BigInt(row!.endpointId)
    sites.setSite(`${site}-${blogId}`, { status: 200 })
    await t.db.insert(endpointConfig).values({ endpointId, checkIntervalSec: 2, timeoutMs: 2_000 })
    ids.set(blogId, endpointId)
  }
  return ids
}

function monitorConfig(t: ScratchDatabase, host: string, overrides: Record<string, unknown> = {}) {
  return configFile(tmp, `${t.name}-${host}`, {
    DATABASE_URL: t.url,
    HOST_ID: host,
    USER_AGENT: `Jetmon-faults/${host}`,
    DNS_SERVERS: [dns.server],
    CA_FILE: join(tmp, 'ca.pem'),
    VERIFLIERS: verifliers.map((v) => ({ id: v.id, region: v.region, url: v.relay.url, token: VERIFLIER_TOKEN })),
    CHECK_TIMEOUT_MS: 2_000,
    VERIFLIER_TIMEOUT_MS: 3_000,
    NUM_OF_CHECKS: 2,
    RETRY_INTERVAL_SEC: 1,
    FAILED_CHECK_INTERVAL_SEC: 2,
    FLAP_WINDOW_SEC: 1,
    TARGET_RELOAD_SEC: 1,
    BUCKET_LEASE_SEC: 3,
    DASHBOARD_PORT: 0,
    API_PORT: 0,
    WPCOM_NOTIFY_URL: wpcom.url,
    AUTH_TOKEN: WPCOM_TOKEN,
    // Webhooks go out through `jetmon2 deliver` processes, which the scenarios start and kill.
    DELIVERY_WORKERS_ENABLE: false,
    LOG_LEVEL: 'info',
    ...overrides,
  })
}

function startMonitor(t: ScratchDatabase, host: string, overrides: Record<string, unknown> = {}): Promise<Service> {
  return startService(host, 'jetmon2', ['serve'], monitorConfig(t, host, overrides), /monitor running/)
}

function startDeliverer(t: ScratchDatabase, host: string): Promise<Service> {
  return startService(
    host,
    'jetmon2',
    ['deliver'],
    configFile(tmp, `${t.name}-${host}`, {
      DATABASE_URL: t.url,
      HOST_ID: host,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
      // The shortest lease: the killed worker's claims come back after 15 s, not the default 60.
      DELIVERY_LEASE_SEC: 15,
      LOG_LEVEL: 'info',
    }),
    /delivering webhooks and alerts/,
  )
}

async function openEvent(t: ScratchDatabase, endpointId: bigint) {
  const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId })
  return open
}

/** Whether every endpoint has an open incident in `state` (false while the database is away). */
async function allInState(t: ScratchDatabase, ids: Map<number, bigint>, state: string): Promise<boolean> {
  const open = await Promise.all([...ids.values()].map((id) => openEvent(t, id).catch(() => undefined)))
  return open.every((e) => e?.state === state)
}

async function reasons(t: ScratchDatabase, endpointId: bigint): Promise<string[]> {
  const rows = await t.db
    .select({ reason: eventTransitions.reason })
    .from(eventTransitions)
    .where(eq(eventTransitions.endpointId, endpointId))
    .orderBy(asc(eventTransitions.id))
  return rows.map((row) => row.reason)
}

/** The Down notices WordPress.com accepted for these blogs, as `blog:down` keys. */
function downNotices(blogIds: number[]): string[] {
  return wpcom.accepted.filter((n) => n.status_id === 2 && blogIds.includes(n.blog_id)).map((n) => `${n.blog_id}:down`)
}

it('monitor killed during confirmation', async (context) => {
  const t = await database()
  const blogs = [101, 102]
  const ids = await addEndpoints(t, 'confirm', blogs)
  for (const blog of blogs) sites.setSite(`confirm-${blog}`, { status: 503 })
  // Slow confirmation down so the kill lands between the first failure and the verdict.
  let monitor = await startMonitor(t, 'confirm-a', { NUM_OF_CHECKS: 3, RETRY_INTERVAL_SEC: 2 })
  await waitFor('both incidents to open', () => allInState(t, ids, 'Seems Down'))
  await monitor.kill9()
  monitor = await startMonitor(t, 'confirm-b')
  await waitFor('both incidents to be confirmed Down', () => allInState(t, ids, 'Down'))
  await waitFor('the Down notices', () => blogs.every((b) => downNotices([b]).length > 0))
  // One incident per site: the restarted monitor carried on with the open one.
  for (const id of ids.values()) expect((await reasons(t, id)).filter((r) => r === 'opened')).toHaveLength(1)
  await monitor.stop()
  record(
    context,
    tally(
      blogs.map((b) => `${b}:down`),
      downNotices(blogs),
    ),
  )
})

it('monitor killed while WordPress.com is failing', async (context) => {
  const t = await database()
  const blogs = [201, 202, 203]
  const ids = await addEndpoints(t, 'wpfail', blogs)
  for (const blog of blogs) sites.setSite(`wpfail-${blog}`, { status: 503 })
  wpcom.mode = 'failing'
  const before = wpcom.attempts
  // The shortest lease: notices the killed monitor had claimed come back after 20 s, not the default 60.
  let monitor = await startMonitor(t, 'wpfail-a', { WPCOM_LEASE_SEC: 20 })
  await waitFor('every incident to be confirmed Down', () => allInState(t, ids, 'Down'))
  await waitFor('WordPress.com to have refused a notice', () => wpcom.attempts > before)
  await monitor.kill9()
  wpcom.mode = 'ok'
  monitor = await startMonitor(t, 'wpfail-b')
  await waitFor(
    'the Down notices after the restart',
    () => blogs.every((b) => downNotices([b]).length > 0),
    60_000,
  ).catch(() => undefined)
  await monitor.stop()
  record(
    context,
    tally(
      blogs.map((b) => `${b}:down`),
      downNotices(blogs),
    ),
  )
})

it('delivery worker killed mid-send', async (context) => {
  const t = await database()
  const blogs = [301, 302, 303]
  const ids = await addEndpoints(t, 'hook', blogs)
  await t.db.insert(webhooks).values({
    url: hooks.url,
    active: true,
    events: [],
    siteFilter: { blog_ids: [] },
    stateFilter: [],
    secret: Buffer.from(generateWebhookSecret(), 'utf8'),
    secretPreview: secretPreview('whsec_faults'),
    createdBy: 'faults',
  })
  hooks.hold = true
  const first = await startDeliverer(t, 'hook-a')
  let deliverer = first
  const monitor = await startMonitor(t, 'hook-m')
  for (const blog of blogs) sites.setSite(`hook-${blog}`, { status: 503 })
  await waitFor('every incident to be confirmed Down', () => allInState(t, ids, 'Down'))
  await waitFor('a delivery to be in flight', () => hooks.held() > 0).catch((error: Error) => {
    throw new Error(`${error.message}\n${deliverer.output.slice(-20).join('\n')}`)
  })
  await deliverer.kill9()
  hooks.release()
  hooks.hold = false
  deliverer = await startDeliverer(t, 'hook-b')
  const transitions = await t.db
    .select({ id: eventTransitions.id })
    .from(eventTransitions)
    .where(inArray(eventTransitions.endpointId, [...ids.values()]))
  const expected = transitions.map((row) => String(row.id))
  await waitFor(
    'every transition to be delivered',
    () => expected.every((id) => hooks.received.some((h) => h.transitionId === id)),
    100_000,
  ).catch(() => undefined)
  await Promise.all([deliverer.stop(), monitor.stop()])
  record(
    context,
    tally(
      expected,
      hooks.received.map((h) => h.transitionId),
    ),
    [first, deliverer, monitor],
  )
})

it('one of three monitors sharing buckets killed', async (context) => {
  const t = await database()
  const blogs = Array.from({ length: 12 }, (_, i) => 401 + i)
  const ids = await addEndpoints(t, 'fleet', blogs)
  for (const blog of blogs) sites.setSite(`fleet-${blog}`, { status: 200 })
  const hosts = await Promise.all(['fleet-a', 'fleet-b', 'fleet-c'].map((host) => startMonitor(t, host)))
  const checkedBy = (from: number) => {
    const seen = new Map<string, Set<string>>()
    for (const request of sites.requests()) {
      if (request.at.getTime() < from || !request.site?.startsWith('fleet-')) continue
      const host = String(request.headers['user-agent']).replace('Jetmon-faults/', '')
      seen.set(request.site, (seen.get(request.site) ?? new Set()).add(host))
    }
    return seen
  }
  const settled = Date.now()
  await waitFor('every endpoint to be checked', () => checkedBy(settled).size === blogs.length)
  // Kill the host that checks the first endpoint, then make that endpoint fail.
  const victimName = [...(checkedBy(settled).get(`fleet-${blogs[0]}`) ?? [])][0]
  const victim = hosts.find((h) => h.name === victimName) as Service
  await victim.kill9()
  const killedAt = Date.now()
  sites.setSite(`fleet-${blogs[0]}`, { status: 503 })
  await waitFor('every endpoint to be checked again by the survivors', () => {
    const seen = checkedBy(killedAt + 1_000)
    return seen.size === blogs.length && [...seen.values()].every((set) => !set.has(victim.name))
  })
  const endpointId = ids.get(blogs[0] as number) as bigint
  await waitFor('the failing endpoint to be confirmed Down by a survivor', async () => {
    return (await openEvent(t, endpointId))?.state === 'Down'
  })
  const seen = checkedBy(killedAt + 1_000)
  await Promise.all(hosts.filter((h) => h !== victim).map((h) => h.stop()))
  record(context, {
    ...tally(
      blogs.map((b) => `fleet-${b}`),
      [...seen.keys()],
    ),
    duplicates: (await reasons(t, endpointId)).filter((r) => r === 'opened').length - 1,
  })
})

it('MariaDB crashes and restarts mid-run', async (context) => {
  const t = await database()
  const blogs = [501, 502]
  const ids = await addEndpoints(t, 'dbcrash', blogs)
  for (const blog of blogs) sites.setSite(`dbcrash-${blog}`, { status: 200 })
  const monitor = await startMonitor(t, 'dbcrash-m')
  await waitFor('a first round of checks', () => sites.requests().some((r) => r.site?.startsWith('dbcrash-')))
  await server.crashAndRestart(3_000)
  // After the restart, without touching any process, an outage must go all the way through.
  for (const blog of blogs) sites.setSite(`dbcrash-${blog}`, { status: 503 })
  await waitFor('the outages to be confirmed Down after the restart', () => allInState(t, ids, 'Down'), 60_000).catch(
    () => undefined,
  )
  await waitFor('the Down notices', () => blogs.every((b) => downNotices([b]).length > 0), 20_000).catch(
    () => undefined,
  )
  expect(monitor.child.exitCode, 'the monitor survived the database crash').toBeNull()
  await monitor.stop()
  record(
    context,
    tally(
      blogs.map((b) => `${b}:down`),
      downNotices(blogs),
    ),
  )
})

it('operator closes an incident during the outage', async (context) => {
  const t = await database()
  const blog = 601
  const ids = await addEndpoints(t, 'opclose', [blog])
  const endpointId = ids.get(blog) as bigint
  sites.setSite(`opclose-${blog}`, { status: 503 })
  // No cooldown: the new incident's Down notice is due at once, not 30 minutes after the first.
  const monitor = await startMonitor(t, 'opclose-m', { ALERT_COOLDOWN_MINUTES: 0 })
  const first = await waitFor('the outage to be confirmed Down', async () => {
    const open = await openEvent(t, endpointId)
    return open?.state === 'Down' ? open : undefined
  })
  await waitFor('the first Down notice', () => downNotices([blog]).length >= 1)
  // The operator closes it (as `POST /events/{id}/close` does) while the site is still failing.
  await closeEvent({
    ctx: { db: t.db, source: 'operator', clock: () => new Date() },
    input: { eventId: first.id, reason: 'manual_override' },
  })
  await waitFor(
    'a new incident to reach Down',
    async () => {
      const open = await openEvent(t, endpointId)
      return open && open.id !== first.id && open.state === 'Down'
    },
    40_000,
  ).catch(() => undefined)
  await waitFor('the second Down notice', () => downNotices([blog]).length >= 2, 20_000).catch(() => undefined)
  await monitor.stop()
  const notices = downNotices([blog]).map((_, n) => `incident ${n + 1}`)
  record(context, tally(['incident 1', 'incident 2'], notices), [monitor])
})

it('network partition between the monitor and its verifliers', async (context) => {
  const t = await database()
  const blog = 701
  const ids = await addEndpoints(t, 'partition', [blog])
  const endpointId = ids.get(blog) as bigint
  for (const v of verifliers) v.relay.cut()
  sites.setSite(`partition-${blog}`, { status: 503 })
  const monitor = await startMonitor(t, 'partition-m')
  await waitFor('the incident to open', async () => (await openEvent(t, endpointId))?.state === 'Seems Down')
  // Several confirmation rounds go unanswered: never Down, nothing sent.
  await sleep(3 * 3_000 + 2_000)
  const during = await openEvent(t, endpointId)
  expect(during?.state).toBe('Seems Down')
  expect(downNotices([blog])).toEqual([])
  for (const v of verifliers) v.relay.heal()
  await waitFor('the outage to be confirmed once the link is back', async () => {
    return (await openEvent(t, endpointId))?.state === 'Down'
  })
  await waitFor('its Down notice', () => downNotices([blog]).length > 0)
  await monitor.stop()
  record(context, tally([`${blog}:down`], downNotices([blog])))
})
