import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join, relative } from 'node:path'
import { createJetmonClient } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import {
  createDatabase,
  type Database,
  type EmbeddedMariadb,
  migrate,
  redactDatabaseUrl,
  startEmbeddedMariadb,
  upsertBlogEndpoint,
} from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import * as v from 'valibot'
import { type Jetmon2Config, jetmon2ConfigSchema } from '../config.js'
import { embeddedDataDir } from '../database.js'
import { CommandError } from '../errors.js'
import type { MonitorService } from '../monitor/service.js'

/**
 * The demo's SECRETS_KEY: made once per data folder and kept beside it (0600), so webhook secrets
 * encrypted by one run can be read by the next.
 */
function demoSecretsKey(demoDir: string): string {
  const file = join(demoDir, 'secrets-key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const key = randomBytes(32).toString('hex')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}

/** The port to use: the flag's value (0 = any free port, found now), else the default. */
async function portFor(flag: string | undefined, fallback: number): Promise<number> {
  const wanted = flag === undefined ? fallback : Number(flag)
  if (wanted !== 0) return wanted
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves on the first Ctrl-C or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve(signal)
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

/** The `HOST_ID` of the demo's api-controlled monitor. */
const ROLLOUT_HOST = 'demo-b'

/**
 * The demo's monitor is pinned to the buckets below `V1_RANGE`; `V1_RANGE` plays a range the v1
 * fleet still checks (nobody in the demo does), ready to be handed over to `ROLLOUT_HOST`. Dynamic
 * leases would take every bucket, leaving nothing to hand over.
 */
const V1_RANGE = { min: 500, max: 999 } as const

/**
 * The demo fleet: one fixture site per behaviour a newcomer should see. `bucket` defaults to 0
 * (the monitor's range); `v1Status` is the `site_status` v1 left on a site of `V1_RANGE`.
 */
const DEMO_SITES = [
  { site: 'healthy', blogId: 101n, label: 'a healthy site', https: true },
  {
    site: 'failing',
    blogId: 102n,
    label: 'answers 503: Seems Down, then Down once both verifliers agree',
    https: false,
  },
  { site: 'flapping', blogId: 103n, label: 'up for 40 s, down for 40 s: opens and closes incidents', https: false },
  {
    site: 'slow',
    blogId: 104n,
    label: 'answers after 1.5 s: a latency advisory (Degraded)',
    https: false,
    latency: 800,
  },
  { site: 'expiring', blogId: 105n, label: 'certificate expires in 5 days: tls_expiry advisory', https: true },
  { site: 'legacy-tls', blogId: 106n, label: 'speaks only TLS 1.1: tls_deprecated advisory', https: 'legacy' as const },
  { site: 'truncated', blogId: 107n, label: 'body cut short of its Content-Length: partial_response', https: false },
  {
    site: 'hacked',
    blogId: 108n,
    label: 'contains forbidden text: keyword failure',
    https: false,
    forbidden: ['casino'],
  },
  {
    site: 'v1-up',
    blogId: 109n,
    label: `buckets ${V1_RANGE.min}-${V1_RANGE.max}, v1's range: unchecked until handed over to ${ROLLOUT_HOST}`,
    https: false,
    bucket: V1_RANGE.min,
    v1Status: 1,
  },
  {
    site: 'v1-down',
    blogId: 110n,
    label: `buckets ${V1_RANGE.min}-${V1_RANGE.max}, v1's range: v1 saw it Down; adoption opens its incident`,
    https: false,
    bucket: V1_RANGE.max,
    v1Status: 2,
  },
] as const

/**
 * The objectives the demo sets. The failing site's 99.95 % over 7 days allows 302 s of downtime:
 * with the default policy its page rule fires after 26 s down (14.4 times the allowed rate over the
 * last hour and 5 minutes), its budget alert opens after about 4 minutes and is exhausted after 5.
 */
const DEMO_OBJECTIVES = [
  { name: 'demo: healthy site availability', blog_id: 101, sli: 'availability', target: 99.9, window: '7d' },
  { name: 'demo: failing site availability', blog_id: 102, sli: 'availability', target: 99.95, window: '7d' },
] as const

/** What every piece of the demo is given: where to print, and where to register what stops it. */
interface Demo {
  say: (line: string) => void
  /** Stops run in reverse order when the demo ends, whether it started completely or not. */
  onStop: (stop: () => Promise<unknown>) => void
}

type Fixtures = Awaited<ReturnType<typeof startFleet>>
type AlertSinks = Awaited<ReturnType<typeof startAlertSinks>>

/** DATABASE_URL points the demo at an existing MySQL 8 / MariaDB; otherwise it runs its own. Migrated. */
async function startDatabase(demo: Demo, dir: string) {
  const external = process.env.DATABASE_URL?.trim() || undefined
  const server: EmbeddedMariadb | null = external
    ? null
    : await startEmbeddedMariadb({ dir, mode: 'attached' }).catch((error: Error) => {
        throw new CommandError(error.message, { cause: error })
      })
  if (server) demo.onStop(() => server.stop())
  const databaseUrl = external ?? (server as EmbeddedMariadb).url
  const database = createDatabase(databaseUrl, { connectionLimit: 4 })
  demo.onStop(() => database.close())
  const { applied } = await migrate(database.pool).catch((error: Error) => {
    throw new CommandError(`cannot migrate ${redactDatabaseUrl(databaseUrl)}: ${error.message}`, { cause: error })
  })
  demo.say(
    server
      ? `  ✓ MariaDB ${server.reused ? '(already running) ' : ''}on 127.0.0.1:${server.port}, data in ${relative(process.cwd(), dir) || dir}`
      : `  ✓ database from DATABASE_URL: ${redactDatabaseUrl(databaseUrl)}`,
  )
  demo.say(`  ✓ schema migrated${applied.length ? ` (${applied.length} migration(s))` : ' (already up to date)'}`)
  return { server, databaseUrl, database }
}

/** The fixture fleet and a local DNS server, on loopback (the test kit's fixtures); its CA in the demo folder. */
async function startFleet(demo: Demo, demoDir: string) {
  const { startFixtureServer, startDnsServer } = await import('@jetmon/fixtures')
  const flapStart = Date.now()
  const sites = await startFixtureServer({
    requestLogLimit: 0,
    sites: {
      healthy: { status: 200 },
      failing: { status: 503 },
      flapping: () => ({ status: Math.floor((Date.now() - flapStart) / 40_000) % 2 === 0 ? 200 : 503 }),
      slow: { status: 200, ttfbMs: 1_500 },
      expiring: { status: 200, tls: 'expiring' },
      'legacy-tls': { status: 200 },
      truncated: { status: 200, truncateAfterBytes: 256 },
      hacked: { status: 200, body: '<html><body><h1>Welcome</h1><p>Best casino deals</p></body></html>' },
      'v1-up': { status: 200 },
      'v1-down': { status: 503 },
    },
  })
  demo.onStop(() => sites.close())
  const dns = await startDnsServer({ zone: sites.zone() })
  demo.onStop(() => dns.close())
  const caFile = join(demoDir, 'fixture-ca.pem')
  writeFileSync(caFile, sites.ca)
  demo.say(`  ✓ fixture fleet: ${DEMO_SITES.length} sites on ${sites.addresses.join(', ')}, local DNS ${dns.server}`)
  return { sites, dns, caFile }
}

/** Two verifliers in this process, resolving through the fixture DNS and trusting the fixture CA. */
async function startVerifliers(demo: Demo, fleet: Fixtures): Promise<Jetmon2Config['VERIFLIERS']> {
  const { createVeriflierServer, veriflier2ConfigSchema } = await import('@jetmon/veriflier2')
  const token = `demo-${Math.random().toString(36).slice(2)}-token-0123456789`
  const verifliers = []
  for (const [id, region] of [
    ['demo-eu', 'eu-west'],
    ['demo-us', 'us-east'],
  ] as const) {
    const config = v.parse(veriflier2ConfigSchema, {
      VERIFLIER_ID: id,
      VERIFLIER_REGION: region,
      VERIFLIER_TOKENS: [token],
      PORT: 0,
      BIND: '127.0.0.1',
      DNS_SERVERS: [fleet.dns.server],
      CA_FILE: fleet.caFile,
    })
    const veriflier = createVeriflierServer({ config })
    const address = await veriflier.listen()
    demo.onStop(() => veriflier.close({ timeoutMs: 5_000 }))
    verifliers.push({ id, region, url: address.url, token })
  }
  demo.say(`  ✓ two verifliers: ${verifliers.map((x) => `${x.id} ${x.url}`).join(', ')}`)
  return verifliers
}

/**
 * The demo's sites, with short intervals so that something happens within a minute. Ports change
 * on every run: an earlier run's rows are pointed at this run's fixture. A site of `V1_RANGE` gets
 * its v1 `site_status` when it is first added, as v1 would have left it; later runs keep what
 * happened to it since (a handover, checks by the api-controlled host).
 */
async function seedSites(database: Database, fleet: Fixtures): Promise<void> {
  for (const site of DEMO_SITES) {
    const url = fleet.sites.url(site.site, '/', site.https === 'legacy' ? { legacyTls: true } : { https: site.https })
    await upsertBlogEndpoint({
      ctx: { db: database.db },
      blogId: site.blogId,
      monitorUrl: url,
      settings: {
        checkIntervalSec: 15,
        timeoutMs: 5_000,
        latencyThresholdMs: 'latency' in site ? site.latency : null,
        forbiddenKeywords: 'forbidden' in site ? [...site.forbidden] : null,
      },
      bucketNo: 'bucket' in site ? site.bucket : 0,
      ...('v1Status' in site
        ? { legacyStatusWhenAdded: { siteStatus: site.v1Status, lastStatusChange: new Date(Date.now() - 20 * 60_000) } }
        : {}),
    })
  }
}

/**
 * Two service level objectives, made with the library as `jetmon2 api` would: the failing site's
 * spends its error budget from its first Down, and the evaluator (every minute, in the monitor)
 * opens its burn-rate alert (`slo_burn`) within a minute or two. Kept from run to run by name.
 */
async function createObjectives(demo: Demo, database: Database): Promise<void> {
  const { createObjective, listObjectives, ObjectiveNameTakenError } = await import('@jetmon/slo')
  const ctx = { db: database.db }
  for (const fields of DEMO_OBJECTIVES) {
    const { objectives } = await listObjectives({ ctx, tenantId: null, blogId: BigInt(fields.blog_id), active: true })
    if (objectives.some((objective) => objective.name === fields.name)) continue
    await createObjective({ ctx, tenantId: null, createdBy: 'demo', fields: { ...fields } }).catch((error: unknown) => {
      if (!(error instanceof ObjectiveNameTakenError)) throw error
    })
  }
  demo.say(
    `  ✓ objectives: ${DEMO_OBJECTIVES.map((o) => `${o.target} % over ${o.window} for blog ${o.blog_id}`).join(', ')}`,
  )
}

/**
 * Where alerts go: a local mail catcher (mails kept as .eml files) and a webhook receiver that
 * checks signatures like a customer's would.
 */
async function startAlertSinks(demo: Demo, demoDir: string) {
  const { startMailCatcher, startWebhookReceiver } = await import('@jetmon/fixtures')
  const mailDir = join(demoDir, 'mail')
  mkdirSync(mailDir, { recursive: true })
  const mail = await startMailCatcher({ dir: mailDir })
  demo.onStop(() => mail.close())
  const hooks = await startWebhookReceiver()
  demo.onStop(() => hooks.close())
  demo.say(`  ✓ a mail catcher on ${mail.host}:${mail.port} and a webhook receiver on ${hooks.url}`)
  return { mail, hooks }
}

/** The monitor's configuration: everything local, short retry and reload intervals. */
async function demoConfig(input: {
  fleet: Fixtures
  verifliers: Jetmon2Config['VERIFLIERS']
  sinks: AlertSinks
  demoDir: string
  args: { port?: string | undefined; 'api-port'?: string | undefined }
}): Promise<Jetmon2Config> {
  const { fleet, sinks } = input
  return v.parse(jetmon2ConfigSchema, {
    HOST_ID: 'demo',
    DNS_SERVERS: [fleet.dns.server],
    CA_FILE: fleet.caFile,
    VERIFLIERS: input.verifliers,
    NUM_OF_CHECKS: 2,
    RETRY_INTERVAL_SEC: 5,
    FAILED_CHECK_INTERVAL_SEC: 15,
    FLAP_WINDOW_SEC: 60,
    TARGET_RELOAD_SEC: 5,
    STATE_FLUSH_SEC: 10,
    DASHBOARD_PORT: await portFor(input.args.port, 8080),
    API_PORT: await portFor(input.args['api-port'], 8090),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
    DELIVERY_WORKERS_ENABLE: true,
    SECRETS_KEY: demoSecretsKey(input.demoDir),
    EMAIL_TRANSPORT: 'smtp',
    EMAIL_FROM: 'jetmon@demo.test',
    SMTP_HOST: sinks.mail.host,
    SMTP_PORT: sinks.mail.port,
    WPCOM_NOTIFY_ENABLE: false,
    PINNED_BUCKET_MIN: 0,
    PINNED_BUCKET_MAX: V1_RANGE.min - 1,
    SLO_EVALUATOR_ENABLE: true,
    LOG_LEVEL: 'warn',
  })
}

/** The monitor, as `jetmon2 serve` runs it, with in-process delivery. */
async function startMonitor(demo: Demo, config: Jetmon2Config, databaseUrl: string): Promise<MonitorService> {
  const { MonitorService } = await import('../monitor/service.js')
  const logger = createLogger({ level: 'warn', format: 'pretty', name: 'demo' })
  const monitor = new MonitorService({ config, databaseUrl, logger })
  await monitor.start()
  demo.onStop(() => monitor.drain(10_000))
  return monitor
}

/**
 * A second monitor, `demo-b`, in `api-controlled` mode: it registers and checks nothing until a
 * bucket range is activated for it through the rollout API (`jetmon2 api rollout …`), which is
 * what a host taking over a v1 range looks like. No API or dashboard of its own.
 */
async function startRolloutHost(demo: Demo, config: Jetmon2Config, databaseUrl: string): Promise<MonitorService> {
  const { MonitorService } = await import('../monitor/service.js')
  const logger = createLogger({ level: 'warn', format: 'pretty', name: ROLLOUT_HOST })
  // An api-controlled host pins nothing; the objectives are evaluated by the demo's monitor.
  const { PINNED_BUCKET_MIN: _min, PINNED_BUCKET_MAX: _max, ...shared } = config
  const monitor = new MonitorService({
    config: {
      ...shared,
      HOST_ID: ROLLOUT_HOST,
      ROLLOUT_MODE: 'api-controlled',
      ROLLOUT_POLL_SEC: 2,
      API_PORT: 0,
      DASHBOARD_PORT: 0,
      DELIVERY_WORKERS_ENABLE: false,
      SLO_EVALUATOR_ENABLE: false,
    },
    databaseUrl,
    logger,
  })
  await monitor.start()
  demo.onStop(() => monitor.drain(10_000))
  return monitor
}

/** A fresh admin key per run, valid for a day, its token in a 0600 file for the CLI. */
async function issueAdminToken(database: Database, demoDir: string): Promise<{ token: string; tokenFile: string }> {
  const { token } = await createApiKey({
    ctx: { db: database.db },
    input: {
      consumer: 'demo',
      scope: 'admin',
      expiresAt: new Date(Date.now() + 86_400_000),
      createdBy: 'demo',
    },
  })
  const tokenFile = join(demoDir, 'api-token')
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  chmodSync(tokenFile, 0o600)
  return { token, tokenFile }
}

/**
 * Subscriptions, made through the API as a customer would: every event to the webhook receiver,
 * Down and recoveries by mail; what arrives is printed as it comes.
 */
async function subscribe(demo: Demo, apiUrl: string, token: string, sinks: AlertSinks): Promise<void> {
  const { hooks, mail } = sinks
  const api = createJetmonClient({ baseUrl: apiUrl, token })
  const webhook = await api.call('webhooks.create', { body: { url: hooks.url } })
  hooks.secrets = [webhook.data.secret]
  await api.call('alertContacts.create', {
    body: { label: 'Demo on-call', transport: 'email', destination: { address: 'oncall@demo.test' } },
  })
  demo.say('  ✓ a signed webhook (every event) and an email alert contact (Down and recoveries)\n')
  hooks.onWebhook((hook) => {
    const body = hook.body as {
      site?: { blog_id?: unknown }
      event?: { check_type?: unknown }
      transition?: { state_after?: unknown }
    }
    demo.say(
      `  ← webhook ${hook.event ?? '?'}: blog ${String(body.site?.blog_id ?? '?')} ${String(body.event?.check_type ?? '?')} ${String(body.transition?.state_after ?? '')} (signature ${hook.signature})`,
    )
  })
  mail.onMessage((message) => {
    demo.say(`  ✉ alert mail "${message.subject}" → ${relative(process.cwd(), message.file ?? '')}`)
  })
}

/** What is being watched, and what to open and try: URLs, CLI commands and SQL, ready to paste. */
function printGuide(
  demo: Demo,
  input: { monitor: MonitorService; tokenFile: string; server: EmbeddedMariadb | null; databaseUrl: string },
): void {
  const { say } = demo
  const { monitor, server, databaseUrl } = input
  say('What is being watched')
  for (const site of DEMO_SITES) say(`  blog ${site.blogId}  ${site.site.padEnd(11)} ${site.label}`)
  say('\nWhat to open and try')
  if (monitor.opsPort) {
    say(`  http://127.0.0.1:${monitor.opsPort}/           the dashboard: states, incidents, charts, live`)
    say(`  http://127.0.0.1:${monitor.opsPort}/sites/102   the failing site: its incidents, and its objective's alerts`)
    say(`  http://127.0.0.1:${monitor.opsPort}/readyz     is the monitor ready (database, leases)`)
    say(`  http://127.0.0.1:${monitor.opsPort}/metrics    Prometheus metrics (checks, lag, confirmations)`)
  }
  const cli = 'node apps/jetmon2/dist/cli.js'
  if (monitor.apiUrl) {
    const tokenPath = relative(process.cwd(), input.tokenFile)
    const api = `${cli} api --url ${monitor.apiUrl} --token-file ${tokenPath}`
    say(`  ${api} sites list`)
    say('    every site and its state, from the REST API')
    say(`  ${api} events list`)
    say('    the incidents, open and closed, with their states')
    say(`  ${api} stats uptime 102 --window 24h`)
    say('    the failing site’s uptime over the last 24 hours')
    say(`  curl -H "Authorization: Bearer $(cat ${tokenPath})" ${monitor.apiUrl}/sites/102`)
    say(`  ${monitor.apiUrl}/openapi.json   the API's OpenAPI 3.1 document`)
    say(`  curl -H "Authorization: Bearer $(cat ${tokenPath})" ${monitor.apiUrl}/sites/102/slos`)
    say('    the failing site’s objective: budget left, burn rates, the alert rules firing')
    say(`  ${api} events list --check-type slo_burn`)
    say('    the failing site’s objective paging (blog 102, burn rate above 14.4) within two minutes; its')
    say('    budget alert (slo_budget) follows after about four, as the budget runs out')
    const range = `--bucket-min ${V1_RANGE.min} --bucket-max ${V1_RANGE.max} --host ${ROLLOUT_HOST}`
    say(`  ${api} rollout status`)
    say(
      `    who checks which buckets: demo pinned to 0-${V1_RANGE.min - 1}, v1's range ${V1_RANGE.min}-${V1_RANGE.max}, ${ROLLOUT_HOST} (api-controlled) waiting`,
    )
    say(`  ${api} rollout preflight ${range}`)
    say(`    can ${V1_RANGE.min}-${V1_RANGE.max} move to ${ROLLOUT_HOST}? Read-only checks, all passing here`)
    say(`  ${api} rollout guided ${range} --dry-run`)
    say(`    every step of the move (docs/rollout.md); a dry run executes nothing. The move itself: the same`)
    say('    without --dry-run, each change confirmed by a typed phrase; add --rollback to hand the range back')
  }
  say(`  ${cli} status                  the running services (in another terminal)`)
  if (server) say(`  mariadb --socket=${server.socketPath} -u root jetmon`)
  else {
    const url = new URL(databaseUrl)
    say(
      `  mariadb -h ${url.hostname} -P ${url.port || 3306} -u ${decodeURIComponent(url.username)} -p ${url.pathname.slice(1)}`,
    )
  }
  say('    SELECT id, blog_id, check_type, state, started_at, ended_at FROM jetmon_events ORDER BY id;')
  say('    SELECT event_id, reason, state_before, state_after, changed_at FROM jetmon_event_transitions;')
  say(`  database URL: ${redactDatabaseUrl(databaseUrl)}`)
  say('\nIncidents appear within a minute. Press Ctrl-C to stop everything.')
}

export default defineCommand({
  meta: {
    name: 'demo',
    description: 'Start a local, self-contained Jetmon to look at and poke; Ctrl-C stops everything',
  },
  args: {
    dir: {
      type: 'string',
      description: 'Data folder of the embedded MariaDB (default: JETMON_DATA_DIR or .jetmon/mariadb)',
    },
    port: { type: 'string', description: 'Ops port (/healthz, /readyz, /metrics); default 8080, 0 = any free port' },
    'api-port': { type: 'string', description: 'REST API port; default 8090, 0 = any free port' },
  },
  async run({ args }) {
    const dir = args.dir ? embeddedDataDir({ JETMON_DATA_DIR: args.dir }) : embeddedDataDir()
    const stops: (() => Promise<unknown>)[] = []
    const demo: Demo = {
      say: (line) => process.stdout.write(`${line}\n`),
      onStop: (stop) => stops.push(stop),
    }
    demo.say('Starting the Jetmon 2 demo …')
    const started = Date.now()
    try {
      const { server, databaseUrl, database } = await startDatabase(demo, dir)
      const demoDir = join(dir, '..', 'demo')
      mkdirSync(demoDir, { recursive: true })
      const fleet = await startFleet(demo, demoDir)
      const verifliers = await startVerifliers(demo, fleet)
      await seedSites(database, fleet)
      await createObjectives(demo, database)
      const sinks = await startAlertSinks(demo, demoDir)
      const config = await demoConfig({ fleet, verifliers, sinks, demoDir, args })
      const monitor = await startMonitor(demo, config, databaseUrl)
      demo.say(`  ✓ the monitor is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`)
      await startRolloutHost(demo, config, databaseUrl)
      demo.say(`  ✓ a second monitor, ${ROLLOUT_HOST}, waits in api-controlled mode for a range to take over`)
      const { token, tokenFile } = await issueAdminToken(database, demoDir)
      if (monitor.apiUrl) {
        demo.say(`  ✓ REST API on ${monitor.apiUrl} (admin token in ${relative(process.cwd(), tokenFile)})`)
        await subscribe(demo, monitor.apiUrl, token, sinks)
      }
      printGuide(demo, { monitor, tokenFile, server, databaseUrl })
      const signal = await untilSignal()
      demo.say(`\n${signal} received: stopping …`)
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {})
    }
    demo.say('Stopped. Nothing is left running.')
  },
})
