/**
 * Sites, endpoints and maintenance windows (docs/api.md). A site is one `blog_id`; its
 * endpoints are the monitored URLs (rows of `jetpack_monitor_sites` with their
 * `jetmon_endpoint_config` sidecar).
 */
import { DETECTION_PROFILES, REDIRECT_POLICIES, REQUEST_METHODS } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import {
  BooleanParam,
  EventState,
  Id,
  IdInput,
  IdParam,
  integerParam,
  listOf,
  listParam,
  PageQuery,
  Severity,
  STATES,
  State,
  Timestamp,
  TimestampInput,
} from './schema.js'

// ── Endpoint configuration (request side) ──────────────────────────────────────────────────────

/**
 * Longest `check_interval_sec`: the monitor schedules intervals of at most 2^32 ms (~49.7 days);
 * the column itself (INT UNSIGNED) would hold more.
 */
export const MAX_CHECK_INTERVAL_SEC = 4_294_967
/** Longest `timeout_ms` the checker accepts (5 minutes). */
export const MAX_TIMEOUT_MS = 300_000
/** Most redirects the checker follows. */
export const MAX_REDIRECTS = 50
/** `bucket_no` is a SMALLINT UNSIGNED; the monitor's `BUCKET_TOTAL` may only be smaller. */
export const MAX_BUCKET_NO = 65_535
const MAX_URL_LENGTH = 2083
const MAX_KEYWORD_LENGTH = 500
const MAX_FORBIDDEN_KEYWORDS = 100
const MAX_CUSTOM_HEADERS = 50
const MAX_HEADER_VALUE_LENGTH = 8192
/** Headers that would break the checker's own request framing. */
const RESERVED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'te', 'upgrade', 'keep-alive'])

