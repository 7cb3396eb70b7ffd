// What checking in worker threads would cost (docs/adr/0018-every-core-through-leased-worker-processes.md),
// one JSON line: the CPU of handing a check request to a worker thread and a real CheckResult back
// (`postMessage` both ways) against the CPU of the plain-HTTP check itself, in the same run; and the
// resident memory of the jetmon2 application in a fresh process against one more thread loading it.
// `pnpm --filter @jetmon/jetmon2 run bench:threads`
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Worker } from 'node:worker_threads'
import { createChecker } from '@jetmon/checker'

const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 50_000)
const CHECKS = Number(process.env.BENCH_CHECKS ?? 3_000)
// The built application (`pnpm build`): what production loads, in a thread as in a process.
const APP = new URL('../dist/index.js', import.meta.url).pathname

const server = createServer((_req, res) => res.end('<html><body>ok</body></html>'))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
const check = createChecker({})
const result = await check({ url, timeoutMs: 5_000 })
const request = { url, timeoutMs: 5_000, method: 'GET', headers: {}, endpointId: 123_456_789n }

const echo = new Worker(
  `const { parentPort } = require('node:worker_threads'); const result = ${JSON.stringify(result)}; parentPort.on('message', () => parentPort.postMessage(result))`,
  // The built packages as production resolves them, not their sources.
  { eval: true, execArgv: [] },
)
const roundTrip = () =>
  new Promise((resolve) => {
    echo.once('message', resolve)
    echo.postMessage(request)
  })
for (let i = 0; i < 2_000; i++) await roundTrip()
let cpu = process.cpuUsage()
for (let i = 0; i < ROUND_TRIPS; i++) await roundTrip()
let used = process.cpuUsage(cpu)
const handoverUs = (used.user + used.system) / ROUND_TRIPS
await echo.terminate()

for (let i = 0; i < 200; i++) await check({ url, timeoutMs: 5_000 })
cpu = process.cpuUsage()
for (let i = 0; i < CHECKS; i++) await check({ url, timeoutMs: 5_000 })
used = process.cpuUsage(cpu)
const checkUs = (used.user + used.system) / CHECKS
server.close()

// Memory: the application loaded in one more thread of this process, and in a process of its own.
await import(APP)
const before = process.memoryUsage().rss
const loader = new Worker(
  `import(${JSON.stringify(APP)}).then(() => require('node:worker_threads').parentPort.postMessage('loaded'))`,
  // The built packages as production resolves them, not their sources.
  { eval: true, execArgv: [] },
)
await new Promise((resolve) => loader.once('message', resolve))
const threadRss = process.memoryUsage().rss - before
await loader.terminate()
const child = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `await import(${JSON.stringify(APP)}); console.log(process.memoryUsage().rss)`],
  { encoding: 'utf8' },
)
const processRss = Number(child.stdout.trim())

process.stdout.write(
  `${JSON.stringify({
    bench: 'thread-handover',
    node: process.version,
    resultBytes: JSON.stringify(result).length,
    handoverCpuUsPerCheck: Number(handoverUs.toFixed(1)),
    checkerCpuUsPerCheck: Number(checkUs.toFixed(1)),
    handoverShareOfCheck: Number((handoverUs / checkUs).toFixed(3)),
    appRssMbPerProcess: Math.round(processRss / 1e6),
    appRssMbPerExtraThread: Math.round(threadRss / 1e6),
  })}\n`,
)
process.exit(0)
