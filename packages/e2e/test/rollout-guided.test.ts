// The whole move of a v1 range to Jetmon 2 and back, with real processes: a seeded v1 range (a
// site v1 confirmed Down, two it saw fail once, healthy ones), a `jetmon2 serve` in api-controlled
// mode that takes the range and one in standby mode that serves the REST API, a WordPress.com
// notification endpoint, and the test playing the v1 host (it checks the range every second while
// v1 owns it). `jetmon2 api rollout guided` runs as its own process with its answers on standard
// input: forward with comparison and two policy stages, back to v1, and forward again. Every check
// is a request to the fixture server under its checker's User-Agent, so the request log tells who
// checked what and when; the lock rows say when the range changed hands.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiKey } from '@jetmon/api-keys'
import { endpointConfig, events, monitorSites, rolloutLocks } from '@jetmon/db'
import { createTestDatabase, refusedPort, spawnSource, type TestDatabase, waitFor } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { and, asc, eq, isNull } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lines, spawnJetmon2 } from './jetmon2.js'

const CLI = join(import.meta.dirname, '..', '..', '..', 'apps', 'jetmon2', 'src', 'cli.ts')
const tmp = mkdtempSync(join(tmpdir(), 'jetmon-guided-e2e-'))
const RANGE = { min: 200, max: 219 }
const RANGE_TEXT = `${RANGE.min}-${RANGE.max}`
const children: ChildProcess[] = []
let t: TestDatabase
let sites: FixtureServer
let dns: DnsServer
let wpcom: Server
let apiUrl: string
let token: string
const wpcomPosts: { blog_id: number; status_id: number; at: number }[] = []

/** The v1 range: fixture site (host name), v1's site_status, bucket, blog. */
const FLEET = {
  up0: { site: 'up--0', status: 1, bucket: 200 },
  up1: { site: 'up--1', status: 1, bucket: 205 },
  up2: { site: 'up--2', status: 1, bucket: 219 },
  seemsDownUp: { site: 'up--3', status: 0, bucket: 210 },
  seemsDownDown: { site: 'failing--0', status: 0, bucket: 211 },
  down: { site: 'down--0', status: 2, bucket: 212 },
} as const
type Name = keyof typeof FLEET
const NAMES = Object.keys(FLEET) as Name[]
const blog = (name: Name) => 9_300 + NAMES.indexOf(name)
const ids = {} as Record<Name, bigint>
const hostOf = (name: Name) => sites.hostname(FLEET[name].site)
const postsOf = (name: Name) => wpcomPosts.filter((p) => p.blog_id === blog(name)).map((p) => p.status_id)

// ── v1, played by the test: every endpoint of the range each second while it runs ─────────────────
let v1Timer: NodeJS.Timeout | undefined
const v1InFlight = new Set<Promise<void>>()
function v1Check(host: string): Promise<void> {
  const done = new Promise<void>((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: sites.httpPort,
        method: 'HEAD',
        path: '/',
        headers: { host, 'user-agent': 'Jetmon-e2e/v1' },
      },
      (res) => {
        res.resume()
        res.on('end', resolve)
      },
    )
    req.on('error', () => resolve())
    req.end()
  })
  v1InFlight.add(done)
  return done.finally(() => v1InFlight.delete(done))
}
function startV1(): void {
  const round = () => {
    for (const name of NAMES) void v1Check(hostOf(name))
  }
  round()
  v1Timer = setInterval(round, 1_000)
}
async function stopV1(): Promise<void> {
  clearInterval(v1Timer)
  v1Timer = undefined
  await Promise.all(v1InFlight)
}

// ── the monitors ───────────────────────────────────────────────────────────────────────────────────
function configFile(host: string, config: Record<string, unknown>): string {
  const file = join(tmp, `${host}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      DATABASE_URL: t.url,
      HOST_ID: host,
      USER_AGENT: `Jetmon-e2e/${host}`,
      DNS_SERVERS: [dns.server],
      VERIFLIERS: [],
      BUCKET_LEASE_SEC: 3,
      TARGET_RELOAD_SEC: 1,
      // The handoff gates read each endpoint's last check from its state row, written every STATE_FLUSH_SEC.
      STATE_FLUSH_SEC: 1,
      CHECK_TIMEOUT_MS: 2_000,
      NUM_OF_CHECKS: 2,
      RETRY_INTERVAL_SEC: 1,
      FAILED_CHECK_INTERVAL_SEC: 1,
      FLAP_WINDOW_SEC: 1,
      DASHBOARD_PORT: 0,
      API_PORT: 0,
      WPCOM_NOTIFY_URL: `http://127.0.0.1:${(wpcom.address() as AddressInfo).port}/notify`,
      AUTH_TOKEN: 'e2e-wpcom-token-123456',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...config,
    }),
  )
  return file
}