function wholeNumber(min: number, max: number) {
  return v.pipe(
    v.number('must be a number'),
    v.safeInteger('must be a whole number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  )
}

/** Whether the text holds a C0 control character or DEL (line breaks included). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function httpUrlProblem(text: string): string | null {
  if (/\s/.test(text) || hasControlCharacter(text)) return 'must not contain spaces or control characters'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'must be an absolute http(s) URL, e.g. https://example.com/'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https'
  if (url.hostname === '') return 'must name a host'
  // Responses and logs show the URL: secrets belong in (write-only) custom_headers.
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials; send an Authorization custom header instead'
  }
  return null
}

/** An endpoint URL: http(s) with a host, at most 2083 characters, no embedded credentials. */
export const MonitorUrl = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = httpUrlProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
  v.description('The monitored URL: http or https with a host; stored as given (trimmed).'),
)

const HeaderName = v.pipe(
  v.string(),
  v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'is not a valid HTTP header name'),
  // Also what an array (keys "0", "1", …) given instead of an object runs into.
  v.regex(/[A-Za-z]/, 'is not a header name: custom_headers is an object of header name → value'),
  v.check((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by the checker itself and cannot be overridden'),
)
const HeaderValue = v.pipe(
  v.string('must be a string'),
  v.maxLength(MAX_HEADER_VALUE_LENGTH, `must be at most ${MAX_HEADER_VALUE_LENGTH} characters`),
  v.check((value) => !/[\r\n]/.test(value) && !value.includes('\0'), 'must not contain line breaks'),
)

/** Extra request headers, write-only (values can be secrets: they are never returned). */
export const CustomHeaders = v.pipe(
  v.record(HeaderName, HeaderValue, 'must be an object of header name → string value'),
  v.check(
    (headers) => Object.keys(headers).length <= MAX_CUSTOM_HEADERS,
    `must hold at most ${MAX_CUSTOM_HEADERS} headers`,
  ),
  v.check((headers) => {
    const names = Object.keys(headers).map((name) => name.toLowerCase())
    return new Set(names).size === names.length
  }, 'names a header twice (names are case-insensitive)'),
  v.description('Header name → value, sent with every check. Write-only: answers carry only `custom_header_names`.'),
)

const CheckKeyword = v.pipe(
  v.string('must be a string'),
  v.maxLength(MAX_KEYWORD_LENGTH, `must be at most ${MAX_KEYWORD_LENGTH} characters`),
  v.transform((text) => (text === '' ? null : text)),
)

const ForbiddenKeywords = v.pipe(
  v.array(
    v.pipe(
      v.string('must be a string'),
      v.nonEmpty('must not be empty'),
      v.maxLength(MAX_KEYWORD_LENGTH, `must be at most ${MAX_KEYWORD_LENGTH} characters`),
    ),
    'must be an array of strings',
  ),
  v.maxLength(MAX_FORBIDDEN_KEYWORDS, `must hold at most ${MAX_FORBIDDEN_KEYWORDS} keywords`),
)

const RequestMethodInput = v.picklist(REQUEST_METHODS, `must be ${REQUEST_METHODS.join(' or ')}`)
const DetectionProfileInput = v.picklist(
  DETECTION_PROFILES,
  `must be ${DETECTION_PROFILES.slice(0, -1).join(', ')} or ${DETECTION_PROFILES.at(-1)}`,
)

/** Filters on the effective check policy (a NULL stored value counts as the fleet default). */
const PolicyFilters = {
  request_method: v.optional(
    v.pipe(RequestMethodInput, v.description('Effective request method (the fleet default when none is set).')),
  ),
  detection_profile: v.optional(
    v.pipe(DetectionProfileInput, v.description('Effective detection profile (the fleet default when none is set).')),
  ),
}

/**
 * The endpoint configuration fields of docs/api.md. Absent = unchanged (on create: the default);
 * `null` = back to the default (for the nullable ones). Bounds are those of the columns, narrowed
 * where the checker or the scheduler accepts less.
 */
const configEntries = {
  monitor_active: v.optional(v.boolean('must be true or false')),
  check_interval_sec: v.optional(
    v.pipe(
      v.nullable(wholeNumber(1, MAX_CHECK_INTERVAL_SEC)),
      v.description('Seconds between checks; null = the legacy `check_interval` minutes (default 5).'),
    ),
  ),
  timeout_ms: v.optional(
    v.pipe(v.nullable(wholeNumber(1, MAX_TIMEOUT_MS)), v.description('Whole-check deadline; null = 10000.')),
  ),
  request_method: v.optional(
    v.pipe(
      v.nullable(RequestMethodInput),
      v.description('HTTP method of the check; null = the fleet default (`DEFAULT_REQUEST_METHOD`, GET).'),
    ),
  ),
  detection_profile: v.optional(
    v.pipe(
      v.nullable(DetectionProfileInput),
      v.description(
        'What the verdict judges: `legacy` (reachability, TLS validity and status; the body is not read), `simple_http` (also the keyword rules) or `full` (also truncated and empty bodies, and advisories); null = the fleet default (`DEFAULT_DETECTION_PROFILE`, full).',
      ),
    ),
  ),
  redirect_policy: v.optional(v.nullable(v.picklist(REDIRECT_POLICIES, 'must be follow, alert or fail'))),
  max_redirects: v.optional(v.pipe(v.nullable(wholeNumber(0, MAX_REDIRECTS)), v.description('null = 10.'))),
  check_keyword: v.optional(
    v.pipe(v.nullable(CheckKeyword), v.description('Text the body must contain; null or "" = none.')),
  ),
  forbidden_keywords: v.optional(
    v.pipe(v.nullable(ForbiddenKeywords), v.description('Texts the body must not contain; null or [] = none.')),
  ),
  keyword_case_sensitive: v.optional(
    v.pipe(v.nullable(v.boolean('must be true or false')), v.description('null = true.')),
  ),
  custom_headers: v.optional(v.pipe(v.nullable(CustomHeaders), v.description('null or {} = none.'))),
  latency_threshold_ms: v.optional(
    v.pipe(
      v.nullable(wholeNumber(1, 4_294_967_295)),
      v.description('Slower successful responses are Degraded; null = no threshold.'),
    ),
  ),
  tls_expiry_warn_days: v.optional(v.pipe(v.nullable(wholeNumber(0, 65_535)), v.description('null = 30.'))),
  alert_cooldown_minutes: v.optional(v.pipe(v.nullable(wholeNumber(0, 65_535)), v.description('null = 30.'))),
  bucket_no: v.optional(
    v.pipe(
      wholeNumber(0, MAX_BUCKET_NO),
      v.description(
        'Monitor bucket, below the fleet’s BUCKET_TOTAL. On create, default: a hash of the endpoint id (what the monitor assigns).',
      ),
    ),
  ),
}

/** The configuration fields as the server reads them (after validation). */
export type EndpointConfigChanges = v.InferOutput<v.ObjectSchema<typeof configEntries, undefined>>

// ── Responses ──────────────────────────────────────────────────────────────────────────────────

const SiteStateField = v.pipe(
  State,
  v.description(
    '`Paused` if every endpoint is inactive; else `Maintenance` if current windows cover every active endpoint; else the state of the worst open event (highest severity, then earliest start); else `Up`.',
  ),
)
const SeverityField = v.pipe(
  Severity,
  v.description('Severity of the worst open event when the state comes from it; 0 for Up, Paused and Maintenance.'),
)
const ActiveEventField = v.pipe(
  v.nullable(Id),
  v.description('The worst open event (whatever the state), or null when none is open.'),
)

/** Runtime facts the monitor records for an endpoint (`jetmon_endpoint_state`), written coarsely. */
export const EndpointRuntime = v.object({
  last_checked_at: v.nullable(Timestamp),
  last_http_code: v.nullable(v.number()),
  last_error_code: v.nullable(v.number()),
  ssl_expires_at: v.nullable(Timestamp),
  tls_version: v.nullable(v.string()),
})

/** One endpoint with its effective configuration (defaults applied) and runtime state. */
export const SiteEndpoint = v.object({
  endpoint_id: Id,
  blog_id: Id,
  monitor_url: v.string(),
  monitor_active: v.boolean(),
  bucket_no: v.number(),
  check_interval_sec: v.pipe(
    v.number(),
    v.description('Effective: `check_interval_sec` when set, else the legacy `check_interval` minutes × 60.'),
  ),
  timeout_ms: v.number(),
  request_method: v.pipe(
    v.picklist(REQUEST_METHODS),
    v.description('Effective: the endpoint’s own method, else the fleet default.'),
  ),
  detection_profile: v.pipe(
    v.picklist(DETECTION_PROFILES),
    v.description('Effective: the endpoint’s own detection profile, else the fleet default.'),
  ),
  redirect_policy: v.picklist(REDIRECT_POLICIES),
  max_redirects: v.number(),
  check_keyword: v.nullable(v.string()),
  forbidden_keywords: v.array(v.string()),
  keyword_case_sensitive: v.boolean(),
  custom_header_names: v.pipe(
    v.array(v.string()),
    v.description('Names of the configured custom headers; their values are write-only.'),
  ),
  latency_threshold_ms: v.nullable(v.number()),
  tls_expiry_warn_days: v.number(),
  alert_cooldown_minutes: v.number(),
  current_state: v.pipe(
    State,
    v.description(
      '`Paused` when inactive; `Maintenance` when a current window covers it; else its worst open event’s state; else `Up`.',
    ),
  ),
  current_severity: SeverityField,
  active_event_id: ActiveEventField,
  runtime: EndpointRuntime,
  config_updated_at: v.pipe(
    v.nullable(Timestamp),
    v.description('Last change of its configuration; null when it never had a configuration row.'),
  ),
})
export type SiteEndpoint = v.InferOutput<typeof SiteEndpoint>

/** One item of `GET /sites`. */
export const SiteSummary = v.object({
  blog_id: Id,
  monitor_url: v.pipe(v.string(), v.description('The primary endpoint’s URL (lowest endpoint id).')),
  endpoint_count: v.number(),
  active_endpoint_count: v.number(),
  monitor_active: v.pipe(v.boolean(), v.description('Whether at least one endpoint is active.')),
  current_state: SiteStateField,
  current_severity: SeverityField,
  active_event_id: ActiveEventField,
  last_checked_at: v.pipe(v.nullable(Timestamp), v.description('The latest check of any of its endpoints.')),
})
export type SiteSummary = v.InferOutput<typeof SiteSummary>

/** An open event as listed with its site. */
export const SiteOpenEvent = v.object({
  id: Id,
  endpoint_id: v.pipe(v.nullable(Id), v.description('null for a site-level event.')),
  check_type: v.string(),
  discriminator: v.nullable(v.string()),
  severity: Severity,
  state: EventState,
  started_at: Timestamp,
})

/** A maintenance window; it covers a check when `starts_at <= t < ends_at`. */
export const MaintenanceWindow = v.object({
  id: Id,
  blog_id: Id,
  endpoint_id: v.pipe(v.nullable(Id), v.description('null = every endpoint of the site.')),
  starts_at: Timestamp,
  ends_at: Timestamp,
  reason: v.nullable(v.string()),
  created_by: v.string(),
  created_at: Timestamp,
  status: v.pipe(v.picklist(['past', 'current', 'future']), v.description('Relative to the time of the request.')),
})
export type MaintenanceWindow = v.InferOutput<typeof MaintenanceWindow>

/** `GET /sites/{blog_id}`. */
export const SiteDetail = v.object({
  ...SiteSummary.entries,
  endpoints: v.pipe(v.array(SiteEndpoint), v.description('Every endpoint, active or not, by endpoint id.')),
  active_events: v.pipe(v.array(SiteOpenEvent), v.description('Open events, worst first.')),
  maintenance: v.pipe(
    v.nullable(MaintenanceWindow),
    v.description('A window covering the site now (a site-wide one first), or null.'),
  ),
  confirmation: v.pipe(
    v.nullable(v.picklist(['unavailable'])),
    v.description(
      '`unavailable` when an open Seems Down http event of the site could not be confirmed: the latest veriflier request for it (audit `veriflier_request`) was inconclusive because too few verifliers answered. The state stays Seems Down, never Down; null otherwise.',
    ),
  ),
})
export type SiteDetail = v.InferOutput<typeof SiteDetail>

/** One endpoint's answer to trigger-now. */
export const ProbeAnswer = v.object({
  endpoint_id: Id,
  monitor_url: v.string(),
  success: v.boolean(),
  http_code: v.nullable(v.number()),
  error_code: v.pipe(v.number(), v.description('0 on success; the checker’s failure code otherwise.')),
  error: v.pipe(v.nullable(v.string()), v.description('The failure name (`timeout`, `http_status`, …).')),
  error_detail: v.nullable(v.string()),
  rtt_ms: v.nullable(v.number()),
  checked_at: Timestamp,
  outcome: v.pipe(
    v.picklist(['ok', 'closed_events', 'confirmation_started', 'failed']),
    v.description(
      '`ok`: passed, nothing was open; `closed_events`: passed and closed the open http event (`probe_cleared`); `confirmation_started`: failed and fed the confirmation pipeline; `failed`: failed, left to the monitor host that owns the endpoint.',
    ),
  ),
})

const TriggerNowAnswer = v.object({
  results: v.pipe(v.array(ProbeAnswer), v.description('One per active endpoint; inactive endpoints are not checked.')),
})

// ── Routes ─────────────────────────────────────────────────────────────────────────────────────

const BlogParams = v.object({ blog_id: IdParam })
const EndpointParams = v.object({ endpoint_id: IdParam })

const MaintenanceBounds = {
  maintenance_start: v.optional(
    v.pipe(
      v.nullable(TimestampInput),
      v.description('With `maintenance_end`: schedule a site-wide window [start, end).'),
    ),
  ),
  maintenance_end: v.optional(
    v.pipe(
      v.nullable(TimestampInput),
      v.description(
        'With `maintenance_start`: the end of a new window. Alone: move the end of the windows covering the site now. null: end the windows covering the site now, at once.',
      ),
    ),
  ),
}

export const listSites = defineRoute({
  method: 'GET',
  path: '/sites',
  scope: 'read',
  tag: 'sites',
  summary:
    'Sites by blog_id, with their derived state; state filters apply to the derived state, request_method and detection_profile keep sites with at least one endpoint on that check policy',
  query: v.strictObject({
    ...PageQuery,
    state: v.optional(v.picklist(STATES, `must be one of ${STATES.join(', ')}`)),
    state__in: v.optional(listParam(STATES)),
    severity__gte: v.optional(integerParam(0, 4)),
    monitor_active: v.optional(
      v.pipe(BooleanParam, v.description('true: at least one active endpoint; false: every endpoint inactive.')),
    ),
    q: v.optional(
      v.pipe(
        v.string(),
        v.nonEmpty('must not be empty'),
        v.maxLength(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
        v.description(
          'Substring of any endpoint URL (case-insensitive). Three characters or more are looked up in an index of the URLs; one or two are matched site by site in page order.',
        ),
      ),
    ),
    ...PolicyFilters,
  }),
  status: 200,
  response: listOf(SiteSummary),
})

export const createSite = defineRoute({
  method: 'POST',
  path: '/sites',
  scope: 'write',
  tag: 'sites',
  summary:
    'Monitor a URL of a blog: creates the site with this endpoint (or adds it to the site); 409 site_exists if the blog already monitors that URL; in a gateway tenant context, 404 site_not_found for a blog already monitored outside the tenant',
  body: v.strictObject({ blog_id: IdInput, monitor_url: MonitorUrl, ...configEntries }),
  status: 201,
  response: SiteDetail,
  errors: ['site_exists', 'site_not_found'],
  idempotent: true,
})

export const getSite = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}',
  scope: 'read',
  tag: 'sites',
  summary: 'A site with its endpoints, open events, current maintenance window and confirmation flag',
  params: BlogParams,
  status: 200,
  response: SiteDetail,
  errors: ['site_not_found'],
})

