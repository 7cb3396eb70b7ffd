// `pnpm bench:detection`: the detection figures of docs/operations.md, "Benchmarks". The whole monitor with two
// verifliers (in-process, on loopback) watches fixture sites at a 60 s interval, in real time:
// - outages: BENCH_OUTAGES sites (default 200) answer 503 to everyone from a random moment in the first
//   BENCH_SPREAD_SEC (60) after the warm-up, for BENCH_OUTAGE_SEC (150). detection = Down transition −
//   outage start; recovery = event close − outage end.
// - hangs: BENCH_HANGS sites (default 40) stop answering for the same span: every check times out
//   (CHECK_TIMEOUT_MS, 10 s), the slower path of soft evidence. Reported apart from the targets.
// - traps: BENCH_TRAPS healthy sites (slow, redirected, large, keyword-checked): no event at all.
// - flaps: BENCH_FLAPS sites go down for 45 s, recover, and 75 s after the end fail again for
//   BENCH_FLAP_SEC (15) from the first request that comes: nothing may open after the first incident.
// - local-only: BENCH_LOCAL_ONLY sites answer 503 to the monitor only (by user agent) for 60 s; the
//   verifliers see them up. Every incident there is a false alarm; none may reach Down.
// - blips: BENCH_BLIPS sites answer 503 to everyone for BENCH_BLIP_SEC (8) from the first request after a
//   random moment: short real outages, reported (events, Downs) but not part of any target.
// BENCH_PROFILE picks the confirmation settings: `defaults` (the configuration's defaults), `legacy`
// (RETRY_INTERVAL_SEC 20, no quick re-check, no early ask, no false-alarm backoff: the defaults before
// ADR 0017) or `retry10` (the same with RETRY_INTERVAL_SEC 10); BENCH_RETRY_SEC, BENCH_QUICK_RECHECK_SEC,
// BENCH_HARD_FAILURE_CHECKS and BENCH_NUM_OF_CHECKS override one setting. Takes about 7 minutes and
// prints one JSON line. Profiles may run side by side (each has its own embedded MariaDB). Its
// "falseAlarms" counts the incidents on sites that were not down for everyone, whatever closed them.
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
import { type FixtureRequest, type SiteBehaviour, startDnsServer, startFixtureServer } from '@jetmon/fixtures'
import { createLogger } from '@jetmon/logging'
import { createVeriflierServer, veriflier2ConfigSchema } from '@jetmon/veriflier2'
import { and, eq, inArray } from 'drizzle-orm'
import * as v from 'valibot'
import { jetmon2ConfigSchema } from '../src/config.js'
import { MonitorService } from '../src/monitor/service.js'

