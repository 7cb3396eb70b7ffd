/**
 * The dashboard over HTTP against a real database: routing beside the ops endpoints, security
 * headers, counts and lists, the site page's data, live streams, assets, the sign-in rule on a
 * non-loopback bind, and that no secret ever reaches a response.
 */
import { readFileSync } from 'node:fs'
import { get, type IncomingMessage } from 'node:http'
import { createApiKey } from '@jetmon/api-keys'
import { apiKeys } from '@jetmon/db'
import { openEvent, promoteEvent } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ASSETS_DIR, bundleAssets } from '../scripts/_bundle.js'
import { NOT_OURS, type ServedDashboard, serveDashboard } from './_server.js'
import { httpEvidence, SECRETS, type SeededFleet, seedDemo } from './seed.js'

let database: TestDatabase
let seeded: SeededFleet
let served: ServedDashboard
let guarded: ServedDashboard
let readToken: string
let writeToken: string
let revokedToken: string
let expiredToken: string

const LEAKY_ERROR = `POST https://user:pw@wpcom.example/notify?token=${SECRETS.urlToken} failed: Bearer jm_abcdefghijklmnopqrstuvwxyz012345`

beforeAll(async () => {
  database = await createTestDatabase()
  seeded = await seedDemo(database.db, { now: new Date() })
  const key = (consumer: string, scope: 'read' | 'write' | 'admin', expiresAt: Date | null = null) =>
    createApiKey({ ctx: { db: database.db }, input: { consumer, scope, createdBy: 'test', expiresAt } })
  readToken = (await key('reader', 'read')).token
  writeToken = (await key('writer', 'write')).token
  const revoked = await key('gone', 'read')
  await database.db
    .update(apiKeys)
    .set({ revokedAt: new Date(Date.now() - 60_000) })
    .where(eq(apiKeys.id, revoked.row.id))
  revokedToken = revoked.token
  expiredToken = (await key('old', 'read', new Date(Date.now() - 60_000))).token
  const fleetInfo = () => ({
    verifliers: [
      {
        id: 'vf-1',
        region: 'eu',
        url: `https://vf:${SECRETS.urlPassword}@vf.example.net/`,
        reachable: false,
        latencyMs: null,
        error: LEAKY_ERROR,
      },
    ],
    wpcom: {
      enabled: true,
      breaker: 'open' as const,
      queued: 3,
      inFlight: 0,
      sent: 1,
      failed: 2,
      dropped: 0,
      lastError: LEAKY_ERROR,
    },
  })
  served = await serveDashboard({ db: database.db, bind: '127.0.0.1', live: { pollMs: 200 }, fleetInfo })
  guarded = await serveDashboard({ db: database.db, bind: '0.0.0.0', live: { pollMs: 200 } })
})

afterAll(async () => {
  await served?.close()
  await guarded?.close()
  await database?.drop()
})

const text = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, { redirect: 'manual', ...init })
  return { response, body: await response.text() }
}

type Fragment = { position: string; title: string; regions: Record<string, string> }
const fragment = async (path: string): Promise<Fragment> => {
  const response = await fetch(`${served.url}${path}${path.includes('?') ? '&' : '?'}fragment=1`)
  expect(response.status).toBe(200)
  return (await response.json()) as Fragment
}
const blogsIn = (html: string) => [...html.matchAll(/data-blog="(\d+)"/g)].map((m) => m[1])

describe('routing beside the ops endpoints', () => {
  it('answers false for paths that are not its own, so /healthz and /metrics stay the ops server’s', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/v1/sites', '/robots.txt', '/sitesx']) {
      const { response, body } = await text(`${served.url}${path}`)
      expect(response.status, path).toBe(404)
      expect(body, path).toBe(NOT_OURS)
    }
  })

  it('serves the three pages, and its own 404 and 405 pages', async () => {
    for (const path of ['/', '/fleet', '/sites/1001', '/sites/1007?window=7d', '/?state=down&q=shop']) {
      const { response, body } = await text(`${served.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      expect(body).toMatch(/^<!doctype html>/)
    }
    const missing = await text(`${served.url}/sites/424242`)
    expect(missing.response.status).toBe(404)
    expect(missing.body).toContain('No endpoint is monitored for blog 424242')
    const bad = await text(`${served.url}/sites/not-a-number`)
    expect(bad.response.status).toBe(404)
    expect(bad.body).not.toBe(NOT_OURS)
    const post = await text(`${served.url}/`, { method: 'POST' })
    expect(post.response.status).toBe(405)
  })

  it('sends /events/<id> (the link in alert messages) to the event on its site’s timeline', async () => {
    const { response } = await text(`${served.url}/events/${seeded.downEventId}`)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toMatch(new RegExp(`^/sites/\\d+#event-${seeded.downEventId}$`))
    const page = await text(`${served.url}${response.headers.get('location')!.split('#')[0]}`)
    expect(page.body).toContain(`id="event-${seeded.downEventId}"`)
    expect((await text(`${served.url}/events/987654321`)).response.status).toBe(404)
  })
})