export const updateSite = defineRoute({
  method: 'PATCH',
  path: '/sites/{blog_id}',
  scope: 'write',
  tag: 'sites',
  summary:
    'Apply configuration fields to every endpoint of the site (monitor_active: false pauses); maintenance_start/maintenance_end schedule or end a window',
  params: BlogParams,
  body: v.strictObject({ ...configEntries, ...MaintenanceBounds }),
  status: 200,
  response: SiteDetail,
  errors: ['site_not_found', 'invalid_window'],
})

export const deleteSite = defineRoute({
  method: 'DELETE',
  path: '/sites/{blog_id}',
  scope: 'write',
  tag: 'sites',
  summary:
    'Stop monitoring a site: closes its open events (manual_override), deactivates every endpoint and its service level objectives; the rows stay',
  params: BlogParams,
  status: 204,
  errors: ['site_not_found'],
})

export const pauseSite = defineRoute({
  method: 'POST',
  path: '/sites/{blog_id}/pause',
  scope: 'write',
  tag: 'sites',
  summary: 'Pause every endpoint of the site; open events close with manual_override',
  params: BlogParams,
  status: 200,
  response: SiteDetail,
  errors: ['site_not_found'],
  idempotent: true,
})

export const resumeSite = defineRoute({
  method: 'POST',
  path: '/sites/{blog_id}/resume',
  scope: 'write',
  tag: 'sites',
  summary: 'Resume every endpoint of the site; reopens nothing',
  params: BlogParams,
  status: 200,
  response: SiteDetail,
  errors: ['site_not_found'],
  idempotent: true,
})

