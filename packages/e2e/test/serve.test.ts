// End to end with real processes: `jetmon2 serve`, two `veriflier2 serve`, the fixture fleet,
// a local DNS server and a WordPress.com receiver, all on loopback, with short intervals.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { auditLog, checkHistory, endpointConfig, eventTransitions, maintenanceWindows, monitorSites } from '@jetmon/db'
import { listOpenEvents } from '@jetmon/eventstore'
import { createTestDatabase, spawnSource, type TestDatabase } from '@jetmon/testkit'
import {
  createTestPki,
  type DnsServer,
  FIXTURE_KEYWORD,
  type FixtureServer,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { and, asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitLong } from './jetmon2.js'

const ROOT = join(import.meta.dirname, '..', '..', '..')

const tmp = mkdtempSync(join(tmpdir(), 'jetmon-e2e-'))
const children: ChildProcess[] = []
let sites: FixtureServer
let dns: DnsServer
let wpcom: Server
const wpcomPosts: { blog_id: number; status_id: number; checks: { type: number }[] }[] = []

function startProcess(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawnSource(join(ROOT, cli), args, { env: { ...env, LOG_FORMAT: 'json' } })
  children.push(child)
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cli} did not become ready:\n${output}`)), 30_000)
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output += `${line}\n`
        if (ready.test(line)) {
          clearTimeout(timer)
          resolve({ child, line })
        }
      })
    }
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cli} exited with ${code}:\n${output}`))
    })
  })
}

async function startVeriflier(id: string, region: string, token: string): Promise<string> {
  const { line } = await startProcess(
    'apps/veriflier2/src/cli.ts',
    ['serve'],
    {
      VERIFLIER_ID: id,
      VERIFLIER_REGION: region,
      VERIFLIER_TOKENS: JSON.stringify([token]),
      PORT: '0',
      BIND: '127.0.0.1',
      DNS_SERVERS: JSON.stringify([dns.server]),
      CA_FILE: join(tmp, 'ca.pem'),
      USER_AGENT: 'Jetmon-Veriflier/e2e',
      VERIFLIER_CONFIG: join(tmp, 'empty.json'),
      // Over HTTPS, as in production: the monitor verifies it with its CA_FILE (the test CA).
      TLS_CERT_FILE: join(tmp, 'veriflier-cert.pem'),
      TLS_KEY_FILE: join(tmp, 'veriflier-key.pem'),
    },
    /listening on/,
  )
  return /(https:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] as string
}

beforeAll(async () => {
  sites = await startFixtureServer({
    requestLogLimit: 0,
    sites: {
      outage: { status: 503 },
      // Only the monitor's vantage sees this one fail: the verifliers' user agent gets a 200.
      'local-only': (req) => ({ status: String(req.headers['user-agent']).includes('Veriflier') ? 200 : 500 }),
      'in-maintenance': { status: 500 },
      'head-broken': { status: 200, head: { status: 500 } },
      'tls-expiring': { status: 200, tls: 'expiring' },
      unconfirmable: { status: 500 },
    },
  })
  dns = await startDnsServer({ zone: sites.zone() })
  writeFileSync(join(tmp, 'ca.pem'), sites.ca)
  const veriflierCert = await (await createTestPki()).issueLeaf({ hosts: ['127.0.0.1'] })
  writeFileSync(join(tmp, 'veriflier-cert.pem'), veriflierCert.chain)
  writeFileSync(join(tmp, 'veriflier-key.pem'), veriflierCert.key)
  writeFileSync(join(tmp, 'empty.json'), '{}')
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
  await new Promise<void>((r) => wpcom.listen(0, '127.0.0.1', r))
}, 60_000)

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all([sites?.close(), dns?.close(), new Promise((r) => wpcom?.close(r))])
  rmSync(tmp, { recursive: true, force: true })
})

async function addEndpoint(
  t: TestDatabase,
  blogId: bigint,
  url: string,
  extra: Partial<typeof endpointConfig.$inferInsert> = {},
) {
  const [row] = await t.db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
  const endpointId = BigInt(row!.endpointId)
  await t.db.insert(endpointConfig).values({ endpointId, checkIntervalSec: 2, timeoutMs: 3_000, ...extra })
  return endpointId
}

function monitorEnv(t: TestDatabase, verifliers: { id: string; region: string; url: string; token: string }[]) {
  const config = {
    DATABASE_URL: t.url,
    HOST_ID: `e2e-${t.name}`,
    DNS_SERVERS: [dns.server],
    CA_FILE: join(tmp, 'ca.pem'),
    VERIFLIERS: verifliers,
    CHECK_TIMEOUT_MS: 3_000,
    VERIFLIER_TIMEOUT_MS: 6_000,
    NUM_OF_CHECKS: 2,
    RETRY_INTERVAL_SEC: 1,
    FAILED_CHECK_INTERVAL_SEC: 2,
    FLAP_WINDOW_SEC: 1,
    TARGET_RELOAD_SEC: 1,
    DASHBOARD_PORT: 0,
    API_PORT: 0,
    WPCOM_NOTIFY_URL: `http://127.0.0.1:${(wpcom.address() as AddressInfo).port}/notify`,
    AUTH_TOKEN: 'e2e-wpcom-token-123456',
    LOG_LEVEL: 'info',
  }
  const file = join(tmp, `${t.name}.json`)
  writeFileSync(file, JSON.stringify(config))
  return { JETMON_CONFIG: file, DATABASE_URL: '' }
}