async function startMonitor(host: string, config: Record<string, unknown>): Promise<ReturnType<typeof lines>> {
  const child = spawnJetmon2(['serve'], { JETMON_CONFIG: configFile(host, config), DATABASE_URL: '' })
  children.push(child)
  const output = lines(child)
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${host} exited with ${code}:\n${output.all.join('\n')}`))),
  )
  await Promise.race([output.until(/monitor running/, 60_000), exited])
  return output
}

// ── the guided run, answered as its questions come ────────────────────────────────────────────────
const transcript: string[] = []

/**
 * Runs `jetmon2 api rollout guided <flags>` with answers on standard input. Each question (written
 * to stderr, ending in ": ") is answered by `answer`, which may act first (stop or start v1).
 */
async function guided(
  title: string,
  flags: string[],
  answer: (question: string) => Promise<string> | string,
): Promise<{ code: number | null; output: string; result: string; questions: string[] }> {
  const child = spawnSource(
    CLI,
    [
      'api',
      'rollout',
      'guided',
      '--bucket-min',
      String(RANGE.min),
      '--bucket-max',
      String(RANGE.max),
      '--host',
      'ctl',
      '--session',
      'e2e-guided',
      '--stage-size',
      '2',
      '--poll',
      '1',
      '--wait-first-checks',
      '30',
      '--wait-release',
      '20',
      '--log-dir',
      tmp,
      '--answers-from-stdin',
      ...flags,
    ],
    { env: { JETMON_API_URL: apiUrl, JETMON_API_TOKEN: token, JETMON_CONFIG: '', DATABASE_URL: '' }, stdin: true },
  )
  children.push(child)
  let stdout = ''
  let stderr = ''
  let text = ''
  const questions: string[] = []
  let answering = Promise.resolve()
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    text += chunk.toString()
    const question = /(?:^|\n)(Type [^\n]*: )$/.exec(stderr)?.[1]
    if (!question) return
    stderr = ''
    questions.push(question)
    answering = answering.then(async () => {
      const line = await answer(question)
      child.stdin!.write(`${line}\n`)
    })
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  await answering
  transcript.push(`$ jetmon2 api rollout guided … ${flags.join(' ')}   # ${title}`, text)
  return { code, output: text, result: stdout, questions }
}

/** The phrase a question asks for, typed back; checkpoints act first. */
function operator(actions: { stopV1?: boolean; startV1?: boolean; stages?: number } = {}) {
  let stages = 0
  return async (question: string) => {
    const phrase = /^Type (.+?) (?:to execute it|when this is done)/.exec(question)?.[1]
    if (phrase?.startsWith('V1 STOPPED')) await stopV1()
    if (phrase?.startsWith('V1 STARTED')) startV1()
    if (phrase?.startsWith('STAGE ')) stages++
    if (phrase) return phrase
    if (question.startsWith('Type NEXT STAGE')) return stages < (actions.stages ?? 2) ? 'NEXT STAGE' : 'DONE'
    return 'STOP'
  }
}

