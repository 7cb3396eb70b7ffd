import type { RouteDefinition, Scope } from '@jetmon/api-client'
import type { Db, Logger } from '@jetmon/db'
import type { CheckPolicyDefaults } from '@jetmon/read-models'
import type { RolloutChecksContext } from '@jetmon/rollout'
import type * as v from 'valibot'

/** The key behind an authenticated request. */
export interface Principal {
  keyId: bigint
  consumer: string
  scope: Scope
  rateLimitPerMinute: number
  expiresAt: Date | null
  revokedAt: Date | null
}

/** One endpoint's answer to trigger-now (docs/api.md), in wire form. */
export interface ProbeResult {
  endpoint_id: number | string
  monitor_url: string
  success: boolean
  http_code: number | null
  error_code: number
  error: string | null
  error_detail: string | null
  rtt_ms: number | null
  checked_at: string
  /**
   * What the answer did: `ok` (passed, nothing open), `closed_events` (passed and closed the open
   * http event with `probe_cleared`), `confirmation_started` (failed and fed this host's
   * confirmation pipeline: an http event is open), `failed` (failed; the endpoint is checked by
   * another monitor host, whose own checks confirm it).
   */
  outcome: 'ok' | 'closed_events' | 'confirmation_started' | 'failed'
}

/**
 * Runs checks now for trigger-now. `jetmon2 serve` passes its monitor's checker and pipeline; a
 * pass closes open http events (`probe_cleared`), a failure feeds the confirmation pipeline.
 */
export interface EndpointProbe {
  probe(endpoints: readonly { endpointId: bigint; blogId: bigint }[], source: string): Promise<ProbeResult[]>
}

/** What the API needs from its process. */
export interface ApiDeps {
  db: Db
  logger: Logger
  /** Wall clock (tests pass a manual one). */
  now?: () => Date
  /** `HISTORY_RETENTION_DAYS`, for statistics. */
  historyRetentionDays?: number
  /** `HISTORY_MODE`. */
  historyMode?: 'all' | 'failures'
  /** `SECRETS_KEY` (32 bytes) for webhook secrets and alert destinations at rest; null stores plaintext. */
  secretsKey?: Buffer | null
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`. */
  allowPrivateTargets?: boolean
  /**
   * The fleet defaults an endpoint without its own request method or detection profile is checked
   * with (`DEFAULT_REQUEST_METHOD`, `DEFAULT_DETECTION_PROFILE`): answers show them and the list
   * filters match them. Default GET and full.
   */
  checkPolicyDefaults?: Partial<CheckPolicyDefaults>
  /** `BUCKET_TOTAL`: buckets of new endpoints are drawn from 0 … bucketTotal − 1 (default 1000). */
  bucketTotal?: number
  /** trigger-now; without it those routes answer 503 `probe_unavailable`. */
  probe?: EndpointProbe
  /**
   * Checks trigger-now may run at once in this process, every request together (default 16); a
   * request that does not fit answers 429 `trigger_now_busy`.
   */
  triggerNowConcurrency?: number
  /** Public URL of the dashboard, for links in answers. */
  dashboardUrl?: string | null
  /**
   * The rollout control plane's settings: `ROLLOUT_TOKEN_TTL_SEC` (default 600), the legacy
   * projection flag adoption writes with (default true), and how a release waits (tests pass manual time).
   */
  rollout?: { tokenTtlSec?: number; projection?: boolean; sleep?: (ms: number) => Promise<void> }
  /**
   * What rollout preflight, smoke and compare need from the process (its guarded checker, the
   * verifliers, BUCKET_TOTAL, the projection flag), read per request so that a reload applies;
   * without it those routes answer 503 `probe_unavailable`.
   */
  rolloutChecks?: () => Omit<RolloutChecksContext, 'db' | 'actor' | 'clock'>
  /**
   * Sends an alert contact's test message through its transport (`POST /alert-contacts/{id}/test`);
   * without it that route answers 503 `alert_transport_unavailable`.
   */
  alertTester?: {
    send(
      contact: { transport: string; destination: unknown; label: string },
      now: Date,
    ): Promise<{ ok: boolean; status_code?: number | null; response?: string | null; error?: string | null }>
  }
}

type Out<S> = S extends v.GenericSchema ? v.InferOutput<S> : undefined
type WireIn<S> = S extends v.GenericSchema ? v.InferInput<S> : undefined

/** What a handler receives: validated input, the caller and the process's dependencies. */
export interface RequestContext<R extends RouteDefinition> {
  params: Out<R['params']>
  query: Out<R['query']>
  body: Out<R['body']>
  /** The caller; `null` only on routes with scope `none`. */
  principal: R['scope'] extends 'none' ? Principal | null : Principal
  /** Gateway mode: the tenant whose rows this request may see, or null for all. */
  tenantId: string | null
  requestId: string
  /** The request's clock reading (one per request). */
  now: Date
  /** `api:<consumer>`, for transitions and audit rows. */
  source: string
  /** A request header (lower- or mixed-case name), e.g. `accept`. */
  header(name: string): string | undefined
  deps: Required<Pick<ApiDeps, 'db' | 'logger'>> & ApiDeps
}

/** A non-default answer from a handler: another status or extra headers. */
export class Reply<T> {
  constructor(
    readonly body: T,
    readonly status?: number,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Handlers answer with the wire-format body of the route (or a {@link Reply}). */
export type HandlerResult<R extends RouteDefinition> = WireIn<R['response']> | Reply<WireIn<R['response']>>

export type Handler<R extends RouteDefinition> = (ctx: RequestContext<R>) => Promise<HandlerResult<R>>

/** One handler per route of a contract table. */
export type Handlers<T extends Record<string, RouteDefinition>> = { [K in keyof T]: Handler<T[K]> }
