import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join, relative } from 'node:path'
import { createJetmonClient } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import {
  createDatabase,
  endpointConfig,
  migrate,
  monitorSites,
  redactDatabaseUrl,
  startEmbeddedMariadb,
} from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { defineCommand } from 'citty'
import { eq } from 'drizzle-orm'
import * as v from 'valibot'
import { jetmon2ConfigSchema } from '../config.js'
import { embeddedDataDir } from '../database.js'
import { CommandError } from '../errors.js'

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

/** The demo fleet: one fixture site per behaviour a newcomer should see. */
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
] as const

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
    const say = (line: string) => process.stdout.write(`${line}\n`)
    say('Starting the Jetmon 2 demo …')
    const started = Date.now()
    const stops: (() => Promise<unknown>)[] = []
    const stopAll = async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {})
    }
    try {
      // DATABASE_URL points the demo at an existing MySQL 8 / MariaDB; otherwise it runs its own.
      const external = process.env.DATABASE_URL?.trim() || undefined
      const server = external
        ? null
        : await startEmbeddedMariadb({ dir, mode: 'attached' }).catch((error: Error) => {
            throw new CommandError(error.message, { cause: error })
          })
      if (server) stops.push(() => server.stop())
      const databaseUrl = external ?? (server as NonNullable<typeof server>).url
      const database = createDatabase(databaseUrl, { connectionLimit: 4 })
      stops.push(() => database.close())
      const { applied } = await migrate(database.pool).catch((error: Error) => {
        throw new CommandError(`cannot migrate ${redactDatabaseUrl(databaseUrl)}: ${error.message}`, { cause: error })
      })
      say(
        server
          ? `  ✓ MariaDB ${server.reused ? '(already running) ' : ''}on 127.0.0.1:${server.port}, data in ${relative(process.cwd(), dir) || dir}`
          : `  ✓ database from DATABASE_URL: ${redactDatabaseUrl(databaseUrl)}`,
      )
      say(`  ✓ schema migrated${applied.length ? ` (${applied.length} migration(s))` : ' (already up to date)'}`)

      // The fixture fleet and two verifliers, all on loopback (the test kit's fixtures).
      const { startFixtureServer, startDnsServer } = await import('@jetmon/testkit/fixtures')
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
        },
      })
      stops.push(() => sites.close())
      const dns = await startDnsServer({ zone: sites.zone() })
      stops.push(() => dns.close())
      const demoDir = join(dir, '..', 'demo')
      mkdirSync(demoDir, { recursive: true })
      const caFile = join(demoDir, 'fixture-ca.pem')
      writeFileSync(caFile, sites.ca)
      say(`  ✓ fixture fleet: ${DEMO_SITES.length} sites on ${sites.addresses.join(', ')}, local DNS ${dns.server}`)

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
          DNS_SERVERS: [dns.server],
          CA_FILE: caFile,
        })
        const veriflier = createVeriflierServer({ config })
        const address = await veriflier.listen()
        stops.push(() => veriflier.close({ timeoutMs: 5_000 }))
        verifliers.push({ id, region, url: address.url, token })
      }
      say(`  ✓ two verifliers: ${verifliers.map((x) => `${x.id} ${x.url}`).join(', ')}`)

      // The demo's sites: short intervals so that something happens within a minute.
      for (const demo of DEMO_SITES) {
        const url = sites.url(demo.site, '/', demo.https === 'legacy' ? { legacyTls: true } : { https: demo.https })
        // Ports change on every run: an earlier run's rows are pointed at this run's fixture.
        const [existing] = await database.db
          .select({ endpointId: monitorSites.endpointId })
          .from(monitorSites)
          .where(eq(monitorSites.blogId, demo.blogId))
        let endpointId = existing?.endpointId
        if (endpointId) {
          await database.db
            .update(monitorSites)
            .set({ monitorUrl: url, monitorActive: 1 })
            .where(eq(monitorSites.endpointId, endpointId))
        } else {
          const [row] = await database.db
            .insert(monitorSites)
            .values({ blogId: demo.blogId, monitorUrl: url })
            .$returningId()
          endpointId = BigInt(row!.endpointId)
        }
        const settings = {
          checkIntervalSec: 15,
          timeoutMs: 5_000,
          latencyThresholdMs: 'latency' in demo ? demo.latency : null,
          forbiddenKeywords: 'forbidden' in demo ? [...demo.forbidden] : null,
        }
        await database.db
          .insert(endpointConfig)
          .values({ endpointId, ...settings })
          .onDuplicateKeyUpdate({ set: { ...settings, updatedAt: new Date() } })
      }

      // Where alerts go: a local mail catcher (mails kept as .eml files) and a webhook receiver
      // that checks signatures like a customer's would.
      const { startMailCatcher, startWebhookReceiver } = await import('@jetmon/testkit/fixtures')
      const mailDir = join(demoDir, 'mail')
      mkdirSync(mailDir, { recursive: true })
      const mail = await startMailCatcher({ dir: mailDir })
      stops.push(() => mail.close())
      const hooks = await startWebhookReceiver()
      stops.push(() => hooks.close())
      say(`  ✓ a mail catcher on ${mail.host}:${mail.port} and a webhook receiver on ${hooks.url}`)

      const config = v.parse(jetmon2ConfigSchema, {
        HOST_ID: 'demo',
        DNS_SERVERS: [dns.server],
        CA_FILE: caFile,
        VERIFLIERS: verifliers,
        NUM_OF_CHECKS: 2,
        RETRY_INTERVAL_SEC: 5,
        FAILED_CHECK_INTERVAL_SEC: 15,
        FLAP_WINDOW_SEC: 60,
        TARGET_RELOAD_SEC: 5,
        STATE_FLUSH_SEC: 10,
        DASHBOARD_PORT: await portFor(args.port, 8080),
        API_PORT: await portFor(args['api-port'], 8090),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
        DELIVERY_WORKERS_ENABLE: true,
        SECRETS_KEY: demoSecretsKey(demoDir),
        EMAIL_TRANSPORT: 'smtp',
        EMAIL_FROM: 'jetmon@demo.test',
        SMTP_HOST: mail.host,
        SMTP_PORT: mail.port,
        WPCOM_NOTIFY_ENABLE: false,
        LOG_LEVEL: 'warn',
      })
      const { MonitorService } = await import('../monitor/service.js')
      const logger = createLogger({ level: 'warn', format: 'pretty', name: 'demo' })
      const monitor = new MonitorService({ config, databaseUrl, logger })
      await monitor.start()
      stops.push(() => monitor.drain(10_000))
      say(`  ✓ the monitor is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`)
      // A fresh admin key per run, valid for a day, its token in a 0600 file for the CLI.
      const { token: apiToken } = await createApiKey({
        ctx: { db: database.db },
        input: {
          consumer: 'demo',
          scope: 'admin',
          expiresAt: new Date(Date.now() + 86_400_000),
          createdBy: 'demo',
        },
      })
      const tokenFile = join(demoDir, 'api-token')
      writeFileSync(tokenFile, `${apiToken}\n`, { mode: 0o600 })
      chmodSync(tokenFile, 0o600)
      if (monitor.apiUrl) {
        say(`  ✓ REST API on ${monitor.apiUrl} (admin token in ${relative(process.cwd(), tokenFile)})`)
        const api = createJetmonClient({ baseUrl: monitor.apiUrl, token: apiToken })
        // Subscriptions, made through the API as a customer would: every event to the receiver,
        // Down and recoveries by mail.
        const webhook = await api.call('webhooks.create', { body: { url: hooks.url } })
        hooks.secrets = [webhook.data.secret]
        await api.call('alertContacts.create', {
          body: { label: 'Demo on-call', transport: 'email', destination: { address: 'oncall@demo.test' } },
        })
        say('  ✓ a signed webhook (every event) and an email alert contact (Down and recoveries)\n')
        hooks.onWebhook((hook) => {
          const body = hook.body as { site?: { blog_id?: unknown }; transition?: { state_after?: unknown } }
          say(
            `  ← webhook ${hook.event ?? '?'}: blog ${String(body.site?.blog_id ?? '?')} ${String(body.transition?.state_after ?? '')} (signature ${hook.signature})`,
          )
        })
        mail.onMessage((message) => {
          say(`  ✉ alert mail "${message.subject}" → ${relative(process.cwd(), message.file ?? '')}`)
        })
      }

      say('What is being watched')
      for (const demo of DEMO_SITES) say(`  blog ${demo.blogId}  ${demo.site.padEnd(11)} ${demo.label}`)
      say('\nWhat to open and try')
      if (monitor.opsPort) {
        say(`  http://127.0.0.1:${monitor.opsPort}/           the dashboard: states, incidents, charts, live`)
        say(`  http://127.0.0.1:${monitor.opsPort}/readyz     is the monitor ready (database, leases)`)
        say(`  http://127.0.0.1:${monitor.opsPort}/metrics    Prometheus metrics (checks, lag, confirmations)`)
      }
      const cli = 'node apps/jetmon2/dist/cli.js'
      if (monitor.apiUrl) {
        const tokenPath = relative(process.cwd(), tokenFile)
        const api = `${cli} api --url ${monitor.apiUrl} --token-file ${tokenPath}`
        say(`  ${api} sites list`)
        say('    every site and its state, from the REST API')
        say(`  ${api} events list`)
        say('    the incidents, open and closed, with their states')
        say(`  ${api} stats uptime 102 --window 24h`)
        say('    the failing site’s uptime over the last 24 hours')
        say(`  curl -H "Authorization: Bearer $(cat ${tokenPath})" ${monitor.apiUrl}/sites/102`)
        say(`  ${monitor.apiUrl}/openapi.json   the API's OpenAPI 3.1 document`)
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
      const signal = await untilSignal()
      say(`\n${signal} received: stopping …`)
    } finally {
      await stopAll()
    }
    say('Stopped. Nothing is left running.')
  },
})
