import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rolloutLocks } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jetmon2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon2-cli-'))
const file = (name: string, content: unknown) => {
  const path = join(tmp, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}
// Keep the tests independent of a config/config.json or database settings on this machine.
const clean = { JETMON_CONFIG: file('empty.json', {}), DATABASE_URL: '', JETMON_DATA_DIR: join(tmp, 'no-db') }

let migrated: TestDatabase
let empty: TestDatabase
beforeAll(async () => {
  ;[migrated, empty] = await Promise.all([createTestDatabase(), createTestDatabase({ migrate: false })])
})
afterAll(async () => {
  await Promise.all([migrated?.drop(), empty?.drop()])
  rmSync(tmp, { recursive: true, force: true })
})

describe('jetmon2', () => {
  it('prints its version', async () => {
    const result = await jetmon2(['version'], clean)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^jetmon2 \d+\.\d+\.\d+/)
  })

  it('treats an unknown subcommand as a usage error (exit 2), never as "start the service"', async () => {
    const result = await jetmon2(['strat'], clean)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Unknown command strat/)
    expect(result.stdout).toMatch(/USAGE/)
  })
})

describe('jetmon2 migrate', () => {
  it('applies the migrations, then has nothing to do', async () => {
    const env = { ...clean, DATABASE_URL: empty.url }
    const first = await jetmon2(['migrate'], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/applying {2}0000_init \(1\/\d+/)
    expect(first.stdout).not.toContain(new URL(empty.url).password)
    const second = await jetmon2(['migrate'], env)
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/nothing to do: all \d+ migration\(s\) already applied/)
    const status = await jetmon2(['migrate', '--status'], env)
    expect(status.stdout).toMatch(/applied {3}0000_init/)
    expect(status.stdout).toMatch(/schema is up to date/)
  })

  it('names the failing migration and exits 1', async () => {
    const broken = await createTestDatabase({ migrate: false })
    try {
      const dir = join(tmp, 'broken-migrations')
      cpSync(join(import.meta.dirname, '../../../migrations'), dir, { recursive: true })
      const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8'))
      journal.entries.push({ idx: journal.entries.length, version: '5', when: 0, tag: '9999_bad', breakpoints: true })
      writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal))
      writeFileSync(join(dir, '9999_bad.sql'), 'ALTER TABLE jetmon_nope ADD COLUMN x INT')
      const result = await jetmon2(['migrate'], { ...clean, DATABASE_URL: broken.url, JETMON_MIGRATIONS_DIR: dir })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/migration 9999_bad failed at statement 1 of 1/)
    } finally {
      await broken.drop()
    }
  })

  it('says how to get a database when none is configured', async () => {
    const result = await jetmon2(['migrate'], clean)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/no database configured.*DATABASE_URL.*jetmon2 db start/s)
  })
})