async function transitions(t: TestDatabase, endpointId: bigint) {
  return t.db
    .select()
    .from(eventTransitions)
    .where(eq(eventTransitions.endpointId, endpointId))
    .orderBy(asc(eventTransitions.id))
}

describe('jetmon2 serve with two verifliers', () => {
  let t: TestDatabase
  let monitor: ChildProcess
  const ids: Record<string, bigint> = {}

  beforeAll(async () => {
    t = await createTestDatabase()
    const token = 'e2e-veriflier-token-0123456789'
    const [eu, us] = await Promise.all([
      startVeriflier('v-eu', 'eu-west', token),
      startVeriflier('v-us', 'us-east', token),
    ])
    ids.outage = await addEndpoint(t, 5001n, sites.url('outage'))
    ids.localOnly = await addEndpoint(t, 5002n, sites.url('local-only'))
    ids.maintenance = await addEndpoint(t, 5003n, sites.url('in-maintenance'))
    ids.head = await addEndpoint(t, 5004n, sites.url('head-broken'), { requestMethod: 'GET' })
    ids.expiring = await addEndpoint(t, 5005n, sites.url('tls-expiring', '/', { https: true }))
    ids.legacy = await addEndpoint(t, 5006n, sites.url('tls-expiring', '/', { legacyTls: true }))
    ids.keywordLegacy = await addEndpoint(t, 5007n, sites.url('nokeyword'), {
      checkKeyword: FIXTURE_KEYWORD,
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
    })
    ids.truncatedFull = await addEndpoint(t, 5008n, sites.url('truncated-length'))
    ids.oldTlsSimple = await addEndpoint(t, 5010n, sites.url('tls-expiring', '/', { legacyTls: true }), {
      detectionProfile: 'simple_http',
    })
    ids.truncatedLegacy = await addEndpoint(t, 5009n, sites.url('truncated-length'), { detectionProfile: 'legacy' })
    await t.db.insert(maintenanceWindows).values({
      blogId: 5003n,
      startsAt: new Date(Date.now() - 60_000),
      endsAt: new Date(Date.now() + 3_600_000),
      createdBy: 'e2e',
    })
    const env = monitorEnv(t, [
      { id: 'v-eu', region: 'eu-west', url: eu, token },
      { id: 'v-us', region: 'us-east', url: us, token },
    ])
    ;({ child: monitor } = await startProcess('apps/jetmon2/src/cli.ts', ['serve'], env, /monitor running/))
  }, 90_000)

  afterAll(async () => {
    if (monitor?.exitCode === null) monitor.kill('SIGTERM')
    await t?.drop()
  })

  it('confirms an outage with both verifliers, notifies WPCOM, and closes it on recovery', async () => {
    const down = await waitLong('the outage to be confirmed', async () => {
      const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.outage! })
      return open?.state === 'Down' ? open : null
    })
    const [row] = await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, ids.outage!))
    expect(row?.siteStatus).toBe(2)
    const confirmed = (await transitions(t, ids.outage!)).find((tr) => tr.reason === 'verifier_confirmed')
    expect(confirmed?.metadata).toMatchObject({
      quorum: 2,
      votes: expect.arrayContaining([
        expect.objectContaining({ veriflier: 'v-eu', region: 'eu-west', success: false, http_code: 503 }),
        expect.objectContaining({ veriflier: 'v-us', region: 'us-east', success: false }),
      ]),
    })
    await waitLong('the Down notice', async () => wpcomPosts.some((p) => p.blog_id === 5001 && p.status_id === 2))
    // Each veriflier's check is in the history under its own id, beside the local ones.
    const vantages = await waitLong('the verifliers in the check history', async () => {
      const rows = await t.db
        .select({ vantage: checkHistory.vantage, errorCode: checkHistory.errorCode, httpCode: checkHistory.httpCode })
        .from(checkHistory)
        .where(eq(checkHistory.endpointId, ids.outage!))
      const seen = new Set(rows.map((row) => row.vantage))
      return seen.has('v-eu') && seen.has('v-us') ? rows : null
    })
    expect(vantages.filter((row) => row.vantage === 'v-eu')[0]).toMatchObject({ errorCode: 10, httpCode: 503 })
    expect(new Set(vantages.map((row) => row.vantage))).toEqual(new Set(['local', 'v-eu', 'v-us']))

    sites.setSite('outage', { status: 200 })
    await waitLong(
      'the recovery',
      async () => (await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.outage! })).length === 0,
    )
    const reasons = (await transitions(t, ids.outage!)).map((tr) => tr.reason)
    expect(reasons).toEqual(['opened', 'verifier_confirmed', 'verifier_cleared'])
    const [after] = await t.db.select().from(monitorSites).where(eq(monitorSites.endpointId, ids.outage!))
    expect(after?.siteStatus).toBe(1)
    await waitLong('the recovery notice', async () => wpcomPosts.some((p) => p.blog_id === 5001 && p.status_id === 1))
    expect(wpcomPosts.filter((p) => p.blog_id === 5001).map((p) => p.status_id)).toEqual([2, 1])
    expect(down.startedAt.getTime()).toBeLessThanOrEqual(Date.now())
  }, 60_000)

  it('judges each endpoint with its detection profile, the verifliers too', async () => {
    // A truncated body is Down under full (the default): the local check and both verifliers say so.
    await waitLong('the truncated body to be confirmed under full', async () => {
      const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.truncatedFull! })
      return open?.state === 'Down'
    })
    const confirmed = (await transitions(t, ids.truncatedFull!)).find((tr) => tr.reason === 'verifier_confirmed')
    expect(confirmed?.metadata).toMatchObject({
      votes: [
        expect.objectContaining({ success: false, error_code: 8 }),
        expect.objectContaining({ success: false, error_code: 8 }),
      ],
    })
    // Meanwhile (dozens of checks) legacy opened nothing for a truncated body or a missing keyword.
    expect(await transitions(t, ids.truncatedLegacy!)).toEqual([])
    expect(await transitions(t, ids.keywordLegacy!)).toEqual([])
    const methods = await t.db
      .selectDistinct({ method: checkHistory.method })
      .from(checkHistory)
      .where(eq(checkHistory.endpointId, ids.keywordLegacy!))
    expect(methods).toEqual([{ method: 'HEAD' }])
  }, 60_000)

  it('calls a failure only this vantage sees a false alarm, and sends nothing', async () => {
    await waitLong('a false alarm', async () =>
      (await transitions(t, ids.localOnly!)).some((tr) => tr.reason === 'false_alarm'),
    )
    expect((await transitions(t, ids.localOnly!)).some((tr) => tr.stateAfter === 'Down')).toBe(false)
    expect(wpcomPosts.some((p) => p.blog_id === 5002)).toBe(false)
  }, 60_000)

  it('opens nothing inside a maintenance window, nor for a HEAD-only failure under the GET policy', async () => {
    await waitLong('a few rounds of checks', async () => (await transitions(t, ids.localOnly!)).length >= 2)
    expect(await transitions(t, ids.maintenance!)).toEqual([])
    expect(await transitions(t, ids.head!)).toEqual([])
  }, 60_000)

  it('raises the certificate and deprecated-TLS advisories', async () => {
    const expiring = await waitLong('the tls_expiry advisory', async () => {
      const open = await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.expiring! })
      return open.find((e) => e.checkType === 'tls_expiry')
    })
    expect([expiring.state, expiring.severity]).toEqual(['Degraded', 2]) // 5 days left: ≤ 7
    const legacy = await waitLong('the tls_deprecated advisory', async () => {
      const open = await listOpenEvents({ ctx: { db: t.db }, endpointId: ids.legacy! })
      return open.find((e) => e.checkType === 'tls_deprecated')
    })
    expect(legacy.state).toBe('Warning')
    // The same old TLS and expiring certificate under simple_http: accepted, silent.
    expect(await transitions(t, ids.oldTlsSimple!)).toEqual([])
  }, 60_000)

  it('drains on SIGTERM within 30 s and marks itself stopped', async () => {
    const started = Date.now()
    monitor.kill('SIGTERM')
    const code = await new Promise<number | null>((r) => monitor.once('exit', r))
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 40_000)
})

