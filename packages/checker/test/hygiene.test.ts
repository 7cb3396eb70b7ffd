import { type AddressInfo, createServer, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { gzipSync } from 'node:zlib'
import {
  type DnsServer,
  type FixtureServer,
  fixturePage,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type CheckRequest, createChecker } from '../src/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let sites: FixtureServer
let dns: DnsServer

beforeAll(async () => {
  const gzip = { 'content-encoding': 'gzip' }
  sites = await startFixtureServer({
    requestLogLimit: 0,
    sites: {
      // Compressed bodies: decoded to the end, cut by the time budget, inflating past the byte budget, not gzip at all.
      gzip: { headers: gzip, body: gzipSync(fixturePage('gzip')) },
      'gzip-stall': {
        headers: gzip,
        body: gzipSync(fixturePage('gzip-stall')),
        pacing: { kind: 'stall', afterBytes: 64 },
      },
      'gzip-bomb': { headers: gzip, body: gzipSync(Buffer.alloc(4 * 1024 * 1024, 'x')) },
      'gzip-corrupt': { headers: gzip, body: fixturePage('plain') },
    },
  })
  dns = await startDnsServer({ zone: sites.zone() })
})

afterAll(async () => {
  await Promise.all([sites?.close(), dns?.close()])
})

/** Handles, sockets and timers alive in this process, by type. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

async function settle(baseline: Record<string, number>): Promise<Record<string, number>> {
  // Server-side sockets of the in-process fixture close a moment after the client's.
  const deadline = Date.now() + 10_000
  let now = resources()
  while (Date.now() < deadline && Object.entries(now).some(([type, n]) => n > (baseline[type] ?? 0))) {
    await new Promise((r) => setTimeout(r, 50))
    now = resources()
  }
  return now
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

it('leaves no sockets, timers or memory behind after 3 000 checks against failing and slow targets', async () => {
  const check = createChecker({ dnsServers: [dns.server], ca: sites.ca, limits: { bodyMaxMs: 100 } })
  const targets: CheckRequest[] = [
    { url: `http://127.0.0.1:${sites.refusedPort}/` },
    { url: sites.url('status-500') },
    { url: sites.url('truncated-length') },
    { url: sites.url('nokeyword'), keyword: 'absent' },
    { url: `http://127.0.0.1:${sites.stalledPort}/`, timeoutMs: 60 },
    { url: sites.url('stall-body', '/?after=128') }, // stopped by the 100 ms body budget
    { url: sites.url('stall-body', '/?after=128'), profile: 'legacy' }, // closed after the headers
    { url: 'http://nxdomain.dns.test/' },
    { url: sites.url('loop-a') },
    { url: sites.url('expired', '/', { https: true }) },
    { url: `https://127.0.0.1:${sites.stalledPort}/`, timeoutMs: 60 },
    { url: sites.url('gzip'), keyword: 'absent' },
    { url: sites.url('gzip-stall'), keyword: 'absent' },
    { url: sites.url('gzip-bomb'), keyword: 'absent' },
    { url: sites.url('gzip-corrupt'), keyword: 'absent' },
  ]
  const run = async (total: number) => {
    let next = 0
    const errors = new Map<string, number>()
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < total) {
          const target = targets[next++ % targets.length] as CheckRequest
          const result = await check(target)
          errors.set(String(result.error), (errors.get(String(result.error)) ?? 0) + 1)
        }
      }),
    )
    return errors
  }

  await run(500) // warm up: lazily created internals are not leaks
  const baseline = await settle(resources())
  const heapBefore = heapAfterGc()

  // Every target 200 times: a handle kept by any one path shows at once; slow growth of memory is
  // pnpm bench:checker's soak (100 000 checks) to find.
  const errors = await run(3_000)
  // Every target failed, each in its own way.
  expect([...errors.keys()].sort()).toEqual(
    [
      'connect',
      'dns',
      'http_status',
      'keyword',
      'null',
      'partial_response',
      'redirect',
      'timeout',
      'tls_expired',
    ].sort(),
  )
  expect([...errors.values()].reduce((a, b) => a + b, 0)).toBe(3_000)

  const after = await settle(baseline)
  for (const [type, count] of Object.entries(after)) {
    expect(count, `${type} handles`).toBeLessThanOrEqual(baseline[type] ?? 0)
  }
  const growth = heapAfterGc() - heapBefore
  // 4 MiB: a check's own state (about 2 KiB) kept by every check would show.
  expect(growth, `heap grew by ${Math.round(growth / 1024)} KiB`).toBeLessThan(4 * 1024 * 1024)
}, 120_000)

/** A server answering every request with a small page; `close` says when (if ever) it closes the connection. */
async function rawSite(close: (socket: Socket) => void) {
  const events: string[] = []
  const closed: Promise<void>[] = []
  const server = createServer((socket) => {
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())))
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n<html>a page</html>\r\n')
      close(socket)
    })
    socket.once('end', () => events.push('client closed'))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/`, events, closed, server }
}

it('leaves a finished connection for the server to close, as Connection: close asks', async () => {
  const site = await rawSite((socket) => {
    // The server takes its time: a client that closes first would be seen before this.
    setTimeout(() => {
      site.events.push('server closed')
      socket.end()
    }, 200)
  })
  try {
    const result = await createChecker()({ url: site.url })
    expect(result.ok).toBe(true)
    await site.closed[0]
    expect(site.events).toEqual(['server closed', 'client closed'])
  } finally {
    site.server.close()
  }
})

it('closes a finished connection the server keeps open, without holding the result or the process', async () => {
  const site = await rawSite(() => {})
  try {
    const started = performance.now()
    // The result is only weakly held here: the connection still open must not keep it alive.
    const result = await createChecker()({ url: site.url }).then((r) => ({ ok: r.ok, ref: new WeakRef(r) }))
    expect(result.ok).toBe(true)
    // The result does not wait for the connection to close.
    expect(performance.now() - started).toBeLessThan(1_000)
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    expect(site.events).toEqual([])
    expect(result.ref.deref(), 'the result, kept by the lingering connection').toBeUndefined()
    await site.closed[0]
    expect(site.events).toEqual(['client closed'])
  } finally {
    site.server.close()
  }
})
