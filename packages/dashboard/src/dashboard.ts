/**
 * The dashboard's request handler: routes, the sign-in rule, security headers, compression and
 * the shared render cache. It serves only its own paths and answers `false` for the rest, so it
 * plugs into the monitor's ops server (`/healthz`, `/readyz`, `/metrics`) as its fallback.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { type DbOrTx, events, type Logger, noopLogger } from '@jetmon/db'
import { isEventStoreError } from '@jetmon/eventstore'
import { DEFAULT_HISTORY_RETENTION_DAYS, type HistoryMode } from '@jetmon/history'
import { eq } from 'drizzle-orm'
import { Assets } from './_assets.js'
import type { SafeHtml } from './_html.js'
import { parseCountedState } from './_states.js'
import {
  clearedSessionCookie,
  DashboardSessions,
  isLoopbackBind,
  type KeyCheck,
  requestIsSecure,
  sameOrigin,
  sessionCookie,
  sessionId,
  verifyKey,
} from './auth.js'
import { type FleetInfo, loadFleet } from './data/fleet.js'
import { FleetTotalsCache, loadOverview, type OverviewQuery } from './data/overview.js'
import { CHART_WINDOWS, type ChartWindow, loadSite, parseBlogId, parseChartWindow } from './data/site.js'
import { SECURITY_HEADERS } from './headers.js'
import { LiveHub } from './live.js'
import { layout, type PageName } from './pages/_layout.js'
import { fleetBody, fleetRegion } from './pages/fleet.js'
import { overviewBody, overviewRegions, overviewTitle } from './pages/overview.js'
import { errorBody, refusalText, signinBody } from './pages/signin.js'
import { siteBody, siteRegions, siteTitle } from './pages/site.js'

const gzip = promisify(gzipCallback)

export interface DashboardOptions {
  /** The database (a pool). The dashboard only reads, except its own sign-in sessions. */
  db: DbOrTx
  logger?: Logger
  /**
   * The address the dashboard is served on (`DASHBOARD_BIND`). On a loopback address nobody signs
   * in; on any other address every page needs an API key of read scope.
   */
  bind: string
  /**
   * `DASHBOARD_TRUST_PROXY`: a TLS-terminating proxy is in front, so `X-Forwarded-Proto: https`
   * means the browser used TLS (the session cookie is then `Secure` and `__Host-`-prefixed).
   * Default false: the header is ignored, since any client could send it.
   */
  trustProxy?: boolean
  /** How long a sign-in lasts, in seconds (default 12 hours). */
  sessionMaxAgeSec?: number
  /** The clock (tests pass a fixed one). */
  now?: () => Date
  /** What only the running monitor knows: verifliers' reachability, the WPCOM circuit. */
  fleetInfo?: () => FleetInfo | Promise<FleetInfo>
  /** `HISTORY_RETENTION_DAYS` (default 30). */
  historyRetentionDays?: number
  /** `HISTORY_MODE` (default `all`). */
  historyMode?: HistoryMode
  /** `BUCKET_TOTAL` (default 1000), for the fleet page's bucket coverage. */
  bucketTotal?: number
  /** Shown in the footer. */
  version?: string
  /** Live update limits. */
  live?: {
    /** Transitions are read this often (default 1 000 ms). */
    pollMs?: number
    /** Open event streams at most (default 100); further pages poll every 10 s. */
    maxClients?: number
    /** Unsent bytes per stream before it is dropped (default 64 KiB). */
    maxBufferBytes?: number
    heartbeatMs?: number
  }
  /** Where the built browser files are (default: the package's `assets/`). */
  assetsDir?: string | URL
  /** Rows of the overview's sites list (default 200). */
  siteListLimit?: number
}

/** A running dashboard. */
export interface Dashboard {
  /**
   * Serves the request when its path is the dashboard's (`/`, `/sites/…`, `/fleet`, `/live`,
   * `/signin`, `/signout`, `/assets/…`, `/favicon.ico`) and resolves true; resolves false, having
   * written nothing, for any other path.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>
  /** Stops the poller and ends every live stream. */
  close(): Promise<void>
  /** Whether pages ask for an API key (the bind is not loopback). */
  readonly authRequired: boolean
  /** Live stream counters, for metrics and tests. */
  stats(): ReturnType<LiveHub['stats']>
}

const JSON_TYPE = 'application/json; charset=utf-8'
const HTML_TYPE = 'text/html; charset=utf-8'
const MAX_FORM_BYTES = 8 * 1024
const RENDER_TTL_MS = 1_000
const FLEET_TTL_MS = 2_000
const MAX_CACHED_RENDERS = 200

interface Fragment {
  position: string
  title: string
  regions: Record<string, string>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message)
  }
}

