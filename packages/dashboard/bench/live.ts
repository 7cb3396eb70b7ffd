// `pnpm bench:dashboard`: the dashboard's live rule (packages/dashboard/README.md) — a state change reaches an open page within
// 2 s without a reload. A real dashboard (served over HTTP, as the monitor's ops server does) over
// an embedded MariaDB holding BENCH_SITES sites (default 10 000) with open incidents on 1 % of
// them; one page's stream open on /live, as a browser's EventSource would be. BENCH_CHANGES
// changes (default 60) are written through the event store at random moments, so that they fall
// anywhere in the dashboard's poll interval. For each one it measures, from the commit:
//   - `message`: its `change` message arriving on the page's stream;
//   - `page`: the page's fresh fragment (what app.ts fetches on a change) received, and showing
//     the site in its new state.
// Prints one JSON line with the percentiles of both.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createScratchDatabase, noopLogger, startEmbeddedMariadb } from '@jetmon/db'
import { closeEvent, openEvent } from '@jetmon/eventstore'
import { createDashboard } from '../src/index.js'

const SITES = Number(process.env.BENCH_SITES ?? 10_000)
const CHANGES = Number(process.env.BENCH_CHANGES ?? 60)
const ROOT = join(import.meta.dirname, '..', '..', '..')
const FIRST_BLOG = 2_000_000
const TARGET_MS = 2_000

const log = (message: string) => process.stderr.write(`${message}\n`)
const server = await startEmbeddedMariadb({ dir: join(ROOT, '.jetmon', 'bench-db') })
// A fresh, migrated database of its own, dropped at the end.
const database = await createScratchDatabase(server.url, { prefix: 'jetmon_dashboard_bench_' })

// ── the fleet: sites, and open incidents on 1 % of them ─────────────────────────────────────
for (let from = 0; from < SITES; from += 5_000) {
  const rows: string[] = []
  for (let i = from; i < Math.min(SITES, from + 5_000); i++) {
    rows.push(`(${i + 1}, ${FIRST_BLOG + i}, ${i % 1000}, 'https://live-${i}.example.com/', 1, 5)`)
  }
  await database.pool.query(
    `INSERT INTO jetpack_monitor_sites (jetpack_monitor_site_id, blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES ${rows.join(',')}`,
  )
}
const ctx = { db: database.db, source: 'bench:dashboard', projection: false }
for (let i = 0; i < SITES; i += 100) {
  await openEvent({
    ctx,
    input: { blogId: BigInt(FIRST_BLOG + i), endpointId: BigInt(i + 1), checkType: 'http', state: 'Down' },
  })
}
log(`${SITES} sites, ${Math.ceil(SITES / 100)} open incidents`)

// ── the dashboard, served as the ops server serves it ───────────────────────────────────────
const dashboard = createDashboard({ db: database.db, bind: '127.0.0.1', logger: noopLogger })
const http = createServer((req, res) => {
  dashboard.handle(req, res).then(
    (handled) => {
      if (!handled) res.writeHead(404).end()
    },
    () => res.destroy(),
  )
})
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

// ── one open page: its stream, parsed into change messages ──────────────────────────────────
const waiting = new Map<string, (at: number) => void>()
const stream = await fetch(`${base}/live`, { headers: { accept: 'text/event-stream' } })
if (!stream.ok || !stream.body) throw new Error(`/live answered ${stream.status}`)
void (async () => {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream.body as AsyncIterable<Uint8Array>) {
    const at = performance.now()
    buffered += decoder.decode(chunk, { stream: true })
    let end = buffered.indexOf('\n\n')
    while (end !== -1) {
      const frame = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n')
      if (data) {
        const message = JSON.parse(data) as { blogs?: string[] }
        for (const blog of message.blogs ?? []) waiting.get(blog)?.(at)
      }
      end = buffered.indexOf('\n\n')
    }
  }
})().catch(() => {})

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN)
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const messageMs: number[] = []
const pageMs: number[] = []
for (let n = 0; n < CHANGES; n++) {
  await sleep(Math.random() * 1_500)
  // A healthy site (not one of the open 1 %) goes Down.
  const i = n * 100 + 50
  const blog = String(FIRST_BLOG + i)
  const arrived = new Promise<number>((resolve) => waiting.set(blog, resolve))
  const committed = performance.now()
  const { event } = await openEvent({
    ctx,
    input: { blogId: BigInt(blog), endpointId: BigInt(i + 1), checkType: 'http', state: 'Down' },
  })
  const writtenAt = performance.now()
  const messageAt = await Promise.race([arrived, sleep(15_000).then(() => Number.NaN)])
  waiting.delete(blog)
  if (Number.isNaN(messageAt)) throw new Error(`no change message for site ${blog} within 15 s`)
  // What the page does on a message: fetch its fragment, which must show the site as Down.
  const fragment = await fetch(`${base}/?fragment=1`, { headers: { accept: 'application/json' } })
  const body = await fragment.text()
  const pageAt = performance.now()
  if (!fragment.ok || !body.includes(`live-${i}.example.com`)) {
    throw new Error(`the page's fragment does not show site ${blog} after its change (HTTP ${fragment.status})`)
  }
  // The commit is somewhere between the call and its return: measure from its return (the later).
  messageMs.push(messageAt - writtenAt)
  pageMs.push(pageAt - writtenAt)
  if (writtenAt - committed > 500) log(`slow write: ${Math.round(writtenAt - committed)} ms`)
  await closeEvent({ ctx, input: { eventId: event.id, reason: 'verifier_cleared' } })
}

const summary = (values: number[]) => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  max: percentile(values, 100),
})
process.stdout.write(
  `${JSON.stringify({
    bench: 'dashboard-live',
    node: process.version,
    sites: SITES,
    changes: CHANGES,
    messageMs: summary(messageMs),
    pageMs: summary(pageMs),
    targetMs: TARGET_MS,
    meets: percentile(pageMs, 95) <= TARGET_MS,
  })}\n`,
)

await dashboard.close()
await new Promise<void>((resolve) => {
  http.close(() => resolve())
  http.closeAllConnections()
})
await database.drop()
await server.stop()
