/**
 * The set-up the monitor's tests share: a migrated database with fixture sites behind a local DNS
 * server and the checker that reaches them, endpoints of those sites, the pipeline's usual settings,
 * a WordPress.com stand-in on loopback, and time that moves only when a test moves it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createChecker } from '@jetmon/checker'
import { type Db, monitorSites } from '@jetmon/db'
import { createTestDatabase, type ManualClock, manualClock, manualTimers, type TestDatabase } from '@jetmon/testkit'
import {
  type DnsServer,
  type FixtureServer,
  type FixtureServerOptions,
  type Site,
  startDnsServer,
  startFixtureServer,
} from '@jetmon/testkit/fixtures'
import type { Timers } from '@jetmon/vocabulary'
import { afterAll, beforeAll } from 'vitest'
import type { MonitoredEndpoint, PipelineSettings } from '../src/pipeline.js'
import type { WpcomPayload } from '../src/wpcom.js'

export type Checker = ReturnType<typeof createChecker>

/** What {@link useCheckFixtures} starts for a test file; read it inside tests and hooks. */
export interface CheckFixtures {
  readonly database: TestDatabase
  readonly db: Db
  readonly sites: FixtureServer
  readonly dns: DnsServer
  /** A checker that resolves the fixture names with the local DNS server and trusts the test CA. */
  readonly check: Checker
  /**
   * Serves `behaviour` as a site of its own and adds an endpoint for it to the sites table (a new
   * blog id each time); `extra` overrides the endpoint's fields, `url` included.
   */
  endpoint(behaviour: Site, extra?: Partial<MonitoredEndpoint>): Promise<{ ep: MonitoredEndpoint; name: string }>
}

/**
 * A database, fixture sites, their DNS server and a checker for the calling test file: started in
 * `beforeAll`, stopped and dropped in `afterAll`.
 */
export function useCheckFixtures(options: Pick<FixtureServerOptions, 'requestLogLimit'> = {}): CheckFixtures {
  let started: { database: TestDatabase; sites: FixtureServer; dns: DnsServer; check: Checker } | undefined
  let nextBlog = 1000n
  const ready = () => {
    if (!started) throw new Error('the check fixtures are started in beforeAll: use them inside tests and hooks')
    return started
  }
  beforeAll(async () => {
    const [database, sites] = await Promise.all([
      createTestDatabase(),
      startFixtureServer({ requestLogLimit: options.requestLogLimit ?? 0 }),
    ])
    const dns = await startDnsServer({ zone: sites.zone() })
    started = { database, sites, dns, check: createChecker({ dnsServers: [dns.server], ca: sites.ca }) }
  })
  afterAll(async () => {
    const { database, sites, dns } = started ?? {}
    started = undefined
    await Promise.all([database?.drop(), sites?.close(), dns?.close()])
  })
  return {
    get database() {
      return ready().database
    },
    get db() {
      return ready().database.db
    },
    get sites() {
      return ready().sites
    },
    get dns() {
      return ready().dns
    },
    get check() {
      return ready().check
    },
    async endpoint(behaviour, extra = {}) {
      const { database, sites } = ready()
      const blogId = nextBlog++
      const name = `site-${blogId}`
      sites.setSite(name, behaviour)
      const url = extra.url ?? sites.url(name)
      const [row] = await database.db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
      // drizzle returns auto-increment ids as numbers here; they are small, but the model says bigint.
      return { ep: monitoredEndpoint({ endpointId: BigInt(row!.endpointId), blogId, url, ...extra }), name }
    },
  }
}

/** An endpoint as the monitor holds it: a GET that follows redirects, checked every minute, 2 s timeout. */
export function monitoredEndpoint(
  fields: Pick<MonitoredEndpoint, 'endpointId' | 'blogId' | 'url'> & Partial<MonitoredEndpoint>,
): MonitoredEndpoint {
  return {
    intervalMs: 60_000,
    timeoutMs: 2_000,
    method: 'GET',
    redirectPolicy: 'follow',
    maxRedirects: 10,
    keyword: null,
    forbiddenKeywords: null,
    keywordCaseSensitive: true,
    customHeaders: null,
    latencyThresholdMs: null,
    tlsExpiryWarnDays: 30,
    alertCooldownMinutes: null,
    ...fields,
  }
}

/** The pipeline's settings of a monitor without verifliers: Down after three failures, retries every 20 s. */
export function pipelineSettings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
  return {
    hostId: 'test-host',
    numOfChecks: 3,
    retryIntervalMs: 20_000,
    failedCheckIntervalMs: 60_000,
    flapWindowMs: 900_000,
    veriflierCount: 0,
    quorum: 1,
    projection: true,
    ...overrides,
  }
}

/** A request the WordPress.com stand-in received. */
export interface WpcomRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  raw: string
  body: WpcomPayload
}

/** A status, or an answer in full; `hold` delays it until the promise settles (never, to hang). */
export type WpcomReply =
  | number
  | { status: number; headers?: Record<string, string>; body?: string; hold?: Promise<void> }

export type WpcomReceiver = Awaited<ReturnType<typeof startWpcomReceiver>>

/** A WordPress.com stand-in on loopback: records every request and answers what `state.handler` says (200 by default). */
export async function startWpcomReceiver() {
  const requests: WpcomRequest[] = []
  const state = { handler: (_request: WpcomRequest): WpcomReply => 200 }
  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      raw += chunk
    })
    req.on('end', async () => {
      const received: WpcomRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: JSON.parse(raw) as WpcomPayload,
      }
      requests.push(received)
      const answer = state.handler(received)
      const reply = typeof answer === 'number' ? { status: answer } : answer
      if (reply.hold) await reply.hold
      if (res.destroyed) return
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
      res.end(reply.body ?? JSON.stringify({ ok: reply.status < 300 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const of = (blogId: bigint) => requests.filter((r) => String(r.body.blog_id) === String(blogId))
  return {
    url: `http://127.0.0.1:${port}/wpcom/v2/jetpack-monitor/status-change`,
    requests,
    state,
    /** The requests that carried this blog's notices, in arrival order. */
    of,
    /** The status ids WordPress.com received for this blog, in arrival order. */
    statusIds: (blogId: bigint) => of(blogId).map((r) => r.body.status_id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The test kit's manual clock with timers on it: `advance` fires what falls due, in order. */
export interface ManualTime {
  readonly clock: ManualClock
  /** Timers for the code under test; they fire only as {@link advance} passes them. */
  readonly timers: Timers
  advance(ms: number): void
}

export function manualTime(start: Date | number): ManualTime {
  const time = manualTimers(manualClock(start))
  return {
    clock: time.clock,
    timers: {
      setTimeout: (callback, ms) => time.setTimeout(callback, ms),
      clearTimeout: (handle) => time.clearTimeout(handle),
    },
    advance: (ms) => time.advance(ms),
  }
}
