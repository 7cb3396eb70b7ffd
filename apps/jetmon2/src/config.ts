import { hostname } from 'node:os'
import { DEFAULT_DETECTION_PROFILE, DEFAULT_REQUEST_METHOD, DETECTION_PROFILES, REQUEST_METHODS } from '@jetmon/checker'
import {
  bindAddress,
  bindAddressesOverlap,
  checkerSettings,
  crossCheck,
  flag,
  httpUrl,
  integer,
  type JsonSchema,
  type LoadConfigResult,
  loadConfig,
  loggingSettings,
  maskUrlPassword,
  port,
  redactSecrets,
  text,
  toJsonSchema,
} from '@jetmon/config'
import { ROLLOUT_MODES } from '@jetmon/scheduler'
import * as v from 'valibot'

/** Where the monitor looks for its file when `JETMON_CONFIG` is not set (relative to the working directory). */
export const DEFAULT_CONFIG_FILE = 'config/config.json'

/**
 * Keys whose values must never be logged, in pino `redact.paths` syntax (hand it to the logger).
 * `DATABASE_URL` is listed whole because it usually carries a password.
 */
export const SECRET_KEYS = [
  'AUTH_TOKEN',
  'DB_PASSWORD',
  'SMTP_PASSWORD',
  'WPCOM_EMAIL_TOKEN',
  'SECRETS_KEY',
  'VERIFLIERS[*].token',
  'DATABASE_URL',
] as const

/**
 * The 32-byte key in `SECRETS_KEY`, given as 64 hex characters (`openssl rand -hex 32`) or as base64
 * (`openssl rand -base64 32`, URL-safe alphabet accepted). Both are accepted because both commands
 * are what people reach for; hex is tried first since 64 hex characters are also valid base64.
 * Returns undefined for anything else.
 */
export function decodeSecretsKey(value: string): Buffer | undefined {
  const key = value.trim()
  if (/^[0-9a-fA-F]{64}$/.test(key)) return Buffer.from(key, 'hex')
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(key) && !/^[A-Za-z0-9_-]{43}=?$/.test(key)) return undefined
  const bytes = Buffer.from(key, 'base64')
  return bytes.length === 32 ? bytes : undefined
}

function isDatabaseUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  return (url.protocol === 'mysql:' || url.protocol === 'mariadb:') && url.hostname !== ''
}

const veriflier = v.object({
  id: text('Name of this veriflier, unique in the list (shown in events and on the dashboard).'),
  region: text('Region the veriflier runs in, such as "eu-west".'),
  url: httpUrl(
    'Base URL of the veriflier, such as "https://veriflier-eu.example.com:7803"; the monitor calls <url>/v1/check. Its certificate must verify against the built-in roots plus CA_FILE; http:// only for loopback (validate-config fails it otherwise).',
  ),
  token: v.pipe(
    v.string(),
    v.minLength(16),
    v.description('Bearer token; one of the VERIFLIER_TOKENS configured on that veriflier.'),
  ),
})