export const triggerSite = defineRoute({
  method: 'POST',
  path: '/sites/{blog_id}/trigger-now',
  scope: 'write',
  tag: 'sites',
  summary:
    'Check every active endpoint now: a pass closes open http events (probe_cleared), a failure feeds the confirmation pipeline',
  params: BlogParams,
  status: 200,
  response: TriggerNowAnswer,
  errors: ['site_not_found', 'site_paused', 'probe_unavailable'],
  idempotent: true,
})

export const listSiteEndpoints = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/endpoints',
  scope: 'read',
  tag: 'endpoints',
  summary: 'The endpoints of a site, by endpoint id; filters on the effective request method and detection profile',
  params: BlogParams,
  query: v.strictObject({ ...PageQuery, ...PolicyFilters }),
  status: 200,
  response: listOf(SiteEndpoint),
  errors: ['site_not_found'],
})

export const createSiteEndpoint = defineRoute({
  method: 'POST',
  path: '/sites/{blog_id}/endpoints',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Add an endpoint to an existing site; 409 endpoint_exists if the site already monitors that URL',
  params: BlogParams,
  body: v.strictObject({ monitor_url: MonitorUrl, ...configEntries }),
  status: 201,
  response: SiteEndpoint,
  errors: ['site_not_found', 'endpoint_exists'],
  idempotent: true,
})

