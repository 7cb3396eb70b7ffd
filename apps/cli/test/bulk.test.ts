import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { cliFor, useTestServer } from './_server.js'

// Two deployments, each with its own database: the bulk tests add sites to the first; the round
// trip exports sites of the second and adds them to the first.
const api = cliFor(useTestServer())
const apiOther = cliFor(useTestServer())

const dir = mkdtempSync(join(tmpdir(), 'jetmon-cli-bulk-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

interface Report {
  dry_run: boolean
  batch: string | null
  summary: Record<string, number>
  rows: { row: number; line?: number; blog_id: unknown; result: string; code: string | null; message: string | null }[]
}

describe.concurrent('jetmon2 api sites bulk-add and export', { timeout: 300_000 }, () => {
  test('CSV file: new rows are created, an existing site is skipped, an invalid row fails (exit 1); a re-run replays', async () => {
    expect((await api(['sites', 'create', '--blog-id', '8001', '--monitor-url', 'https://one.example/'])).code).toBe(0)
    const csv = file(
      'sites.csv',
      'blog_id,monitor_url,check_interval_sec,check_keyword\n' +
        '8001,https://one.example/,,\n' +
        '8002,https://two.example/,60,"Welcome, friend"\n' +
        '8003,https://three.example/,120,\n' +
        '8004,ftp://four.example/,,\n',
    )
    const table = await api(['sites', 'bulk-add', '--file', csv, '--batch', 'csv-1', '--output', 'table'])
    expect(table.code).toBe(1)
    expect(table.stdout).toMatch(/^RESULT +ROWS\ncreated +2\nskipped +1\nfailed +1\ntotal +4$/m)
    expect(table.stdout).toMatch(
      /^1 +2 +8001 +https:\/\/one\.example\/ +skipped +site_exists +blog 8001 already monitors/m,
    )
    expect(table.stdout).toMatch(
      /^4 +5 +8004 +ftp:\/\/four\.example\/ +failed +invalid_row +monitor_url: must use http or https/m,
    )
    expect(table.stderr).toMatch(/error: 1 of 4 row\(s\) failed/)
    const two = JSON.parse((await api(['sites', 'get', '8002'])).stdout) as { endpoints: Record<string, unknown>[] }
    expect(two.endpoints[0]).toMatchObject({ check_interval_sec: 60, check_keyword: 'Welcome, friend' })

    // The same file and batch again: the rows created before are replayed, not created twice.
    const again = await api(['sites', 'bulk-add', '--file', csv, '--batch', 'csv-1'])
    expect(again.code).toBe(1)
    const report = JSON.parse(again.stdout) as Report
    expect(report.summary).toEqual({ total: 4, created: 0, skipped: 3, failed: 1 })
    expect(report.rows.map((r) => r.code)).toEqual(['site_exists', 'already_created', 'already_created', 'invalid_row'])
  })

  test('JSON on stdin: a row repeated in the file and a row without a blog id; the summary counts them', async () => {
    const rows = [
      { blog_id: 8101, monitor_url: 'https://a.example/' },
      { blog_id: '18446744073709551614', monitor_url: 'https://b.example/', forbidden_keywords: ['fatal'] },
      { monitor_url: 'https://a.example/', blog_id: 8101 },
      { monitor_url: 'https://c.example/' },
    ]
    const run = await api(['sites', 'bulk-add', '--file', '-', '--batch', 'json-1'], { input: JSON.stringify(rows) })
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as Report
    expect(report, JSON.stringify(report.rows)).toMatchObject({
      dry_run: false,
      batch: 'json-1',
      summary: { total: 4, created: 2, skipped: 1, failed: 1 },
    })
    expect(report.rows).toEqual([
      expect.objectContaining({ row: 1, blog_id: 8101, result: 'created' }),
      expect.objectContaining({ row: 2, blog_id: '18446744073709551614', result: 'created' }),
      expect.objectContaining({ row: 3, result: 'skipped', code: 'duplicate_row', message: 'the same site as row 1' }),
      expect.objectContaining({
        row: 4,
        result: 'failed',
        code: 'invalid_row',
        message: expect.stringMatching(/blog_id/),
      }),
    ])
    const big = JSON.parse((await api(['sites', 'get', '18446744073709551614'])).stdout) as { blog_id: unknown }
    expect(big.blog_id).toBe('18446744073709551614')
  })

  test('request_method and detection_profile columns, JSON fields and a bad profile failing its row only', async () => {
    const csv = file(
      'policy.csv',
      'blog_id,monitor_url,request_method,detection_profile\n' +
        '8401,https://policy-legacy.example/,HEAD,legacy\n' +
        '8402,https://policy-simple.example/,,simple_http\n' +
        '8403,https://policy-default.example/,,\n' +
        '8404,https://policy-bad.example/,GET,strict\n',
    )
    const run = await api(['sites', 'bulk-add', '--file', csv, '--batch', 'policy-csv'])
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as Report
    expect(report.summary).toEqual({ total: 4, created: 3, skipped: 0, failed: 1 })
    expect(report.rows[3]).toMatchObject({
      blog_id: 8404,
      result: 'failed',
      code: 'invalid_row',
      message: expect.stringMatching(/detection_profile: must be legacy, simple_http or full/),
    })
    const json = JSON.stringify([
      { blog_id: 8405, monitor_url: 'https://policy-json.example/', detection_profile: 'legacy' },
    ])
    expect((await api(['sites', 'bulk-add', '--file', '-', '--batch', 'policy-json'], { input: json })).code).toBe(0)

    const policyOf = async (blogId: number) => {
      const site = JSON.parse((await api(['sites', 'get', String(blogId)])).stdout) as {
        endpoints: { request_method: string; detection_profile: string }[]
      }
      return [site.endpoints[0]!.request_method, site.endpoints[0]!.detection_profile]
    }
    expect(await policyOf(8401)).toEqual(['HEAD', 'legacy'])
    expect(await policyOf(8402)).toEqual(['GET', 'simple_http'])
    expect(await policyOf(8403)).toEqual(['GET', 'full'])
    expect(await policyOf(8405)).toEqual(['GET', 'legacy'])
    expect((await api(['sites', 'get', '8404'])).code).toBe(1)

    const exported = await api(['sites', 'export', '--format', 'csv', '--q', 'policy-legacy'])
    expect(exported.stdout.split('\r\n')[1]).toMatch(
      /^8401,https:\/\/policy-legacy\.example\/,true,300,10000,HEAD,legacy,/,
    )
  })

  test('dry run: tells what would happen and writes nothing', async () => {
    expect((await api(['sites', 'create', '--blog-id', '8201', '--monitor-url', 'https://dry.example/'])).code).toBe(0)
    const csv = file(
      'dry.csv',
      'blog_id,monitor_url\n8201,https://dry.example/\n8201,https://dry.example/other\n8202,https://dry2.example/\n',
    )
    const run = await api(['sites', 'bulk-add', '--file', csv, '--dry-run', '--output', 'table'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^would_create +2\nwould_skip +1\nfailed +0\ntotal +3$/m)
    expect(run.stdout).toMatch(/^dry run: nothing was written$/m)
    expect((await api(['sites', 'get', '8202'])).code).toBe(1)
    const site = JSON.parse((await api(['sites', 'get', '8201'])).stdout) as { endpoint_count: number }
    expect(site.endpoint_count).toBe(1)
  })

  test('bad input is a usage error for the whole file', async () => {
    const unknown = await api(['sites', 'bulk-add', '--file', file('bad.csv', 'blog,url\n1,https://x/\n')])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/--file: unknown column\(s\) blog, url; the columns are the fields of POST \/sites/)
    const missing = await api(['sites', 'bulk-add', '--file', join(dir, 'nope.csv')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/nope\.csv: no such file/)
  })

  test('export round-trips through bulk-add: CSV out of one deployment, into another, the same sites', async () => {
    const setup = [
      [
        '--blog-id',
        '8301',
        '--monitor-url',
        'https://rt-one.example/',
        '--check-keyword',
        'Hello, "world"',
        '--timeout-ms',
        '5000',
      ],
      [
        '--blog-id',
        '8301',
        '--monitor-url',
        'https://rt-one.example/shop',
        '--forbidden-keywords',
        'fatal,error',
        '--monitor-active',
        'false',
      ],
      [
        '--blog-id',
        '18446744073709551613',
        '--monitor-url',
        'https://rt-big.example/',
        '--latency-threshold-ms',
        '900',
        '--redirect-policy',
        'fail',
      ],
    ]
    for (const args of setup) {
      const created = await apiOther(['sites', 'create', ...args])
      expect(created.code, created.stderr).toBe(0)
    }
    const csv = await apiOther(['sites', 'export', '--format', 'csv', '--q', 'rt-'])
    expect(csv.code, csv.stderr).toBe(0)
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'blog_id,monitor_url,monitor_active,check_interval_sec,timeout_ms,request_method,detection_profile,redirect_policy,max_redirects,check_keyword,forbidden_keywords,keyword_case_sensitive,latency_threshold_ms,tls_expiry_warn_days,alert_cooldown_minutes,bucket_no',
    )
    expect(csv.stderr).toMatch(/exported 3 endpoint\(s\) of 2 site\(s\)/)

    // Into the first deployment, through stdin.
    const imported = await api(['sites', 'bulk-add', '--file', '-', '--batch', 'roundtrip'], { input: csv.stdout })
    expect(imported.code, imported.stdout + imported.stderr).toBe(0)
    expect((JSON.parse(imported.stdout) as Report).summary).toEqual({ total: 3, created: 3, skipped: 0, failed: 0 })

    const before = JSON.parse((await apiOther(['sites', 'export', '--q', 'rt-'])).stdout) as unknown[]
    const after = JSON.parse((await api(['sites', 'export', '--q', 'rt-'])).stdout) as unknown[]
    expect(after).toEqual(before)
    expect(before).toContainEqual(
      expect.objectContaining({ blog_id: '18446744073709551613', redirect_policy: 'fail', latency_threshold_ms: 900 }),
    )
    expect(before).toContainEqual(expect.objectContaining({ check_keyword: 'Hello, "world"', timeout_ms: 5000 }))
    expect(before).toContainEqual(
      expect.objectContaining({ forbidden_keywords: ['fatal', 'error'], monitor_active: false }),
    )
  })
})