const entries = {
  // Database
  DATABASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(
        isDatabaseUrl,
        'must be a mysql:// URL such as mysql://jetmon:password@127.0.0.1:3306/jetmon (percent-encode special characters in the password)',
      ),
      v.description(
        'MySQL/MariaDB connection URL, such as "mysql://jetmon:password@127.0.0.1:3306/jetmon". Alternatively set the DB_* keys.',
      ),
    ),
  ),
  DB_HOST: v.optional(text('Database host, used when DATABASE_URL is not set. Default: localhost.')),
  DB_PORT: v.optional(integer(1, 65535, 'Database port, used when DATABASE_URL is not set. Default: 3306.')),
  DB_USER: v.optional(text('Database user, used when DATABASE_URL is not set. Default: root.')),
  DB_PASSWORD: v.optional(
    v.pipe(v.string(), v.description('Database password, used when DATABASE_URL is not set. Default: none.')),
  ),
  DB_NAME: v.optional(text('Database name, used when DATABASE_URL is not set. Default: jetmon_db.')),

  // Bucket ownership
  HOST_ID: v.optional(
    v.pipe(
      v.string(),
      v.regex(/\S/, 'must not be empty'),
      v.maxLength(255),
      v.description('Name of this monitor host in the bucket leases. Default: the machine host name.'),
    ),
    () => hostname(),
  ),
  BUCKET_TOTAL: v.optional(
    integer(1, 65536, 'Number of buckets the endpoints are spread over. Every host must use the same value.'),
    1000,
  ),
  BUCKET_LEASE_SEC: v.optional(
    integer(
      3,
      3600,
      'Seconds a host lease lasts; it is renewed every third of that. A crashed host loses its buckets after at most two leases.',
    ),
    30,
  ),
  PINNED_BUCKET_MIN: v.optional(
    integer(0, 65535, 'First bucket of a static range for this host (pinned mode; set with PINNED_BUCKET_MAX).'),
  ),
  PINNED_BUCKET_MAX: v.optional(
    integer(
      0,
      65535,
      'Last bucket (inclusive) of a static range for this host (pinned mode; set with PINNED_BUCKET_MIN).',
    ),
  ),
  ROLLOUT_MODE: v.optional(
    v.pipe(
      v.picklist(ROLLOUT_MODES),
      v.description(
        'How this host comes by its buckets: active (a share of the dynamic split, or the pinned range), standby (registers and serves health, metrics and the API, checks nothing) or api-controlled (exactly the ranges activated for its HOST_ID through the rollout API).',
      ),
    ),
    'active',
  ),
  ROLLOUT_POLL_SEC: v.optional(
    integer(
      1,
      300,
      'Seconds between two reads of the rollout locks by an api-controlled host: an activated range is checked, and a released one drained and acknowledged, within one poll.',
    ),
    5,
  ),
  ROLLOUT_TOKEN_TTL_SEC: v.optional(
    integer(
      30,
      86400,
      'Seconds the confirmation token of a rollout dry run stays valid: execute the step within this time, or dry-run it again.',
    ),
    600,
  ),

  // Checks and confirmation
  CHECK_TIMEOUT_MS: v.optional(
    integer(100, 120000, 'Default deadline of one check in milliseconds, when the endpoint sets none.'),
    10000,
  ),
  NUM_OF_CHECKS: v.optional(
    integer(1, 20, 'Consecutive failed local checks (counting the first) before the verifliers are asked.'),
    3,
  ),
  RETRY_INTERVAL_SEC: v.optional(
    integer(1, 3600, 'Seconds between local re-checks of an endpoint that seems down.'),
    10,
  ),
  QUICK_RECHECK_SEC: v.optional(
    integer(
      0,
      3600,
      'Seconds before the first local re-check after the failure that opens Seems Down (0 = RETRY_INTERVAL_SEC). Inside the flap window re-checks keep RETRY_INTERVAL_SEC.',
    ),
    3,
  ),
  HARD_FAILURE_CHECKS: v.optional(
    integer(
      0,
      20,
      'Consecutive hard failures (refused connection, NXDOMAIN, HTTP error status, TLS failure, redirect loop) that are enough to ask the verifliers before NUM_OF_CHECKS (0 = off). Down still needs their quorum.',
    ),
    2,
  ),
  FALSE_ALARM_BACKOFF: v.optional(
    flag(
      'After a false alarm, the flap guard needs twice NUM_OF_CHECKS consecutive failures before a new incident opens (four times after two false alarms with no passing check between).',
    ),
    true,
  ),
  FAILED_CHECK_INTERVAL_SEC: v.optional(
    integer(1, 86400, 'Seconds between checks of an endpoint that is down (or its own interval if shorter).'),
    60,
  ),
  FLAP_WINDOW_SEC: v.optional(
    integer(
      0,
      86400,
      'After an event closes, seconds during which NUM_OF_CHECKS failures are needed to open a new one (0 = off).',
    ),
    900,
  ),
  DEFAULT_REQUEST_METHOD: v.optional(
    v.pipe(
      v.picklist(REQUEST_METHODS),
      v.description('Request method of the endpoints that set none (request_method NULL): GET or HEAD.'),
    ),
    DEFAULT_REQUEST_METHOD,
  ),
  DEFAULT_DETECTION_PROFILE: v.optional(
    v.pipe(
      v.picklist(DETECTION_PROFILES),
      v.description(
        'Detection profile of the endpoints that set none (detection_profile NULL): legacy (status and connection only, no body read), simple_http (adds the keyword rules) or full (adds truncated and empty bodies and the advisories).',
      ),
    ),
    DEFAULT_DETECTION_PROFILE,
  ),
  MONITOR_PROCESSES: v.optional(
    v.pipe(
      v.union([v.literal('auto'), integer(1, 1024, 'Fixed number of checking processes.')]),
      v.description(
        'Checking processes of jetmon2 serve on this host: "auto" (one per core, os.availableParallelism()) or a number. They share the host\'s buckets through their own leases under one supervisor, which alone serves the API, the dashboard and /metrics. A pinned, standby or api-controlled host runs one.',
      ),
    ),
    'auto',
  ),
  MAX_IN_FLIGHT: v.optional(
    v.pipe(
      v.union([v.literal('auto'), integer(1, 100000, 'Fixed limit of checks in flight.')]),
      v.description(
        'Most checks running at once: "auto" (sized from the check rate and latency, within the file-descriptor budget) or a number.',
      ),
    ),
    'auto',
  ),
  PRESSURE_LAG_MS: v.optional(
    integer(
      0,
      3_600_000,
      'Dispatch lag (p95 over the last 10-20 s, ms) above which the monitor is under pressure: its timeouts and connect failures give no verdict meanwhile (0 = off).',
    ),
    5000,
  ),
  PRESSURE_EVENT_LOOP_DELAY_MS: v.optional(
    integer(
      0,
      600_000,
      'Event-loop delay (ms) above which the monitor is under pressure: its timeouts and connect failures give no verdict meanwhile (0 = off).',
    ),
    500,
  ),
  PRESSURE_IN_FLIGHT_AT_CAP: v.optional(
    flag(
      'Checks in flight at MAX_IN_FLIGHT put the monitor under pressure: its timeouts and connect failures give no verdict meanwhile.',
    ),
    true,
  ),
  TARGET_RELOAD_SEC: v.optional(
    integer(1, 3600, 'Seconds within which endpoint changes made through the API reach the monitor.'),
    30,
  ),
  STATE_FLUSH_SEC: v.optional(
    integer(1, 86400, 'Seconds between writes of endpoint state and legacy freshness data.'),
    300,
  ),
  VERIFLIERS: v.optional(
    v.pipe(
      v.array(veriflier),
      v.check(
        (list) => new Set(list.map((item) => item.id)).size === list.length,
        'veriflier ids must be unique (events record votes by id)',
      ),
      v.description('Verifliers asked to confirm an outage. Empty: Down after NUM_OF_CHECKS local failures.'),
    ),
    [],
  ),
  VERIFLIER_QUORUM: v.optional(
    v.pipe(
      v.union([v.literal('auto'), integer(1, 100, 'Fixed number of votes.')]),
      v.description(
        'Votes needed to confirm Down (or to call a false alarm): "auto" (a majority of VERIFLIERS) or a number.',
      ),
    ),
    'auto',
  ),
  VERIFLIER_TIMEOUT_MS: v.optional(
    integer(100, 300000, 'Deadline of one request to a veriflier in milliseconds. Default: CHECK_TIMEOUT_MS + 5000.'),
  ),

  // Notifications
  ALERT_COOLDOWN_MINUTES: v.optional(
    integer(0, 10080, 'Minutes after a Down notice during which repeated Down notices are suppressed.'),
    30,
  ),
  LEGACY_STATUS_PROJECTION_ENABLE: v.optional(
    flag('Also write the legacy site_status column of the sites table for old readers.'),
    true,
  ),
  WPCOM_NOTIFY_ENABLE: v.optional(
    flag('Send the legacy WordPress.com notifications. Default: true when WPCOM_NOTIFY_URL is set.'),
  ),
  WPCOM_NOTIFY_URL: v.optional(httpUrl('WordPress.com notification endpoint.')),
  AUTH_TOKEN: v.optional(text('Bearer token for WPCOM_NOTIFY_URL.')),
  WPCOM_LEASE_SEC: v.optional(
    integer(
      20,
      3600,
      'Seconds a claimed WordPress.com notice stays with the monitor that claimed it. A monitor killed mid-send leaves its notices to the other monitors after this; it must outlast one request (15 s).',
    ),
    60,
  ),

  // Serving
  API_PORT: v.optional(port('Port of the REST API (0 = off).'), 8090),
  API_BIND: v.optional(
    bindAddress('Address the REST API listens on. Use 0.0.0.0 to serve other hosts.'),
    // Loopback by default, like the dashboard: exposing the API to the network is a choice.
    '127.0.0.1',
  ),
  DASHBOARD_PORT: v.optional(port('Port of the dashboard and of /healthz, /readyz and /metrics (0 = off).'), 8080),
  DASHBOARD_BIND: v.optional(
    bindAddress('Address the dashboard listens on. On anything but loopback it asks for an API key.'),
    '127.0.0.1',
  ),
  DASHBOARD_TRUST_PROXY: v.optional(
    flag(
      'A TLS-terminating proxy is in front of the dashboard: believe its X-Forwarded-Proto, so sign-in cookies are Secure (and __Host- prefixed) when the browser used https.',
    ),
    false,
  ),
  DELIVERY_WORKERS_ENABLE: v.optional(
    flag('Run the webhook and alert-contact delivery workers in this process.'),
    true,
  ),
  DELIVERY_LEASE_SEC: v.optional(
    integer(
      15,
      3600,
      'Seconds a claimed webhook or alert delivery stays with the worker that claimed it. A worker killed mid-send leaves its deliveries to others after this; it must outlast the longest send (10 s).',
    ),
    60,
  ),
  SLO_EVALUATOR_ENABLE: v.optional(
    flag(
      'Take part in evaluating the service level objectives: each minute one host of the fleet (whichever claims it first) opens and closes their burn-rate and budget alerts and writes the finished days. Off on every host, no objective is evaluated.',
    ),
    true,
  ),

  // Email for alert contacts
  EMAIL_TRANSPORT: v.optional(
    v.pipe(
      v.picklist(['stub', 'smtp', 'wpcom']),
      v.description('How alert emails are sent: "stub" (logged only, not delivered), "smtp" or "wpcom".'),
    ),
    'stub',
  ),
  EMAIL_FROM: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^\r\n@]*[^\s@]@[^\s@][^\r\n@]*$/, 'must be an email address, such as "Jetmon <jetmon@example.com>"'),
      v.description('Sender of alert emails, such as "Jetmon <jetmon@example.com>". Required for smtp and wpcom.'),
    ),
  ),
  SMTP_HOST: v.optional(text('SMTP server. Required when EMAIL_TRANSPORT is smtp.')),
  SMTP_PORT: v.optional(integer(1, 65535, 'SMTP port. Default: 465 when SMTP_SECURE is true, 587 otherwise.')),
  SMTP_USER: v.optional(text('SMTP user name (leave out for a server without authentication).')),
  SMTP_PASSWORD: v.optional(v.pipe(v.string(), v.description('SMTP password, set together with SMTP_USER.'))),
  SMTP_SECURE: v.optional(
    flag('Connect with TLS from the start (usually port 465); false upgrades with STARTTLS when offered.'),
    false,
  ),
  SMTP_REQUIRE_TLS: v.optional(
    flag(
      'Refuse to log in or send over a plain connection: the server must accept STARTTLS. Default: true when SMTP_USER is set (credentials never cross in the clear), false otherwise.',
    ),
  ),
  WPCOM_EMAIL_URL: v.optional(httpUrl('WordPress.com email endpoint. Required when EMAIL_TRANSPORT is wpcom.')),
  WPCOM_EMAIL_TOKEN: v.optional(text('Bearer token for WPCOM_EMAIL_URL. Required when EMAIL_TRANSPORT is wpcom.')),
  SECRETS_KEY: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => decodeSecretsKey(value) !== undefined,
        'must be 32 random bytes written as 64 hex characters (openssl rand -hex 32) or as base64 (openssl rand -base64 32)',
      ),
      v.description(
        'Key that encrypts webhook secrets and alert destinations at rest (AES-256-GCM): 64 hex characters (openssl rand -hex 32) or base64 (openssl rand -base64 32). Without it they are stored in plain text. Losing it makes them unreadable.',
      ),
    ),
  ),

  // Check history
  HISTORY_MODE: v.optional(
    v.pipe(
      v.picklist(['all', 'failures']),
      v.description('Which checks are kept in the history: all, or failures only.'),
    ),
    'all',
  ),
  HISTORY_RETENTION_DAYS: v.optional(integer(1, 3650, 'Days of check history kept.'), 30),

  // The checker
  ...checkerSettings,
  TLS_EXPIRY_WARN_DAYS: v.optional(
    integer(0, 365, 'Days before a certificate expires from which its endpoint is reported as a warning.'),
    30,
  ),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: v.optional(
    flag(
      "Allow webhooks and alert contacts' Slack, Teams and PagerDuty URLs to reach loopback, private and link-local addresses (tests, demos, internal setups only).",
    ),
    false,
  ),
  CHECK_ALLOW_PRIVATE_TARGETS: v.optional(
    flag(
      "Whether the checks of endpoints the operator added may reach loopback, private and link-local addresses (an operator's own fleet may be internal). Endpoints of sites a gateway tenant owns are always checked through the private-target guard; false extends the guard to every endpoint.",
    ),
    true,
  ),

  ...loggingSettings,
}

