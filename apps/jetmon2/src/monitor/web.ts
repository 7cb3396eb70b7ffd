/**
 * The monitor's HTTP servers, each a builder returning what a drain stops: the ops endpoints with
 * the dashboard on the same port, and the REST API.
 */
import { readFileSync } from 'node:fs'
import type { AlertSender } from '@jetmon/alerting'
import { type ApiApp, createApiApp, type RunningApiServer, startApiServer } from '@jetmon/api-server'
import { createDashboard, createVeriflierHealthProbe } from '@jetmon/dashboard'
import { type MonitoredEndpoint, MonitorProbe, veriflierFetch, type WpcomNotifier } from '@jetmon/monitor'
import type { Registry } from 'prom-client'
import { type Jetmon2Config, veriflierQuorum } from '../config.js'
import { VERSION } from '../version.js'
import type { Check, Checking, MonitorPartDeps } from './checking.js'
import { endpointDefaults } from './checking.js'
import { type Readiness, startOpsServer } from './ops.js'
import type { Running } from './running.js'

/** A bind address as it goes in a URL: the wildcard becomes loopback, IPv6 gets brackets. */
export function hostForUrl(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1'
  if (bind === '::') return '[::1]'
  return bind.includes(':') ? `[${bind}]` : bind
}

/** What an endpoint without its own request method or detection profile is checked with, for the API and the dashboard. */
function checkPolicyDefaults(config: Jetmon2Config) {
  return { requestMethod: config.DEFAULT_REQUEST_METHOD, detectionProfile: config.DEFAULT_DETECTION_PROFILE }
}

/** The dashboard's URL as links in alerts give it, or null when DASHBOARD_PORT is 0. */
export function dashboardUrlOf(config: { DASHBOARD_PORT: number; DASHBOARD_BIND: string }): string | null {
  return config.DASHBOARD_PORT !== 0 ? `http://${hostForUrl(config.DASHBOARD_BIND)}:${config.DASHBOARD_PORT}` : null
}

/**
 * `/healthz`, `/readyz` and `/metrics` on DASHBOARD_PORT, with the dashboard answering every other
 * path. The notifier is read when the fleet page asks, so it may start after this.
 */
export async function startOpsAndDashboard(
  deps: MonitorPartDeps & {
    ca: string[] | undefined
    registry: Registry
    readiness: () => Promise<Readiness>
    notifier: () => WpcomNotifier | undefined
  },
): Promise<Running & { port: number }> {
  const config = deps.config()
  // Trusts https:// verifliers as the confirmation requests do: the built-in roots plus CA_FILE.
  const veriflierHealth = createVeriflierHealthProbe({
    targets: () => deps.config().VERIFLIERS,
    fetch: veriflierFetch(deps.ca ?? []),
  })
  const dashboard = createDashboard({
    db: deps.db,
    logger: deps.logger.child({ module: 'dashboard' }),
    bind: config.DASHBOARD_BIND,
    trustProxy: config.DASHBOARD_TRUST_PROXY,
    version: VERSION,
    historyRetentionDays: config.HISTORY_RETENTION_DAYS,
    historyMode: config.HISTORY_MODE,
    bucketTotal: config.BUCKET_TOTAL,
    checkPolicyDefaults: checkPolicyDefaults(config),
    fleetInfo: async () => {
      // null only while the monitor is still starting, before its notifier exists.
      const notifier = deps.notifier()
      return {
        verifliers: await veriflierHealth.read(),
        wpcom: notifier ? { enabled: deps.config().WPCOM_NOTIFY_ENABLE, ...notifier.stats() } : null,
      }
    },
  })
  const ops = await startOpsServer({
    bind: config.DASHBOARD_BIND,
    port: config.DASHBOARD_PORT,
    registry: deps.registry,
    readiness: deps.readiness,
    fallback: (req, res) => dashboard.handle(req, res),
  }).catch(async (error: unknown) => {
    await dashboard.close().catch(() => {})
    throw error
  })
  return {
    name: 'ops and dashboard',
    port: ops.port,
    stop: async () => {
      await dashboard.close().catch(() => {})
      await ops.close()
    },
  }
}

/**
 * The REST API on API_PORT, with on-demand checks through this monitor's checker and pipeline. A
 * drain stops it taking requests first; those in flight get a few seconds to answer.
 */
export async function startApi(
  deps: MonitorPartDeps & {
    check: Check
    checking: Checking
    alertSender: AlertSender
    secretsKey: Buffer | null
    dashboardUrl: string | null
  },
): Promise<Running & { app: ApiApp; server: RunningApiServer }> {
  const { db, logger: log, checking, alertSender } = deps
  const config = deps.config()
  // Rollout preflight asks the verifliers as confirmation rounds do: the built-in roots plus CA_FILE.
  const veriflierCa = config.CA_FILE ? [readFileSync(config.CA_FILE, 'utf8')] : undefined
  const probe = new MonitorProbe({
    db,
    check: deps.check,
    pipeline: checking.pipeline,
    owned: (endpointId): MonitoredEndpoint | undefined => checking.endpoints.get(endpointId),
    defaults: () => endpointDefaults(deps.config()),
    projection: () => deps.config().LEGACY_STATUS_PROJECTION_ENABLE,
    logger: log.child({ module: 'probe' }),
  })
  const app = createApiApp({
    db,
    logger: log.child({ module: 'api' }),
    bucketTotal: config.BUCKET_TOTAL,
    historyRetentionDays: config.HISTORY_RETENTION_DAYS,
    historyMode: config.HISTORY_MODE,
    secretsKey: deps.secretsKey,
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    checkPolicyDefaults: checkPolicyDefaults(config),
    probe,
    alertTester: { send: (contact, now) => alertSender.sendTest(contact as never, now) },
    dashboardUrl: deps.dashboardUrl,
    // Getters: a reload applies to the next request.
    rollout: {
      get tokenTtlSec() {
        return deps.config().ROLLOUT_TOKEN_TTL_SEC
      },
      get projection() {
        return deps.config().LEGACY_STATUS_PROJECTION_ENABLE
      },
    },
    rolloutChecks: () => {
      const current = deps.config()
      return {
        check: deps.check,
        endpointDefaults: endpointDefaults(current),
        verifliers: current.VERIFLIERS,
        veriflierQuorum: veriflierQuorum(current),
        veriflierTimeoutMs: current.VERIFLIER_TIMEOUT_MS ?? current.CHECK_TIMEOUT_MS + 5000,
        ...(veriflierCa ? { ca: veriflierCa } : {}),
        bucketTotal: current.BUCKET_TOTAL,
        projectionEnabled: current.LEGACY_STATUS_PROJECTION_ENABLE,
        heartbeatMaxAgeMs: current.BUCKET_LEASE_SEC * 1000,
      }
    },
  })
  const server = await startApiServer(app, { port: config.API_PORT, bind: config.API_BIND })
  log.info({ url: server.url }, 'REST API listening')
  return {
    name: 'REST API',
    app,
    server,
    stop: async (left) => {
      await server
        .close(Math.min(5_000, left() / 4))
        .catch((error: unknown) => log.warn({ err: error }, 'could not close the API server'))
    },
  }
}
