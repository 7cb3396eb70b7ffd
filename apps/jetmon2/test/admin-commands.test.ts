/**
 * The local admin commands (`keys`, `audit`, `projection-drift`, `site-tenants import`), run as the
 * real binary against a migrated test database: output (table and JSON), exit codes, and the rows
 * they leave behind.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { createApiApp, KEY_CACHE_MS, startApiServer } from '@jetmon/api-server'
import { apiKeys, auditLog, monitorSites, noopLogger, siteTenants } from '@jetmon/db'
import { openEvent } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { count, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, jetmon2 as runJetmon2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon2-admin-'))
const file = (name: string, content: string) => {
  const path = join(tmp, name)
  writeFileSync(path, content)
  return path
}
const SOURCE = `cli:${userInfo().username}`

let database: TestDatabase
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  database = await createTestDatabase()
  // Independent of any config/config.json or database settings on this machine.
  env = { JETMON_CONFIG: file('empty.json', '{}'), DATABASE_URL: database.url, JETMON_DATA_DIR: join(tmp, 'no-db') }
})
afterAll(async () => {
  await database?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

/** Runs `jetmon2 <args>` from source (stdout is a pipe, so JSON is the default output). */
function jetmon2(args: string[], options: { input?: string } = {}): Promise<CliResult> {
  return runJetmon2(args, env, options)
}

/** Runs a command that must succeed and parses its JSON output. */
async function json<T>(args: string[], options: { input?: string } = {}): Promise<T> {
  const result = await jetmon2([...args, '--output', 'json'], options)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

interface KeyJson {
  id: number
  consumer: string
  scope: string
  key_prefix: string
  rate_limit_per_minute: number
  expires_at: string | null
  revoked_at: string | null
  status: string
  created_by: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const keyRow = async (id: number) =>
  (
    await database.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.id, BigInt(id)))
  )[0]!
const auditRows = (eventType: string) => database.db.select().from(auditLog).where(eq(auditLog.eventType, eventType))
const keyCount = async () => (await database.db.select({ n: count() }).from(apiKeys))[0]!.n

