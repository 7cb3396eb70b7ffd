import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatIssues } from '@jetmon/config'
import { afterAll, describe, expect, expectTypeOf, test } from 'vitest'
import {
  DEFAULT_CONFIG_FILE,
  decodeSecretsKey,
  describeConfig,
  type Jetmon2Config,
  type Jetmon2ConfigInput,
  jetmon2JsonSchema,
  loadJetmon2Config,
  SECRET_KEYS,
  veriflierQuorum,
} from './config.js'

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url))

const dir = mkdtempSync(join(tmpdir(), 'jetmon2-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
function configFile(content: Jetmon2ConfigInput | Record<string, unknown> | string): string {
  const path = join(dir, `config-${++counter}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return path
}

/** Loads `values` as a config file, with no environment overrides. */
function load(values: Record<string, unknown>, env: Record<string, string> = {}) {
  return loadJetmon2Config({ file: configFile(values), env })
}

/** The issues of a config that must not load. */
function issuesOf(values: Record<string, unknown>, env: Record<string, string> = {}) {
  const result = load(values, env)
  if (result.ok) throw new Error('expected the config to be rejected')
  return result.issues
}

const HEX_KEY = 'a'.repeat(64)
const verifliers = [
  { id: 'eu', region: 'eu-west', url: 'http://10.0.3.7:7803', token: 'eu-token-0123456789' },
  { id: 'us', region: 'us-east', url: 'https://us.veriflier.example', token: 'us-token-0123456789' },
  { id: 'ap', region: 'ap-south', url: 'https://ap.veriflier.example:7803', token: 'ap-token-0123456789' },
]

describe('defaults', () => {
  test('with an empty file and no environment, every documented default applies', () => {
    const defaults = loadJetmon2Config({ file: configFile({}), env: {} })
    expect(defaults.ok).toBe(true)
    if (!defaults.ok) return
    expect(defaults.warnings).toEqual([])
    expect(defaults.config).toEqual({
      DATABASE_URL: undefined,
      HOST_ID: hostname(),
      BUCKET_TOTAL: 1000,
      BUCKET_LEASE_SEC: 30,
      CHECK_TIMEOUT_MS: 10000,
      NUM_OF_CHECKS: 3,
      RETRY_INTERVAL_SEC: 10,
      QUICK_RECHECK_SEC: 3,
      HARD_FAILURE_CHECKS: 2,
      FALSE_ALARM_BACKOFF: true,
      ROLLOUT_MODE: 'active',
      ROLLOUT_POLL_SEC: 5,
      ROLLOUT_TOKEN_TTL_SEC: 600,
      FAILED_CHECK_INTERVAL_SEC: 60,
      FLAP_WINDOW_SEC: 900,
      DEFAULT_REQUEST_METHOD: 'GET',
      DEFAULT_DETECTION_PROFILE: 'full',
      MONITOR_PROCESSES: 'auto',
      MAX_IN_FLIGHT: 'auto',
      PRESSURE_LAG_MS: 5000,
      PRESSURE_EVENT_LOOP_DELAY_MS: 500,
      PRESSURE_IN_FLIGHT_AT_CAP: true,
      TARGET_RELOAD_SEC: 30,
      STATE_FLUSH_SEC: 300,
      VERIFLIERS: [],
      VERIFLIER_QUORUM: 'auto',
      VERIFLIER_TIMEOUT_MS: 15000,
      ALERT_COOLDOWN_MINUTES: 30,
      LEGACY_STATUS_PROJECTION_ENABLE: true,
      WPCOM_NOTIFY_ENABLE: false,
      API_PORT: 8090,
      API_BIND: '127.0.0.1',
      DASHBOARD_PORT: 8080,
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TRUST_PROXY: false,
      DELIVERY_WORKERS_ENABLE: true,
      DELIVERY_LEASE_SEC: 60,
      SLO_EVALUATOR_ENABLE: true,
      WPCOM_LEASE_SEC: 60,
      EMAIL_TRANSPORT: 'stub',
      SMTP_PORT: 587,
      SMTP_SECURE: false,
      HISTORY_MODE: 'all',
      HISTORY_RETENTION_DAYS: 30,
      BODY_READ_MAX_BYTES: 262144,
      KEYWORD_READ_MAX_BYTES: 1048576,
      BODY_READ_MAX_MS: 2000,
      TLS_EXPIRY_WARN_DAYS: 30,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
      CHECK_ALLOW_PRIVATE_TARGETS: true,
      LOG_LEVEL: 'info',
    })
    // Unset optional keys are absent, not null: the services pick their own behaviour for them.
    for (const key of ['PINNED_BUCKET_MIN', 'AUTH_TOKEN', 'SECRETS_KEY', 'DNS_SERVERS', 'USER_AGENT', 'LOG_FORMAT']) {
      expect(defaults.config).not.toHaveProperty(key)
    }
  })

  test('reads the file named by JETMON_CONFIG, which must exist', () => {
    const path = configFile({ NUM_OF_CHECKS: 5 })
    const fromEnv = loadJetmon2Config({ env: { JETMON_CONFIG: path } })
    expect(fromEnv.ok && fromEnv.config.NUM_OF_CHECKS).toBe(5)
    expect(fromEnv.sources.file).toBe(path)

    const absent = join(dir, 'absent.json')
    const missing = loadJetmon2Config({ env: { JETMON_CONFIG: absent } })
    expect(!missing.ok && missing.issues).toEqual([{ path: absent, message: 'config file not found; check the path' }])
  })

  test(`reads ${DEFAULT_CONFIG_FILE} by default, and uses the defaults when it does not exist`, () => {
    const cwd = process.cwd()
    const workdir = mkdtempSync(join(dir, 'workdir-'))
    process.chdir(workdir)
    try {
      expect(loadJetmon2Config({ env: {} })).toMatchObject({ ok: true, sources: { file: undefined } })
      mkdirSync('config')
      writeFileSync(DEFAULT_CONFIG_FILE, '{"NUM_OF_CHECKS": 4}')
      expect(loadJetmon2Config({ env: { JETMON_CONFIG: '' } })).toMatchObject({
        ok: true,
        config: { NUM_OF_CHECKS: 4 },
        sources: { file: 'config/config.json' },
      })
    } finally {
      process.chdir(cwd)
    }
  })

  test('VERIFLIER_TIMEOUT_MS follows CHECK_TIMEOUT_MS unless set', () => {
    expect(load({ CHECK_TIMEOUT_MS: 20000 })).toMatchObject({ config: { VERIFLIER_TIMEOUT_MS: 25000 } })
    expect(load({ CHECK_TIMEOUT_MS: 20000, VERIFLIER_TIMEOUT_MS: 40000 })).toMatchObject({
      config: { VERIFLIER_TIMEOUT_MS: 40000 },
    })
  })

  test('SMTP_PORT follows SMTP_SECURE unless set', () => {
    const smtp = { EMAIL_TRANSPORT: 'smtp', SMTP_HOST: 'smtp.example.com', EMAIL_FROM: 'jetmon@example.com' }
    expect(load(smtp)).toMatchObject({ config: { SMTP_PORT: 587 } })
    expect(load({ ...smtp, SMTP_SECURE: true })).toMatchObject({ config: { SMTP_PORT: 465 } })
    expect(load({ ...smtp, SMTP_PORT: 2525 })).toMatchObject({ config: { SMTP_PORT: 2525 } })
  })

  test('WordPress.com notifications are on when a URL is configured, unless turned off', () => {
    const wpcom = { WPCOM_NOTIFY_URL: 'https://notify.wordpress.example/jetmon', AUTH_TOKEN: 'wpcom-token' }
    expect(load(wpcom)).toMatchObject({ config: { WPCOM_NOTIFY_ENABLE: true } })
    expect(load({ ...wpcom, WPCOM_NOTIFY_ENABLE: false })).toMatchObject({ config: { WPCOM_NOTIFY_ENABLE: false } })
  })

  test('DATABASE_URL is built from the DB_* keys when it is not set', () => {
    expect(load({ DB_HOST: 'db.internal', DB_USER: 'jetmon', DB_PASSWORD: 'p@ss:word', DB_NAME: 'jm' })).toMatchObject({
      config: { DATABASE_URL: 'mysql://jetmon:p%40ss%3Aword@db.internal:3306/jm' },
    })
    expect(load({ DB_HOST: '::1', DB_PORT: 3307 })).toMatchObject({
      config: { DATABASE_URL: 'mysql://root@[::1]:3307/jetmon_db' },
    })
    const result = load({ DATABASE_URL: 'mysql://u:p@h:3306/d' })
    expect(result.ok && result.config.DATABASE_URL).toBe('mysql://u:p@h:3306/d')
    expect(result.ok && 'DB_HOST' in result.config).toBe(false)
  })
})

test('the loaded type resolves derived keys and drops the DB_* parts', () => {
  expectTypeOf<Jetmon2Config['DATABASE_URL']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<Jetmon2Config['WPCOM_NOTIFY_ENABLE']>().toEqualTypeOf<boolean>()
  expectTypeOf<Jetmon2Config['VERIFLIER_TIMEOUT_MS']>().toEqualTypeOf<number>()
  expectTypeOf<Jetmon2Config['MAX_IN_FLIGHT']>().toEqualTypeOf<'auto' | number>()
  expectTypeOf<Jetmon2Config['LOG_FORMAT']>().toEqualTypeOf<'json' | 'pretty' | undefined>()
  expectTypeOf<Jetmon2Config>().not.toHaveProperty('DB_HOST')
})

describe('the acceptance case', () => {
  test('a misspelt key is a named warning and a bad value is an error on its key', () => {
    const result = load({ NUM_OF_CHEKS: 5, BUCKET_TOTAL: -5 })
    expect(result.ok).toBe(false)
    expect(result.warnings).toEqual([
      { path: 'NUM_OF_CHEKS', message: 'unknown key, ignored; did you mean NUM_OF_CHECKS?' },
    ])
    expect(!result.ok && formatIssues(result.issues)).toBe('BUCKET_TOTAL: must be at least 1, got -5')
  })

  test('settings of the Go monitor are named as such, with what replaced them', () => {
    const result = load({ NET_COMMS_TIMEOUT: 10, VERIFIERS: [], DEBUG: false })
    expect(result.ok).toBe(true)
    expect(result.warnings).toEqual([
      {
        path: 'NET_COMMS_TIMEOUT',
        message: 'setting of the Go monitor, ignored: use CHECK_TIMEOUT_MS (in milliseconds)',
      },
      {
        path: 'VERIFIERS',
        message: 'setting of the Go monitor, ignored: use VERIFLIERS, a list of {"id", "region", "url", "token"}',
      },
      { path: 'DEBUG', message: 'setting of the Go monitor, ignored: remove it' },
    ])
  })
})

describe('DB_UPDATES_ENABLE, the old name of LEGACY_STATUS_PROJECTION_ENABLE', () => {
  const renamed = {
    path: 'DB_UPDATES_ENABLE',
    message:
      'deprecated name of LEGACY_STATUS_PROJECTION_ENABLE, applied: rename it to LEGACY_STATUS_PROJECTION_ENABLE',
  }

  test('a v1 file with false turns the status projection off, with a warning naming the new key', () => {
    const result = load({ DB_UPDATES_ENABLE: false })
    expect(result.ok && result.config.LEGACY_STATUS_PROJECTION_ENABLE).toBe(false)
    expect(result.warnings).toEqual([renamed])
  })

  test('is read from the environment too', () => {
    const result = load({}, { DB_UPDATES_ENABLE: 'false' })
    expect(result.ok && result.config.LEGACY_STATUS_PROJECTION_ENABLE).toBe(false)
    expect(result.warnings).toEqual([renamed])
  })

  test('LEGACY_STATUS_PROJECTION_ENABLE wins when both are set, wherever each comes from', () => {
    const ignored = {
      path: 'DB_UPDATES_ENABLE',
      message:
        'deprecated name of LEGACY_STATUS_PROJECTION_ENABLE, ignored because LEGACY_STATUS_PROJECTION_ENABLE is also set: remove it',
    }
    for (const [values, env] of [
      [{ DB_UPDATES_ENABLE: false, LEGACY_STATUS_PROJECTION_ENABLE: true }, {}],
      [{ DB_UPDATES_ENABLE: false }, { LEGACY_STATUS_PROJECTION_ENABLE: 'true' }],
      [{ LEGACY_STATUS_PROJECTION_ENABLE: true }, { DB_UPDATES_ENABLE: 'false' }],
    ] as const) {
      const result = load(values, env)
      expect(result.ok && result.config.LEGACY_STATUS_PROJECTION_ENABLE, JSON.stringify([values, env])).toBe(true)
      expect(result.warnings).toEqual([ignored])
    }
  })

  test('a wrong value is reported under the name it was given', () => {
    expect(formatIssues(issuesOf({ DB_UPDATES_ENABLE: 'no' }))).toBe(
      'DB_UPDATES_ENABLE: expected true or false, got "no"',
    )
  })
})

describe('environment overrides', () => {
  test('override the file, with values converted to each key type', () => {
    const path = configFile({ NUM_OF_CHECKS: 4, LEGACY_STATUS_PROJECTION_ENABLE: true, HOST_ID: 'from-file' })
    const result = loadJetmon2Config({
      file: path,
      env: {
        NUM_OF_CHECKS: '6',
        LEGACY_STATUS_PROJECTION_ENABLE: 'false',
        MAX_IN_FLIGHT: '500',
        VERIFLIER_QUORUM: 'auto',
        VERIFLIERS: JSON.stringify(verifliers.slice(0, 1)),
        DNS_SERVERS: '["127.0.0.1:5353"]',
        AUTH_TOKEN: 'x',
      },
    })
    expect(result.ok).toBe(true)
    expect(result.ok && result.config).toMatchObject({
      NUM_OF_CHECKS: 6,
      LEGACY_STATUS_PROJECTION_ENABLE: false,
      MAX_IN_FLIGHT: 500,
      VERIFLIER_QUORUM: 'auto',
      VERIFLIERS: verifliers.slice(0, 1),
      DNS_SERVERS: ['127.0.0.1:5353'],
      HOST_ID: 'from-file',
    })
  })

  test('DB_* variables are folded into DATABASE_URL, as with the Go monitor', () => {
    const result = loadJetmon2Config({ file: configFile({}), env: { DB_HOST: '10.0.0.9', DB_PASSWORD: 'secret' } })
    expect(result.ok && result.config.DATABASE_URL).toBe('mysql://root:secret@10.0.0.9:3306/jetmon_db')
  })

  test('a problem with an environment value names the variable', () => {
    const result = loadJetmon2Config({ file: configFile({}), env: { BUCKET_TOTAL: '-5', API_PORT: 'eighty' } })
    expect(!result.ok && result.issues).toEqual([
      { path: 'API_PORT', message: 'expected a number, got "eighty" (from environment variable API_PORT)' },
      { path: 'BUCKET_TOTAL', message: 'must be at least 1, got -5 (from environment variable BUCKET_TOTAL)' },
    ])
  })
})

describe('field rules', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['BUCKET_TOTAL', { BUCKET_TOTAL: 70000 }, 'must be at most 65536, got 70000'],
    ['BUCKET_LEASE_SEC', { BUCKET_LEASE_SEC: 1 }, 'must be at least 3, got 1'],
    ['DELIVERY_LEASE_SEC', { DELIVERY_LEASE_SEC: 5 }, 'must be at least 15, got 5'],
    ['WPCOM_LEASE_SEC', { WPCOM_LEASE_SEC: 4000 }, 'must be at most 3600, got 4000'],
    ['CHECK_TIMEOUT_MS', { CHECK_TIMEOUT_MS: 10 }, 'must be at least 100, got 10'],
    ['NUM_OF_CHECKS', { NUM_OF_CHECKS: 2.5 }, 'must be a whole number, got 2.5'],
    ['MAX_IN_FLIGHT', { MAX_IN_FLIGHT: 'lots' }, 'expected "auto" or a number, got "lots"'],
    ['MAX_IN_FLIGHT', { MAX_IN_FLIGHT: 0 }, 'must be at least 1, got 0'],
    ['VERIFLIER_QUORUM', { VERIFLIER_QUORUM: 'most' }, 'expected "auto" or a number, got "most"'],
    ['API_PORT', { API_PORT: 70000 }, 'must be at most 65535, got 70000'],
    ['DASHBOARD_BIND', { DASHBOARD_BIND: '127.0.0.1:8080' }, 'must be an IP address or host name without a port'],
    ['EMAIL_TRANSPORT', { EMAIL_TRANSPORT: 'sendmail' }, 'expected "stub", "smtp" or "wpcom", got "sendmail"'],
    ['EMAIL_FROM', { EMAIL_FROM: 'jetmon' }, 'must be an email address'],
    ['HISTORY_MODE', { HISTORY_MODE: 'none' }, 'expected "all" or "failures", got "none"'],
    ['DEFAULT_REQUEST_METHOD', { DEFAULT_REQUEST_METHOD: 'POST' }, 'expected "GET" or "HEAD", got "POST"'],
    [
      'DEFAULT_DETECTION_PROFILE',
      { DEFAULT_DETECTION_PROFILE: 'strict' },
      'expected "legacy", "simple_http" or "full", got "strict"',
    ],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }, 'expected "fatal", "error", "warn", "info", "debug", "trace" or "silent"'],
    ['LOG_FORMAT', { LOG_FORMAT: 'text' }, 'expected "json" or "pretty", got "text"'],
    ['DNS_SERVERS[1]', { DNS_SERVERS: ['1.1.1.1', 'dns.example'] }, 'must be an IP address with an optional port'],
    ['DNS_SERVERS', { DNS_SERVERS: [] }, 'must list at least one server'],
    ['USER_AGENT', { USER_AGENT: 'Jetmon\r\nX-Injected: 1' }, 'must be one line of text'],
    ['WPCOM_NOTIFY_URL', { WPCOM_NOTIFY_URL: 'notify.example', AUTH_TOKEN: 'x' }, 'must be a URL'],
    ['HOST_ID', { HOST_ID: ' ' }, 'must not be empty'],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://u@h/d' }, 'must be a mysql:// URL'],
    ['VERIFLIERS[0].url', { VERIFLIERS: [{ ...verifliers[0], url: 'ftp://x' }] }, 'must be an http:// or https:// URL'],
    ['VERIFLIERS[0].token', { VERIFLIERS: [{ ...verifliers[0], token: 'short' }] }, 'at least 16 characters long'],
    ['VERIFLIERS[1].region', { VERIFLIERS: [verifliers[0], { ...verifliers[1], region: undefined }] }, 'is required'],
    ['VERIFLIERS', { VERIFLIERS: [verifliers[0], { ...verifliers[1], id: 'eu' }] }, 'veriflier ids must be unique'],
  ])('%s: %j is rejected', (path, values, message) => {
    const issues = issuesOf(values)
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe(path)
    expect(issues[0]?.message).toContain(message)
  })

  test('SECRETS_KEY is 32 bytes as 64 hex characters or base64, and its value is never echoed', () => {
    const base64 = Buffer.alloc(32, 7).toString('base64')
    const base64url = Buffer.alloc(32, 0xfb).toString('base64url')
    expect(load({ SECRETS_KEY: HEX_KEY }).ok).toBe(true)
    expect(load({ SECRETS_KEY: base64 }).ok).toBe(true)
    expect(load({ SECRETS_KEY: base64url }).ok).toBe(true)
    expect(decodeSecretsKey(HEX_KEY)).toEqual(Buffer.alloc(32, 0xaa))
    expect(decodeSecretsKey(base64)).toEqual(Buffer.alloc(32, 7))
    expect(decodeSecretsKey(base64url)).toEqual(Buffer.alloc(32, 0xfb))

    for (const bad of ['too-short', 'a'.repeat(63), Buffer.alloc(16).toString('base64'), 'g'.repeat(64)]) {
      const issues = issuesOf({ SECRETS_KEY: bad })
      expect(issues).toEqual([
        {
          path: 'SECRETS_KEY',
          message:
            'must be 32 random bytes written as 64 hex characters (openssl rand -hex 32) or as base64 (openssl rand -base64 32)',
        },
      ])
    }
  })

  test('secrets are never echoed in messages', () => {
    const result = load({ AUTH_TOKEN: 12345678, VERIFLIERS: [{ ...verifliers[0], token: 'tiny-secret' }] })
    expect(JSON.stringify(result)).not.toContain('12345678')
    expect(JSON.stringify(result)).not.toContain('tiny-secret')
  })
})

describe('rules between keys', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'pinned range without its end',
      { PINNED_BUCKET_MIN: 0 },
      'PINNED_BUCKET_MAX',
      'is required when PINNED_BUCKET_MIN is set (a pinned range needs both ends)',
    ],
    [
      'pinned range without its start',
      { PINNED_BUCKET_MAX: 10 },
      'PINNED_BUCKET_MIN',
      'is required when PINNED_BUCKET_MAX is set (a pinned range needs both ends)',
    ],
    [
      'pinned range upside down',
      { PINNED_BUCKET_MIN: 10, PINNED_BUCKET_MAX: 5 },
      'PINNED_BUCKET_MAX',
      'must not be below PINNED_BUCKET_MIN (10)',
    ],
    [
      'pinned range past the bucket space',
      { BUCKET_TOTAL: 100, PINNED_BUCKET_MIN: 50, PINNED_BUCKET_MAX: 100 },
      'PINNED_BUCKET_MAX',
      'must be below BUCKET_TOTAL (100): buckets are numbered 0 to 99',
    ],
    [
      'standby with a pinned range',
      { ROLLOUT_MODE: 'standby', PINNED_BUCKET_MIN: 0, PINNED_BUCKET_MAX: 99 },
      'ROLLOUT_MODE',
      'is standby, which owns no buckets, but PINNED_BUCKET_MIN/MAX pin a range: remove the pinned range, or use ROLLOUT_MODE active',
    ],
    [
      'api-controlled with a pinned range',
      { ROLLOUT_MODE: 'api-controlled', PINNED_BUCKET_MIN: 0, PINNED_BUCKET_MAX: 99 },
      'ROLLOUT_MODE',
      'is api-controlled, which owns only the ranges activated through the rollout API, but PINNED_BUCKET_MIN/MAX pin a range: remove the pinned range, or use ROLLOUT_MODE active',
    ],
    [
      'WPCOM notifications on without a URL',
      { WPCOM_NOTIFY_ENABLE: true, AUTH_TOKEN: 'wpcom-token' },
      'WPCOM_NOTIFY_URL',
      'is required when WPCOM_NOTIFY_ENABLE is true (or set WPCOM_NOTIFY_ENABLE to false)',
    ],
    [
      'WPCOM notifications on without a token',
      { WPCOM_NOTIFY_URL: 'https://notify.example/' },
      'AUTH_TOKEN',
      'is required while WordPress.com notifications are on (it authenticates them); set it, or set WPCOM_NOTIFY_ENABLE to false',
    ],
    [
      'SMTP without a host',
      { EMAIL_TRANSPORT: 'smtp', EMAIL_FROM: 'jetmon@example.com' },
      'SMTP_HOST',
      'is required when EMAIL_TRANSPORT is smtp',
    ],
    ['SMTP password without a user', { SMTP_PASSWORD: 'pw' }, 'SMTP_USER', 'is required when SMTP_PASSWORD is set'],
    ['SMTP user without a password', { SMTP_USER: 'jetmon' }, 'SMTP_PASSWORD', 'is required when SMTP_USER is set'],
    [
      'a sender is needed to send mail',
      { EMAIL_TRANSPORT: 'smtp', SMTP_HOST: 'smtp.example.com' },
      'EMAIL_FROM',
      'is required when EMAIL_TRANSPORT is smtp',
    ],
    [
      'wpcom email without a URL',
      { EMAIL_TRANSPORT: 'wpcom', EMAIL_FROM: 'a@b.example', WPCOM_EMAIL_TOKEN: 't' },
      'WPCOM_EMAIL_URL',
      'is required when EMAIL_TRANSPORT is wpcom',
    ],
    [
      'wpcom email without a token',
      { EMAIL_TRANSPORT: 'wpcom', EMAIL_FROM: 'a@b.example', WPCOM_EMAIL_URL: 'https://mail.example/' },
      'WPCOM_EMAIL_TOKEN',
      'is required when EMAIL_TRANSPORT is wpcom',
    ],
    [
      'a quorum larger than the verifliers',
      { VERIFLIERS: verifliers.slice(0, 2), VERIFLIER_QUORUM: 3 },
      'VERIFLIER_QUORUM',
      'is 3 but VERIFLIERS lists 2, so no outage could ever be confirmed: lower it, or use "auto" (a majority)',
    ],
    [
      'a veriflier timeout shorter than a check',
      { CHECK_TIMEOUT_MS: 10000, VERIFLIER_TIMEOUT_MS: 8000 },
      'VERIFLIER_TIMEOUT_MS',
      'must be longer than CHECK_TIMEOUT_MS (10000): a veriflier needs the whole check plus the round trip',
    ],
    [
      'both DATABASE_URL and DB_* keys',
      { DATABASE_URL: 'mysql://u:p@h/d', DB_HOST: 'other', DB_NAME: 'x' },
      'DATABASE_URL',
      'cannot be combined with DB_HOST, DB_NAME: use either DATABASE_URL or the DB_* keys',
    ],
    [
      'the API and the dashboard on one port',
      { API_PORT: 8080 },
      'DASHBOARD_PORT',
      'is the same as API_PORT (8080); give them different ports',
    ],
  ])('%s', (_, values, path, message) => {
    expect(issuesOf(values)).toEqual([{ path, message }])
  })

  test('rules hold when satisfied', () => {
    const result = load({
      PINNED_BUCKET_MIN: 0,
      PINNED_BUCKET_MAX: 999,
      VERIFLIERS: verifliers,
      VERIFLIER_QUORUM: 3,
      EMAIL_TRANSPORT: 'smtp',
      SMTP_HOST: 'smtp.example.com',
      SMTP_USER: 'jetmon',
      SMTP_PASSWORD: 'pw',
      EMAIL_FROM: 'Jetmon <jetmon@example.com>',
      WPCOM_NOTIFY_ENABLE: false,
      API_PORT: 8080,
      API_BIND: '10.0.0.5',
      DASHBOARD_BIND: '127.0.0.1',
    })
    expect(result.ok && result.config).toMatchObject({ PINNED_BUCKET_MAX: 999, VERIFLIER_QUORUM: 3 })
    expect(load({ API_PORT: 0, DASHBOARD_PORT: 0 }).ok).toBe(true)
  })

  test('a rule is not reported on top of a key that is already wrong', () => {
    expect(issuesOf({ BUCKET_TOTAL: -5, PINNED_BUCKET_MIN: 0, PINNED_BUCKET_MAX: 10 })).toEqual([
      { path: 'BUCKET_TOTAL', message: 'must be at least 1, got -5' },
    ])
  })
})

test('veriflierQuorum: "auto" is a majority of the configured verifliers, at least 1', () => {
  const quorum = (count: number, VERIFLIER_QUORUM: number | 'auto' = 'auto') =>
    veriflierQuorum({ VERIFLIERS: verifliers.slice(0, count), VERIFLIER_QUORUM })
  expect([quorum(0), quorum(1), quorum(2), quorum(3)]).toEqual([1, 1, 2, 2])
  expect(quorum(3, 3)).toBe(3)
})

test('describeConfig hides every secret but shows which are set', () => {
  const result = load({
    DATABASE_URL: 'mysql://jetmon:db-password@db:3306/jetmon',
    AUTH_TOKEN: 'wpcom-token',
    WPCOM_NOTIFY_URL: 'https://notify.example/',
    EMAIL_TRANSPORT: 'wpcom',
    EMAIL_FROM: 'jetmon@example.com',
    WPCOM_EMAIL_URL: 'https://mail.example/',
    WPCOM_EMAIL_TOKEN: 'mail-token',
    SMTP_USER: 'jetmon',
    SMTP_PASSWORD: 'smtp-password',
    SECRETS_KEY: HEX_KEY,
    VERIFLIERS: verifliers,
  })
  if (!result.ok) throw new Error(formatIssues(result.issues))
  const described = describeConfig(result.config)
  const printed = JSON.stringify(described)
  for (const secret of ['db-password', 'wpcom-token', 'mail-token', 'smtp-password', HEX_KEY, 'eu-token']) {
    expect(printed).not.toContain(secret)
  }
  expect(described).toMatchObject({
    DATABASE_URL: 'mysql://jetmon:***@db:3306/jetmon',
    AUTH_TOKEN: '[redacted]',
    SMTP_PASSWORD: '[redacted]',
    WPCOM_EMAIL_TOKEN: '[redacted]',
    SECRETS_KEY: '[redacted]',
    VERIFLIERS: verifliers.map((item) => ({ ...item, token: '[redacted]' })),
    SMTP_USER: 'jetmon',
  })
  expect(result.config.AUTH_TOKEN).toBe('wpcom-token')
  expect(SECRET_KEYS).toEqual(expect.arrayContaining(['AUTH_TOKEN', 'DB_PASSWORD', 'VERIFLIERS[*].token']))
})

describe('committed files', () => {
  // Regenerate with: pnpm --filter @jetmon/jetmon2 run config:schema
  test('config/jetmon2.schema.json is the generated JSON Schema', async () => {
    await expect(`${JSON.stringify(jetmon2JsonSchema(), null, 2)}\n`).toMatchFileSnapshot(
      repoFile('config/jetmon2.schema.json'),
    )
  })

  test('the schema documents every key', () => {
    const { properties = {} } = jetmon2JsonSchema()
    for (const [key, property] of Object.entries(properties)) {
      expect(typeof property === 'object' && property.description, key).toBeTruthy()
    }
  })

  test('config/config.example.json is valid, warning-free and uses the committed schema', () => {
    const result = loadJetmon2Config({ file: repoFile('config/config.example.json'), env: {} })
    expect(result.ok ? [] : result.issues).toEqual([])
    expect(result.warnings).toEqual([])
  })
})