describe('security headers', () => {
  const expectHeaders = (response: Response, label: string) => {
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp, label).toContain("script-src 'self'")
    expect(csp, label).toContain("frame-ancestors 'none'")
    expect(csp, label).toContain("default-src 'none'")
    expect(csp, label).not.toContain('unsafe-inline')
    expect(csp, label).not.toContain('unsafe-eval')
    expect(response.headers.get('x-content-type-options'), label).toBe('nosniff')
    expect(response.headers.get('referrer-policy'), label).toBe('no-referrer')
    expect(response.headers.get('x-frame-options'), label).toBe('DENY')
  }

  it('are on every response: pages, fragments, assets, errors, redirects and streams', async () => {
    const home = await text(`${served.url}/`)
    const assetPaths = [...home.body.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(assetPaths.length).toBe(3)
    const paths = [
      '/',
      '/fleet',
      '/sites/1001',
      '/?fragment=1',
      '/sites/1001?fragment=1',
      '/fleet?fragment=1',
      '/sites/424242',
      '/sites/x',
      '/assets/app.000000000000.js',
      '/favicon.ico',
      '/signin',
      ...assetPaths,
    ]
    for (const path of paths) expectHeaders((await text(`${served.url}${path}`)).response, path)
    for (const path of ['/', '/live', '/?fragment=1', '/signin', '/signin?next=/fleet']) {
      expectHeaders((await text(`${guarded.url}${path}`)).response, `guarded ${path}`)
    }
    const stream = new AbortController()
    const live = await fetch(`${served.url}/live`, { signal: stream.signal })
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expectHeaders(live, '/live')
    stream.abort()
  })
})