type Entries = v.InferOutput<v.ObjectSchema<typeof entries, undefined>>
const DB_PARTS = ['DB_HOST', 'DB_PORT', 'DB_USER', 'DB_PASSWORD', 'DB_NAME'] as const

const notifyEnabled = (c: Pick<Entries, 'WPCOM_NOTIFY_ENABLE' | 'WPCOM_NOTIFY_URL'>) =>
  c.WPCOM_NOTIFY_ENABLE ?? c.WPCOM_NOTIFY_URL !== undefined

function databaseUrlFromParts(c: Pick<Entries, (typeof DB_PARTS)[number]>): string {
  const host = c.DB_HOST ?? 'localhost'
  const user = encodeURIComponent(c.DB_USER ?? 'root')
  const password = c.DB_PASSWORD ? `:${encodeURIComponent(c.DB_PASSWORD)}` : ''
  const address = host.includes(':') ? `[${host}]` : host
  return `mysql://${user}${password}@${address}:${c.DB_PORT ?? 3306}/${encodeURIComponent(c.DB_NAME ?? 'jetmon_db')}`
}

/**
 * The monitor's configuration (docs/configuration.md): field rules, then the rules
 * between fields, then the values that are derived from others (`DATABASE_URL` from the `DB_*`
 * keys, `VERIFLIER_TIMEOUT_MS`, `SMTP_PORT`, `WPCOM_NOTIFY_ENABLE`).
 */
