// `pnpm bench:checker`: CPU per check of @jetmon/checker against wrk -H 'Connection: close' on the
// same fixture in the same run (docs/operations.md), over BENCH_ROUNDS rounds (default 7) with the median
// ratio. Each round also measures the floor of Node itself: a bare net/tls socket that connects,
// (verifies,) writes the same request and reads to the close, with no checker code around it.
//
// What is compared, and how fairly: each side is measured alone, closed-loop with BENCH_CONCURRENCY
// requests in flight, against the same fixture process, one after the other within a round; the
// figure is the CPU (user + system) of the client process only, per request — this process's
// process.cpuUsage() for the checker and the floor, the shell's `times` for wrk. On loopback the
// kernel work of a connect (the server's half of the handshake included) is charged to the client
// that connects, for wrk as for the checker. One difference is the checker's by design: wrk closes
// its socket as soon as it has parsed a `Connection: close` response (one read, and the TIME_WAIT on
// its own side), while the checker, like the floor, leaves the connection for the server to close
// and reads the server's FIN (one more wake-up and read per check, no TIME_WAIT on the monitor's
// host). The ratio of the checker to the floor (`checkerToNodeFloor`) is its own cost over the
// runtime's; the ratio of the floor to wrk (`nodeFloorRatio`) is the runtime's over a C client.
// Then a soak of BENCH_SOAK_CHECKS checks (default 100 000; 0 skips it) shows whether memory or open
// handles grow. Prints one JSON line of figures.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createSecureContext, rootCertificates, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createChecker } from '@jetmon/checker'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const SOAK_CHECKS = Number(process.env.BENCH_SOAK_CHECKS ?? 100_000)
const TICKS = 100 // USER_HZ: /proc/<pid>/stat counts CPU in ticks of 10 ms

interface Fixture {
  pid: number
  addresses: string[]
  httpPort: number
  httpsPort: number
  dns: string
  ca: string
}

function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS
}

async function startFixture(): Promise<{ fixture: Fixture; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@jetmon/source', '--import', 'tsx', new URL('fixture.ts', import.meta.url).pathname],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the fixture exited with ${code}`)))
  })
  return { fixture: JSON.parse(line) as Fixture, stop: () => child.kill('SIGTERM') }
}

/** Runs the checker for `seconds` with `CONCURRENCY` checks in flight; CPU of this process only. */
async function measureChecker(
  urls: string[],
  options: Parameters<typeof createChecker>[0],
  seconds: number,
  fixturePid: number,
) {
  const check = createChecker(options)
  let index = 0
  let failures = 0
  const firstFailure: string[] = []
  const run = async (until: number) => {
    let done = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const result = await check({ url: urls[index++ % urls.length] as string, timeoutMs: 10_000 })
          done++
          if (!result.ok) {
            failures++
            if (firstFailure.length < 1) firstFailure.push(`${result.error}: ${result.detail}`)
          }
        }
      }),
    )
    return done
  }
  await run(performance.now() + 1_000) // warm-up
  failures = 0
  const fixtureBefore = procCpuMs(fixturePid)
  const cpu = process.cpuUsage()
  const started = performance.now()
  const checks = await run(started + seconds * 1000)
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return {
    checks,
    failures,
    ...(firstFailure.length ? { firstFailure: firstFailure[0] } : {}),
    checksPerSec: Math.round((checks / wallMs) * 1000),
    cpuUsPerCheck: Math.round((used.user + used.system) / checks),
    userUsPerCheck: Math.round(used.user / checks),
    sysUsPerCheck: Math.round(used.system / checks),
    fixtureCpuShare: Number(((procCpuMs(fixturePid) - fixtureBefore) / wallMs / 2).toFixed(2)),
  }
}

/**
 * Node's own floor: the same work as a check with nothing of the checker around it — a fresh
 * socket, for HTTPS the same secure context (the chain verified, as OpenSSL always does), the
 * request, and the answer read into one reused buffer until the server closes.
 */
const noPeerCertificate = (() => ({})) as unknown as TLSSocket['getPeerCertificate']

async function measureNodeFloor(kind: 'http' | 'https', fixture: Fixture, seconds: number) {
  // As the checker's own context (checkerSecureContext): the same CA list, protocols and ciphers.
  const context = createSecureContext({
    ca: [...rootCertificates, fixture.ca],
    minVersion: 'TLSv1',
    ciphers: 'DEFAULT@SECLEVEL=0',
  })
  const buffer = Buffer.allocUnsafe(64 * 1024)
  const onread = { buffer, callback: () => true }
  let index = 0
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const i = index++ % fixture.addresses.length
      const host = `ok--${i}.bench.test`
      const request = `GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: bench\r\nAccept: */*\r\nConnection: close\r\n\r\n`
      const address = fixture.addresses[i] as string
      const socket =
        kind === 'http'
          ? netConnect({ host: address, port: fixture.httpPort, onread })
          : tlsConnect({
              host: address,
              port: fixture.httpsPort,
              servername: host,
              secureContext: context,
              onread,
              // The floor verifies the chain (OpenSSL always does) but leaves out the host name
              // check and Node's conversion of the peer chain into objects.
              rejectUnauthorized: false,
              checkServerIdentity: () => undefined,
            } as never)
      if (kind === 'https') (socket as TLSSocket).getPeerCertificate = noPeerCertificate
      socket.once(kind === 'http' ? 'connect' : 'secureConnect', () => {
        if (kind === 'https' && !(socket as TLSSocket).authorized) reject(new Error('the chain did not verify'))
        socket.write(request, 'latin1')
      })
      socket.once('error', reject)
      // As the checker: the server's FIN closes the socket, without a shutdown() of its own first.
      socket.once('end', () => socket.destroy())
      socket.once('close', () => resolve())
    })
  const run = async (until: number) => {
    let done = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          await once()
          done++
        }
      }),
    )
    return done
  }
  await run(performance.now() + 500) // warm-up
  const cpu = process.cpuUsage()
  const requests = await run(performance.now() + seconds * 1000)
  const used = process.cpuUsage(cpu)
  return { requests, cpuUsPerRequest: Math.round((used.user + used.system) / requests) }
}

