/**
 * Scheduler memory per endpoint held (docs/operations.md: ≤ 300 bytes, at 100 000 and 1 000 000).
 *
 *   pnpm --filter @jetmon/scheduler run bench:memory
 *
 * Each case runs in its own child process (so one case's garbage does not count against the
 * next): it fills a Scheduler with endpoints at a 5-minute interval, collects garbage, and divides
 * the growth of the V8 heap plus off-heap buffers (typed arrays), and of the RSS, by the count.
 * Prints one JSON line.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type EndpointRow, toEndpointConfig } from '../src/endpoint-config.js'
import { EndpointTable } from '../src/endpoint-table.js'
import { DEFAULT_ENDPOINT_DEFAULTS, Scheduler } from '../src/index.js'

interface Case {
  /** `scheduler`: the due queue alone (the ≤ 300 B target); `source`: the configurations an EndpointSource holds. */
  kind: 'scheduler' | 'source'
  endpoints: number
  /** First id and step: a host owning a third of the buckets sees every third id or so. */
  firstId: number
  step: number
}

const CASES: Record<string, Case> = {
  'scheduler-100k': { kind: 'scheduler', endpoints: 100_000, firstId: 1, step: 3 },
  'scheduler-1M': { kind: 'scheduler', endpoints: 1_000_000, firstId: 1, step: 3 },
  // Ids beyond 2^31 are heap numbers, not small integers, as Map keys: the worst case below 2^53.
  'scheduler-1M-large-ids': { kind: 'scheduler', endpoints: 1_000_000, firstId: 5_000_000_000, step: 3 },
  // For scale: the per-endpoint check configuration the monitor also holds (URLs of ~30 characters).
  'source-100k': { kind: 'source', endpoints: 100_000, firstId: 1, step: 3 },
  'source-1M': { kind: 'source', endpoints: 1_000_000, firstId: 1, step: 3 },
}

/** A row as the database returns it for an endpoint without a config row (the common case). */
function rowFor(id: number): EndpointRow {
  return {
    endpointId: BigInt(id),
    blogId: BigInt(100_000_000 + id),
    bucketNo: id % 1000,
    // Flat, distinct strings, as the driver decodes them.
    url: Buffer.from(`https://site-${id}.example.com/`).toString(),
    active: 1,
    checkInterval: 5,
    checkIntervalSec: null,
    timeoutMs: null,
    requestMethod: null,
    detectionProfile: null,
    redirectPolicy: null,
    maxRedirects: null,
    checkKeyword: null,
    forbiddenKeywords: null,
    keywordCaseSensitive: null,
    customHeaders: null,
    latencyThresholdMs: null,
    tlsExpiryWarnDays: null,
    alertCooldownMinutes: null,
    tenantOwned: 0,
  }
}

function measure(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 4; i++) gc()
  const usage = process.memoryUsage()
  return { heap: usage.heapUsed + usage.external, rss: usage.rss }
}

function runCase(name: string): void {
  const spec = CASES[name]
  if (!spec) throw new Error(`unknown case ${name}`)
  const before = measure()
  let held: Scheduler | EndpointTable
  const started = process.hrtime.bigint()
  if (spec.kind === 'scheduler') {
    const scheduler = new Scheduler({ maxInFlight: 1000, run: async () => {} })
    for (let i = 0; i < spec.endpoints; i++) scheduler.upsert(BigInt(spec.firstId + i * spec.step), 300_000)
    held = scheduler
  } else {
    // What EndpointSource keeps: its compact table of configurations.
    const table = new EndpointTable()
    for (let i = 0; i < spec.endpoints; i++) {
      const id = spec.firstId + i * spec.step
      table.set(toEndpointConfig(rowFor(id), DEFAULT_ENDPOINT_DEFAULTS))
    }
    held = table
  }
  const upsertNs = Number(process.hrtime.bigint() - started) / spec.endpoints
  const after = measure()
  if (held.size !== spec.endpoints) throw new Error('lost endpoints')
  process.stdout.write(
    JSON.stringify({
      case: name,
      kind: spec.kind,
      endpoints: spec.endpoints,
      bytesPerEndpoint: Math.round((after.heap - before.heap) / spec.endpoints),
      rssBytesPerEndpoint: Math.round((after.rss - before.rss) / spec.endpoints),
      insertNsPerEndpoint: Math.round(upsertNs),
    }),
  )
}

const only = process.argv[2]
if (only) runCase(only)
else {
  const self = fileURLToPath(import.meta.url)
  const results = Object.keys(CASES).map((name) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, name], { encoding: 'utf8' })),
  )
  console.log(JSON.stringify({ bench: 'scheduler-memory', node: process.version, targetBytes: 300, results }))
}