describe('overview', () => {
  it('counts every site once by its derived state', async () => {
    const { regions } = await fragment('/')
    const count = (state: string) =>
      Number(new RegExp(`data-count="${state}"[^>]*>\\s*<span class="count-n">(\\d+)`).exec(regions.counts!)?.[1])
    expect({
      up: count('up'),
      warning: count('warning'),
      degraded: count('degraded'),
      seems: count('seems-down'),
      down: count('down'),
      maintenance: count('maintenance'),
      paused: count('paused'),
    }).toEqual({ up: 8, warning: 1, degraded: 1, seems: 1, down: 1, maintenance: 1, paused: 1 })
    expect(regions.total).toBe('14')
  })

  it('lists sites worst first, then Up, Maintenance and Paused', async () => {
    const { regions, title } = await fragment('/')
    const order = blogsIn(regions.sites!)
    expect(order.slice(0, 4)).toEqual(['1001', '1002', '1003', '1004'])
    expect(order.slice(-2)).toEqual(['1005', '1006'])
    expect(order).toHaveLength(14)
    expect(title).toBe('(1 down, 1 seems down) Overview · Jetmon')
  })

  it('searches by URL substring and by blog id, and filters by state', async () => {
    expect(blogsIn((await fragment('/?q=wiki')).regions.sites!)).toEqual(['1014'])
    expect(blogsIn((await fragment('/?q=1003')).regions.sites!)).toEqual(['1003'])
    expect(blogsIn((await fragment('/?state=up')).regions.sites!)).toHaveLength(8)
    expect(blogsIn((await fragment('/?state=seems-down')).regions.sites!)).toEqual(['1002'])
    expect(blogsIn((await fragment('/?state=up&q=example.org')).regions.sites!)).toEqual(['1009', '1014'])
    expect((await fragment('/?q=nothing-like-this')).regions.sites).toContain('No site matches')
  })

  it('lists open incidents worst first with their evidence and the confirmation flag', async () => {
    const { regions } = await fragment('/')
    const incidents = regions.incidents!
    const order = [...incidents.matchAll(/href="\/sites\/(\d+)#event-/g)].map((m) => m[1])
    expect(order).toEqual(['1001', '1002', '1003', '1004'])
    expect(incidents).toContain('HTTP 503 · confirmed by 2 of 3 verifliers')
    expect(incidents).toContain('timeout in ttfb after 10.0 s')
    expect(incidents).toContain('Confirmation unavailable')
    expect(incidents).toContain('certificate expires in 21 d')
    expect(regions['incident-count']).toBe('4')
  })
})

describe('site page', () => {
  it('shows the state, the incident with its votes, the figures and the chart’s data', async () => {
    const { body } = await text(`${served.url}/sites/1001`)
    expect(body).toContain('Down for')
    expect(body).toContain('HTTP 503 · confirmed by 2 of 3 verifliers')
    expect(body).toContain('vf-eu-west')
    expect(body).toContain('verifier_confirmed')
    expect(body).toContain(`id="event-${seeded.downEventId}"`)
    const json = /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(body)?.[1]
    const chart = JSON.parse(json!) as { other: (number | null)[]; bands: [number, number, string][]; t: number[] }
    expect(chart.t).toHaveLength(144)
    expect(chart.other.filter((v) => v !== null).length).toBeGreaterThan(20)
    expect(chart.bands.map((band) => band[2])).toEqual(['Seems Down', 'Down'])
    // 48 hourly cells and 30 daily ones; the last hour holds Down time.
    expect(body.match(/class="cell /g)).toHaveLength(78)
    expect(body).toMatch(/<span class="cell st-down" title="[^"]*Down \d+ min/)
  })

  it('reports the maintenance window and a paused site', async () => {
    expect((await text(`${served.url}/sites/1005`)).body).toContain('Maintenance window until')
    const paused = await text(`${served.url}/sites/1006`)
    expect(paused.body).toContain('<span class="badge st-paused badge-lg">Paused</span>')
  })

  it('shows header names but never their values, and computes uptime like the API', async () => {
    const { body } = await text(`${served.url}/sites/1008`)
    expect(body).toContain('headers: X-Api-Key (values hidden)')
    // One 40-minute outage two days ago: 7 d and 30 d figures count it, 24 h does not.
    expect(body).toMatch(/Uptime 24 h<\/span>\s*<span class="figure-value num">100 %/)
    expect(body).toMatch(/data-figure="7 d"[\s\S]*?1 incident · MTTR 40 min · down 40 min/)
  })
})

describe('secrets', () => {
  it('never appear in any page, fragment, stream or asset', async () => {
    const home = await text(`${served.url}/`)
    const assetPaths = [...home.body.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    const paths = [
      '/',
      '/?fragment=1',
      '/fleet',
      '/fleet?fragment=1',
      ...[...seeded.endpoints.keys()].flatMap((blog) => [`/sites/${blog}`, `/sites/${blog}?fragment=1&window=7d`]),
      ...assetPaths,
    ]
    const forbidden = [...Object.values(SECRETS), readToken, writeToken, 'jm_abcdefghijklmnop']
    for (const path of paths) {
      const { body } = await text(`${served.url}${path}`)
      for (const secret of forbidden) expect(body.includes(secret), `${secret} in ${path}`).toBe(false)
    }
    const fleet = (await text(`${served.url}/fleet`)).body
    // Redacted, not dropped: the operator still sees what failed.
    expect(fleet).toContain('token=…')
    expect(fleet).toContain('Bearer …')
    const site = (await text(`${served.url}/sites/1007`)).body
    expect(site).toContain('https://www.example.com/?token=…')
  })
})

describe('fleet page', () => {
  it('shows hosts, processes, verifliers, queues, the WPCOM circuit and projection drift', async () => {
    const { regions } = await fragment('/fleet')
    const fleet = regions.fleet!
    expect(fleet).toContain('mon-a')
    expect(fleet).toContain('0–499')
    expect(fleet).toContain('500–999')
    expect(fleet).not.toContain('Buckets without a live host')
    expect(fleet).toMatch(/<td class="num">1\.4<\/td>/)
    expect(fleet).toContain('142 MiB')
    expect(fleet).toContain('Circuit open')
    expect(fleet).toMatch(
      /<td>Webhooks<\/td>\s*<td class="num">2<\/td>\s*<td class="num">2<\/td>\s*<td class="num">0<\/td>\s*<td class="num warn">1<\/td>/,
    )
    expect(fleet).toContain('1 endpoint where')
    expect(fleet).toContain('webhooks at transition')
  })
})

/** Reads server-sent events from a stream until `until` says stop or the time runs out. */
function readEvents(
  url: string,
  until: (events: { event: string; data: string; id: string | null }[]) => boolean,
  timeoutMs = 12_000,
  headers: Record<string, string> = {},
  onOpen: () => void = () => {},
): Promise<{ events: { event: string; data: string; id: string | null }[]; ms: number }> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const events: { event: string; data: string; id: string | null }[] = []
    let response: IncomingMessage | null = null
    const request = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      response = res
      onOpen()
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => line && !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
          )
          if (fields.event) events.push({ event: fields.event, data: fields.data ?? '', id: fields.id ?? null })
          end = buffer.indexOf('\n\n')
        }
        if (until(events)) {
          clearTimeout(timer)
          request.destroy()
          resolve({ events, ms: Date.now() - started })
        }
      })
    })
    request.on('error', (error) => {
      if (!response) reject(error)
    })
    const timer = setTimeout(() => {
      request.destroy()
      resolve({ events, ms: Date.now() - started })
    }, timeoutMs)
  })
}

