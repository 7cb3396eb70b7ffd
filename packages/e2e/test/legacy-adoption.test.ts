// End to end with real processes: a range of buckets as v1 leaves it (site_status 0, 1 and 2; some
// of the sites v1 reported down are up again, some still down) is audited and adopted with the
// `jetmon2 legacy` commands, then monitored by `jetmon2 serve` pinned to that range. WordPress.com
// hears no second Down and gets one recovery per recovered Down; webhooks get nothing for the
// adoption itself, only for what happens after.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dispatchCursors, endpointConfig, events, eventTransitions, monitorSites, webhooks } from '@jetmon/db'
import { listOpenEvents } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import {
  type DnsServer,
  type FixtureServer,
  startDnsServer,
  startFixtureServer,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@jetmon/testkit/fixtures'
import { generateWebhookSecret, secretPreview } from '@jetmon/webhooks'
import { asc, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetmon2, lines, spawnJetmon2, waitLong } from './jetmon2.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon-e2e-legacy-'))
const configFile = join(tmp, 'jetmon2.json')
let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let hooks: WebhookReceiver
let wpcom: Server
const wpcomPosts: { blog_id: number; status_id: number }[] = []
let monitor: ChildProcess | undefined
const v1DownAt = new Date('2026-03-01T06:00:00.000Z')

/** The range as v1 leaves it: blog id, fixture site, bucket and v1's site_status. */
const fleet = {
  stillDown: { blogId: 7001n, site: 'v1-still-down', bucket: 10, status: 2 },
  recovered: { blogId: 7002n, site: 'v1-recovered', bucket: 11, status: 2 },
  seemsDownDown: { blogId: 7003n, site: 'v1-seems-down-down', bucket: 12, status: 0 },
  seemsDownUp: { blogId: 7004n, site: 'v1-seems-down-up', bucket: 13, status: 0 },
  running: { blogId: 7005n, site: 'v1-running', bucket: 14, status: 1 },
  // v1's, outside the range: neither adopted nor checked.
  elsewhere: { blogId: 7006n, site: 'v1-elsewhere', bucket: 30, status: 2 },
} as const
type Name = keyof typeof fleet
const ids = {} as Record<Name, bigint>
const blog = (name: Name) => Number(fleet[name].blogId)
const postsOf = (name: Name) => wpcomPosts.filter((p) => p.blog_id === blog(name)).map((p) => p.status_id)

const cli = (args: string[]) => jetmon2(args, { JETMON_CONFIG: configFile, DATABASE_URL: '' })

async function reasonsOf(name: Name): Promise<string[]> {
  const rows = await t.db
    .select({ reason: eventTransitions.reason })
    .from(eventTransitions)
    .where(eq(eventTransitions.endpointId, ids[name]))
    .orderBy(asc(eventTransitions.id))
  return rows.map((row) => row.reason)
}

beforeAll(async () => {
  sites = await startFixtureServer({
    requestLogLimit: 1_000,
    sites: {
      'v1-still-down': { status: 503 },
      'v1-recovered': { status: 200 },
      'v1-seems-down-down': { status: 500 },
      'v1-seems-down-up': { status: 200 },
      'v1-running': { status: 200 },
      'v1-elsewhere': { status: 503 },
    },
  })
  dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(join(tmp, 'ca.pem'), sites.ca)
  hooks = await startWebhookReceiver()
  wpcom = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      wpcomPosts.push(JSON.parse(body))
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => wpcom.listen(0, '127.0.0.1', resolve))
  t = await createTestDatabase()
  writeFileSync(
    configFile,
    JSON.stringify({
      DATABASE_URL: t.url,
      HOST_ID: `e2e-legacy-${t.name}`,
      PINNED_BUCKET_MIN: 10,
      PINNED_BUCKET_MAX: 19,
      DNS_SERVERS: [dns.server],
      CA_FILE: join(tmp, 'ca.pem'),
      VERIFLIERS: [],
      CHECK_TIMEOUT_MS: 3_000,
      NUM_OF_CHECKS: 2,
      RETRY_INTERVAL_SEC: 1,
      FAILED_CHECK_INTERVAL_SEC: 2,
      FLAP_WINDOW_SEC: 1,
      TARGET_RELOAD_SEC: 1,
      DASHBOARD_PORT: 0,
      API_PORT: 0,
      WPCOM_NOTIFY_URL: `http://127.0.0.1:${(wpcom.address() as AddressInfo).port}/notify`,
      AUTH_TOKEN: 'e2e-wpcom-token-123456',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    }),
  )

  // The range as v1 leaves it, checked every 2 s once Jetmon 2 takes over, on v1's policy (HEAD, legacy).
  for (const [name, row] of Object.entries(fleet) as [Name, (typeof fleet)[Name]][]) {
    const [inserted] = await t.db
      .insert(monitorSites)
      .values({
        blogId: row.blogId,
        monitorUrl: sites.url(row.site),
        bucketNo: row.bucket,
        siteStatus: row.status,
        lastStatusChange: row.status === 1 ? null : v1DownAt,
      })
      .$returningId()
    ids[name] = BigInt(inserted!.endpointId)
    await t.db.insert(endpointConfig).values({
      endpointId: ids[name],
      checkIntervalSec: 2,
      timeoutMs: 3_000,
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
    })
  }
  // A webhook for everything, and delivery cursors from the very first transition: a delivery
  // worker that already runs would see the adoption's transitions.
  const secret = generateWebhookSecret()
  await t.db.insert(webhooks).values({
    url: hooks.url,
    events: [],
    secret: Buffer.from(secret, 'utf8'),
    secretPreview: secretPreview(secret),
    createdBy: 'e2e',
  })
  await t.db.insert(dispatchCursors).values([
    { consumer: 'webhooks', lastTransitionId: 0n },
    { consumer: 'alerts', lastTransitionId: 0n },
  ])
}, 60_000)

