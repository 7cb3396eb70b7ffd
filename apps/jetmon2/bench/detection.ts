// `pnpm bench:detection`: the detection figures of docs/operations.md, "Benchmarks". The whole monitor with two verifliers
// (in-process, on loopback) watches BENCH_OUTAGES sites (default 200) at a 60 s interval; each
// goes down at a random moment in the first BENCH_SPREAD_SEC (default 60) after the warm-up, stays
// down BENCH_OUTAGE_SEC (default 150), then recovers. BENCH_TRAPS healthy sites (slow, redirected,
// large, keyword-checked) must produce no event at all. Times come from the event store:
//   detection = Down transition − outage start;  recovery = event close − outage end.
// Settings are the configuration defaults (NUM_OF_CHECKS 3, RETRY_INTERVAL_SEC 20) unless BENCH_RETRY_SEC /
// BENCH_NUM_OF_CHECKS override them. Prints one JSON line.
import { join } from 'node:path'
import {
  createDatabase,
  endpointConfig,
  events,
  eventTransitions,
  migrate,
  monitorSites,
  startEmbeddedMariadb,
} from '@jetmon/db'
import { type SiteBehaviour, startDnsServer, startFixtureServer } from '@jetmon/fixtures'
import { createLogger } from '@jetmon/logging'
import { createVeriflierServer, veriflier2ConfigSchema } from '@jetmon/veriflier2'
import { and, eq, inArray } from 'drizzle-orm'
import * as v from 'valibot'
import { jetmon2ConfigSchema } from '../src/config.js'
import { MonitorService } from '../src/monitor/service.js'

const OUTAGES = Number(process.env.BENCH_OUTAGES ?? 200)
const TRAPS = Number(process.env.BENCH_TRAPS ?? 40)
const SPREAD_SEC = Number(process.env.BENCH_SPREAD_SEC ?? 60)
const OUTAGE_SEC = Number(process.env.BENCH_OUTAGE_SEC ?? 150)
const RETRY_SEC = Number(process.env.BENCH_RETRY_SEC ?? 20)
const NUM_OF_CHECKS = Number(process.env.BENCH_NUM_OF_CHECKS ?? 3)
const INTERVAL_SEC = 60
const ROOT = join(import.meta.dirname, '..', '..', '..')
const DB = 'jetmon_detection_bench'
const log = (message: string) => process.stderr.write(`${message}\n`)

const server = await startEmbeddedMariadb({ dir: join(ROOT, '.jetmon', 'bench-db'), database: DB })
{
  const { pool, close } = createDatabase(server.url, { connectionLimit: 1 })
  await pool.query(`DROP DATABASE IF EXISTS ${DB}`)
  await pool.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await close()
}
const url = new URL(server.url)
url.pathname = `/${DB}`
const database = createDatabase(url.toString(), { connectionLimit: 4 })
await migrate(database.pool)

// Outage windows, fixed once the warm-up ends (set below); sites answer 200 until then.
const windows = new Map<string, { start: number; end: number }>()
let outagesArmed = false
const outageSites: Record<string, () => { status: number }> = {}
for (let i = 0; i < OUTAGES; i++) {
  const name = `outage-${i}`
  outageSites[name] = () => {
    const window = windows.get(name)
    const now = Date.now()
    return { status: outagesArmed && window && now >= window.start && now < window.end ? 503 : 200 }
  }
}
const bigBody = `<html><body>${'healthy '.repeat(200_000)}</body></html>`
const trapKinds = ['slow', 'redirect', 'large', 'keyword'] as const
const trapSites: Record<string, SiteBehaviour> = {}
for (let i = 0; i < TRAPS; i++) {
  const kind = trapKinds[i % trapKinds.length]!
  const name = `trap-${kind}-${i}`
  trapSites[name] =
    kind === 'slow'
      ? { status: 200, ttfbMs: 2_500 }
      : kind === 'redirect'
        ? { redirect: { status: 301, location: '/landing' }, paths: { '/landing': { status: 200 } } }
        : kind === 'large'
          ? { status: 200, body: bigBody }
          : { status: 200, body: '<html><body>Welcome to the shop</body></html>' }
}
const sites = await startFixtureServer({ requestLogLimit: 0, sites: { ...outageSites, ...trapSites } })
const dns = await startDnsServer({ zone: sites.zone() })

const token = 'bench-veriflier-token-0123456789'
const verifliers = []
for (const [id, region] of [
  ['bench-eu', 'eu-west'],
  ['bench-us', 'us-east'],
] as const) {
  const veriflier = createVeriflierServer({
    config: v.parse(veriflier2ConfigSchema, {
      VERIFLIER_ID: id,
      VERIFLIER_REGION: region,
      VERIFLIER_TOKENS: [token],
      PORT: 0,
      BIND: '127.0.0.1',
      DNS_SERVERS: [dns.server],
    }),
  })
  const address = await veriflier.listen()
  verifliers.push({ id, region, url: address.url, token, close: () => veriflier.close({ timeoutMs: 5_000 }) })
}