export const getEndpoint = defineRoute({
  method: 'GET',
  path: '/endpoints/{endpoint_id}',
  scope: 'read',
  tag: 'endpoints',
  summary: 'One endpoint with its effective configuration and runtime state',
  params: EndpointParams,
  status: 200,
  response: SiteEndpoint,
  errors: ['endpoint_not_found'],
})

export const updateEndpoint = defineRoute({
  method: 'PATCH',
  path: '/endpoints/{endpoint_id}',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Change an endpoint’s configuration (monitor_active: false pauses it)',
  params: EndpointParams,
  body: v.strictObject({ monitor_url: v.optional(MonitorUrl), ...configEntries }),
  status: 200,
  response: SiteEndpoint,
  errors: ['endpoint_not_found', 'endpoint_exists'],
})

export const deleteEndpoint = defineRoute({
  method: 'DELETE',
  path: '/endpoints/{endpoint_id}',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Stop monitoring an endpoint: closes its open events (manual_override) and deactivates it; the row stays',
  params: EndpointParams,
  status: 204,
  errors: ['endpoint_not_found'],
})

export const pauseEndpoint = defineRoute({
  method: 'POST',
  path: '/endpoints/{endpoint_id}/pause',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Pause an endpoint; its open events close with manual_override',
  params: EndpointParams,
  status: 200,
  response: SiteEndpoint,
  errors: ['endpoint_not_found'],
  idempotent: true,
})

