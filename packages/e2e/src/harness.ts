/**
 * The pieces the fault suite is made of: a private MariaDB it may kill and restart, real `jetmon2`
 * and `veriflier2` processes it may kill with SIGKILL, and loopback peers (a WordPress.com receiver,
 * a webhook receiver, a TCP relay that can cut a link) whose failures it switches on and off.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { startEmbeddedMariadb } from '@jetmon/db'
import { waitFor as waitUntil } from '@jetmon/testkit'

export const ROOT = join(import.meta.dirname, '..', '..', '..')

// The built programs, as operators run them (`pnpm test:faults` builds first): a crash and a
// restart should cost what they cost in production, not a TypeScript transpile.
const ENTRIES = {
  jetmon2: join(ROOT, 'apps/jetmon2/dist/cli.js'),
  veriflier2: join(ROOT, 'apps/veriflier2/dist/cli.js'),
} as const

/** The test kit's `waitFor` with the fault suite's patience: 45 s by default, a probe every 200 ms. */
export function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 45_000): Promise<NonNullable<T>> {
  return waitUntil(what, probe, { timeoutMs, intervalMs: 200 })
}

export interface Service {
  name: string
  child: ChildProcess
  /** Every line it printed so far, stdout and stderr interleaved. */
  readonly output: string[]
  /** The first line (already printed or still to come) that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** SIGKILL: no drain, no cleanup, as a crash or the OOM killer would do it. */
  kill9(): Promise<void>
  /** SIGTERM and wait for the exit; the exit code. */
  stop(): Promise<number | null>
}

const running = new Set<Service>()