/** Handles and requests alive in this process, by type (sockets, timers, DNS queries...). */
function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

const handleTotal = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after full collections, in KiB. */
function heapAfterGcKb(): number {
  for (let i = 0; i < 3; i++) gc()
  return Math.round(process.memoryUsage().heapUsed / 1024)
}

/** Waits until no more handles are alive than in `baseline` (server-side closes trail the client's), at most 5 s. */
async function settle(baseline: Record<string, number>): Promise<Record<string, number>> {
  const until = performance.now() + 5_000
  let now = liveHandles()
  while (performance.now() < until && handleTotal(now) > handleTotal(baseline)) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    now = liveHandles()
  }
  return now
}

/**
 * `total` checks with one long-lived checker — plain HTTP by address and by name (through the DNS
 * server), and one in 50 over HTTPS — with the heap (after GC) and the handles read at a tenth, at
 * half and at the end. A check holds nothing once it returns: the last half must add nothing.
 */
async function soak(fixture: Fixture, hostsFile: string, total: number) {
  const check = createChecker({ ca: fixture.ca, dnsServers: [fixture.dns] })
  const checkHttps = createChecker({ ca: fixture.ca, dnsServers: [fixture.dns], hostsFile })
  const n = fixture.addresses.length
  let next = 0
  let failures = 0
  const runTo = async (until: number) => {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < until) {
          const i = next++
          const result =
            i % 50 === 49
              ? await checkHttps({ url: `https://ok--${i % n}.bench.test:${fixture.httpsPort}/` })
              : i % 2 === 0
                ? await check({ url: `http://${fixture.addresses[i % n]}:${fixture.httpPort}/` })
                : await check({ url: `http://ok--${i % 1000}.bench.test:${fixture.httpPort}/` })
          if (!result.ok) failures++
        }
      }),
    )
  }
  const baselineHandles = liveHandles()
  const started = performance.now()
  const marks: { checks: number; heapKb: number; rssMb: number; handles: number }[] = []
  for (const at of [Math.round(total / 10), Math.round(total / 2), total]) {
    await runTo(at)
    const handles = await settle(baselineHandles)
    marks.push({
      checks: at,
      heapKb: heapAfterGcKb(),
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      handles: handleTotal(handles),
    })
  }
  const [tenth, half, end] = marks as [(typeof marks)[0], (typeof marks)[0], (typeof marks)[0]]
  const heapGrowthKb = end.heapKb - half.heapKb
  return {
    checks: total,
    failures,
    seconds: Math.round((performance.now() - started) / 1000),
    marks,
    handlesBefore: handleTotal(baselineHandles),
    // Over the second half. The heap after GC wanders by a few hundred KiB as V8 compiles and
    // flushes code; 1 MiB over 50 000 checks still catches anything of 21 bytes or more kept per check.
    heapGrowthKb,
    heapGrowthBytesPerCheck: Number(((heapGrowthKb * 1024) / (end.checks - half.checks)).toFixed(1)),
    handleGrowth: end.handles - tenth.handles,
    noGrowth: heapGrowthKb < 1024 && end.handles <= handleTotal(baselineHandles),
  }
}