describe('live updates', () => {
  it('push a new outage to open streams within 2 s, and replay it to a page that missed it', async () => {
    const home = await text(`${served.url}/`)
    const position = /data-live="([^"]+)"/.exec(home.body)?.[1]
    expect(position).toMatch(/^[0-9a-f]{8}\.\d+$/)
    // The change is made once the stream is open (the server answered it), so it is pushed, not replayed.
    let streamOpened!: () => void
    const open = new Promise<void>((resolve) => {
      streamOpened = resolve
    })
    const listening = readEvents(
      `${served.url}/live?after=${position}`,
      (events) => events.some((e) => e.event === 'change' && JSON.parse(e.data).blogs.includes('1012')),
      undefined,
      {},
      streamOpened,
    )
    await open
    const openedAt = Date.now()
    const ctx = { db: database.db, source: 'monitor:test' }
    const opened = await openEvent({
      ctx,
      input: {
        blogId: 1012n,
        endpointId: seeded.endpoints.get(1012n)![0]!,
        checkType: 'http',
        state: 'Seems Down',
        eventMetadata: httpEvidence('https://store.example.co.uk/', new Date(), 'http_503'),
      },
    })
    await promoteEvent({ ctx, input: { eventId: opened.event.id, state: 'Down', reason: 'verifier_confirmed' } })
    const { events } = await listening
    const change = events.find((e) => e.event === 'change' && JSON.parse(e.data).blogs.includes('1012'))
    expect(change, 'a change for blog 1012').toBeDefined()
    // Pushed, not polled by the page: it arrives on the open stream (2 s is the poller's design budget).
    expect(Date.now() - openedAt).toBeLessThan(15_000)
    const message = JSON.parse(change!.data) as { changes: { state: string; reason: string }[] }
    expect(message.changes.map((c) => c.state)).toContain('Seems Down')

    // The page rendered before the change learns of it on connecting (its position is older).
    const replay = await readEvents(`${served.url}/live?after=${position}`, (evts) =>
      evts.some((e) => e.event === 'change' && JSON.parse(e.data).blogs.includes('1012')),
    )
    expect(replay.ms).toBeLessThan(15_000)
    // A position from another process (or too old to replay) is told to resync.
    const other = await readEvents(`${served.url}/live?after=00000000.3`, (evts) => evts.length > 0)
    expect(other.events[0]?.event).toBe('resync')
    // The overview now counts it.
    const { regions } = await fragment('/')
    expect(regions.counts).toMatch(/data-count="down"[^>]*>\s*<span class="count-n">2</)
  })
})

