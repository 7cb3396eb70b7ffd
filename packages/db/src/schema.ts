/**
 * The Jetmon data model (docs/architecture.md, "Data") as a drizzle schema. This file is the source of the
 * SQL migrations in `migrations/` (`pnpm schema:generate`); a test proves the two agree.
 *
 * Conventions: ids are `BIGINT UNSIGNED` and surface as `bigint` (blog ids reach ~9e15, beyond
 * 2^53); times are UTC `DATETIME(3)`; JSON columns parse on read whichever engine stored them.
 */
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  char,
  check,
  decimal,
  double,
  index,
  int,
  mysqlEnum,
  mysqlTable,
  primaryKey,
  smallint,
  tinyint,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core'
import { dateDay, datetime3, datetimeSec, jsonColumn, mediumblob, varbinaryBuffer } from './_columns.js'

const id = (name = 'id') => bigint(name, { mode: 'bigint', unsigned: true })
const createdAt = () => datetime3('created_at').notNull().default(sql`CURRENT_TIMESTAMP(3)`)
const updatedAt = () => datetime3('updated_at').notNull().default(sql`CURRENT_TIMESTAMP(3)`)

// ── Sites and endpoints ─────────────────────────────────────────────────────────────────────────

/** Legacy v1 table, shared with old readers: its name and shape are frozen (no new columns). */
export const monitorSites = mysqlTable(
  'jetpack_monitor_sites',
  {
    endpointId: id('jetpack_monitor_site_id').autoincrement().primaryKey(),
    blogId: id('blog_id').notNull(),
    bucketNo: smallint('bucket_no', { unsigned: true }).notNull().default(0),
    monitorUrl: varchar('monitor_url', { length: 2083 }).notNull(),
    monitorActive: tinyint('monitor_active', { unsigned: true }).notNull().default(1),
    siteStatus: tinyint('site_status').notNull().default(1),
    lastStatusChange: datetimeSec('last_status_change'),
    checkInterval: smallint('check_interval', { unsigned: true }).notNull().default(5),
  },
  (t) => [
    // A 191-character prefix keeps the key within InnoDB's 3072-byte limit under utf8mb4.
    index('idx_blog_url').on(t.blogId, sql`monitor_url(191)`),
    index('idx_bucket_active').on(t.bucketNo, t.monitorActive),
  ],
)

/**
 * Every three-character substring of each endpoint's `monitor_url`, for `GET /sites?q=`. Triggers
 * on `jetpack_monitor_sites` queue every inserted, deleted or re-addressed endpoint in
 * {@link urlTrigramQueue}, whoever writes it, and a search first brings the queued endpoints'
 * trigrams up to date (`@jetmon/read-models`' `refreshUrlTrigrams`). The column takes the
 * database's collation, as `monitor_url` does, so a lookup matches what a case-insensitive `LIKE` would.
 */
export const urlTrigrams = mysqlTable(
  'jetmon_url_trigrams',
  {
    trigram: varchar('trigram', { length: 3 }).notNull(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.trigram, t.blogId, t.endpointId] }), index('idx_endpoint').on(t.endpointId)],
)

/**
 * How many {@link urlTrigrams} entries each trigram has, kept exact by the same refresh that writes
 * them (`refreshUrlTrigrams` applies the entries it deletes and inserts), so that a search picks
 * its rarest trigram by primary-key reads. Same collation as `jetmon_url_trigrams.trigram`.
 */
export const urlTrigramCounts = mysqlTable('jetmon_url_trigram_counts', {
  trigram: varchar('trigram', { length: 3 }).primaryKey(),
  entries: int('entries').notNull(),
})

/** Endpoints whose trigrams are out of date (written by the triggers of `jetpack_monitor_sites`), oldest first. */
export const urlTrigramQueue = mysqlTable('jetmon_url_trigram_queue', {
  seq: id('seq').autoincrement().primaryKey(),
  endpointId: id('endpoint_id').notNull(),
})

/** The numbers 1 to 3000: where each trigram of a URL starts, to compute them in one statement. */
export const urlTrigramPositions = mysqlTable('jetmon_url_trigram_positions', {
  position: smallint('position', { unsigned: true }).primaryKey(),
})