afterAll(async () => {
  if (monitor?.exitCode === null) monitor.kill('SIGKILL')
  await Promise.all([sites?.close(), dns?.close(), hooks?.close(), new Promise((r) => wpcom?.close(r))])
  await t?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

describe('a v1 range audited, adopted and taken over by jetmon2 serve', () => {
  it('audits the range: nothing blocks, the four rows v1 reports as down await adoption', async () => {
    const result = await cli(['legacy', 'audit', '--bucket-min', '10', '--bucket-max', '19', '--output', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const audit = JSON.parse(result.stdout) as { blocking: boolean; findings: { code: string; count: number }[] }
    expect(audit.blocking).toBe(false)
    expect(audit.findings.map((f) => [f.code, f.count])).toEqual([['awaiting_adoption', 4]])
  }, 60_000)

  it('adopts them: two Down already notified, two Seems Down', async () => {
    const result = await cli([
      'legacy',
      'adopt',
      '--bucket-min',
      '10',
      '--bucket-max',
      '19',
      '--execute',
      '--output',
      'json',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ adopted: { down: 2, seems_down: 2 }, already_open: 0 })
    const adopted = await t.db
      .select({ endpointId: events.endpointId, state: events.state, downNotifiedAt: events.downNotifiedAt })
      .from(events)
      .where(inArray(events.endpointId, Object.values(ids)))
      .orderBy(asc(events.endpointId))
    expect(adopted).toEqual([
      { endpointId: ids.stillDown, state: 'Down', downNotifiedAt: v1DownAt },
      { endpointId: ids.recovered, state: 'Down', downNotifiedAt: v1DownAt },
      { endpointId: ids.seemsDownDown, state: 'Seems Down', downNotifiedAt: null },
      { endpointId: ids.seemsDownUp, state: 'Seems Down', downNotifiedAt: null },
    ])
    // Again: nothing more.
    const again = await cli([
      'legacy',
      'adopt',
      '--bucket-min',
      '10',
      '--bucket-max',
      '19',
      '--execute',
      '--output',
      'json',
    ])
    expect(JSON.parse(again.stdout)).toMatchObject({ adopted: { down: 0, seems_down: 0 }, already_open: 4 })
  }, 60_000)

  it('then monitored: the still-down Down stays Down without a second notice, each recovery closes once', async () => {
    monitor = spawnJetmon2(['serve'], { JETMON_CONFIG: configFile, DATABASE_URL: '' })
    const output = lines(monitor)
    await output.until(/monitor running/, 45_000)

    // The recovered ones close: the Down with one WordPress.com recovery, the Seems Down silently.
    await waitLong('the recovered Down to close', async () => (await reasonsOf('recovered')).length === 2)
    expect(await reasonsOf('recovered')).toEqual(['adopted', 'verifier_cleared'])
    await waitLong('the recovery notice', () => postsOf('recovered').length > 0)
    await waitLong('the recovered Seems Down to close', async () => (await reasonsOf('seemsDownUp')).length === 2)
    expect(await reasonsOf('seemsDownUp')).toEqual(['adopted', 'probe_cleared'])
    // The failing Seems Down is confirmed as usual, and its Down notified.
    await waitLong('the Seems Down to be confirmed', async () => (await reasonsOf('seemsDownDown')).length === 2)
    expect(await reasonsOf('seemsDownDown')).toEqual(['adopted', 'state_change'])
    await waitLong('its Down notice', () => postsOf('seemsDownDown').length > 0)

    // The still-down one has been checked several times meanwhile, and is as adoption left it.
    await waitLong('several checks of the still-down site', () => sites.requests('v1-still-down').length >= 4)
    const [stillDown] = await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.stillDown })
    expect(stillDown?.state).toBe('Down')
    expect(await reasonsOf('stillDown')).toEqual(['adopted'])

    // Every webhook delivery is for a transition after the adoption (the adopted ones are never sent).
    await waitLong('the webhooks of the closes', () =>
      hooks.received.filter((hook) => hook.event === 'event.closed').length >= 2 ? true : null,
    )
    const [row] = await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, ids.recovered))
    expect(row?.siteStatus).toBe(1)

    // Give the notifier and the deliverer time to send anything more they would (they poll every
    // second or faster): then the totals are final.
    await waitLong('three more checks of the still-down site', () => sites.requests('v1-still-down').length >= 7)
    expect(postsOf('stillDown')).toEqual([])
    expect(postsOf('recovered')).toEqual([1])
    expect(postsOf('seemsDownUp')).toEqual([])
    expect(postsOf('seemsDownDown')).toEqual([2])
    expect(postsOf('running')).toEqual([])
    expect(postsOf('elsewhere')).toEqual([])
    expect(sites.requests('v1-elsewhere')).toEqual([])
    const delivered = hooks.received.map((hook) => {
      const body = hook.body as { type: string; transition: { reason: string }; site: { blog_id: number } }
      return `${body.site.blog_id}:${body.type}:${body.transition.reason}`
    })
    expect(delivered.sort()).toEqual(
      [
        `${blog('recovered')}:event.closed:verifier_cleared`,
        `${blog('seemsDownUp')}:event.closed:probe_cleared`,
        `${blog('seemsDownDown')}:event.state_changed:state_change`,
      ].sort(),
    )
    monitor.kill('SIGTERM')
  }, 120_000)
})
