/**
 * The recorder's memory per endpoint: the pending hourly rollups (held up to an hour and two
 * minutes) and the endpoint state entries (held up to a state flush period).
 *
 *   pnpm --filter @jetmon/history run bench:memory
 *
 * Records four passing local checks, ten minutes apart, for each of BENCH_ENDPOINTS endpoints
 * (default 200 000; RTTs over a few buckets) into a CheckRecorder whose database accepts every statement, collects
 * garbage and measures the V8 heap with its typed arrays; then flushes the state entries (the hour
 * is not over: the rollups stay) and measures again. Prints one JSON line.
 */
import type { Db } from '@jetmon/db'
import { CheckRecorder } from '../src/index.js'

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 200_000)
const T0 = Date.UTC(2030, 0, 1, 10)

function measure(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 4; i++) gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

// A database that takes every statement.
const accepting: Db = new Proxy(() => {}, {
  get: (_target, key) => (key === 'then' ? (resolve: (rows: unknown[]) => void) => resolve([]) : () => accepting),
  apply: () => accepting,
}) as unknown as Db

let now = T0
const recorder = new CheckRecorder({
  db: accepting,
  historyMode: 'failures',
  clock: () => new Date(now),
  timers: { setTimeout: () => 0, clearTimeout: () => {} },
})
// The endpoints' ids, as the monitor holds them anyway.
const ids = Array.from({ length: ENDPOINTS }, (_, i) => BigInt(1 + i * 3))
const blogIds = ids.map((id) => id + 100_000_000n)
;(globalThis as { held?: unknown }).held = { recorder, ids, blogIds }
const before = measure()
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < ENDPOINTS; i++) {
    const failed = false // failures mode: no history row is held
    const rtt = 20 + ((i * 7 + round * 13) % 5) * 40
    recorder.record({
      endpointId: ids[i]!,
      blogId: blogIds[i]!,
      checkedAt: new Date(T0 + round * 600_000 + (i % 600_000)),
      vantage: 'local',
      method: 'GET',
      httpCode: failed ? null : 200,
      errorCode: failed ? 2 : 0,
      rttMs: failed ? null : rtt,
      dnsMs: 1,
      tcpMs: 1,
      tlsMs: null,
      ttfbMs: rtt,
      failed,
    })
  }
}
const all = measure()
now = T0 + 40 * 60_000
await recorder.tick() // the state period is over, the hour is not
const rollupsOnly = measure()
const stats = recorder.stats()
process.stdout.write(
  `${JSON.stringify({
    bench: 'history-memory',
    node: process.version,
    endpoints: ENDPOINTS,
    pendingRollups: stats.pendingRollups,
    rollupBytesPerEndpoint: Math.round((rollupsOnly - before) / ENDPOINTS),
    stateBytesPerEndpoint: Math.round((all - rollupsOnly) / ENDPOINTS),
  })}\n`,
)
;(globalThis as { held?: unknown }).held = undefined