describe('jetmon2 serve when no veriflier answers', () => {
  it('keeps the incident Seems Down, never Down, and sends nothing', async () => {
    const t = await createTestDatabase()
    try {
      const endpointId = await addEndpoint(t, 6001n, sites.url('unconfirmable'))
      const env = monitorEnv(t, [
        { id: 'gone-1', region: 'eu', url: `http://127.0.0.1:${sites.refusedPort}`, token: 'unused-token-0123456789' },
        { id: 'gone-2', region: 'us', url: `http://127.0.0.1:${sites.refusedPort}`, token: 'unused-token-0123456789' },
      ])
      const { child } = await startProcess('apps/jetmon2/src/cli.ts', ['serve'], env, /monitor running/)
      await waitLong('a few failed checks', async () => {
        const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId })
        return open
      })
      // Several confirmation rounds, each audited as inconclusive (no usable veriflier answer).
      await waitLong('two inconclusive confirmation rounds', async () => {
        const rounds = await t.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.blogId, 6001n), eq(auditLog.eventType, 'veriflier_request')))
        return rounds.filter((row) => JSON.stringify(row.metadata).includes('"inconclusive"')).length >= 2
      })
      const [open] = await listOpenEvents({ ctx: { db: t.db }, endpointId })
      expect(open?.state).toBe('Seems Down')
      expect((await transitions(t, endpointId)).map((tr) => tr.reason)).toEqual(['opened'])
      expect(wpcomPosts.some((p) => p.blog_id === 6001)).toBe(false)
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    } finally {
      await t.drop()
    }
  }, 60_000)
})