/** Who requested each site of the range (by User-Agent), in order: [checker, epoch ms]. */
function checks(name: Name): [string, number][] {
  return sites
    .requests()
    .filter((r) => r.host === hostOf(name))
    .map((r) => [String(r.headers['user-agent']).replace(/^Jetmon-e2e\//, ''), r.at.getTime()] as [string, number])
}

async function locks() {
  return t.db.select().from(rolloutLocks).where(eq(rolloutLocks.bucketMin, RANGE.min)).orderBy(asc(rolloutLocks.id))
}

const openEvent = async (name: Name) =>
  (
    await t.db
      .select({ state: events.state })
      .from(events)
      .where(and(eq(events.endpointId, ids[name]), isNull(events.endedAt)))
  )[0]?.state ?? null

beforeAll(async () => {
  ;[t, sites] = await Promise.all([
    createTestDatabase(),
    startFixtureServer({
      requestLogLimit: 100_000,
      sites: { up: { status: 200 }, failing: { status: 500 }, down: { status: 503 } },
    }),
  ])
  dns = await startDnsServer({ zone: sites.zone() })
  wpcom = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      wpcomPosts.push({ ...JSON.parse(body), at: Date.now() })
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => wpcom.listen(0, '127.0.0.1', resolve))
  const v1DownAt = new Date(Date.now() - 3_600_000)
  for (const name of NAMES) {
    const row = FLEET[name]
    const [inserted] = await t.db
      .insert(monitorSites)
      .values({
        blogId: BigInt(blog(name)),
        monitorUrl: sites.url(row.site),
        bucketNo: row.bucket,
        siteStatus: row.status,
        lastStatusChange: row.status === 1 ? null : v1DownAt,
      })
      .$returningId()
    ids[name] = BigInt(inserted!.endpointId)
    // Checked every second, on v1's policy until the stages move them.
    await t.db.insert(endpointConfig).values({
      endpointId: ids[name],
      checkIntervalSec: 1,
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
    })
  }
  ;({ token } = await createApiKey({ ctx: { db: t.db }, input: { consumer: 'e2e', scope: 'admin', createdBy: 'e2e' } }))
  const apiPort = await refusedPort()
  const [, spare] = await Promise.all([
    startMonitor('ctl', { ROLLOUT_MODE: 'api-controlled', ROLLOUT_POLL_SEC: 1 }),
    startMonitor('spare', { ROLLOUT_MODE: 'standby', API_PORT: apiPort }),
  ])
  apiUrl = (JSON.parse(await spare.until(/REST API listening/)) as { url: string }).url
  startV1()
}, 90_000)

afterAll(async () => {
  clearInterval(v1Timer)
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all([t?.drop(), sites?.close(), dns?.close(), new Promise((r) => wpcom?.close(r))])
  rmSync(tmp, { recursive: true, force: true })
})

it('moves a v1 range to an api-controlled host with guided, back to v1 and forward again: one owner at a time, no second Down notice', async () => {
  // v1 owns the range and is checking it.
  await waitFor('v1 checking every site', () => NAMES.every((name) => checks(name).some(([who]) => who === 'v1')))

  // ── forward: preflight, smoke, compare, adopt, V1 STOPPED, activate, first checks, reconcile, two stages
  const forward = await guided('forward', ['--include-comparison', '--include-policy-migration'], operator())
  expect(forward.code, forward.output).toBe(0)
  expect(JSON.parse(forward.result)).toMatchObject({ outcome: 'completed', exit_code: 0 })
  expect(forward.questions).toEqual([
    `Type ADOPT ${RANGE_TEXT} to execute it (anything else stops here; run again to resume): `,
    `Type V1 STOPPED ${RANGE_TEXT} when this is done (anything else stops here; run again to resume): `,
    `Type ACTIVATE ${RANGE_TEXT} ctl to execute it (anything else stops here; run again to resume): `,
    `Type STAGE ${RANGE_TEXT} GET/simple_http 2 to execute it (anything else stops here; run again to resume): `,
    'Type NEXT STAGE for another stage, or DONE: ',
    `Type STAGE ${RANGE_TEXT} GET/simple_http 2 to execute it (anything else stops here; run again to resume): `,
    'Type NEXT STAGE for another stage, or DONE: ',
  ])
  expect(forward.output).toMatch(/preflight: PASSED/)
  expect(forward.output).toMatch(/smoke \(HEAD\/legacy, writes nothing\): 6 of 6 active endpoint\(s\) checked/)
  expect(forward.output).toMatch(/compare HEAD\/legacy with GET\/simple_http: 6 endpoint\(s\)/)
  expect(forward.output).toMatch(/reconcile since .*: PASSED/)
  const [first] = await locks()
  expect(first).toMatchObject({ hostId: 'ctl', state: 'active' })
  expect(first!.acknowledgedAt).not.toBeNull()
  // v1's Down site is adopted Down (already notified); the failing one is confirmed Down by Jetmon 2.
  expect(await openEvent('down')).toBe('Down')
  await waitFor('the failing site confirmed Down', async () => (await openEvent('seemsDownDown')) === 'Down', {
    timeoutMs: 20_000,
  })
  await waitFor('its Down notice', () => postsOf('seemsDownDown').length > 0, { timeoutMs: 20_000 })
  const stagedGet = await t.db.select().from(endpointConfig).where(eq(endpointConfig.requestMethod, 'GET'))
  expect(stagedGet.map((row) => row.endpointId).sort()).toEqual(
    [ids.up0, ids.up1, ids.up2, ids.seemsDownUp].sort(), // the four lowest ids, two stages of two
  )

  // ── back: roll the stages back, release (the host drains and acknowledges), gate, V1 STARTED
  const back = await guided('rollback', ['--rollback', '--include-policy-migration'], operator())
  expect(back.code, back.output).toBe(0)
  expect(JSON.parse(back.result)).toMatchObject({ outcome: 'completed', exit_code: 0 })
  expect(back.questions.map((q) => /^Type (.+?) (?:to|when)/.exec(q)?.[1])).toEqual([
    `ROLLBACK STAGES ${RANGE_TEXT}`,
    `RELEASE ${RANGE_TEXT}`,
    `V1 STARTED ${RANGE_TEXT}`,
  ])
  expect(back.output).toMatch(/Jetmon 2 checks in the range since .*: 0 of 6 endpoint\(s\)/)
  const [released] = await locks()
  expect(released).toMatchObject({ state: 'released' })
  expect(await t.db.select().from(endpointConfig).where(eq(endpointConfig.requestMethod, 'GET'))).toEqual([])
  // The adopted and the confirmed Down incidents stay open while v1 owns the range again.
  expect([await openEvent('down'), await openEvent('seemsDownDown'), await openEvent('seemsDownUp')]).toEqual([
    'Down',
    'Down',
    null,
  ])
  const releasedAt = released!.releasedAt!.getTime()
  await waitFor('v1 checking again', () =>
    NAMES.every((name) => checks(name).some(([who, at]) => who === 'v1' && at > releasedAt)),
  )

  // ── forward again: adoption finds every incident still open, nothing is adopted twice
  const again = await guided('forward again', [], operator())
  expect(again.code, again.output).toBe(0)
  expect(JSON.parse(again.result)).toMatchObject({ outcome: 'completed', exit_code: 0 })
  expect(again.output).toMatch(/reconcile since .*: PASSED/)
  expect(again.output).toMatch(/already_open +2/)
  const all = await locks()
  expect(all.map((lock) => lock.state)).toEqual(['released', 'active'])

  // The Down site recovers under Jetmon 2: WordPress.com hears the recovery v1 would have sent.
  sites.setSite('down', { status: 200 })
  await waitFor('the recovery notice', () => postsOf('down').length > 0, { timeoutMs: 20_000 })

  // ── one owner at a time: Jetmon 2's host only inside its locks, v1 only outside them, standby never
  const inLock = (at: number) =>
    all.some(
      (lock) => at >= lock.activatedAt.getTime() && at <= (lock.releasedAt?.getTime() ?? Number.POSITIVE_INFINITY),
    )
  for (const name of NAMES) {
    const seen = checks(name)
    for (const [who, at] of seen) {
      if (who === 'ctl') expect(inLock(at), `${name}: ctl checked outside its lock`).toBe(true)
      else if (who === 'v1') expect(inLock(at), `${name}: v1 checked inside a lock`).toBe(false)
      // The API host (standby) probed only for the smoke checks and the comparison, before each activation.
      else expect([who, inLock(at)]).toEqual(['spare', false])
    }
    // Owners in order: v1, Jetmon 2, v1, Jetmon 2 — each handoff once, never interleaved.
    const owners = seen.map(([who]) => who).filter((who) => who !== 'spare')
    expect(
      owners.filter((who, i) => i === 0 || owners[i - 1] !== who),
      name,
    ).toEqual(['v1', 'ctl', 'v1', 'ctl'])
  }

  // ── WordPress.com: v1's Down is not sent again, the confirmed Down once, the recovery once
  expect(postsOf('down')).toEqual([1])
  expect(postsOf('seemsDownDown')).toEqual([2])
  expect(postsOf('seemsDownUp')).toEqual([])
  for (const name of ['up0', 'up1', 'up2'] as const) expect(postsOf(name)).toEqual([])

  // The transcript of every run is kept, the owner's only.
  const file = join(tmp, 'e2e-guided.transcript.log')
  expect(statSync(file).mode & 0o777).toBe(0o600)
  expect(readFileSync(file, 'utf8')).toMatch(/V1 STARTED 200-219/)
  console.log(transcript.join('\n'))
}, 120_000)