describe('jetmon2 validate-config', () => {
  it('warns about a misspelt key and fails on a bad value, naming both (exit 1)', async () => {
    const config = file('typo.json', { NUM_OF_CHEKS: 5, BUCKET_TOTAL: -5 })
    const result = await jetmon2(['validate-config', '--config', config], clean)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^WARN +config +NUM_OF_CHEKS: unknown key, ignored; did you mean NUM_OF_CHECKS\?$/m)
    expect(result.stdout).toMatch(/^FAIL +config +BUCKET_TOTAL: must be at least 1, got -5$/m)
  })

  it('passes a good config against a migrated database, warning about the stub mailer', async () => {
    const config = file('good.json', {
      DATABASE_URL: migrated.url,
      EMAIL_TRANSPORT: 'stub',
      DEFAULT_REQUEST_METHOD: 'HEAD',
      DEFAULT_DETECTION_PROFILE: 'legacy',
    })
    const result = await jetmon2(['validate-config', '--config', config, '--json'], {
      ...clean,
      HOST_ID: 'mon-1',
      MONITOR_PROCESSES: '3',
    })
    const report = JSON.parse(result.stdout) as {
      ok: boolean
      findings: { verdict: string; topic: string; message: string }[]
    }
    expect(result.code, result.stdout).toBe(0)
    expect(report.ok).toBe(true)
    const verdict = (topic: string) => report.findings.filter((f) => f.topic === topic).map((f) => f.verdict)
    expect(verdict('config')).toEqual(['PASS'])
    expect(verdict('database')).toEqual(['PASS'])
    expect(verdict('schema')).toEqual(['PASS'])
    expect(verdict('email')).toEqual(['WARN'])
    expect(verdict('dashboard')).toEqual(['PASS'])
    expect(report.findings.find((f) => f.topic === 'check policy')).toEqual({
      verdict: 'INFO',
      topic: 'check policy',
      message: expect.stringMatching(
        /^endpoints that set no request method or detection profile are checked with HEAD and the legacy profile/,
      ),
    })
    expect(report.findings.find((f) => f.topic === 'processes')?.message).toBe(
      '3 checking processes (MONITOR_PROCESSES is 3): serve and 2 worker(s) leased as mon-1/w2…mon-1/w3, one API, dashboard and /metrics',
    )
    expect(result.stdout).not.toContain(new URL(migrated.url).password)
  })

  it('shows the rollout mode and the rollout locks of an api-controlled host', async () => {
    await migrated.db.insert(rolloutLocks).values({
      hostId: 'ctl-x',
      bucketMin: 10,
      bucketMax: 19,
      state: 'active',
      activatedAt: new Date(),
      createdBy: 'test',
    })
    const controlled = file('controlled.json', {
      DATABASE_URL: migrated.url,
      HOST_ID: 'ctl-x',
      ROLLOUT_MODE: 'api-controlled',
      ROLLOUT_POLL_SEC: 2,
    })
    const result = await jetmon2(['validate-config', '--config', controlled], { ...clean, MONITOR_PROCESSES: 'auto' })
    expect(result.stdout).toMatch(
      /^INFO +buckets +ROLLOUT_MODE api-controlled: host ctl-x checks exactly the ranges activated for it through the rollout API, read every 2 s$/m,
    )
    expect(result.stdout).toMatch(/^INFO +buckets +rollout locks of host ctl-x: 10–19 \(active\)$/m)
    // Its buckets belong to its HOST_ID: it checks in one process whatever the cores.
    expect(result.stdout).toMatch(
      /^INFO +processes +one checking process: ROLLOUT_MODE api-controlled owns its buckets by host$/m,
    )
  })

  it('warns when SMTP_REQUIRE_TLS=false lets the SMTP login go out unencrypted', async () => {
    const smtp = { EMAIL_TRANSPORT: 'smtp', EMAIL_FROM: 'jetmon@example.com', SMTP_HOST: '127.0.0.1', SMTP_PORT: 1 }
    const login = { SMTP_USER: 'jetmon', SMTP_PASSWORD: 'smtp-secret-pw' }
    const warning = /^WARN +email +SMTP_REQUIRE_TLS is false: the SMTP login goes out unencrypted/m
    const plain = await jetmon2(
      ['validate-config', '--config', file('smtp-plain.json', { ...smtp, ...login, SMTP_REQUIRE_TLS: false })],
      clean,
    )
    expect(plain.stdout).toMatch(warning)
    expect(plain.stdout + plain.stderr).not.toContain('smtp-secret-pw')
    const guarded = await jetmon2(['validate-config', '--config', file('smtp-tls.json', { ...smtp, ...login })], clean)
    expect(guarded.stdout).toMatch(/^FAIL +email +SMTP server 127\.0\.0\.1:1 unreachable/m)
    expect(guarded.stdout).not.toMatch(warning)
  })

  it('fails when the database is not migrated, or unreachable, or a veriflier quorum cannot be met', async () => {
    const fresh = await createTestDatabase({ migrate: false })
    try {
      const b = await jetmon2(['validate-config', '--config', file('fresh.json', { DATABASE_URL: fresh.url })], clean)
      expect(b.code).toBe(1)
      expect(b.stdout).toMatch(/^FAIL +schema +\d+ migration\(s\) pending \(0000_init.*run jetmon2 migrate$/m)
    } finally {
      await fresh.drop()
    }

    const down = file('down.json', {
      DATABASE_URL: 'mysql://nobody:secret-pw@127.0.0.1:1/jetmon',
      VERIFLIERS: [{ id: 'v1', region: 'eu', url: 'http://127.0.0.1:1', token: 'a-token-of-some-length' }],
    })
    const c = await jetmon2(['validate-config', '--config', down], clean)
    expect(c.code).toBe(1)
    expect(c.stdout).toMatch(/^FAIL +database +.*connection refused/m)
    expect(c.stdout).toMatch(/^WARN +verifliers +v1 \(eu\) at http:\/\/127\.0\.0\.1:1 unreachable/m)
    expect(c.stdout).toMatch(/^FAIL +verifliers +quorum 1 of 1 but only 0 reachable/m)
    expect(c.stdout + c.stderr).not.toContain('secret-pw')
    expect(c.stdout + c.stderr).not.toContain('a-token-of-some-length')
  })
})