describe('assets', () => {
  it('are the build of src/client (run `pnpm --filter @jetmon/dashboard run build:assets` after editing it)', async () => {
    const built = await bundleAssets()
    for (const [name, body] of built) {
      expect(readFileSync(`${ASSETS_DIR}${name}`).equals(body), `assets/${name} is stale`).toBe(true)
    }
  })

  it('are content-addressed, cached for a year, gzipped, and need no sign-in', async () => {
    const home = await text(`${served.url}/`)
    const js = /src="(\/assets\/app\.[0-9a-f]{12}\.js)"/.exec(home.body)?.[1]
    expect(js).toBeDefined()
    for (const base of [served.url, guarded.url]) {
      const response = await fetch(`${base}${js}`, { headers: { 'accept-encoding': 'gzip' } })
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(response.headers.get('content-type')).toMatch(/^text\/javascript/)
      const body = await response.text()
      expect(body.startsWith('/*! Jetmon dashboard. Includes uPlot'), 'the bundle with uPlot').toBe(true)
    }
    const raw = await new Promise<IncomingMessage>((resolve) =>
      get(`${served.url}${js}`, { headers: { 'accept-encoding': 'gzip' } }, resolve),
    )
    expect(raw.headers['content-encoding']).toBe('gzip')
    raw.resume()
    const etag = raw.headers.etag!
    expect((await fetch(`${served.url}${js}`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    // Nothing is loaded from another origin.
    expect(home.body).not.toMatch(/(?:src|href)="https?:/)
  })
})

describe('sign-in on a non-loopback bind', () => {
  const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${guarded.url}/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: guarded.url, ...headers },
      body: new URLSearchParams(body).toString(),
    })

  it('sends pages to the sign-in form and refuses streams and fragments', async () => {
    expect(guarded.dashboard.authRequired).toBe(true)
    expect(served.dashboard.authRequired).toBe(false)
    const page = await text(`${guarded.url}/sites/1001?window=7d`)
    expect(page.response.status).toBe(303)
    expect(page.response.headers.get('location')).toBe('/signin?next=%2Fsites%2F1001%3Fwindow%3D7d')
    const form = await text(`${guarded.url}/signin?next=/fleet`)
    expect(form.response.status).toBe(200)
    expect(form.body).toContain('<form method="post" action="/signin"')
    expect(form.body).toContain('name="next" value="/fleet"')
    for (const path of ['/live', '/?fragment=1', '/fleet?fragment=1']) {
      const { response } = await text(`${guarded.url}${path}`)
      expect(response.status, path).toBe(401)
    }
    // A loopback dashboard needs nothing.
    expect((await text(`${served.url}/signin`)).response.status).toBe(303)
  })

  it('refuses unknown, revoked and expired keys', async () => {
    for (const [key, why] of [
      ['jm_wrongwrongwrongwrongwrongwrong', 'not known here'],
      ['not-even-a-key', 'not known here'],
      [revokedToken, 'revoked'],
      [expiredToken, 'expired'],
      ['', 'Paste an API key'],
    ] as const) {
      const response = await post({ key, next: '/' })
      expect(response.status, key).toBe(401)
      expect(response.headers.getSetCookie(), key).toEqual([])
      expect(await response.text(), key).toContain(why)
    }
    // A stale or forged cookie gets no page either.
    const forged = await text(`${guarded.url}/`, { headers: { cookie: `jetmon_session=${revokedToken}` } })
    expect(forged.response.status).toBe(303)
  })

  it('signs a read key in with an HttpOnly, SameSite session cookie, and the cookie opens the pages', async () => {
    const response = await post({ key: readToken, next: '/fleet' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/fleet')
    const [cookie] = response.headers.getSetCookie()
    expect(cookie).toMatch(/^jetmon_session=[A-Za-z0-9_-]{43};/)
    expect(cookie).not.toContain(readToken)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/')
    const pair = cookie!.split(';')[0]!
    for (const path of ['/', '/fleet', '/sites/1001', '/?fragment=1']) {
      const page = await text(`${guarded.url}${path}`, { headers: { cookie: pair } })
      expect(page.response.status, path).toBe(200)
    }
    const home = await text(`${guarded.url}/`, { headers: { cookie: pair } })
    expect(home.body).toContain('action="/signout"')
    expect(home.body).not.toContain(readToken)
    // A write key covers read.
    expect((await post({ key: writeToken, next: '/' })).status).toBe(303)
    // Signing out clears the cookie.
    const out = await fetch(`${guarded.url}/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: pair, origin: guarded.url },
    })
    expect(out.status).toBe(303)
    expect(out.headers.getSetCookie()[0]).toMatch(/^jetmon_session=; .*Max-Age=0/)
  })

  it('refuses cross-site posts and never redirects off the dashboard', async () => {
    expect((await post({ key: readToken, next: '/' }, { origin: 'https://evil.example' })).status).toBe(403)
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const response = await post({ key: readToken, next })
      expect(response.headers.get('location'), next).toBe('/')
    }
  })
})