const PROFILE = process.env.BENCH_PROFILE ?? 'defaults'
/** `legacy`: the confirmation before ADR 0017 (RETRY_INTERVAL_SEC 20, then its new default 10 in `retry10`). */
const PROFILES: Record<string, Record<string, number | boolean>> = {
  defaults: {},
  legacy: { RETRY_INTERVAL_SEC: 20, QUICK_RECHECK_SEC: 0, HARD_FAILURE_CHECKS: 0, FALSE_ALARM_BACKOFF: false },
  retry10: { RETRY_INTERVAL_SEC: 10, QUICK_RECHECK_SEC: 0, HARD_FAILURE_CHECKS: 0, FALSE_ALARM_BACKOFF: false },
}
if (!PROFILES[PROFILE]) throw new Error(`BENCH_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}`)
const numberFrom = (name: string) => (process.env[name] === undefined ? undefined : Number(process.env[name]))
const settings = {
  ...PROFILES[PROFILE],
  ...(numberFrom('BENCH_RETRY_SEC') !== undefined && { RETRY_INTERVAL_SEC: numberFrom('BENCH_RETRY_SEC') }),
  ...(numberFrom('BENCH_QUICK_RECHECK_SEC') !== undefined && {
    QUICK_RECHECK_SEC: numberFrom('BENCH_QUICK_RECHECK_SEC'),
  }),
  ...(numberFrom('BENCH_HARD_FAILURE_CHECKS') !== undefined && {
    HARD_FAILURE_CHECKS: numberFrom('BENCH_HARD_FAILURE_CHECKS'),
  }),
  ...(numberFrom('BENCH_NUM_OF_CHECKS') !== undefined && { NUM_OF_CHECKS: numberFrom('BENCH_NUM_OF_CHECKS') }),
}
const OUTAGES = Number(process.env.BENCH_OUTAGES ?? 200)
const HANGS = Number(process.env.BENCH_HANGS ?? 40)
const TRAPS = Number(process.env.BENCH_TRAPS ?? 40)
const FLAPS = Number(process.env.BENCH_FLAPS ?? 40)
const LOCAL_ONLY = Number(process.env.BENCH_LOCAL_ONLY ?? 20)
const BLIPS = Number(process.env.BENCH_BLIPS ?? 20)
const SPREAD_SEC = Number(process.env.BENCH_SPREAD_SEC ?? 60)
const OUTAGE_SEC = Number(process.env.BENCH_OUTAGE_SEC ?? 150)
const FLAP_SEC = Number(process.env.BENCH_FLAP_SEC ?? 15)
const BLIP_SEC = Number(process.env.BENCH_BLIP_SEC ?? 8)
const FLAP_OUTAGE_SEC = 45
const FLAP_AFTER_SEC = 75
const LOCAL_ONLY_SEC = 60
const INTERVAL_SEC = 60
const MONITOR_AGENT = 'jetmon-detection-bench-monitor'
const ROOT = join(import.meta.dirname, '..', '..', '..')
const DB = 'jetmon_detection_bench'
const log = (message: string) => process.stderr.write(`${message}\n`)
const began = Date.now()

const server = await startEmbeddedMariadb({ dir: join(ROOT, '.jetmon', `bench-db-detection-${PROFILE}`), database: DB })
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

// Every scenario's timing is fixed once the warm-up ends (armedAt); sites answer 200 until then.
let armedAt = Number.POSITIVE_INFINITY
const at = () => Date.now() - armedAt
const randomStart = () => Math.random() * SPREAD_SEC * 1000
const failing = { status: 503 }
const healthy = { status: 200 }

const windows = new Map<string, { start: number; end: number }>()
const outageSites: Record<string, () => { status: number }> = {}
for (let i = 0; i < OUTAGES; i++) {
  const name = `outage-${i}`
  const start = randomStart()
  windows.set(name, { start, end: start + OUTAGE_SEC * 1000 })
  outageSites[name] = () => {
    const now = at()
    return now >= start && now < start + OUTAGE_SEC * 1000 ? failing : healthy
  }
}
// Outages that hang: no answer at all, so every check runs into its timeout (soft evidence).
const hangSites: Record<string, () => SiteBehaviour> = {}
for (let i = 0; i < HANGS; i++) {
  const name = `hang-${i}`
  const start = randomStart()
  windows.set(name, { start, end: start + OUTAGE_SEC * 1000 })
  hangSites[name] = () => {
    const now = at()
    return now >= start && now < start + OUTAGE_SEC * 1000 ? { ttfbMs: Number.POSITIVE_INFINITY } : healthy
  }
}
/** From the first request at or after `from` (ms after armedAt), `forMs` of failures. */
const failFromFirstRequest = (
  from: number,
  forMs: number,
  fails: (request: FixtureRequest) => boolean = () => true,
) => {
  let began: number | null = null
  return (request: FixtureRequest) => {
    const now = at()
    if (now < from || !fails(request)) return healthy
    began ??= now
    return now < began + forMs ? failing : healthy
  }
}
const flapSites: Record<string, (request: FixtureRequest) => { status: number }> = {}
for (let i = 0; i < FLAPS; i++) {
  const start = randomStart()
  const end = start + FLAP_OUTAGE_SEC * 1000
  const flap = failFromFirstRequest(end + FLAP_AFTER_SEC * 1000, FLAP_SEC * 1000)
  flapSites[`flap-${i}`] = (request) => {
    const now = at()
    return now >= start && now < end ? failing : flap(request)
  }
}
const localOnlySites: Record<string, (request: FixtureRequest) => { status: number }> = {}
for (let i = 0; i < LOCAL_ONLY; i++) {
  const start = randomStart()
  localOnlySites[`local-only-${i}`] = (request) => {
    const now = at()
    const monitor = request.headers['user-agent'] === MONITOR_AGENT
    return monitor && now >= start && now < start + LOCAL_ONLY_SEC * 1000 ? failing : healthy
  }
}
const blipSites: Record<string, (request: FixtureRequest) => { status: number }> = {}
for (let i = 0; i < BLIPS; i++) blipSites[`blip-${i}`] = failFromFirstRequest(randomStart(), BLIP_SEC * 1000)

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
const scenarios = {
  outage: outageSites,
  hang: hangSites,
  trap: trapSites,
  flap: flapSites,
  localOnly: localOnlySites,
  blip: blipSites,
}
const sites = await startFixtureServer({
  requestLogLimit: 0,
  sites: Object.assign({}, ...Object.values(scenarios)),
})
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
      USER_AGENT: 'jetmon-detection-bench-veriflier',
    }),
  })
  const address = await veriflier.listen()
  verifliers.push({ id, region, url: address.url, token, close: () => veriflier.close({ timeoutMs: 5_000 }) })
}