export const jetmon2ConfigSchema = v.pipe(
  v.object(entries),
  crossCheck(
    ['DATABASE_URL', ...DB_PARTS],
    (c) => c.DATABASE_URL === undefined || DB_PARTS.every((key) => c[key] === undefined),
    {
      path: 'DATABASE_URL',
      message: (c) =>
        `cannot be combined with ${DB_PARTS.filter((key) => c[key] !== undefined).join(', ')}: use either DATABASE_URL or the DB_* keys`,
    },
  ),
  crossCheck(
    ['PINNED_BUCKET_MIN', 'PINNED_BUCKET_MAX'],
    (c) => c.PINNED_BUCKET_MIN === undefined || c.PINNED_BUCKET_MAX !== undefined,
    {
      path: 'PINNED_BUCKET_MAX',
      message: 'is required when PINNED_BUCKET_MIN is set (a pinned range needs both ends)',
    },
  ),
  crossCheck(
    ['PINNED_BUCKET_MIN', 'PINNED_BUCKET_MAX'],
    (c) => c.PINNED_BUCKET_MAX === undefined || c.PINNED_BUCKET_MIN !== undefined,
    {
      path: 'PINNED_BUCKET_MIN',
      message: 'is required when PINNED_BUCKET_MAX is set (a pinned range needs both ends)',
    },
  ),
  crossCheck(
    ['PINNED_BUCKET_MIN', 'PINNED_BUCKET_MAX'],
    (c) =>
      c.PINNED_BUCKET_MIN === undefined ||
      c.PINNED_BUCKET_MAX === undefined ||
      c.PINNED_BUCKET_MIN <= c.PINNED_BUCKET_MAX,
    { path: 'PINNED_BUCKET_MAX', message: (c) => `must not be below PINNED_BUCKET_MIN (${c.PINNED_BUCKET_MIN})` },
  ),
  crossCheck(
    ['ROLLOUT_MODE', 'PINNED_BUCKET_MIN', 'PINNED_BUCKET_MAX'],
    (c) => c.ROLLOUT_MODE === 'active' || (c.PINNED_BUCKET_MIN === undefined && c.PINNED_BUCKET_MAX === undefined),
    {
      path: 'ROLLOUT_MODE',
      message: (c) =>
        c.ROLLOUT_MODE === 'standby'
          ? 'is standby, which owns no buckets, but PINNED_BUCKET_MIN/MAX pin a range: remove the pinned range, or use ROLLOUT_MODE active'
          : 'is api-controlled, which owns only the ranges activated through the rollout API, but PINNED_BUCKET_MIN/MAX pin a range: remove the pinned range, or use ROLLOUT_MODE active',
    },
  ),
  crossCheck(
    ['PINNED_BUCKET_MAX', 'BUCKET_TOTAL'],
    (c) => c.PINNED_BUCKET_MAX === undefined || c.PINNED_BUCKET_MAX < c.BUCKET_TOTAL,
    {
      path: 'PINNED_BUCKET_MAX',
      message: (c) => `must be below BUCKET_TOTAL (${c.BUCKET_TOTAL}): buckets are numbered 0 to ${c.BUCKET_TOTAL - 1}`,
    },
  ),
  crossCheck(
    ['VERIFLIER_QUORUM', 'VERIFLIERS'],
    (c) => c.VERIFLIER_QUORUM === 'auto' || c.VERIFLIER_QUORUM <= c.VERIFLIERS.length,
    {
      path: 'VERIFLIER_QUORUM',
      message: (c) =>
        `is ${c.VERIFLIER_QUORUM} but VERIFLIERS lists ${c.VERIFLIERS.length}, so no outage could ever be confirmed: lower it, or use "auto" (a majority)`,
    },
  ),
  crossCheck(
    ['VERIFLIER_TIMEOUT_MS', 'CHECK_TIMEOUT_MS'],
    (c) => c.VERIFLIER_TIMEOUT_MS === undefined || c.VERIFLIER_TIMEOUT_MS > c.CHECK_TIMEOUT_MS,
    {
      path: 'VERIFLIER_TIMEOUT_MS',
      message: (c) =>
        `must be longer than CHECK_TIMEOUT_MS (${c.CHECK_TIMEOUT_MS}): a veriflier needs the whole check plus the round trip`,
    },
  ),
  crossCheck(
    ['WPCOM_NOTIFY_ENABLE', 'WPCOM_NOTIFY_URL'],
    (c) => c.WPCOM_NOTIFY_ENABLE !== true || c.WPCOM_NOTIFY_URL !== undefined,
    {
      path: 'WPCOM_NOTIFY_URL',
      message: 'is required when WPCOM_NOTIFY_ENABLE is true (or set WPCOM_NOTIFY_ENABLE to false)',
    },
  ),
  crossCheck(
    ['WPCOM_NOTIFY_ENABLE', 'WPCOM_NOTIFY_URL', 'AUTH_TOKEN'],
    (c) => !notifyEnabled(c) || c.AUTH_TOKEN !== undefined,
    {
      path: 'AUTH_TOKEN',
      message:
        'is required while WordPress.com notifications are on (it authenticates them); set it, or set WPCOM_NOTIFY_ENABLE to false',
    },
  ),
  crossCheck(['EMAIL_TRANSPORT', 'SMTP_HOST'], (c) => c.EMAIL_TRANSPORT !== 'smtp' || c.SMTP_HOST !== undefined, {
    path: 'SMTP_HOST',
    message: 'is required when EMAIL_TRANSPORT is smtp',
  }),
  crossCheck(['SMTP_USER', 'SMTP_PASSWORD'], (c) => c.SMTP_PASSWORD === undefined || c.SMTP_USER !== undefined, {
    path: 'SMTP_USER',
    message: 'is required when SMTP_PASSWORD is set',
  }),
  crossCheck(['SMTP_USER', 'SMTP_PASSWORD'], (c) => c.SMTP_USER === undefined || c.SMTP_PASSWORD !== undefined, {
    path: 'SMTP_PASSWORD',
    message: 'is required when SMTP_USER is set',
  }),
  crossCheck(
    ['EMAIL_TRANSPORT', 'WPCOM_EMAIL_URL'],
    (c) => c.EMAIL_TRANSPORT !== 'wpcom' || c.WPCOM_EMAIL_URL !== undefined,
    { path: 'WPCOM_EMAIL_URL', message: 'is required when EMAIL_TRANSPORT is wpcom' },
  ),
  crossCheck(
    ['EMAIL_TRANSPORT', 'WPCOM_EMAIL_TOKEN'],
    (c) => c.EMAIL_TRANSPORT !== 'wpcom' || c.WPCOM_EMAIL_TOKEN !== undefined,
    { path: 'WPCOM_EMAIL_TOKEN', message: 'is required when EMAIL_TRANSPORT is wpcom' },
  ),
  crossCheck(['EMAIL_TRANSPORT', 'EMAIL_FROM'], (c) => c.EMAIL_TRANSPORT === 'stub' || c.EMAIL_FROM !== undefined, {
    path: 'EMAIL_FROM',
    message: (c) => `is required when EMAIL_TRANSPORT is ${c.EMAIL_TRANSPORT}`,
  }),
  crossCheck(
    ['API_PORT', 'API_BIND', 'DASHBOARD_PORT', 'DASHBOARD_BIND'],
    (c) => c.API_PORT === 0 || c.API_PORT !== c.DASHBOARD_PORT || !bindAddressesOverlap(c.API_BIND, c.DASHBOARD_BIND),
    { path: 'DASHBOARD_PORT', message: (c) => `is the same as API_PORT (${c.API_PORT}); give them different ports` },
  ),
  v.transform(({ DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, ...config }) => ({
    ...config,
    /**
     * The database to use: DATABASE_URL, or the URL built from the DB_* keys (the unset ones taking
     * their defaults). Unset when neither is configured: commands then use the embedded server
     * started by `jetmon2 db start`.
     */
    DATABASE_URL:
      config.DATABASE_URL ??
      ([DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME].some((part) => part !== undefined)
        ? databaseUrlFromParts({ DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME })
        : undefined),
    WPCOM_NOTIFY_ENABLE: notifyEnabled(config),
    SMTP_PORT: config.SMTP_PORT ?? (config.SMTP_SECURE ? 465 : 587),
    VERIFLIER_TIMEOUT_MS: config.VERIFLIER_TIMEOUT_MS ?? config.CHECK_TIMEOUT_MS + 5000,
  })),
)