export const endpointConfig = mysqlTable(
  'jetmon_endpoint_config',
  {
    endpointId: id('endpoint_id').primaryKey(),
    checkIntervalSec: int('check_interval_sec', { unsigned: true }),
    timeoutMs: int('timeout_ms', { unsigned: true }),
    requestMethod: mysqlEnum('request_method', ['GET', 'HEAD']),
    detectionProfile: mysqlEnum('detection_profile', ['legacy', 'simple_http', 'full']),
    redirectPolicy: mysqlEnum('redirect_policy', ['follow', 'alert', 'fail']),
    maxRedirects: tinyint('max_redirects', { unsigned: true }),
    checkKeyword: varchar('check_keyword', { length: 500 }),
    forbiddenKeywords: jsonColumn<string[]>('forbidden_keywords'),
    keywordCaseSensitive: tinyint('keyword_case_sensitive', { unsigned: true }),
    customHeaders: jsonColumn<Record<string, string>>('custom_headers'),
    latencyThresholdMs: int('latency_threshold_ms', { unsigned: true }),
    tlsExpiryWarnDays: smallint('tls_expiry_warn_days', { unsigned: true }),
    alertCooldownMinutes: smallint('alert_cooldown_minutes', { unsigned: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // The monitor's incremental refresh reads config rows changed since its last pass.
  (t) => [index('idx_updated').on(t.updatedAt, t.endpointId)],
)

export const endpointState = mysqlTable('jetmon_endpoint_state', {
  endpointId: id('endpoint_id').primaryKey(),
  lastCheckedAt: datetime3('last_checked_at'),
  lastHttpCode: smallint('last_http_code', { unsigned: true }),
  lastErrorCode: smallint('last_error_code', { unsigned: true }),
  sslExpiresAt: datetimeSec('ssl_expires_at'),
  tlsVersion: varchar('tls_version', { length: 16 }),
  lastAlertSentAt: datetimeSec('last_alert_sent_at'),
  updatedAt: updatedAt(),
})

export const maintenanceWindows = mysqlTable(
  'jetmon_maintenance_windows',
  {
    id: id().autoincrement().primaryKey(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id'),
    startsAt: datetime3('starts_at').notNull(),
    endsAt: datetime3('ends_at').notNull(),
    reason: varchar('reason', { length: 255 }),
    createdBy: varchar('created_by', { length: 128 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('idx_blog_ends').on(t.blogId, t.endsAt), check('chk_maintenance_order', sql`starts_at < ends_at`)],
)

export const siteTenants = mysqlTable(
  'jetmon_site_tenants',
  {
    tenantId: varchar('tenant_id', { length: 128 }).notNull(),
    blogId: id('blog_id').notNull(),
    source: varchar('source', { length: 64 }).notNull().default('gateway'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.blogId] }), index('idx_blog').on(t.blogId)],
)

// ── Incidents (written only by @jetmon/eventstore) ──────────────────────────────────────────────

export const events = mysqlTable(
  'jetmon_events',
  {
    id: id().autoincrement().primaryKey(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id'),
    checkType: varchar('check_type', { length: 64 }).notNull(),
    discriminator: varchar('discriminator', { length: 128 }),
    severity: tinyint('severity', { unsigned: true }).notNull(),
    state: varchar('state', { length: 32 }).notNull(),
    startedAt: datetime3('started_at').notNull(),
    endedAt: datetime3('ended_at'),
    resolutionReason: varchar('resolution_reason', { length: 64 }),
    causeEventId: id('cause_event_id'),
    metadata: jsonColumn<Record<string, unknown>>('metadata'),
    // Set explicitly by the store: an ON UPDATE clause would also fire on no-op writes.
    updatedAt: datetime3('updated_at').notNull(),
    // NULL once the event closes, so the unique index admits one open event per identity.
    dedupKey: varchar('dedup_key', { length: 255 }).generatedAlwaysAs(
      sql`IF(ended_at IS NULL, CONCAT_WS(':', blog_id, COALESCE(endpoint_id, 0), check_type, COALESCE(discriminator, '')), NULL)`,
      { mode: 'stored' },
    ),
    /**
     * When the WordPress.com Down notice of this incident was delivered (or is known to have been,
     * e.g. by v1 before adoption); a recovery notice is sent only when it is set.
     */
    downNotifiedAt: datetime3('down_notified_at'),
  },
  (t) => [
    uniqueIndex('uk_open_dedup').on(t.dedupKey),
    index('idx_blog_ended').on(t.blogId, t.endedAt),
    // A site's worst open event (highest severity, earliest start, lowest id) in index order.
    index('idx_blog_open_worst').on(t.blogId, t.endedAt, sql`${t.severity} desc`, t.startedAt, t.id),
    index('idx_blog_started').on(t.blogId, t.startedAt),
    index('idx_endpoint_ended').on(t.endpointId, t.endedAt),
    index('idx_type_started').on(t.checkType, t.startedAt),
    // The open events of a check type (an objective evaluator's alerts) without reading the closed ones.
    index('idx_type_ended').on(t.checkType, t.endedAt),
    index('idx_cause').on(t.causeEventId),
    // The fleet-wide event list (newest first) pages along this index instead of sorting the table.
    index('idx_started').on(t.startedAt, t.id),
  ],
)

/** Append-only; its `id` is the delivery cursor. */
export const eventTransitions = mysqlTable(
  'jetmon_event_transitions',
  {
    id: id().autoincrement().primaryKey(),
    eventId: id('event_id').notNull(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id'),
    severityBefore: tinyint('severity_before', { unsigned: true }),
    severityAfter: tinyint('severity_after', { unsigned: true }),
    stateBefore: varchar('state_before', { length: 32 }),
    stateAfter: varchar('state_after', { length: 32 }),
    reason: varchar('reason', { length: 64 }).notNull(),
    source: varchar('source', { length: 255 }).notNull(),
    metadata: jsonColumn<Record<string, unknown>>('metadata'),
    changedAt: datetime3('changed_at').notNull(),
  },
  (t) => [
    index('idx_event_id').on(t.eventId, t.id),
    index('idx_blog_changed').on(t.blogId, t.changedAt),
    index('idx_changed').on(t.changedAt),
  ],
)

export const checkHistory = mysqlTable(
  'jetmon_check_history',
  {
    id: id().autoincrement().primaryKey(),
    endpointId: id('endpoint_id').notNull(),
    blogId: id('blog_id').notNull(),
    checkedAt: datetime3('checked_at').notNull(),
    vantage: varchar('vantage', { length: 64 }).notNull(),
    method: varchar('method', { length: 8 }).notNull(),
    httpCode: smallint('http_code', { unsigned: true }),
    errorCode: smallint('error_code', { unsigned: true }).notNull(),
    rttMs: int('rtt_ms', { unsigned: true }),
    dnsMs: int('dns_ms', { unsigned: true }),
    tcpMs: int('tcp_ms', { unsigned: true }),
    tlsMs: int('tls_ms', { unsigned: true }),
    ttfbMs: int('ttfb_ms', { unsigned: true }),
  },
  (t) => [
    index('idx_endpoint_checked').on(t.endpointId, t.checkedAt),
    index('idx_blog_checked').on(t.blogId, t.checkedAt),
  ],
)

export const checkRollups = mysqlTable(
  'jetmon_check_rollups',
  {
    endpointId: id('endpoint_id').notNull(),
    hourStart: datetimeSec('hour_start').notNull(),
    blogId: id('blog_id').notNull(),
    checks: int('checks', { unsigned: true }).notNull().default(0),
    failures: int('failures', { unsigned: true }).notNull().default(0),
    rttSumMs: bigint('rtt_sum_ms', { mode: 'number', unsigned: true }).notNull().default(0),
    /** Counts per fixed log-scale bucket; every row uses the same edges so histograms add up. */
    rttHist: jsonColumn<number[]>('rtt_hist'),
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.hourStart] }), index('idx_blog_hour').on(t.blogId, t.hourStart)],
)

export const auditLog = mysqlTable(
  'jetmon_audit_log',
  {
    id: id().autoincrement().primaryKey(),
    blogId: id('blog_id'),
    eventId: id('event_id'),
    eventType: varchar('event_type', { length: 64 }).notNull(),
    source: varchar('source', { length: 255 }).notNull(),
    detail: varchar('detail', { length: 1024 }),
    metadata: jsonColumn<Record<string, unknown>>('metadata'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_blog_created').on(t.blogId, t.createdAt),
    index('idx_type_created').on(t.eventType, t.createdAt),
    // The whole log newest first (`GET /audit`, `jetmon2 audit`): read in index order, not sorted.
    index('idx_created').on(t.createdAt, t.id),
  ],
)

// ── Fleet ───────────────────────────────────────────────────────────────────────────────────────

export const hosts = mysqlTable('jetmon_hosts', {
  hostId: varchar('host_id', { length: 255 }).primaryKey(),
  bucketMin: smallint('bucket_min', { unsigned: true }),
  bucketMax: smallint('bucket_max', { unsigned: true }),
  status: mysqlEnum('status', ['active', 'draining']).notNull().default('active'),
  leaseExpiresAt: datetime3('lease_expires_at').notNull(),
  heartbeatAt: datetime3('heartbeat_at').notNull(),
  pinned: boolean('pinned').notNull().default(false),
  version: varchar('version', { length: 64 }),
  startedAt: datetime3('started_at').notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  /** `ROLLOUT_MODE` of the process: `active` (dynamic or pinned), `standby` (owns nothing) or `api-controlled`. */
  rolloutMode: mysqlEnum('rollout_mode', ['active', 'standby', 'api-controlled']).notNull().default('active'),
})

export const processHealth = mysqlTable(
  'jetmon_process_health',
  {
    processId: varchar('process_id', { length: 255 }).primaryKey(),
    hostId: varchar('host_id', { length: 255 }).notNull(),
    role: mysqlEnum('role', ['monitor', 'api', 'deliverer', 'veriflier']).notNull(),
    pid: int('pid', { unsigned: true }).notNull(),
    version: varchar('version', { length: 64 }),
    state: mysqlEnum('state', ['starting', 'running', 'draining', 'stopped']).notNull(),
    health: mysqlEnum('health', ['green', 'amber', 'red']).notNull(),
    stats: jsonColumn<Record<string, unknown>>('stats'),
    startedAt: datetime3('started_at').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_host').on(t.hostId)],
)

// ── API ─────────────────────────────────────────────────────────────────────────────────────────

export const apiKeys = mysqlTable('jetmon_api_keys', {
  id: id().autoincrement().primaryKey(),
  /** sha256 hex of the token; the token itself is never stored. */
  keyHash: char('key_hash', { length: 64 }).notNull().unique('uk_key_hash'),
  keyPrefix: varchar('key_prefix', { length: 12 }).notNull(),
  consumerName: varchar('consumer_name', { length: 128 }).notNull(),
  scope: mysqlEnum('scope', ['read', 'write', 'admin']).notNull().default('read'),
  rateLimitPerMinute: int('rate_limit_per_minute', { unsigned: true }),
  expiresAt: datetimeSec('expires_at'),
  revokedAt: datetimeSec('revoked_at'),
  lastUsedAt: datetimeSec('last_used_at'),
  createdBy: varchar('created_by', { length: 128 }).notNull(),
  createdAt: createdAt(),
})

/**
 * Dashboard sign-ins: the browser holds a random session id in a cookie, never the API key; only
 * the id's sha256 is stored. A session ends at `expires_at`, at sign-out (the row is deleted) and
 * when its key is revoked or expires.
 */
export const dashboardSessions = mysqlTable(
  'jetmon_dashboard_sessions',
  {
    sessionHash: char('session_hash', { length: 64 }).primaryKey(),
    apiKeyId: id('api_key_id').notNull(),
    createdAt: createdAt(),
    expiresAt: datetime3('expires_at').notNull(),
  },
  (t) => [index('idx_api_key').on(t.apiKeyId), index('idx_expires').on(t.expiresAt)],
)

export const idempotencyKeys = mysqlTable(
  'jetmon_idempotency_keys',
  {
    apiKeyId: id('api_key_id').notNull(),
    idemKey: varchar('idem_key', { length: 255 }).notNull(),
    method: varchar('method', { length: 8 }).notNull(),
    path: varchar('path', { length: 2048 }).notNull(),
    requestHash: char('request_hash', { length: 64 }).notNull(),
    state: mysqlEnum('state', ['in_flight', 'done']).notNull(),
    statusCode: smallint('status_code', { unsigned: true }),
    responseHeaders: jsonColumn<Record<string, string>>('response_headers'),
    responseBody: mediumblob('response_body'),
    createdAt: createdAt(),
    expiresAt: datetime3('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.idemKey] }), index('idx_expires').on(t.expiresAt)],
)

// ── Delivery (owned by @jetmon/webhooks and @jetmon/alerting) ──────────────────────────────────

const deliveryStatus = ['pending', 'delivering', 'delivered', 'abandoned', 'suppressed'] as const

export const webhooks = mysqlTable('jetmon_webhooks', {
  id: id().autoincrement().primaryKey(),
  url: varchar('url', { length: 2083 }).notNull(),
  active: boolean('active').notNull().default(true),
  /** Event types to send; NULL or empty = all. */
  events: jsonColumn<string[]>('events'),
  /** `{"blog_ids":[…]}`; NULL or empty = all sites. */
  siteFilter: jsonColumn<{ blog_ids?: string[] }>('site_filter'),
  stateFilter: jsonColumn<string[]>('state_filter'),
  /** Encrypted at rest when SECRETS_KEY is set. */
  secret: varbinaryBuffer('secret', { length: 512 }).notNull(),
  secretPreview: varchar('secret_preview', { length: 8 }).notNull(),
  previousSecret: varbinaryBuffer('previous_secret', { length: 512 }),
  previousSecretExpiresAt: datetime3('previous_secret_expires_at'),
  ownerTenantId: varchar('owner_tenant_id', { length: 128 }),
  createdBy: varchar('created_by', { length: 128 }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

export const alertContacts = mysqlTable('jetmon_alert_contacts', {
  id: id().autoincrement().primaryKey(),
  label: varchar('label', { length: 128 }).notNull(),
  active: boolean('active').notNull().default(true),
  transport: mysqlEnum('transport', ['email', 'pagerduty', 'slack', 'teams']).notNull(),
  /** Transport-specific target; encrypted at rest when SECRETS_KEY is set. */
  destination: jsonColumn<unknown>('destination').notNull(),
  destinationPreview: varchar('destination_preview', { length: 8 }).notNull(),
  siteFilter: jsonColumn<{ blog_ids?: string[] }>('site_filter'),
  minSeverity: tinyint('min_severity', { unsigned: true }).notNull().default(4),
  /** 0 = unlimited. */
  maxPerHour: int('max_per_hour', { unsigned: true }).notNull().default(60),
  ownerTenantId: varchar('owner_tenant_id', { length: 128 }),
  createdBy: varchar('created_by', { length: 128 }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  /** `weekly`: the contact gets a digest of its objectives each week; NULL = none. */
  sloDigest: mysqlEnum('slo_digest', ['weekly']),
  /** The Monday (UTC) of the last week whose digest was claimed for the contact: each week goes once. */
  sloDigestSentWeek: dateDay('slo_digest_sent_week'),
})

const deliveryColumns = () => ({
  id: id().autoincrement().primaryKey(),
  transitionId: id('transition_id').notNull(),
  eventId: id('event_id').notNull(),
  blogId: id('blog_id').notNull(),
  eventType: varchar('event_type', { length: 64 }).notNull(),
  /** Frozen at enqueue: a retry sends exactly what the first attempt sent. */
  payload: jsonColumn<Record<string, unknown>>('payload').notNull(),
  status: mysqlEnum('status', deliveryStatus).notNull().default('pending'),
  attempt: int('attempt', { unsigned: true }).notNull().default(0),
  nextAttemptAt: datetime3('next_attempt_at'),
  leaseExpiresAt: datetime3('lease_expires_at'),
  lastStatusCode: int('last_status_code'),
  lastResponse: varchar('last_response', { length: 2048 }),
  lastAttemptAt: datetime3('last_attempt_at'),
  deliveredAt: datetime3('delivered_at'),
  createdAt: createdAt(),
})

export const webhookDeliveries = mysqlTable(
  'jetmon_webhook_deliveries',
  { webhookId: id('webhook_id').notNull(), ...deliveryColumns() },
  (t) => [
    uniqueIndex('uk_webhook_transition').on(t.webhookId, t.transitionId),
    index('idx_status_next').on(t.status, t.nextAttemptAt),
  ],
)

export const alertDeliveries = mysqlTable(
  'jetmon_alert_deliveries',
  { alertContactId: id('alert_contact_id').notNull(), ...deliveryColumns() },
  (t) => [
    uniqueIndex('uk_contact_transition').on(t.alertContactId, t.transitionId),
    index('idx_status_next').on(t.status, t.nextAttemptAt),
    // The hourly cap counts a contact's rows of the last hour: a range, not a scan of its history.
    index('idx_contact_created').on(t.alertContactId, t.createdAt),
  ],
)

/** One cursor per consumer for the whole fleet, so a new host never replays history. */
export const dispatchCursors = mysqlTable('jetmon_dispatch_cursors', {
  consumer: varchar('consumer', { length: 64 }).primaryKey(),
  lastTransitionId: id('last_transition_id').notNull().default(sql`0`),
  updatedAt: updatedAt(),
})

/**
 * Transition ids a consumer's cursor moved past while they were invisible (their writer had not
 * committed yet, or rolled back). Each dispatch pass dispatches those that have become visible and
 * forgets those that fell out of its window; written only under the cursor's lock.
 */
export const dispatchGaps = mysqlTable(
  'jetmon_dispatch_gaps',
  {
    consumer: varchar('consumer', { length: 64 }).notNull(),
    transitionId: id('transition_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.transitionId] })],
)

// ── WordPress.com notifications ─────────────────────────────────────────────────────────────────

export const wpcomOutboxStatus = ['pending', 'sending', 'sent', 'abandoned', 'suppressed'] as const

/**
 * The WordPress.com notices waiting to go out, or gone: one row per incident and notice (Down =
 * status_id 2, recovery = 1), claimed by any monitor with `SKIP LOCKED` under a lease, like deliveries.
 */
export const wpcomOutbox = mysqlTable(
  'jetmon_wpcom_outbox',
  {
    id: id().autoincrement().primaryKey(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id').notNull(),
    eventId: id('event_id').notNull(),
    statusId: tinyint('status_id', { unsigned: true }).notNull(),
    /** Frozen at enqueue: every attempt sends exactly this body. */
    payload: jsonColumn<Record<string, unknown>>('payload').notNull(),
    /** The endpoint's own cooldown when the notice was queued (NULL: the monitor's default). */
    cooldownMinutes: smallint('cooldown_minutes', { unsigned: true }),
    status: mysqlEnum('status', wpcomOutboxStatus).notNull().default('pending'),
    attempt: int('attempt', { unsigned: true }).notNull().default(0),
    nextAttemptAt: datetime3('next_attempt_at'),
    leaseExpiresAt: datetime3('lease_expires_at'),
    lastStatusCode: int('last_status_code'),
    lastResponse: varchar('last_response', { length: 2048 }),
    lastAttemptAt: datetime3('last_attempt_at'),
    sentAt: datetime3('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [
    // At most one Down and one recovery per incident, whichever host closes or confirms it.
    uniqueIndex('uk_event_status').on(t.eventId, t.statusId),
    index('idx_status_next').on(t.status, t.nextAttemptAt),
    // An endpoint's notices go out one at a time, oldest first: the claim looks up its unfinished ones.
    index('idx_endpoint_status').on(t.endpointId, t.status),
  ],
)

// ── Service level objectives (owned by @jetmon/slo) ─────────────────────────────────────────────

/** One rule of an objective's alert policy: fires when the burn rate exceeds `burn_rate` over both windows. */
export interface SloAlertRuleRow {
  long: string
  short: string
  burn_rate: number
  severity: string
}

/**
 * Service level objectives: availability or latency of a site (all its endpoints) or of one
 * endpoint, against a target over a rolling or calendar window. Names are unique per owner among
 * active objectives (a deactivated objective frees its name): `owner_key` folds the operator's
 * NULL owner into one namespace and `active_name` is NULL once the objective is deactivated.
 */
export const sloObjectives = mysqlTable(
  'jetmon_slo_objectives',
  {
    id: id().autoincrement().primaryKey(),
    name: varchar('name', { length: 128 }).notNull(),
    blogId: id('blog_id').notNull(),
    endpointId: id('endpoint_id'),
    sli: mysqlEnum('sli', ['availability', 'latency']).notNull(),
    latencyThresholdMs: int('latency_threshold_ms', { unsigned: true }),
    /** Percent, e.g. 99.900. */
    target: decimal('target', { precision: 6, scale: 3, mode: 'number' }).notNull(),
    /** `7d`, `28d`, `30d`, `90d` (rolling) or `month`, `quarter` (calendar, UTC). */
    window: varchar('window', { length: 16 }).notNull(),
    /** NULL = the default multiwindow policy. */
    alertPolicy: jsonColumn<SloAlertRuleRow[]>('alert_policy'),
    budgetWarnPercent: decimal('budget_warn_percent', { precision: 5, scale: 2, mode: 'number' }).notNull().default(25),
    budgetCriticalPercent: decimal('budget_critical_percent', { precision: 5, scale: 2, mode: 'number' })
      .notNull()
      .default(10),
    active: boolean('active').notNull().default(true),
    ownerTenantId: varchar('owner_tenant_id', { length: 128 }),
    createdBy: varchar('created_by', { length: 128 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    ownerKey: varchar('owner_key', { length: 128 }).generatedAlwaysAs(sql`COALESCE(owner_tenant_id, '')`, {
      mode: 'stored',
    }),
    activeName: varchar('active_name', { length: 128 }).generatedAlwaysAs(sql`IF(active, name, NULL)`, {
      mode: 'stored',
    }),
  },
  (t) => [
    uniqueIndex('uk_owner_active_name').on(t.ownerKey, t.activeName),
    index('idx_blog').on(t.blogId),
    index('idx_active').on(t.active, t.id),
  ],
)

/** One row per objective and UTC day, written once the day is over. */
export const sloDailySnapshots = mysqlTable(
  'jetmon_slo_daily_snapshots',
  {
    objectiveId: id('objective_id').notNull(),
    day: dateDay('day').notNull(),
    /** Percent over the objective's window at the end of the day; NULL when nothing was eligible. */
    sli: double('sli'),
    budgetConsumedSeconds: double('budget_consumed_seconds').notNull().default(0),
    /** Below zero once the budget is exhausted; NULL when nothing was eligible. */
    budgetRemainingPercent: double('budget_remaining_percent'),
    burnRate24h: double('burn_rate_24h'),
    streakDays: int('streak_days', { unsigned: true }).notNull().default(0),
    incidents: int('incidents', { unsigned: true }).notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.objectiveId, t.day] })],
)

/** Each objective's run of days met: the current one, the best one, and the last day counted. */
export const sloStreaks = mysqlTable('jetmon_slo_streaks', {
  objectiveId: id('objective_id').primaryKey(),
  currentDays: int('current_days', { unsigned: true }).notNull().default(0),
  bestDays: int('best_days', { unsigned: true }).notNull().default(0),
  brokenAt: datetime3('broken_at'),
  lastDay: dateDay('last_day'),
  updatedAt: updatedAt(),
})

/**
 * Once-per-fleet work of the objectives (the evaluator, one row): a process claims a period (the
 * minute) by moving `period_start` forward, and holds it until it finishes or `lease_expires_at`
 * passes, so that of any number of processes exactly one evaluates each minute.
 */
export const sloLeases = mysqlTable('jetmon_slo_leases', {
  name: varchar('name', { length: 64 }).primaryKey(),
  holder: varchar('holder', { length: 255 }),
  periodStart: datetime3('period_start'),
  leaseExpiresAt: datetime3('lease_expires_at'),
  finishedAt: datetime3('finished_at'),
  updatedAt: updatedAt(),
})

// ── Rollout ─────────────────────────────────────────────────────────────────────────────────────

/** One migration of a v1 bucket range: it groups the range's rollout jobs; a paused session refuses policy stages. */
export const rolloutSessions = mysqlTable(
  'jetmon_rollout_sessions',
  {
    id: id().autoincrement().primaryKey(),
    name: varchar('name', { length: 128 }).notNull(),
    bucketMin: smallint('bucket_min', { unsigned: true }).notNull(),
    bucketMax: smallint('bucket_max', { unsigned: true }).notNull(),
    state: mysqlEnum('state', ['active', 'paused', 'closed']).notNull().default('active'),
    createdBy: varchar('created_by', { length: 128 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_range').on(t.bucketMin, t.bucketMax)],
)

/**
 * A bucket range handed to one `api-controlled` host. `active`: the host owns it (it sets
 * `acknowledged_at` once the range is loaded and checked); `releasing`: the host stops new checks,
 * drains, and acknowledges with `released_at` and state `released`. Locks in `active` or
 * `releasing` cover their buckets: no other host (dynamic or pinned) may check them.
 */
export const rolloutLocks = mysqlTable(
  'jetmon_rollout_locks',
  {
    id: id().autoincrement().primaryKey(),
    bucketMin: smallint('bucket_min', { unsigned: true }).notNull(),
    bucketMax: smallint('bucket_max', { unsigned: true }).notNull(),
    hostId: varchar('host_id', { length: 255 }).notNull(),
    state: mysqlEnum('state', ['active', 'releasing', 'released']).notNull().default('active'),
    sessionId: id('session_id'),
    jobId: id('job_id'),
    activatedAt: datetime3('activated_at').notNull(),
    acknowledgedAt: datetime3('acknowledged_at'),
    releaseRequestedAt: datetime3('release_requested_at'),
    releasedAt: datetime3('released_at'),
    createdBy: varchar('created_by', { length: 128 }).notNull(),
  },
  (t) => [index('idx_host_state').on(t.hostId, t.state), index('idx_state').on(t.state, t.bucketMin)],
)

/** Every rollout step, dry run or execution: what was asked, the plan, the outcome and who asked. */
export const rolloutJobs = mysqlTable(
  'jetmon_rollout_jobs',
  {
    id: id().autoincrement().primaryKey(),
    sessionId: id('session_id'),
    step: varchar('step', { length: 32 }).notNull(),
    dryRun: boolean('dry_run').notNull(),
    parameters: jsonColumn<Record<string, unknown>>('parameters').notNull(),
    plan: jsonColumn<Record<string, unknown>>('plan'),
    outcome: mysqlEnum('outcome', ['planned', 'blocked', 'applied', 'refused', 'failed']).notNull(),
    /** The refusal or failure code (`plan_changed`, `confirmation_expired`, …), else NULL. */
    errorCode: varchar('error_code', { length: 64 }),
    result: jsonColumn<Record<string, unknown>>('result'),
    actor: varchar('actor', { length: 128 }).notNull(),
    startedAt: datetime3('started_at').notNull(),
    finishedAt: datetime3('finished_at'),
  },
  (t) => [index('idx_session').on(t.sessionId, t.id), index('idx_step').on(t.step, t.id)],
)

/**
 * Confirmation tokens of dry runs (sha256 of the token, never the token): bound to the API key,
 * the step and a hash of its parameters and plan; single-use, with an expiry.
 */
export const rolloutTokens = mysqlTable(
  'jetmon_rollout_tokens',
  {
    id: id().autoincrement().primaryKey(),
    tokenHash: char('token_hash', { length: 64 }).notNull(),
    jobId: id('job_id').notNull(),
    actor: varchar('actor', { length: 128 }).notNull(),
    step: varchar('step', { length: 32 }).notNull(),
    parametersHash: char('parameters_hash', { length: 64 }).notNull(),
    planHash: char('plan_hash', { length: 64 }).notNull(),
    blocked: boolean('blocked').notNull().default(false),
    expiresAt: datetime3('expires_at').notNull(),
    usedAt: datetime3('used_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('uk_token_hash').on(t.tokenHash), index('idx_expires').on(t.expiresAt)],
)

/** One endpoint of a compare job: the verdict of each check policy, and whether they disagree. */
export const rolloutComparisonResults = mysqlTable(
  'jetmon_rollout_comparison_results',
  {
    id: id().autoincrement().primaryKey(),
    jobId: id('job_id').notNull(),
    endpointId: id('endpoint_id').notNull(),
    blogId: id('blog_id').notNull(),
    aVerdict: varchar('a_verdict', { length: 64 }).notNull(),
    aDetail: jsonColumn<Record<string, unknown>>('a_detail'),
    bVerdict: varchar('b_verdict', { length: 64 }).notNull(),
    bDetail: jsonColumn<Record<string, unknown>>('b_detail'),
    disagree: boolean('disagree').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('idx_job').on(t.jobId, t.disagree, t.id)],
)

/** One step of a check-policy migration: `size` endpoints of a range moved from one method/profile to another. */
export const rolloutPolicyStages = mysqlTable(
  'jetmon_rollout_policy_stages',
  {
    id: id().autoincrement().primaryKey(),
    sessionId: id('session_id'),
    jobId: id('job_id').notNull(),
    bucketMin: smallint('bucket_min', { unsigned: true }).notNull(),
    bucketMax: smallint('bucket_max', { unsigned: true }).notNull(),
    fromMethod: mysqlEnum('from_method', ['GET', 'HEAD']),
    fromProfile: mysqlEnum('from_profile', ['legacy', 'simple_http', 'full']),
    toMethod: mysqlEnum('to_method', ['GET', 'HEAD']).notNull(),
    toProfile: mysqlEnum('to_profile', ['legacy', 'simple_http', 'full']).notNull(),
    size: int('size', { unsigned: true }).notNull(),
    state: mysqlEnum('state', ['applied', 'rolled_back']).notNull().default('applied'),
    createdAt: createdAt(),
    rolledBackAt: datetime3('rolled_back_at'),
  },
  (t) => [index('idx_range').on(t.bucketMin, t.bucketMax, t.id), index('idx_session').on(t.sessionId)],
)

/** The endpoints a policy stage changed, with the values it replaced (NULL = the fleet default). */
export const rolloutPolicyStageRows = mysqlTable(
  'jetmon_rollout_policy_stage_rows',
  {
    stageId: id('stage_id').notNull(),
    endpointId: id('endpoint_id').notNull(),
    previousMethod: mysqlEnum('previous_method', ['GET', 'HEAD']),
    previousProfile: mysqlEnum('previous_profile', ['legacy', 'simple_http', 'full']),
    appliedMethod: mysqlEnum('applied_method', ['GET', 'HEAD']).notNull(),
    appliedProfile: mysqlEnum('applied_profile', ['legacy', 'simple_http', 'full']).notNull(),
    /** Set when a rollback restored the row; a row changed since by someone else stays NULL and is reported. */
    restoredAt: datetime3('restored_at'),
  },
  (t) => [primaryKey({ columns: [t.stageId, t.endpointId] })],
)
