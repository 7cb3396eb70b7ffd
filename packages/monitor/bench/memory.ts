/**
 * The confirmation pipeline's memory per endpoint, for healthy endpoints (nearly all of a fleet):
 *
 *   pnpm --filter @jetmon/monitor run bench:memory
 *
 * Runs BENCH_ENDPOINTS (default 200 000) passing checks through a ConfirmationPipeline whose
 * database answers every read with no rows, collects garbage, and divides the growth of the V8
 * heap by the count (the endpoints themselves are built before the first measurement). Prints one
 * JSON line.
 */
import type { CheckResult } from '@jetmon/checker'
import type { Db } from '@jetmon/db'
import { ConfirmationPipeline, type MonitoredEndpoint } from '../src/pipeline.js'

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 200_000)

function measure(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 4; i++) gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

// A database with nothing in it: every statement built on it resolves to no rows.
const empty: Db = new Proxy(() => {}, {
  get: (_target, key) => (key === 'then' ? (resolve: (rows: unknown[]) => void) => resolve([]) : () => empty),
  apply: () => empty,
}) as unknown as Db

const passed = {
  url: 'https://example.com/',
  finalUrl: 'https://example.com/',
  method: 'GET',
  startedAt: new Date().toISOString(),
  httpStatus: 200,
  errorCode: 0,
  error: null,
  detail: null,
  timings: { dnsMs: 1, tcpMs: 1, tlsMs: 1, ttfbMs: 5, totalMs: 8 },
  redirects: [],
} as unknown as CheckResult

const endpoints: MonitoredEndpoint[] = []
for (let i = 0; i < ENDPOINTS; i++) {
  endpoints.push({
    endpointId: BigInt(1 + i * 3),
    blogId: BigInt(100_000_000 + i),
    url: `https://site-${i}.example.com/`,
    intervalMs: 300_000,
    timeoutMs: 10_000,
    method: 'GET',
    redirectPolicy: 'follow',
    maxRedirects: 10,
    keyword: null,
    forbiddenKeywords: null,
    keywordCaseSensitive: false,
    customHeaders: null,
    latencyThresholdMs: i % 4 === 0 ? 5_000 : null,
    tlsExpiryWarnDays: 30,
    alertCooldownMinutes: null,
  })
}
const pipeline = new ConfirmationPipeline({
  db: empty,
  check: async () => passed,
  decide: () => 'inconclusive',
  followEveryMs: 3_600_000,
  settings: {
    hostId: 'bench',
    numOfChecks: 3,
    retryIntervalMs: 10_000,
    failedCheckIntervalMs: 60_000,
    flapWindowMs: 300_000,
    veriflierCount: 0,
    quorum: 1,
    projection: false,
  },
})
await pipeline.preload()
// Held from a global: nothing measured may be collected early.
;(globalThis as { held?: unknown }).held = { endpoints, pipeline }
const before = measure()
const cpu0 = process.cpuUsage()
for (let round = 0; round < 2; round++) for (const endpoint of endpoints) await pipeline.check(endpoint)
const cpu = process.cpuUsage(cpu0)
const cpuUsPerCheck = (cpu.user + cpu.system) / (2 * ENDPOINTS)
const after = measure()
process.stdout.write(
  `${JSON.stringify({
    bench: 'monitor-memory',
    node: process.version,
    endpoints: ENDPOINTS,
    pipelineBytesPerEndpoint: Math.round((after - before) / ENDPOINTS),
    cpuUsPerCheck: Number(cpuUsPerCheck.toFixed(2)),
  })}\n`,
)
// What is measured stays reachable until the end.
;(globalThis as { held?: unknown }).held = undefined