/** The validated monitor configuration, with defaults applied and derived values resolved. */
export type Jetmon2Config = v.InferOutput<typeof jetmon2ConfigSchema>
/** What a config file (or the environment) may contain. */
export type Jetmon2ConfigInput = v.InferInput<typeof jetmon2ConfigSchema>

// Operators replacing old monitor hosts copy their config.json; say what became of each key.
const goKey = (advice: string) => `setting of the Go monitor, ignored: ${advice}`
const unused = goKey('remove it')
const RETIRED_KEYS: Record<string, string> = {
  VERIFIERS: goKey('use VERIFLIERS, a list of {"id", "region", "url", "token"}'),
  NET_COMMS_TIMEOUT: goKey('use CHECK_TIMEOUT_MS (in milliseconds)'),
  NUM_WORKERS: goKey('use MAX_IN_FLIGHT'),
  PEER_OFFLINE_LIMIT: goKey('use VERIFLIER_QUORUM'),
  BUCKET_HEARTBEAT_GRACE_SEC: goKey('use BUCKET_LEASE_SEC'),
  BUCKET_TARGET: goKey('hosts now share the buckets through leases; remove it'),
  BUCKET_NO_MIN: goKey('use PINNED_BUCKET_MIN'),
  BUCKET_NO_MAX: goKey('use PINNED_BUCKET_MAX'),
  DASHBOARD_BIND_ADDR: goKey('use DASHBOARD_BIND'),
  DELIVERY_OWNER_HOST: goKey('use DELIVERY_WORKERS_ENABLE on the hosts that should deliver'),
  SMTP_USERNAME: goKey('use SMTP_USER'),
  SMTP_USE_TLS: goKey('use SMTP_SECURE'),
  WPCOM_EMAIL_ENDPOINT: goKey('use WPCOM_EMAIL_URL'),
  WPCOM_EMAIL_AUTH_TOKEN: goKey('use WPCOM_EMAIL_TOKEN'),
  USE_VARIABLE_CHECK_INTERVALS: goKey('every endpoint is now checked on its own interval; remove it'),
  MIN_TIME_BETWEEN_ROUNDS_SEC: goKey('every endpoint is now checked on its own interval; remove it'),
  TIME_BETWEEN_CHECKS_SEC: unused,
  TIME_BETWEEN_NOTICES_MIN: unused,
  DATASET_SIZE: unused,
  NUM_TO_PROCESS: unused,
  BATCH_SIZE: unused,
  SQL_UPDATE_BATCH: unused,
  DB_CONFIG_UPDATES_MIN: unused,
  VERIFLIER_BATCH_SIZE: unused,
  WORKER_MAX_MEM_MB: unused,
  STATS_UPDATE_INTERVAL_MS: unused,
  STATSD_SEND_MEM_USAGE: unused,
  DEBUG: unused,
  DEBUG_PORT: unused,
}

