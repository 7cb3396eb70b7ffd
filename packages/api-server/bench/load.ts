// The load generator of `pnpm bench:api`, run as its own process so that it does not share the
// server's event loop: autocannon at a fixed overall rate against one route, printing one JSON line.
import autocannon from 'autocannon'

const [url, token, rate, seconds, pathsJson] = process.argv.slice(2)
const paths = JSON.parse(pathsJson!) as string[]
let next = 0

const result = await autocannon({
  url: url!,
  connections: 10,
  overallRate: Number(rate),
  duration: Number(seconds),
  headers: { authorization: `Bearer ${token}` },
  requests: [
    {
      setupRequest: (request) => {
        request.path = paths[next++ % paths.length]!
        return request
      },
    },
  ],
})
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latency_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  })}\n`,
)