const outageIds = new Map<bigint, string>()
const trapIds: bigint[] = []
let blogId = 9_000_000n
for (const name of [...Object.keys(outageSites), ...Object.keys(trapSites)]) {
  const [row] = await database.db
    .insert(monitorSites)
    .values({ blogId: blogId++, monitorUrl: sites.url(name) })
    .$returningId()
  const endpointId = BigInt(row!.endpointId)
  await database.db.insert(endpointConfig).values({
    endpointId,
    checkIntervalSec: INTERVAL_SEC,
    ...(name.startsWith('trap-keyword') ? { checkKeyword: 'Welcome' } : {}),
  })
  if (name.startsWith('outage-')) outageIds.set(endpointId, name)
  else trapIds.push(endpointId)
}

const config = v.parse(jetmon2ConfigSchema, {
  HOST_ID: 'bench-detection',
  DNS_SERVERS: [dns.server],
  VERIFLIERS: verifliers.map(({ close: _close, ...rest }) => rest),
  NUM_OF_CHECKS,
  RETRY_INTERVAL_SEC: RETRY_SEC,
  DASHBOARD_PORT: 0,
  API_PORT: 0,
  WPCOM_NOTIFY_ENABLE: false,
  LOG_LEVEL: 'warn',
})
const service = new MonitorService({
  config,
  databaseUrl: url.toString(),
  logger: createLogger({ level: 'warn', format: 'json', destination: process.stderr }),
})
await service.start()

// Warm-up: every endpoint reaches its first phase slot and is seen healthy.
log(`warm-up: ${INTERVAL_SEC} s`)
await new Promise((resolve) => setTimeout(resolve, INTERVAL_SEC * 1000 + 2_000))
const armedAt = Date.now()
for (const name of outageIds.values()) {
  const start = armedAt + Math.random() * SPREAD_SEC * 1000
  windows.set(name, { start, end: start + OUTAGE_SEC * 1000 })
}
outagesArmed = true
// Until every outage has ended and had two intervals to be seen recovered.
const runMs = (SPREAD_SEC + OUTAGE_SEC + 2 * INTERVAL_SEC) * 1000
log(`outages armed: ${OUTAGES} sites; running ${Math.round(runMs / 1000)} s`)
await new Promise((resolve) => setTimeout(resolve, runMs))
await service.drain(20_000)

const rows = await database.db
  .select({
    endpointId: events.endpointId,
    eventId: events.id,
    endedAt: events.endedAt,
    reason: events.resolutionReason,
    state: eventTransitions.stateAfter,
    changedAt: eventTransitions.changedAt,
  })
  .from(events)
  .innerJoin(eventTransitions, eq(eventTransitions.eventId, events.id))
  .where(and(eq(events.checkType, 'http'), inArray(events.endpointId, [...outageIds.keys(), ...trapIds])))
const detection: number[] = []
const recovery: number[] = []
const perEndpoint = new Map<bigint, { down: number | null; closed: number | null; events: Set<bigint> }>()
for (const row of rows) {
  const entry = perEndpoint.get(row.endpointId!) ?? { down: null, closed: null, events: new Set<bigint>() }
  entry.events.add(row.eventId)
  if (row.state === 'Down') entry.down = Math.min(entry.down ?? Infinity, row.changedAt.getTime())
  if (row.endedAt) entry.closed = Math.max(entry.closed ?? 0, row.endedAt.getTime())
  perEndpoint.set(row.endpointId!, entry)
}
let undetected = 0
let unrecovered = 0
for (const [endpointId, name] of outageIds) {
  const window = windows.get(name)!
  const entry = perEndpoint.get(endpointId)
  if (entry?.down) detection.push((entry.down - window.start) / 1000)
  else undetected++
  if (entry?.closed && entry.closed >= window.end) recovery.push((entry.closed - window.end) / 1000)
  else unrecovered++
}
const trapEvents = trapIds.reduce((sum, id) => sum + (perEndpoint.get(id)?.events.size ?? 0), 0)
const rank = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? Number(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!.toFixed(1)) : null
}
const mean = (values: number[]) =>
  values.length ? Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)) : null
process.stdout.write(
  `${JSON.stringify({
    bench: 'detection',
    node: process.version,
    intervalSec: INTERVAL_SEC,
    numOfChecks: NUM_OF_CHECKS,
    retryIntervalSec: RETRY_SEC,
    verifliers: verifliers.length,
    outages: OUTAGES,
    detectedDown: detection.length,
    undetected,
    detectionSec: {
      mean: mean(detection),
      p50: rank(detection, 0.5),
      p95: rank(detection, 0.95),
      max: rank(detection, 1),
    },
    recoveredClosed: recovery.length,
    unrecovered,
    recoverySec: { mean: mean(recovery), p50: rank(recovery, 0.5), p95: rank(recovery, 0.95), max: rank(recovery, 1) },
    trapSites: trapIds.length,
    trapEvents,
    targets: { detectionP95Sec: 90, detectionMeanSec: 65, recoveryP95Sec: 70, trapEvents: 0 },
  })}\n`,
)
for (const veriflier of verifliers) await veriflier.close()
await Promise.all([sites.close(), dns.close()])
await database.close()
await server.stop()
