/**
 * The page handlers: each loads its data, renders it, and answers either the whole page or, for
 * the browser script's refresh after a change (`?fragment=1`), its regions as JSON from the
 * shared render cache.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type DbOrTx, events } from '@jetmon/db'
import { isEventStoreError } from '@jetmon/eventstore'
import type { HistoryMode } from '@jetmon/history'
import type { CheckPolicyDefaults } from '@jetmon/read-models'
import { eq } from 'drizzle-orm'
import type { SafeHtml } from './_html.js'
import { parseCountedState } from './_states.js'
import { type FleetInfo, loadFleet } from './data/fleet.js'
import { type FleetTotalsCache, loadOverview, type OverviewQuery } from './data/overview.js'
import { CHART_WINDOWS, type ChartWindow, loadSite, parseBlogId, parseChartWindow } from './data/site.js'
import type { LiveHub } from './live.js'
import type { PageName } from './pages/_layout.js'
import { fleetBody, fleetRegion } from './pages/fleet.js'
import { overviewBody, overviewRegions, overviewTitle } from './pages/overview.js'
import { siteBody, siteRegions, siteTitle } from './pages/site.js'
import type { RenderCache } from './render-cache.js'
import { HTML_TYPE, HttpError, JSON_TYPE, type PageShell, redirect, send } from './respond.js'

/** How long a render is shared; the fleet page, which changes with no transition, a little longer. */
const RENDER_TTL_MS = 1_000
const FLEET_TTL_MS = 2_000

/** What a page's live refresh replaces: its title and regions, as of a live stream position. */
export interface Fragment {
  position: string
  title: string
  regions: Record<string, string>
}

/** Options of {@link createPageHandlers}. */
export interface PageHandlersOptions {
  db: DbOrTx
  now: () => Date
  /** Where the live stream is, stamped on each render so that the page resumes from there. */
  hub: Pick<LiveHub, 'position'>
  cache: RenderCache<Fragment>
  totals: FleetTotalsCache
  shell: PageShell
  historyMode: HistoryMode
  retentionDays: number
  bucketTotal: number
  /** The fleet's default method and profile, or null when the process did not say. */
  checkPolicyDefaults: CheckPolicyDefaults | null
  siteListLimit: number
  fleetInfo?: (() => FleetInfo | Promise<FleetInfo>) | undefined
}

/** The handlers of the dashboard's pages. */
export interface PageHandlers {
  /** `/` (overview), `/fleet` and `/sites/<blog id>`, whole or as a fragment. */
  servePage(req: IncomingMessage, res: ServerResponse, url: URL, path: string, signedInAs: string | null): Promise<void>
  /**
   * `/events/<id>`, as alert messages link (`id` is 1 to 20 digits): redirects to the event on its
   * site's timeline.
   */
  showEvent(res: ServerResponse, id: string): Promise<void>
}

type Rendered = Fragment & { body: SafeHtml }

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

/** Creates the page handlers. */
export function createPageHandlers(options: PageHandlersOptions): PageHandlers {
  const { db, now, hub, cache, totals, shell, historyMode, retentionDays } = options

  function overviewQuery(url: URL): OverviewQuery {
    const q = (url.searchParams.get('q') ?? '').trim().slice(0, 200)
    const state = url.searchParams.get('state')
    return { q: q || null, state: state ? parseCountedState(state) : null, limit: options.siteListLimit }
  }

  async function overview(query: OverviewQuery): Promise<Rendered> {
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

  async function site(blogId: bigint, url: URL): Promise<Rendered> {
    const window = parseChartWindow(url.searchParams.get('window'))
    const rawCursor = url.searchParams.get('events')
    const cursor = rawCursor && rawCursor.length <= 200 ? rawCursor : null
    const position = hub.position
    const at = now()
    let data: Awaited<ReturnType<typeof loadSite>>
    try {
      data = await loadSite(
        { db, now: at, retentionDays, historyMode, checkPolicyDefaults: options.checkPolicyDefaults },
        { blogId, window, eventsCursor: cursor },
      )
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

  async function fleet(): Promise<Rendered> {
    const position = hub.position
    const at = now()
    const data = await loadFleet({
      db,
      now: at,
      bucketTotal: options.bucketTotal,
      fleetInfo: options.fleetInfo,
      checkPolicyDefaults: options.checkPolicyDefaults,
    })
    return {
      position,
      title: 'Fleet · Jetmon',
      regions: { fleet: fleetRegion(data, at.getTime()).value },
      body: fleetBody(data, at.getTime()),
    }
  }

  return {
    async servePage(req, res, url, path, signedInAs) {
      const fragment = url.searchParams.get('fragment') === '1'
      let render: () => Promise<Rendered>
      let name: PageName
      let data: Record<string, string> = {}
      let ttl = RENDER_TTL_MS
      if (path === '/') {
        name = 'overview'
        const query = overviewQuery(url)
        render = () => overview(query)
      } else if (path === '/fleet') {
        name = 'fleet'
        ttl = FLEET_TTL_MS
        render = fleet
      } else {
        const blogId = parseBlogId(path.slice('/sites/'.length))
        if (blogId === null) {
          throw new HttpError(404, 'No such page', 'Site pages are /sites/<blog id>, with a numeric blog id.')
        }
        name = 'site'
        data = { blog: blogId.toString() }
        render = () => site(blogId, url)
      }
      if (fragment) {
        const params = new URLSearchParams(url.search)
        params.delete('fragment')
        params.sort()
        const key = `${path}?${params}`
        const result = await cache.get(key, ttl, name !== 'fleet', render)
        const body = { position: result.position, title: result.title, regions: result.regions }
        await send(req, res, 200, JSON.stringify(body), JSON_TYPE)
        return
      }
      const result = await render()
      await send(
        req,
        res,
        200,
        shell({ title: result.title, page: name, body: result.body, livePosition: result.position, data }, signedInAs),
        HTML_TYPE,
      )
    },

    async showEvent(res, id) {
      const [row] = await db
        .select({ blogId: events.blogId })
        .from(events)
        .where(eq(events.id, BigInt(id)))
      if (!row) throw new HttpError(404, 'No such event', 'There is no event with this id.')
      redirect(res, `/sites/${row.blogId.toString()}#event-${id}`)
    },
  }
}