/** Endpoint ids by scenario, and each endpoint's site name. */
const ids = Object.fromEntries(Object.keys(scenarios).map((k) => [k, [] as bigint[]])) as Record<
  keyof typeof scenarios,
  bigint[]
>
const siteOf = new Map<bigint, string>()
let blogId = 9_000_000n
for (const [scenario, named] of Object.entries(scenarios) as [keyof typeof scenarios, object][]) {
  for (const name of Object.keys(named)) {
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
    ids[scenario].push(endpointId)
    siteOf.set(endpointId, name)
  }
}

const config = v.parse(jetmon2ConfigSchema, {
  HOST_ID: 'bench-detection',
  DNS_SERVERS: [dns.server],
  USER_AGENT: MONITOR_AGENT,
  VERIFLIERS: verifliers.map(({ close: _close, ...rest }) => rest),
  ...settings,
  // Room for every hanging check: with "auto" this small fleet gets a cap of 16, which the hangs fill,
  // and a monitor at its cap gives timeouts no verdict (ADR 0013), which is not what this measures.
  MAX_IN_FLIGHT: 200,
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
armedAt = Date.now()
// Until every outage has ended and had two intervals to be seen recovered, and every flap has run.
const runMs =
  (SPREAD_SEC +
    Math.max(OUTAGE_SEC + 2 * INTERVAL_SEC, FLAP_OUTAGE_SEC + FLAP_AFTER_SEC + INTERVAL_SEC + FLAP_SEC + 30)) *
  1000
log(`armed (${PROFILE}); running ${Math.round(runMs / 1000)} s`)
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
  .where(and(eq(events.checkType, 'http'), inArray(events.endpointId, [...siteOf.keys()])))
interface Incident {
  down: number | null
  closed: number | null
  reason: string | null
}
const incidents = new Map<bigint, Map<bigint, Incident>>()
for (const row of rows) {
  const byEvent = incidents.get(row.endpointId!) ?? new Map<bigint, Incident>()
  const incident = byEvent.get(row.eventId) ?? { down: null, closed: null, reason: null }
  if (row.state === 'Down') incident.down = Math.min(incident.down ?? Infinity, row.changedAt.getTime() - armedAt)
  if (row.endedAt) incident.closed = row.endedAt.getTime() - armedAt
  incident.reason = row.reason ?? null
  byEvent.set(row.eventId, incident)
  incidents.set(row.endpointId!, byEvent)
}
/** An endpoint's incidents, oldest first. */
const of = (endpointId: bigint) =>
  [...(incidents.get(endpointId)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, incident]) => incident)

/** Outage start → first Down and outage end → first close after it, in seconds, for each endpoint. */
function timings(endpointIds: bigint[]) {
  const detection: number[] = []
  const recovery: number[] = []
  let undetected = 0
  let unrecovered = 0
  for (const endpointId of endpointIds) {
    const window = windows.get(siteOf.get(endpointId)!)!
    const list = of(endpointId)
    const down = list.map((i) => i.down).find((d) => d !== null)
    if (down != null) detection.push((down - window.start) / 1000)
    else undetected++
    const closed = list.map((i) => i.closed ?? -1).filter((c) => c >= window.end)
    if (closed.length) recovery.push((Math.min(...closed) - window.end) / 1000)
    else unrecovered++
  }
  return { detection, recovery, undetected, unrecovered }
}
const { detection, recovery, undetected, unrecovered } = timings(ids.outage)
const hang = timings(ids.hang)
const count = (scenario: keyof typeof scenarios, which: (incident: Incident, index: number) => boolean) =>
  ids[scenario].reduce((sum, id) => sum + of(id).filter(which).length, 0)
const all = () => true
const everywhere = Object.keys(scenarios) as (keyof typeof scenarios)[]
const rank = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? Number(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!.toFixed(1)) : null
}
const mean = (values: number[]) =>
  values.length ? Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)) : null