// Each test starts the binary several times: a few seconds each on a loaded machine.
describe('jetmon2 keys', { timeout: 60_000 }, () => {
  it('creates a key, prints its token once, and stores only its sha256', async () => {
    const before = Date.now()
    const created = await json<{ key: KeyJson; token: string }>([
      'keys',
      'create',
      '--consumer',
      'ops-bot',
      '--scope',
      'write',
      '--rate-limit',
      '90',
      '--ttl',
      '90d',
    ])
    // The API accepts exactly this shape of token (Authorization: Bearer jm_…).
    expect(created.token).toMatch(/^jm_[A-Za-z0-9_-]{16,128}$/)
    expect(created.key).toMatchObject({
      consumer: 'ops-bot',
      scope: 'write',
      rate_limit_per_minute: 90,
      status: 'active',
      revoked_at: null,
      created_by: SOURCE,
      key_prefix: created.token.slice(0, 10),
    })
    const expires = Date.parse(created.key.expires_at!)
    expect(expires).toBeGreaterThan(before + 90 * 86_400_000 - 2_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * 86_400_000)

    const row = await keyRow(created.key.id)
    expect(row.keyHash).toBe(sha256(created.token))
    expect(JSON.stringify(row, (_, value) => (typeof value === 'bigint' ? value.toString() : value))).not.toContain(
      created.token,
    )
    // The lookup the API's authentication does: by hash, and the key is usable now.
    const [found] = await database.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, sha256(created.token)))
    expect(found?.id).toBe(row.id)

    const [audit] = (await auditRows('key_created')).filter((r) => r.metadata?.key_id === String(created.key.id))
    expect(audit).toMatchObject({ source: SOURCE, detail: `key ${created.key.id} for ops-bot (write)` })
  })

  it('prints the token and how to use it in a table, and defaults to read scope with no expiry', async () => {
    const result = await jetmon2(['keys', 'create', '--consumer', 'dashboard', '--output', 'table'])
    expect(result.code, result.stderr).toBe(0)
    const token = /jm_[A-Za-z0-9_-]+/.exec(result.stdout)?.[0]
    expect(token).toBeDefined()
    expect(result.stdout.split(token!).length - 1).toBe(1)
    expect(result.stdout).toMatch(
      /Created API key \d+ for dashboard: scope read, 600 requests\/minute, never expires\./,
    )
    expect(result.stdout).toMatch(/shown only this once/)
    expect(result.stdout).toMatch(/Authorization: Bearer <token>/)
    expect(result.stdout).toMatch(/jetmon2 api me --token-file/)
    expect(result.stderr).toBe('')
  })

  it('accepts 30s, 15m, 24h and 90d durations', async () => {
    for (const [ttl, ms] of [
      ['30s', 30_000],
      ['15m', 900_000],
      ['24h', 86_400_000],
    ] as const) {
      const { key } = await json<{ key: KeyJson }>(['keys', 'create', '--consumer', `ttl-${ttl}`, '--ttl', ttl])
      expect(Date.parse(key.expires_at!) - Date.now()).toBeGreaterThan(ms - 5_000)
      expect(Date.parse(key.expires_at!) - Date.now()).toBeLessThanOrEqual(ms)
    }
  })

  it('lists keys as a table and as JSON, never with a token or hash', async () => {
    const { key, token } = await json<{ key: KeyJson; token: string }>([
      'keys',
      'create',
      '--consumer',
      'lister',
      '--scope',
      'admin',
    ])
    const table = await jetmon2(['keys', 'list', '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID +CONSUMER +SCOPE +RATE +EXPIRES +LAST USED +STATUS$/)
    // Newest first.
    expect(lines[1]).toMatch(new RegExp(`^${key.id} +lister +admin +120/min +never +never +active$`))
    expect(table.stdout).not.toContain(token)

    const listed = await json<KeyJson[]>(['keys', 'list'])
    expect(listed[0]).toMatchObject({ id: key.id, consumer: 'lister', scope: 'admin', status: 'active' })
    expect(listed.map((k) => k.id)).toEqual([...listed.map((k) => k.id)].sort((a, b) => b - a))
    const raw = (await jetmon2(['keys', 'list', '--output', 'json'])).stdout
    expect(raw).not.toContain(token)
    expect(raw).not.toContain(sha256(token))
  })

  it('rotates a key: a second token, the old key revoked at now + grace', async () => {
    const first = await json<{ key: KeyJson; token: string }>(['keys', 'create', '--consumer', 'rotator'])
    const before = Date.now()
    const rotated = await json<{ key: KeyJson; token: string; replaced: KeyJson }>([
      'keys',
      'rotate',
      String(first.key.id),
      '--grace',
      '2h',
    ])
    expect(rotated.token).not.toBe(first.token)
    expect(rotated.key.id).not.toBe(first.key.id)
    expect(rotated.key).toMatchObject({ consumer: 'rotator', scope: 'read', status: 'active' })
    expect(rotated.replaced).toMatchObject({ id: first.key.id, status: 'rotating' })

    const old = await keyRow(first.key.id)
    expect(old.revokedAt!.getTime()).toBeGreaterThan(before + 2 * 3_600_000 - 2_000)
    expect(old.revokedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000)
    expect((await keyRow(rotated.key.id)).keyHash).toBe(sha256(rotated.token))

    const list = await jetmon2(['keys', 'list', '--output', 'table'])
    expect(list.stdout).toMatch(new RegExp(`^${first.key.id} +rotator .* rotating until \\d{4}-\\d\\d-\\d\\d `, 'm'))

    const [audit] = (await auditRows('key_rotated')).filter((r) => r.metadata?.key_id === String(first.key.id))
    expect(audit).toMatchObject({ source: SOURCE })
    expect(audit?.metadata).toMatchObject({ new_key_id: String(rotated.key.id), grace_seconds: 7200 })

    const table = await jetmon2(['keys', 'rotate', String(rotated.key.id), '--output', 'table'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/keeps working until .* \(grace 24h\)/)
    expect(table.stdout).toMatch(/jm_[A-Za-z0-9_-]{40,}/)
  })

  it('revokes a key (idempotently), and refuses to rotate it afterwards', async () => {
    const { key, token } = await json<{ key: KeyJson; token: string }>(['keys', 'create', '--consumer', 'leaver'])
    // The token works against a live API on the same database until it is revoked; that API sees
    // a revocation made elsewhere once its kept copy of the key is KEY_CACHE_MS old.
    let ahead = 0
    const now = () => new Date(Date.now() + ahead)
    const api = await startApiServer(createApiApp({ db: database.db, logger: noopLogger, now }), { port: 0 })
    const me = () => fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${token}` } })
    try {
      const before = await me()
      expect(before.status).toBe(200)
      expect(await before.json()).toMatchObject({ consumer: 'leaver', scope: 'read' })
      const revoked = await json<KeyJson>(['keys', 'revoke', String(key.id)])
      expect(revoked).toMatchObject({ id: key.id, status: 'revoked' })
      ahead = KEY_CACHE_MS
      const after = await me()
      expect(after.status).toBe(401)
      expect(await after.json()).toMatchObject({ error: { code: 'token_revoked' } })
    } finally {
      await api.close(1_000)
    }
    const revoked = await json<KeyJson>(['keys', 'revoke', String(key.id)])
    expect(revoked).toMatchObject({ id: key.id, status: 'revoked' })
    expect((await keyRow(key.id)).revokedAt!.getTime()).toBeLessThanOrEqual(Date.now())
    const audits = (await auditRows('key_revoked')).filter((r) => r.metadata?.key_id === String(key.id))
    expect(audits).toHaveLength(1)
    expect(audits[0]?.source).toBe(SOURCE)

    const again = await jetmon2(['keys', 'revoke', String(key.id), '--output', 'table'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/was already revoked at .*; nothing changed/)
    expect((await auditRows('key_revoked')).filter((r) => r.metadata?.key_id === String(key.id))).toHaveLength(1)

    const rotate = await jetmon2(['keys', 'rotate', String(key.id)])
    expect(rotate.code).toBe(1)
    expect(rotate.stderr).toMatch(/already revoked; create a new one with jetmon2 keys create/)

    const missing = await jetmon2(['keys', 'revoke', '987654'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/there is no API key 987654/)
  })

  it.each([
    [
      ['keys', 'create', '--consumer', 'x', '--ttl', '3months'],
      '--ttl: expected a duration such as 30s, 15m, 24h or 90d, got "3months"',
    ],
    [['keys', 'create', '--consumer', 'x', '--ttl', '0s'], '--ttl: must be from 1s to 3650d, got 0s'],
    [['keys', 'create', '--consumer', 'x', '--scope', 'owner'], '--scope: expected read, write or admin, got "owner"'],
    [
      ['keys', 'create', '--consumer', 'x', '--rate-limit', 'lots'],
      '--rate-limit: expected a whole number from 1 to 1000000',
    ],
    [['keys', 'create', '--consumer', 'has space'], '--consumer: must be 1–128 letters'],
    [['keys', 'create', '--consumer', 'x', '--output', 'xml'], '--output: expected table or json, got "xml"'],
    [['keys', 'create'], 'Missing required argument: --consumer'],
    [['keys', 'rotate', '1', '--grace', '31d'], '--grace: must be from 0s to 30d, got 31d'],
    [['keys', 'revoke', 'abc'], 'id: expected a positive whole number (an id), got "abc"'],
  ])('%j is a usage error (exit 2) that writes nothing', async (args, message) => {
    const before = await keyCount()
    const result = await jetmon2(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(message)
    expect(result.stdout).toMatch(/USAGE/)
    expect(await keyCount()).toBe(before)
  })
})

describe('jetmon2 audit', { timeout: 60_000 }, () => {
  const BIG_BLOG = 9_007_199_254_740_993n // 2^53 + 1: not exact as a JavaScript number
  beforeAll(async () => {
    const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000)
    await database.db.insert(auditLog).values([
      { blogId: BIG_BLOG, eventType: 'wpcom_sent', source: 'monitor:a', detail: 'sent 2h ago', createdAt: ago(2) },
      {
        blogId: BIG_BLOG,
        eventType: 'wpcom_failed',
        source: 'monitor:a',
        detail: 'failed 30h ago',
        createdAt: ago(30),
      },
      { blogId: 77n, eventType: 'wpcom_sent', source: 'monitor:b', detail: 'other blog 1h ago', createdAt: ago(1) },
      {
        blogId: BIG_BLOG,
        eventType: 'config_reload',
        source: 'monitor:a',
        detail: 'reload 10d ago',
        createdAt: ago(240),
      },
    ])
  })

  it('filters by blog id (exact beyond 2^53), newest first', async () => {
    const rows = await json<{ blog_id: string; detail: string }[]>(['audit', '--blog-id', BIG_BLOG.toString()])
    expect(rows.map((r) => r.detail)).toEqual(['sent 2h ago', 'failed 30h ago', 'reload 10d ago'])
    expect(rows[0]?.blog_id).toBe('9007199254740993')
  })

  it('filters by event type, time window and limit', async () => {
    const sent = await json<{ detail: string }[]>(['audit', '--event-type', 'wpcom_sent'])
    expect(sent.map((r) => r.detail)).toEqual(['other blog 1h ago', 'sent 2h ago'])
    const both = await json<{ detail: string }[]>(['audit', '--event-type', 'wpcom_sent,wpcom_failed', '--limit', '2'])
    expect(both.map((r) => r.detail)).toEqual(['other blog 1h ago', 'sent 2h ago'])
    const recent = await json<{ detail: string }[]>(['audit', '--blog-id', BIG_BLOG.toString(), '--since', '24h'])
    expect(recent.map((r) => r.detail)).toEqual(['sent 2h ago'])
    const older = await json<{ detail: string }[]>([
      'audit',
      '--blog-id',
      BIG_BLOG.toString(),
      '--since',
      '3d',
      '--until',
      '24h',
    ])
    expect(older.map((r) => r.detail)).toEqual(['failed 30h ago'])
    const since = new Date(Date.now() - 5 * 3_600_000).toISOString()
    const byTimestamp = await json<{ detail: string }[]>(['audit', '--event-type', 'wpcom_sent', '--since', since])
    expect(byTimestamp).toHaveLength(2)
  })

  it('prints a table, and shows the key commands’ own entries', async () => {
    const result = await jetmon2(['audit', '--blog-id', '77', '--output', 'table'])
    expect(result.code, result.stderr).toBe(0)
    const [heading, row] = result.stdout.trimEnd().split('\n')
    expect(heading).toMatch(/^TIME +EVENT TYPE +BLOG +SOURCE +DETAIL$/)
    expect(row).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +wpcom_sent +77 +monitor:b +other blog 1h ago$/)

    await json(['keys', 'create', '--consumer', 'audited'])
    const created = await json<{ source: string; detail: string }[]>([
      'audit',
      '--event-type',
      'key_created',
      '--since',
      '1m',
    ])
    expect(created.find((r) => r.detail.endsWith('for audited (read)'))?.source).toBe(SOURCE)
  })

  it('rejects a bad time with exit 2', async () => {
    const result = await jetmon2(['audit', '--since', 'yesterday'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--since: expected a duration ago (30s, 15m, 24h, 90d) or a UTC timestamp')
    const reversed = await jetmon2(['audit', '--since', '1h', '--until', '2h'])
    expect(reversed.code).toBe(2)
    expect(reversed.stderr).toMatch(/--since: .* is not before --until/)
  })
})

describe('jetmon2 projection-drift', { timeout: 60_000 }, () => {
  const ids: Record<string, number> = {}
  beforeAll(async () => {
    const site = async (blogId: bigint, siteStatus: number) => {
      const [inserted] = await database.db
        .insert(monitorSites)
        .values({ blogId, monitorUrl: `https://${blogId}.example/`, siteStatus })
        .$returningId()
      return BigInt(inserted!.endpointId)
    }
    const agrees = await site(5001n, 1)
    const staleDown = await site(5002n, 2) // says Down, but no event is open
    const missedDown = await site(5003n, 1) // says running, but a Down event is open
    // The event store would fix the projection as it opens the event; a v1 writer might not.
    await openEvent({
      ctx: { db: database.db, source: 'test', projection: false },
      input: { blogId: 5003n, endpointId: missedDown, checkType: 'http', state: 'Down' },
    })
    Object.assign(ids, { agrees: Number(agrees), staleDown: Number(staleDown), missedDown: Number(missedDown) })
  })

  it('finds endpoints whose site_status disagrees with their open events', async () => {
    const drift = await json<
      { endpoint_id: number; site_status: number; expected_status: number; open_http_state: string | null }[]
    >(['projection-drift'])
    expect(drift).toEqual([
      expect.objectContaining({
        endpoint_id: ids.staleDown,
        site_status: 2,
        expected_status: 1,
        open_http_state: null,
      }),
      expect.objectContaining({
        endpoint_id: ids.missedDown,
        site_status: 1,
        expected_status: 2,
        open_http_state: 'Down',
      }),
    ])
    expect(drift.map((d) => d.endpoint_id)).not.toContain(ids.agrees)

    const first = await json<unknown[]>(['projection-drift', '--limit', '1'])
    expect(first).toHaveLength(1)
  })

  it('prints a table with a summary', async () => {
    const result = await jetmon2(['projection-drift', '--output', 'table', '--limit', '1'])
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines[0]).toMatch(/^ENDPOINT +BLOG +ACTIVE +SITE_STATUS +EXPECTED +OPEN EVENT +LAST CHANGE$/)
    expect(lines[1]).toMatch(new RegExp(`^${ids.staleDown} +5002 +yes +2 \\(down\\) +1 \\(running\\) +none +-$`))
    expect(result.stdout).toMatch(/1\+ endpoint\(s\) drift \(the first 1 shown; raise --limit for more\)/)
    const bad = await jetmon2(['projection-drift', '--limit', '0'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--limit: expected a whole number from 1 to 100000, got "0"')
  })
})

describe('jetmon2 site-tenants import', { timeout: 60_000 }, () => {
  interface Summary {
    written: boolean
    dry_run: boolean
    rows: number
    inserted: number
    updated: number
    unchanged: number
    duplicates: number
    invalid_rows: number
    invalid: { line: number; message: string }[]
  }
  const MAX_BLOG = '18446744073709551615' // BIGINT UNSIGNED's largest
  const mappings = async (tenant: string) =>
    database.db
      .select({ blogId: sql<string>`CAST(${siteTenants.blogId} AS CHAR)`, source: siteTenants.source })
      .from(siteTenants)
      .where(eq(siteTenants.tenantId, tenant))
      .orderBy(siteTenants.blogId)

  it('imports from a file, keeps blog ids beyond 2^53 exact, and is idempotent', async () => {
    const csv = file(
      'tenants.csv',
      '\ufefftenant_id,blog_id,source\r\n' +
        'acme,9007199254740993,gateway\r\n' +
        `acme,${MAX_BLOG},\r\n` +
        '\r\n' +
        '"acme, inc",42,"sales ""import"""\r\n' +
        'acme,9007199254740993,gateway\r\n',
    )
    const summary = await json<Summary>(['site-tenants', 'import', '--file', csv])
    expect(summary).toMatchObject({ written: true, rows: 4, inserted: 3, updated: 0, unchanged: 0, duplicates: 1 })
    expect(await mappings('acme')).toEqual([
      { blogId: '9007199254740993', source: 'gateway' },
      { blogId: MAX_BLOG, source: 'gateway' },
    ])
    expect(await mappings('acme, inc')).toEqual([{ blogId: '42', source: 'sales "import"' }])
    const [audit] = await auditRows('site_tenants_imported')
    expect(audit).toMatchObject({ source: SOURCE })

    const again = await json<Summary>(['site-tenants', 'import', '--file', csv])
    expect(again).toMatchObject({ written: false, inserted: 0, updated: 0, unchanged: 3, duplicates: 1 })
    // 9007199254740992 is what 2^53 + 1 becomes as a number: it must be a new mapping, not "unchanged".
    const near = await json<Summary>([
      'site-tenants',
      'import',
      '--file',
      file('near.csv', 'tenant_id,blog_id\nacme,9007199254740992\n'),
    ])
    expect(near).toMatchObject({ inserted: 1, unchanged: 0 })
  })

  it('imports from stdin, updating a changed source, with a table summary', async () => {
    const input = 'blog_id,tenant_id,source\n100,beta,gateway\n9007199254740993,acme,manual\n'
    const result = await jetmon2(['site-tenants', 'import', '--file', '-', '--output', 'table'], { input })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^site-tenants import from stdin: 2 row\(s\)$/m)
    expect(result.stdout).toMatch(/^ {2}inserted +1$/m)
    expect(result.stdout).toMatch(/^ {2}updated +1 +\(existing mapping, new source\)$/m)
    expect(result.stdout).toMatch(/Committed\./)
    expect(await mappings('beta')).toEqual([{ blogId: '100', source: 'gateway' }])
    expect((await mappings('acme')).find((m) => m.blogId === '9007199254740993')?.source).toBe('manual')
  })

  it('writes nothing in a dry run', async () => {
    const csv = file('dry.csv', 'tenant_id,blog_id\ngamma,1\ngamma,2\nbeta,100\n')
    const summary = await json<Summary>(['site-tenants', 'import', '--file', csv, '--dry-run'])
    expect(summary).toMatchObject({ dry_run: true, written: false, inserted: 2, unchanged: 1 })
    expect(await mappings('gamma')).toEqual([])
    const table = await jetmon2(['site-tenants', 'import', '--file', csv, '--dry-run', '--output', 'table'])
    expect(table.stdout).toMatch(/^ {2}would be inserted +2$/m)
    expect(table.stdout).toMatch(/Nothing was written \(dry run\)\./)
  })

  it('reports invalid rows with their line numbers, writes nothing and exits 1', async () => {
    const csv = file(
      'bad.csv',
      'tenant_id,blog_id\n' + 'delta,1\n' + 'delta,abc\n' + ',5\n' + 'delta,0\n' + 'delta,2,extra\n' + 'delta,1\n',
    )
    const result = await jetmon2(['site-tenants', 'import', '--file', csv, '--output', 'json'])
    expect(result.code).toBe(1)
    const summary = JSON.parse(result.stdout) as Summary
    expect(summary).toMatchObject({ written: false, invalid_rows: 4, inserted: 1, duplicates: 1 })
    expect(summary.invalid.map((row) => row.line)).toEqual([3, 4, 5, 6])
    expect(summary.invalid[0]?.message).toMatch(
      /^blog_id: expected a whole number from 1 to 18446744073709551615, got "abc"$/,
    )
    expect(summary.invalid[1]?.message).toMatch(/^tenant_id: /)
    expect(summary.invalid[3]?.message).toBe('expected 2 fields like the header, got 3')
    expect(result.stderr).toMatch(/error: 4 invalid row\(s\) in .*bad\.csv; nothing was written/)
    expect(await mappings('delta')).toEqual([])

    const table = await jetmon2(['site-tenants', 'import', '--file', csv, '--output', 'table'])
    expect(table.code).toBe(1)
    expect(table.stdout).toContain(`${csv}:3: blog_id: expected a whole number`)
    expect(table.stdout).toMatch(/Nothing was written: fix the invalid rows and run again\./)
  })

  it('rejects a file without the header, a conflicting duplicate and a missing file', async () => {
    const headless = await jetmon2(['site-tenants', 'import', '--file', file('headless.csv', 'acme,1\n')])
    expect(headless.code).toBe(1)
    expect(headless.stderr).toMatch(
      /headless\.csv:1: expected the header tenant_id,blog_id or tenant_id,blog_id,source/,
    )

    const conflict = await jetmon2([
      'site-tenants',
      'import',
      '--file',
      file('conflict.csv', 'tenant_id,blog_id,source\nepsilon,1,gateway\nEPSILON,1,manual\n'),
    ])
    expect(conflict.code).toBe(1)
    expect(JSON.parse(conflict.stdout).invalid).toEqual([
      { line: 3, message: expect.stringMatching(/already appear on line 2 with source "gateway"/) },
    ])

    const missing = await jetmon2(['site-tenants', 'import', '--file', join(tmp, 'nope.csv')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nope\.csv: cannot read the file: no such file/)

    const noFile = await jetmon2(['site-tenants', 'import'])
    expect(noFile.code).toBe(2)
    expect(noFile.stderr).toContain('Missing required argument: --file')
  })

  it('reports progress on stderr for a large file', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => `bulk,${i + 1}`)
    const result = await jetmon2(['site-tenants', 'import', '--file', '-'], {
      input: `tenant_id,blog_id\n${rows.join('\n')}\n`,
    })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 12_000, inserted: 12_000, written: true })
    expect(result.stderr).toMatch(/site-tenants: imported 12000\/12000 rows \(100%\)/)
    const [stored] = await database.db.select({ n: count() }).from(siteTenants).where(eq(siteTenants.tenantId, 'bulk'))
    expect(stored?.n).toBe(12_000)
  }, 60_000)
})