function owns(path: string): boolean {
  return (
    path === '/' ||
    path === '/fleet' ||
    path === '/live' ||
    path === '/signin' ||
    path === '/signout' ||
    path === '/favicon.ico' ||
    path === '/sites' ||
    path.startsWith('/sites/') ||
    path.startsWith('/events/') ||
    path.startsWith('/assets/')
  )
}

/** A local path to return to after signing in; anything else becomes `/`. */
function safeNext(value: string | null | undefined): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\'))
    return '/'
  if (!/^[\x21-\x7e]*$/.test(value) || value.length > 2000) return '/'
  return value.startsWith('/signin') || value.startsWith('/signout') ? '/' : value
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'Unsupported form', 'The sign-in form posts application/x-www-form-urlencoded.')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'Form too large', 'The form is larger than 8 KiB.')
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/**
 * Creates the operator dashboard: the overview, site and fleet pages with
 * live updates. Read-only: the only rows it writes are its own sign-in sessions.
 *
 * ```ts
 * const dashboard = createDashboard({ db, logger, bind: config.DASHBOARD_BIND })
 * await startOpsServer({ …, fallback: (req, res) => dashboard.handle(req, res) })
 * // on drain: await dashboard.close()
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const db = options.db
  const logger = options.logger ?? noopLogger
  const now = options.now ?? (() => new Date())
  const assets = new Assets(options.assetsDir)
  const authRequired = !isLoopbackBind(options.bind)
  const sessions = new DashboardSessions(db, now, options.sessionMaxAgeSec)
  const trustProxy = options.trustProxy ?? false
  const isSecure = (req: IncomingMessage) => requestIsSecure(req, trustProxy)
  const totals = new FleetTotalsCache()
  const historyMode = options.historyMode ?? 'all'
  const retentionDays = options.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS
  const bucketTotal = options.bucketTotal ?? 1000
  const siteListLimit = options.siteListLimit ?? 200
  const hub = new LiveHub({
    db,
    logger,
    headers: { ...SECURITY_HEADERS },
    sessionValid: async (id) => (await sessions.verify(id)).ok,
    ...options.live,
  })
  hub.start()
  // Pausing or deleting a site closes its events with manual_override: the paused count moves too.
  hub.onChange((message) => {
    if (message.all || message.changes.some((change) => change.reason === 'manual_override')) totals.invalidate()
  })
  const renders = new Map<string, { seq: number; at: number; value: Promise<Fragment> }>()

  /** Renders shared by every page asking within the TTL, as long as no change came in between. */
  function cached(key: string, ttlMs: number, followSeq: boolean, render: () => Promise<Fragment>): Promise<Fragment> {
    const t = Date.now()
    const hit = renders.get(key)
    if (hit && t - hit.at < ttlMs && (!followSeq || hit.seq === hub.seq)) return hit.value
    const value = render()
    renders.delete(key)
    renders.set(key, { seq: hub.seq, at: t, value })
    if (renders.size > MAX_CACHED_RENDERS) renders.delete(renders.keys().next().value as string)
    value.catch(() => {
      if (renders.get(key)?.value === value) renders.delete(key)
    })
    return value
  }

  async function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    type: string,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': type,
      'cache-control': 'no-store',
      'x-robots-tag': 'noindex, nofollow',
      vary: 'accept-encoding, cookie',
      ...extra,
    }
    let payload: Buffer = Buffer.from(body, 'utf8')
    if (payload.length > 4096 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      payload = await gzip(payload, { level: 6 })
      headers['content-encoding'] = 'gzip'
    }
    headers['content-length'] = String(payload.length)
    res.writeHead(status, headers)
    res.end(payload)
  }

  const page = (
    input: { title: string; page: PageName; body: SafeHtml; livePosition?: string; data?: Record<string, string> },
    signedInAs: string | null,
  ) =>
    layout({
      ...input,
      assets,
      signedInAs: authRequired ? signedInAs : null,
      version: options.version,
    }).value

  function sendError(req: IncomingMessage, res: ServerResponse, error: HttpError, asJson: boolean) {
    if (asJson) {
      return send(
        req,
        res,
        error.status,
        `${JSON.stringify({ error: error.title, message: error.message })}\n`,
        JSON_TYPE,
      )
    }
    return send(
      req,
      res,
      error.status,
      page({ title: `${error.title} · Jetmon`, page: 'error', body: errorBody(error.title, error.message) }, null),
      HTML_TYPE,
    )
  }

  // ── the pages ───────────────────────────────────────────────────────────────────────────────

  function overviewQuery(url: URL): OverviewQuery {
    const q = (url.searchParams.get('q') ?? '').trim().slice(0, 200)
    const state = url.searchParams.get('state')
    return { q: q || null, state: state ? parseCountedState(state) : null, limit: siteListLimit }
  }

  async function overviewFragment(query: OverviewQuery): Promise<Fragment & { body: SafeHtml }> {
    const position = hub.position
    const at = now()
    const data = await loadOverview({ db, now: at, historyMode, counts: totals }, query)
    return {
      position,
      title: overviewTitle(data),
      regions: overviewRegions(data, query, at.getTime()),
      body: overviewBody(data, query, at.getTime()),
    }
  }

  function siteLinks(blogId: bigint, window: ChartWindow, cursor: string | null, older: string | null) {
    const base = `/sites/${blogId}`
    const windows = Object.fromEntries(
      (Object.keys(CHART_WINDOWS) as ChartWindow[]).map((w) => [
        w,
        `${base}?window=${w}${cursor ? `&events=${encodeURIComponent(cursor)}` : ''}`,
      ]),
    ) as Record<ChartWindow, string>
    return {
      windows,
      older: older ? `${base}?window=${window}&events=${encodeURIComponent(older)}#timeline-h` : null,
      newest: cursor ? `${base}?window=${window}#timeline-h` : null,
    }
  }

  async function siteFragment(blogId: bigint, url: URL): Promise<Fragment & { body: SafeHtml }> {
    const window = parseChartWindow(url.searchParams.get('window'))
    const rawCursor = url.searchParams.get('events')
    const cursor = rawCursor && rawCursor.length <= 200 ? rawCursor : null
    const position = hub.position
    const at = now()
    let data: Awaited<ReturnType<typeof loadSite>>
    try {
      data = await loadSite({ db, now: at, retentionDays, historyMode }, { blogId, window, eventsCursor: cursor })
    } catch (error) {
      if (isEventStoreError(error, 'INVALID_CURSOR')) {
        throw new HttpError(400, 'Unknown page of events', 'That link to older events is not valid any more.')
      }
      throw error
    }
    if (!data) {
      throw new HttpError(404, 'No such site', `No endpoint is monitored for blog ${blogId}.`)
    }
    const links = siteLinks(blogId, window, cursor, data.olderCursor)
    return {
      position,
      title: siteTitle(data),
      regions: siteRegions(data, at.getTime(), links),
      body: siteBody(data, at.getTime(), links),
    }
  }

  async function fleetFragment(): Promise<Fragment & { body: SafeHtml }> {
    const position = hub.position
    const at = now()
    const fleet = await loadFleet({ db, now: at, bucketTotal, fleetInfo: options.fleetInfo })
    return {
      position,
      title: 'Fleet · Jetmon',
      regions: { fleet: fleetRegion(fleet, at.getTime()).value },
      body: fleetBody(fleet, at.getTime()),
    }
  }

  async function servePage(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    signedInAs: string | null,
  ): Promise<void> {
    const fragment = url.searchParams.get('fragment') === '1'
    let render: () => Promise<Fragment & { body: SafeHtml }>
    let name: PageName
    let data: Record<string, string> = {}
    let ttl = RENDER_TTL_MS
    if (path === '/') {
      name = 'overview'
      const query = overviewQuery(url)
      render = () => overviewFragment(query)
    } else if (path === '/fleet') {
      name = 'fleet'
      ttl = FLEET_TTL_MS
      render = fleetFragment
    } else {
      const blogId = parseBlogId(path.slice('/sites/'.length))
      if (blogId === null) {
        throw new HttpError(404, 'No such page', 'Site pages are /sites/<blog id>, with a numeric blog id.')
      }
      name = 'site'
      data = { blog: blogId.toString() }
      render = () => siteFragment(blogId, url)
    }
    if (fragment) {
      const params = new URLSearchParams(url.search)
      params.delete('fragment')
      params.sort()
      const key = `${path}?${params}`
      const result = await cached(key, ttl, name !== 'fleet', render)
      const body = { position: result.position, title: result.title, regions: result.regions }
      await send(req, res, 200, JSON.stringify(body), JSON_TYPE)
      return
    }
    const result = await render()
    await send(
      req,
      res,
      200,
      page({ title: result.title, page: name, body: result.body, livePosition: result.position, data }, signedInAs),
      HTML_TYPE,
    )
  }

  // ── sign-in ─────────────────────────────────────────────────────────────────────────────────

  async function authenticate(req: IncomingMessage): Promise<KeyCheck | { ok: false; reason: 'missing' }> {
    const id = sessionId(req, isSecure(req))
    if (!id) return { ok: false, reason: 'missing' }
    return sessions.verify(id)
  }

  async function signin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const secure = isSecure(req)
    if (!authRequired) {
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'cache-control': 'no-store' })
      res.end()
      return
    }
    const render = (status: number, next: string, problem: string | null, extra: Record<string, string> = {}) =>
      send(
        req,
        res,
        status,
        page(
          { title: 'Sign in · Jetmon', page: 'signin', body: signinBody({ bind: options.bind, next, problem }) },
          null,
        ),
        HTML_TYPE,
        extra,
      )
    if (req.method !== 'POST') return render(200, safeNext(url.searchParams.get('next')), null)
    if (!sameOrigin(req)) {
      throw new HttpError(403, 'Refused', 'The sign-in form must be posted from this dashboard.')
    }
    const form = await readForm(req)
    const next = safeNext(form.get('next'))
    const key = (form.get('key') ?? '').trim()
    const check: KeyCheck | { ok: false; reason: 'missing' } = key
      ? await verifyKey(db, key, now())
      : { ok: false, reason: 'missing' }
    if (!check.ok) {
      logger.info({ reason: check.reason }, 'dashboard sign-in refused')
      return render(401, next, refusalText(check.reason))
    }
    const session = await sessions.start(check)
    logger.info({ consumer: check.consumer }, 'dashboard sign-in')
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: next,
      'cache-control': 'no-store',
      'set-cookie': sessionCookie(session.id, secure, session.maxAgeSec),
    })
    res.end()
  }

  async function signout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || !sameOrigin(req)) {
      throw new HttpError(405, 'Use the sign-out button', 'Signing out takes a POST from the dashboard.')
    }
    const id = sessionId(req, isSecure(req))
    if (id) {
      await sessions.end(id)
      hub.endSession(id)
    }
    const secure = isSecure(req)
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: authRequired ? '/signin' : '/',
      'cache-control': 'no-store',
      'set-cookie': clearedSessionCookie(secure),
    })
    res.end()
  }

  // ── routing ─────────────────────────────────────────────────────────────────────────────────

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    const method = req.method ?? 'GET'
    if (path.startsWith('/assets/') || path === '/favicon.ico') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method not allowed', 'Assets are read-only.')
      if (!assets.serve(path, req, res))
        throw new HttpError(404, 'No such file', 'This asset does not exist (any more).')
      return
    }
    if (path === '/signin') return signin(req, res, url)
    if (path === '/signout') return signout(req, res)
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, 'Method not allowed', 'The dashboard is read-only.')
    }
    let signedInAs: string | null = null
    if (authRequired) {
      const check = await authenticate(req)
      if (!check.ok) {
        const secure = isSecure(req)
        const clear: Record<string, string> =
          check.reason === 'missing' ? {} : { 'set-cookie': clearedSessionCookie(secure) }
        if (path === '/live' || url.searchParams.get('fragment') === '1') {
          await send(
            req,
            res,
            401,
            `${JSON.stringify({ error: 'sign_in_required', message: 'Sign in with an API key of read scope.' })}\n`,
            JSON_TYPE,
            clear,
          )
          return
        }
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          ...clear,
          location: `/signin?next=${encodeURIComponent(url.pathname + url.search)}`,
          'cache-control': 'no-store',
        })
        res.end()
        return
      }
      signedInAs = check.consumer
    }
    if (path === '/live') {
      const lastEventId = req.headers['last-event-id']
      hub.connect(
        req,
        res,
        (typeof lastEventId === 'string' ? lastEventId : null) ?? url.searchParams.get('after'),
        authRequired ? sessionId(req, isSecure(req)) : null,
      )
      return
    }
    if (path === '/sites') {
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'cache-control': 'no-store' })
      res.end()
      return
    }
    // Alert messages link to /events/<id>: the event lives on its site's timeline.
    const eventPath = /^\/events\/(\d{1,20})$/.exec(path)
    if (eventPath) {
      const [row] = await db
        .select({ blogId: events.blogId })
        .from(events)
        .where(eq(events.id, BigInt(eventPath[1]!)))
      if (!row) throw new HttpError(404, 'No such event', 'There is no event with this id.')
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        location: `/sites/${row.blogId.toString()}#event-${eventPath[1]}`,
        'cache-control': 'no-store',
      })
      res.end()
      return
    }
    await servePage(req, res, url, path, signedInAs)
  }

  return {
    authRequired,
    stats: () => hub.stats(),
    async handle(req, res) {
      let url: URL
      try {
        url = new URL(req.url ?? '/', 'http://dashboard.invalid')
      } catch {
        return false
      }
      const path = url.pathname
      if (!owns(path)) return false
      try {
        await route(req, res, url, path)
      } catch (error) {
        const asJson = path === '/live' || url.searchParams.get('fragment') === '1'
        if (res.headersSent) {
          res.destroy()
        } else if (error instanceof HttpError) {
          await sendError(req, res, error, asJson)
        } else {
          logger.error({ err: error, path }, 'dashboard page failed')
          await sendError(
            req,
            res,
            new HttpError(
              500,
              'Something went wrong',
              'The page could not be built (details are in the jetmon2 log). Reload in a moment.',
            ),
            asJson,
          )
        }
      }
      return true
    },
    async close() {
      hub.close()
    },
  }
}
