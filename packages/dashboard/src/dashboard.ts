/**
 * The operator dashboard, composed of its pieces: the router (router.ts), the sign-in rule and
 * handlers (sign-in.ts, over the sessions of auth.ts), the page handlers (page-handlers.ts) with
 * their shared render cache (render-cache.ts), and the live stream (live.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DbOrTx } from '@jetmon/db'
import { DEFAULT_HISTORY_RETENTION_DAYS, type HistoryMode } from '@jetmon/history'
import type { CheckPolicyDefaults } from '@jetmon/read-models'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { Assets } from './_assets.js'
import { DashboardSessions, isLoopbackBind } from './auth.js'
import { completePolicyDefaults } from './data/check-policy.js'
import type { FleetInfo } from './data/fleet.js'
import { FleetTotalsCache } from './data/overview.js'
import { SECURITY_HEADERS } from './headers.js'
import { LiveHub } from './live.js'
import { createPageHandlers, type Fragment } from './page-handlers.js'
import { RenderCache } from './render-cache.js'
import { pageShell } from './respond.js'
import { createRouter } from './router.js'
import { createSignIn } from './sign-in.js'

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
  /**
   * `DEFAULT_REQUEST_METHOD` and `DEFAULT_DETECTION_PROFILE`: what an endpoint without its own
   * method or profile is checked with. Without them, the pages show such an endpoint's method and
   * profile as "default" rather than guess.
   */
  checkPolicyDefaults?: Partial<CheckPolicyDefaults>
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
  const { db, bind } = options
  const logger = options.logger ?? noopLogger
  const now = options.now ?? (() => new Date())
  const assets = new Assets(options.assetsDir)
  const authRequired = !isLoopbackBind(bind)
  const shell = pageShell({ assets, authRequired, version: options.version })
  const sessions = new DashboardSessions(db, now, options.sessionMaxAgeSec)
  const totals = new FleetTotalsCache()
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
  const handle = createRouter({
    assets,
    shell,
    logger,
    live: hub,
    signIn: createSignIn({
      db,
      logger,
      bind,
      authRequired,
      trustProxy: options.trustProxy ?? false,
      sessions,
      now,
      shell,
      endLiveSession: (id) => hub.endSession(id),
    }),
    pages: createPageHandlers({
      db,
      now,
      hub,
      cache: new RenderCache<Fragment>(() => hub.seq),
      totals,
      shell,
      historyMode: options.historyMode ?? 'all',
      retentionDays: options.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
      bucketTotal: options.bucketTotal ?? 1000,
      checkPolicyDefaults: completePolicyDefaults(options.checkPolicyDefaults),
      siteListLimit: options.siteListLimit ?? 200,
      fleetInfo: options.fleetInfo,
    }),
  })
  return {
    authRequired,
    handle,
    stats: () => hub.stats(),
    async close() {
      hub.close()
    },
  }
}