const falseAlarmCloses = everywhere.reduce(
  (sum, scenario) => sum + count(scenario, (i) => i.reason === 'false_alarm'),
  0,
)
process.stdout.write(
  `${JSON.stringify({
    bench: 'detection',
    node: process.version,
    profile: PROFILE,
    intervalSec: INTERVAL_SEC,
    numOfChecks: config.NUM_OF_CHECKS,
    retryIntervalSec: config.RETRY_INTERVAL_SEC,
    quickRecheckSec: config.QUICK_RECHECK_SEC,
    hardFailureChecks: config.HARD_FAILURE_CHECKS,
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
    // Outages that hang (every check times out): reported, not part of the targets.
    hangs: HANGS,
    hangDetectedDown: hang.detection.length,
    hangDetectionSec: { mean: mean(hang.detection), p95: rank(hang.detection, 0.95) },
    hangRecoverySec: { mean: mean(hang.recovery), p95: rank(hang.recovery, 0.95) },
    trapSites: TRAPS,
    trapEvents: count('trap', all),
    flapSites: FLAPS,
    // The first incident of a flap site is its outage; any later one is the flap's.
    flapEvents: ids.flap.reduce((sum, id) => sum + Math.max(0, of(id).length - 1), 0),
    localOnlySites: LOCAL_ONLY,
    localOnlyEvents: count('localOnly', all),
    // Incidents on sites that were not down for everyone: traps, local-only, the flap after a recovery.
    falseAlarms: count('trap', all) + count('localOnly', all) + count('flap', (_i, index) => index > 0),
    // Incidents the verifliers closed as false alarms, in every scenario.
    falseAlarmCloses,
    // Down on a site the verifliers saw up (traps, local-only, the flap after a recovery).
    falseDowns:
      count('trap', (i) => i.down !== null) +
      count('localOnly', (i) => i.down !== null) +
      count('flap', (i, index) => index > 0 && i.down !== null),
    blipSites: BLIPS,
    blipSec: BLIP_SEC,
    blipEvents: count('blip', all),
    blipDowns: count('blip', (i) => i.down !== null),
    durationSec: Math.round((Date.now() - began) / 1000),
    targets: { detectionMeanSec: 40, detectionP95Sec: 65, recoveryP95Sec: 70, trapEvents: 0, flapEvents: 0 },
  })}\n`,
)
for (const veriflier of verifliers) await veriflier.close()
await Promise.all([sites.close(), dns.close()])
await database.close()
await server.stop()