/** Starts `jetmon2 …` or `veriflier2 …` from source and waits for the line that says it is ready. */
export async function startService(
  name: string,
  program: keyof typeof ENTRIES,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<Service> {
  const child = spawn(process.execPath, [ENTRIES[program], ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', LOG_FORMAT: 'json', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      output.push(line)
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
    })
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const service: Service = {
    name,
    child,
    output,
    line(pattern, timeoutMs = 30_000) {
      const seen = output.find((line) => pattern.test(line))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} printed no line matching ${pattern}:\n${output.slice(-30).join('\n')}`)),
          timeoutMs,
        )
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
        })
        void exited.then((code) => {
          clearTimeout(timer)
          reject(new Error(`${name} exited (${code}) before printing ${pattern}:\n${output.slice(-30).join('\n')}`))
        })
      })
    },
    async kill9() {
      running.delete(service)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    async stop() {
      running.delete(service)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
  running.add(service)
  await service.line(ready, 60_000)
  return service
}

/** Kills whatever the suite left running (afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((service) => service.kill9()))
}

/** Writes a configuration file for one process and returns the environment that points at it. */
export function configFile(dir: string, name: string, config: Record<string, unknown>): NodeJS.ProcessEnv {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config, null, 2))
  return { JETMON_CONFIG: file }
}

export interface PrivateDatabase {
  /** Server URL (no database chosen by the caller's scratch databases). */
  url: string
  /** SIGKILL the server (a crash: InnoDB recovers at the next start), wait, start it on the same port. */
  crashAndRestart(downMs: number): Promise<void>
  stop(): Promise<void>
}

/**
 * The suite's own MariaDB, apart from the one the rest of the tests share, because one scenario
 * crashes it. Same launcher as the demo and the tests.
 */
export async function startPrivateDatabase(dir: string): Promise<PrivateDatabase> {
  let server = await startEmbeddedMariadb({ dir, database: 'jetmon_faults' })
  const port = server.port
  return {
    url: server.url,
    async crashAndRestart(downMs) {
      const pid = server.pid
      process.kill(pid, 'SIGKILL')
      await waitFor('the killed MariaDB to be gone', () => {
        try {
          process.kill(pid, 0)
          return false
        } catch {
          return true
        }
      })
      await sleep(downMs)
      server = await startEmbeddedMariadb({ dir, database: 'jetmon_faults', port })
    },
    async stop() {
      await server.stop()
    },
  }
}

export interface WpcomNotice {
  blog_id: number
  status_id: number
  at: number
}

/** A WordPress.com notification endpoint that records what it accepts and can be made to fail. */
export interface WpcomReceiver {
  url: string
  /** `ok`: 200; `failing`: 500 (nothing is accepted). */
  mode: 'ok' | 'failing'
  /** Accepted notices, in order. */
  readonly accepted: WpcomNotice[]
  /** Every request, accepted or not. */
  attempts: number
  close(): Promise<void>
}

export async function startWpcomReceiver(): Promise<WpcomReceiver> {
  const receiver = { mode: 'ok' as 'ok' | 'failing', accepted: [] as WpcomNotice[], attempts: 0 }
  const server = createServer((req, res) => {
    readBody(req).then((body) => {
      receiver.attempts++
      if (receiver.mode === 'failing') {
        res.writeHead(500).end('{"error":"unavailable"}')
        return
      }
      const notice = JSON.parse(body) as WpcomNotice
      receiver.accepted.push({ blog_id: Number(notice.blog_id), status_id: Number(notice.status_id), at: Date.now() })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    }, res.destroy.bind(res))
  })
  const url = await listen(server, '/wpcom/notify')
  return Object.assign(receiver, { url, close: () => close(server) })
}

export interface HookReceipt {
  delivery: string
  transitionId: string
  at: number
}

/** A webhook receiver that records deliveries and can hold requests open without answering. */
export interface HookReceiver {
  url: string
  /** When true, requests are held open (never answered) until `release()` or the client gives up. */
  hold: boolean
  readonly received: HookReceipt[]
  /** Requests currently held open. */
  held(): number
  release(): void
  close(): Promise<void>
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const received: HookReceipt[] = []
  const holding = new Set<ServerResponse>()
  const receiver = { hold: false }
  const server = createServer((req, res) => {
    readBody(req).then((body) => {
      if (receiver.hold) {
        holding.add(res)
        res.once('close', () => holding.delete(res))
        return
      }
      const payload = JSON.parse(body) as { transition?: { id?: string | number } }
      received.push({
        delivery: String(req.headers['x-jetmon-delivery'] ?? ''),
        transitionId: String(payload.transition?.id ?? ''),
        at: Date.now(),
      })
      res.writeHead(200).end('ok')
    }, res.destroy.bind(res))
  })
  const url = await listen(server, '/hooks')
  return Object.assign(receiver, {
    url,
    received,
    held: () => holding.size,
    release() {
      for (const res of holding) res.destroy()
      holding.clear()
    },
    close: () => {
      for (const res of holding) res.destroy()
      return close(server)
    },
  })
}

/**
 * A TCP relay in front of a peer. `cut()` partitions the link the way a dead network does: new
 * connections are accepted and then never answered, and open ones go silent; `heal()` restores it.
 */
export interface Relay {
  url: string
  cut(): void
  heal(): void
  close(): Promise<void>
}

export async function startRelay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target)
  let partitioned = false
  const sockets = new Set<Socket>()
  const server = createTcpServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    if (partitioned) return // a black hole: the bytes go nowhere and nothing comes back
    const upstream = connect(Number(port), hostname)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    cut() {
      partitioned = true
      // Open connections stop carrying anything: unpipe and let them hang.
      for (const socket of sockets) {
        socket.unpipe()
        socket.pause()
      }
    },
    heal() {
      partitioned = false
      for (const socket of sockets) socket.destroy()
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

async function listen(server: Server, path: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`
}

function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * What one scenario lost or doubled. `lost` must be 0 for the scenario to pass; `duplicates` are
 * what at-least-once delivery allows (a notice sent again after a crash), counted so they are seen.
 */
export interface Ledger {
  lost: number
  duplicates: number
  detail?: string
}

/** Counts, for each expected key, whether it arrived (lost when not) and how often beyond once. */
export function tally(expected: Iterable<string>, arrived: Iterable<string>): Ledger {
  const counts = new Map<string, number>()
  for (const key of arrived) counts.set(key, (counts.get(key) ?? 0) + 1)
  let lost = 0
  let duplicates = 0
  const missing: string[] = []
  for (const key of new Set(expected)) {
    const n = counts.get(key) ?? 0
    if (n === 0) {
      lost++
      missing.push(key)
    } else duplicates += n - 1
  }
  return { lost, duplicates, ...(missing.length ? { detail: `missing: ${missing.join(', ')}` } : {}) }
}