/** wrk with a fresh connection per request, its CPU read from the shell's `times`. */
function measureWrk(url: string, seconds: number) {
  const script = `wrk -t1 -c${CONCURRENCY} -d${seconds}s -H 'Connection: close' '${url}' > /tmp/jetmon-bench-wrk.txt 2>&1; times`
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`)
  const output = readFileSync('/tmp/jetmon-bench-wrk.txt', 'utf8')
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0)
  const errors = /Socket errors: (.*)/.exec(output)?.[1] ?? null
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0)
  // `times` prints the shell's own times, then its children's: "0m0.120s 0m2.260s".
  const childLine = result.stdout.trim().split('\n').pop() ?? ''
  const [user, sys] = childLine.split(' ').map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t)
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0
  }) as [number, number]
  return {
    requests,
    requestsPerSec: Math.round(requests / seconds),
    cpuUsPerRequest: Math.round(((user + sys) * 1e6) / requests),
    userUsPerRequest: Math.round((user * 1e6) / requests),
    sysUsPerRequest: Math.round((sys * 1e6) / requests),
    ...(errors ? { socketErrors: errors } : {}),
    ...(non2xx ? { non2xx } : {}),
  }
}

if (spawnSync('wrk', ['--version']).error) {
  process.stderr.write("wrk is not installed: apt-get install -y wrk (Debian's package)\n")
  process.exit(2)
}

const { fixture, stop } = await startFixture()
try {
  const ipUrls = (scheme: 'http' | 'https', port: number) => fixture.addresses.map((a) => `${scheme}://${a}:${port}/`)
  const nameUrls = Array.from({ length: 1000 }, (_, i) => `http://ok--${i}.bench.test:${fixture.httpPort}/`)
  // HTTPS by name (SNI and a certificate for *.bench.test, as real sites have), resolved from a
  // hosts file so that the figure is the TLS check's own cost, as wrk's is.
  const hostsFile = join(mkdtempSync(join(tmpdir(), 'jetmon-bench-')), 'hosts')
  writeFileSync(hostsFile, fixture.addresses.map((a, i) => `${a} ok--${i}.bench.test`).join('\n'))
  const httpsUrls = fixture.addresses.map((_, i) => `https://ok--${i}.bench.test:${fixture.httpsPort}/`)
  const base = { ca: fixture.ca, dnsServers: [fixture.dns] }

  // Several rounds, alternating ours and wrk's, and the median ratio: on a shared machine one round
  // of wrk's own HTTPS cost can swing by a fifth, which a single ratio would take for ours.
  const ratio = (ours: number, wrk: number) => Number((ours / wrk).toFixed(2))
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  type Round = {
    http: number
    https: number
    httpNode: number
    httpsNode: number
    httpToNode: number
    httpsToNode: number
    cpuUs: Record<string, number>
  }
  const rounds: Round[] = []
  let last: Record<string, unknown> = {}
  for (let round = 0; round < ROUNDS; round++) {
    const http = await measureChecker(ipUrls('http', fixture.httpPort), base, SECONDS, fixture.pid)
    const httpWrk = measureWrk(`http://${fixture.addresses[0]}:${fixture.httpPort}/`, SECONDS)
    const httpNode = await measureNodeFloor('http', fixture, SECONDS)
    const https = await measureChecker(httpsUrls, { ...base, hostsFile }, SECONDS, fixture.pid)
    const httpsWrk = measureWrk(`https://${fixture.addresses[0]}:${fixture.httpsPort}/`, SECONDS)
    const httpsNode = await measureNodeFloor('https', fixture, SECONDS)
    rounds.push({
      http: ratio(http.cpuUsPerCheck, httpWrk.cpuUsPerRequest),
      https: ratio(https.cpuUsPerCheck, httpsWrk.cpuUsPerRequest),
      httpNode: ratio(httpNode.cpuUsPerRequest, httpWrk.cpuUsPerRequest),
      httpToNode: ratio(http.cpuUsPerCheck, httpNode.cpuUsPerRequest),
      httpsToNode: ratio(https.cpuUsPerCheck, httpsNode.cpuUsPerRequest),
      httpsNode: ratio(httpsNode.cpuUsPerRequest, httpsWrk.cpuUsPerRequest),
      cpuUs: {
        http: http.cpuUsPerCheck,
        httpWrk: httpWrk.cpuUsPerRequest,
        httpNode: httpNode.cpuUsPerRequest,
        https: https.cpuUsPerCheck,
        httpsWrk: httpsWrk.cpuUsPerRequest,
        httpsNode: httpsNode.cpuUsPerRequest,
      },
    })
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(rounds.at(-1))}\n`)
    last = { http, httpWrk, https, httpsWrk }
  }
  const httpDns = await measureChecker(nameUrls, base, SECONDS, fixture.pid)
  const soakReport = SOAK_CHECKS > 0 ? await soak(fixture, hostsFile, SOAK_CHECKS) : null

  const report = {
    bench: 'checker',
    node: process.version,
    openssl: process.versions.openssl,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    rounds: rounds.length,
    http: {
      checker: last.http,
      wrk: last.httpWrk,
      ratio: median(rounds.map((r) => r.http)),
      ratios: rounds.map((r) => r.http),
      target: 2.0,
      // The bare Node socket against wrk, in the same rounds: the floor this runtime sets.
      nodeFloorRatio: median(rounds.map((r) => r.httpNode)),
      // The checker against that bare socket, same rounds: what the checker adds to the runtime's cost.
      checkerToNodeFloor: median(rounds.map((r) => r.httpToNode)),
    },
    httpWithDns: httpDns,
    https: {
      checker: last.https,
      wrk: last.httpsWrk,
      ratio: median(rounds.map((r) => r.https)),
      ratios: rounds.map((r) => r.https),
      target: 1.1,
      nodeFloorRatio: median(rounds.map((r) => r.httpsNode)),
      checkerToNodeFloor: median(rounds.map((r) => r.httpsToNode)),
    },
    soak: soakReport,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
} finally {
  stop()
}
