// `pnpm --filter @jetmon/delivery bench` (or `pnpm bench:delivery`): delivery against a real
// MariaDB and a local webhook receiver (a separate process). Prints one JSON line:
//
// 1. latency: transitions written at a steady rate (BENCH_RATE per second, default 20, for
//    BENCH_SECONDS, default 30) through the event store while startDelivery runs both dispatchers
//    and workers in this process; transition committed → webhook POST received, p50/p95/max.
//    Target (docs/operations.md): p95 ≤ 3 s.
// 2. drain: BENCH_DRAIN deliveries (default 10 000) queued at once over BENCH_DRAIN_WEBHOOKS
//    webhooks (default 20), drained by one worker (pool 50, 3 per webhook). Target ≥ 200/s. The
//    same for one webhook alone (its 3-in-flight cap is then the limit), with BENCH_DRAIN_ONE
//    deliveries (default 2 000).
//
// Database: BENCH_DATABASE_URL (a server URL; a scratch database is created on it) or an embedded
// MariaDB in a temporary folder, whose CPU is then reported too.
import { fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import {
  createScratchDatabase,
  type Db,
  dispatchCursors,
  type EmbeddedMariadb,
  monitorSites,
  startEmbeddedMariadb,
  webhookDeliveries,
  webhooks,
} from '@jetmon/db'
import { closeEvent, openEvent } from '@jetmon/eventstore'
import { generateWebhookSecret, secretPreview } from '@jetmon/webhooks'
import { count, eq } from 'drizzle-orm'
import { createWebhookSender, DeliveryWorker, SendPool, startDelivery } from '../src/index.js'

const RATE = Number(process.env.BENCH_RATE ?? 20)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const DRAIN = Number(process.env.BENCH_DRAIN ?? 10_000)
const DRAIN_WEBHOOKS = Number(process.env.BENCH_DRAIN_WEBHOOKS ?? 20)
const DRAIN_ONE = Number(process.env.BENCH_DRAIN_ONE ?? 2_000)
const TICK_MS = 10 // /proc/<pid>/stat counts CPU in ticks of 10 ms (USER_HZ = 100)

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits
const cpuMicros = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** Warnings and errors go to stderr (the JSON line stays alone on stdout). */
const stderrLogger = {
  debug: () => {},
  info: () => {},
  warn: (obj: object | string, msg?: string) =>
    process.stderr.write(
      `WARN ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v))}\n`,
    ),
  error: (obj: object | string, msg?: string) =>
    process.stderr.write(
      `ERROR ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v))}\n`,
    ),
}

type Received = [deliveryId: string | null, transitionId: number | string | null, receivedAt: number]

async function startReceiver() {
  const child = fork(fileURLToPath(new URL('receiver.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const listeners = new Set<(message: Received) => void>()
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.on('message', (message) => {
      if (Array.isArray(message)) for (const listener of listeners) listener(message as Received)
      else resolve((message as { port: number }).port)
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    onRequest(listener: (message: Received) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stop() {
      child.disconnect()
      child.kill()
    },
  }
}

async function createWebhook(db: Db, url: string): Promise<bigint> {
  const secret = generateWebhookSecret()
  const [header] = await db.insert(webhooks).values({
    url,
    events: [],
    siteFilter: { blog_ids: [] },
    stateFilter: [],
    secret: Buffer.from(secret),
    secretPreview: secretPreview(secret),
    createdBy: 'bench',
  })
  return BigInt(header.insertId)
}

async function latencyRun(db: Db, receiver: Awaited<ReturnType<typeof startReceiver>>) {
  const webhookId = await createWebhook(db, `${receiver.origin}/latency`)
  const written = new Map<string, number>()
  const latencies: number[] = []
  const stopListening = receiver.onRequest(([, transitionId, receivedAt]) => {
    const at = written.get(String(transitionId))
    if (at !== undefined) latencies.push(receivedAt - at)
  })
  const delivery = startDelivery({
    db,
    logger: stderrLogger,
    secretsKey: null,
    allowPrivateTargets: true,
    alertSender: { send: async () => ({ ok: true, statusCode: 200, response: '', retryable: false }) },
  })
  // The first passes create the cursors at the newest transition: write only after that.
  while ((await db.select({ n: count() }).from(dispatchCursors))[0]?.n !== 2) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // One endpoint per transition pair; opens and closes alternate as in a real fleet.
  const total = RATE * SECONDS
  const intervalMs = 1_000 / RATE
  const open: bigint[] = []
  const t0 = performance.now()
  const cpu0 = cpuMicros()
  for (let n = 0; n < total; n++) {
    const due = t0 + n * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const ctx = { db, source: 'monitor:bench' }
    let transitionId: bigint | undefined
    if (n % 2 === 1 && open.length > 0) {
      const closed = await closeEvent({ ctx, input: { eventId: open.shift()!, reason: 'probe_cleared' } })
      transitionId = closed.transition?.id
    } else {
      const blogId = BigInt(1_000_000 + n)
      const [site] = await db.insert(monitorSites).values({ blogId, monitorUrl: `https://site-${n}.bench.test/` })
      const opened = await openEvent({
        ctx,
        input: { blogId, endpointId: BigInt(site.insertId), checkType: 'http', state: 'Seems Down' },
      })
      open.push(opened.event.id)
      transitionId = opened.transition?.id
    }
    if (transitionId !== undefined) written.set(String(transitionId), Date.now())
  }
  const deadline = Date.now() + 15_000
  while (latencies.length < written.size && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50))
  const cpuUs = cpuMicros() - cpu0
  await delivery.stop()
  stopListening()
  const [rows] = await db
    .select({ n: count() })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
  latencies.sort((a, b) => a - b)
  return {
    transitions: written.size,
    rate_per_s: RATE,
    seconds: SECONDS,
    received: latencies.length,
    delivery_rows: Number(rows?.n ?? 0),
    latency_ms_p50: percentile(latencies, 50),
    latency_ms_p95: percentile(latencies, 95),
    latency_ms_max: latencies.at(-1) ?? null,
    process_cpu_us_per_transition: round(cpuUs / Math.max(1, written.size)),
  }
}

async function drainRun(
  db: Db,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  deliveries: number,
  webhookCount: number,
  serverPid: number | null,
) {
  const ids: bigint[] = []
  for (let n = 0; n < webhookCount; n++) ids.push(await createWebhook(db, `${receiver.origin}/drain/${n}`))
  const due = new Date(Date.now() - 1_000)
  const rows = Array.from({ length: deliveries }, (_, n) => ({
    webhookId: ids[n % webhookCount]!,
    transitionId: BigInt(10_000_000 + n),
    eventId: 1n,
    blogId: 1n,
    eventType: 'event.opened',
    payload: { id: 0, type: 'event.opened', occurred_at: due.toISOString(), transition: { id: 10_000_000 + n } },
    status: 'pending' as const,
    attempt: 0,
    nextAttemptAt: due,
    createdAt: due,
  }))
  for (let i = 0; i < rows.length; i += 1_000) await db.insert(webhookDeliveries).values(rows.slice(i, i + 1_000))

  let received = 0
  let done!: () => void
  const allReceived = new Promise<void>((resolve) => {
    done = resolve
  })
  const stopListening = receiver.onRequest(() => {
    if (++received === deliveries) done()
  })
  const worker = new DeliveryWorker({
    db,
    sender: createWebhookSender({ allowPrivateTargets: true }),
    pool: new SendPool(50),
  })
  const dbCpu0 = serverPid ? procCpuMs(serverPid) : 0
  const receiverCpu0 = procCpuMs(receiver.pid)
  const cpu0 = cpuMicros()
  const t0 = performance.now()
  worker.start()
  await allReceived
  // Until every outcome is recorded, not only sent.
  await worker.stop()
  const seconds = (performance.now() - t0) / 1_000
  const cpuUs = cpuMicros() - cpu0
  stopListening()
  const [left] = await db.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending'))
  await db.delete(webhookDeliveries)
  return {
    deliveries,
    webhooks: webhookCount,
    seconds: round(seconds, 2),
    per_s: round(deliveries / seconds),
    still_pending: Number(left?.n ?? 0),
    worker_cpu_us_per_delivery: round(cpuUs / deliveries),
    db_cpu_us_per_delivery: serverPid ? round(((procCpuMs(serverPid) - dbCpu0) * 1_000) / deliveries) : null,
    receiver_cpu_us_per_delivery: round(((procCpuMs(receiver.pid) - receiverCpu0) * 1_000) / deliveries),
  }
}

async function main(): Promise<void> {
  let server: EmbeddedMariadb | null = null
  let dir: string | null = null
  let serverUrl = process.env.BENCH_DATABASE_URL
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'jetmon-delivery-bench-'))
    server = await startEmbeddedMariadb({ dir, database: 'jetmon_bench' })
    serverUrl = server.url
  }
  const database = await createScratchDatabase(serverUrl, { prefix: 'jt_bench_' })
  const receiver = await startReceiver()
  try {
    const drain = await drainRun(database.db, receiver, DRAIN, DRAIN_WEBHOOKS, server?.pid ?? null)
    const drainOne = await drainRun(database.db, receiver, DRAIN_ONE, 1, server?.pid ?? null)
    await database.db.delete(webhooks)
    const latency = await latencyRun(database.db, receiver)
    process.stdout.write(
      `${JSON.stringify({
        bench: 'delivery',
        node: process.version,
        latency,
        latency_target_p95_ms: 3_000,
        drain,
        drain_one_webhook: drainOne,
        drain_target_per_s: 200,
      })}\n`,
    )
  } finally {
    receiver.stop()
    await database.drop()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