export const resumeEndpoint = defineRoute({
  method: 'POST',
  path: '/endpoints/{endpoint_id}/resume',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Resume an endpoint; reopens nothing',
  params: EndpointParams,
  status: 200,
  response: SiteEndpoint,
  errors: ['endpoint_not_found'],
  idempotent: true,
})

export const triggerEndpoint = defineRoute({
  method: 'POST',
  path: '/endpoints/{endpoint_id}/trigger-now',
  scope: 'write',
  tag: 'endpoints',
  summary: 'Check one endpoint now (409 endpoint_paused when it is inactive)',
  params: EndpointParams,
  status: 200,
  response: TriggerNowAnswer,
  errors: ['endpoint_not_found', 'endpoint_paused', 'probe_unavailable'],
  idempotent: true,
})

export const listMaintenanceWindows = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/maintenance-windows',
  scope: 'read',
  tag: 'maintenance',
  summary: 'Maintenance windows of a site (past, current and future), latest start first',
  params: BlogParams,
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(MaintenanceWindow),
  errors: ['site_not_found'],
})

export const createMaintenanceWindow = defineRoute({
  method: 'POST',
  path: '/sites/{blog_id}/maintenance-windows',
  scope: 'write',
  tag: 'maintenance',
  summary:
    'Schedule a maintenance window for the site or one of its endpoints (422 invalid_window unless starts_at < ends_at and ends_at is in the future)',
  params: BlogParams,
  body: v.strictObject({
    starts_at: TimestampInput,
    ends_at: TimestampInput,
    endpoint_id: v.optional(v.pipe(v.nullable(IdInput), v.description('Absent or null: every endpoint of the site.'))),
    reason: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), v.maxLength(255)))),
  }),
  status: 201,
  response: MaintenanceWindow,
  errors: ['site_not_found', 'endpoint_not_found', 'invalid_window'],
  idempotent: true,
})

export const deleteMaintenanceWindow = defineRoute({
  method: 'DELETE',
  path: '/maintenance-windows/{id}',
  scope: 'write',
  tag: 'maintenance',
  summary: 'Delete a maintenance window (past, current or future)',
  params: v.object({ id: IdParam }),
  status: 204,
  errors: ['maintenance_window_not_found'],
})

export const sitesRoutes = {
  'sites.list': listSites,
  'sites.create': createSite,
  'sites.get': getSite,
  'sites.update': updateSite,
  'sites.delete': deleteSite,
  'sites.pause': pauseSite,
  'sites.resume': resumeSite,
  'sites.triggerNow': triggerSite,
  'sites.endpoints.list': listSiteEndpoints,
  'sites.endpoints.create': createSiteEndpoint,
  'endpoints.get': getEndpoint,
  'endpoints.update': updateEndpoint,
  'endpoints.delete': deleteEndpoint,
  'endpoints.pause': pauseEndpoint,
  'endpoints.resume': resumeEndpoint,
  'endpoints.triggerNow': triggerEndpoint,
  'maintenance.list': listMaintenanceWindows,
  'maintenance.create': createMaintenanceWindow,
  'maintenance.delete': deleteMaintenanceWindow,
}