// Old names that still work (the current name wins when both are set), each with a warning.
const ALIASES: Record<string, string> = {
  DB_UPDATES_ENABLE: 'LEGACY_STATUS_PROJECTION_ENABLE',
}

/** Options of {@link loadJetmon2Config}. */
export interface LoadJetmon2ConfigOptions {
  /** The config file; default `JETMON_CONFIG`, else {@link DEFAULT_CONFIG_FILE}. */
  file?: string | undefined
  /** Environment for overrides and `JETMON_CONFIG` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * Loads and validates the monitor's configuration: the file (`file`, else `JETMON_CONFIG`, else
 * `config/config.json`), each key overridable by the environment variable of the same name.
 * A file named explicitly must exist; a missing default file means "all defaults".
 */
export function loadJetmon2Config(options: LoadJetmon2ConfigOptions = {}): LoadConfigResult<Jetmon2Config> {
  const env = options.env ?? process.env
  const named = options.file ?? (env.JETMON_CONFIG || undefined)
  return loadConfig({
    schema: jetmon2ConfigSchema,
    file: named ?? DEFAULT_CONFIG_FILE,
    required: named !== undefined,
    env,
    secrets: SECRET_KEYS,
    hints: RETIRED_KEYS,
    aliases: ALIASES,
  })
}

/**
 * A copy of the configuration that is safe to log or print: secrets replaced by `[redacted]` and
 * the password inside `DATABASE_URL` masked. Unset secrets stay unset, so it still shows which
 * ones are configured.
 */
export function describeConfig(config: Jetmon2Config): Jetmon2Config {
  const others = SECRET_KEYS.filter((key) => key !== 'DATABASE_URL')
  const url = config.DATABASE_URL === undefined ? undefined : maskUrlPassword(config.DATABASE_URL)
  return redactSecrets({ ...config, DATABASE_URL: url }, others)
}

/**
 * Votes needed to decide a confirmation round: `VERIFLIER_QUORUM`, or for "auto" a majority of
 * the configured verifliers (at least 1).
 */
export function veriflierQuorum(config: Pick<Jetmon2Config, 'VERIFLIER_QUORUM' | 'VERIFLIERS'>): number {
  if (config.VERIFLIER_QUORUM !== 'auto') return config.VERIFLIER_QUORUM
  return Math.max(1, Math.floor(config.VERIFLIERS.length / 2) + 1)
}

/**
 * The JSON Schema of the monitor's config file, committed as `config/jetmon2.schema.json` for
 * editors. Regenerate with `pnpm --filter @jetmon/jetmon2 run config:schema`.
 */
export function jetmon2JsonSchema(): JsonSchema {
  return toJsonSchema(jetmon2ConfigSchema, {
    title: 'Jetmon 2 monitor configuration',
    description:
      'The file named by JETMON_CONFIG (default config/config.json). Every key can also be set by an environment variable of the same name (lists as JSON).',
  })
}
