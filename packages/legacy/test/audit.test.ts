/** The v1 table's audit against the real database. Each test keeps to buckets of its own. */
import { monitorSites } from '@jetmon/db'
import { openEvent } from '@jetmon/eventstore'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { adoptLegacyIncidents, auditLegacySites, isMonitorUrl } from '../src/index.js'
import { insertV1Rows, totalRows } from './_helpers.js'

const database = useTestDatabase()
const db = () => database().db
const audit = (bucketMin: number, bucketMax: number, bucketTotal = 1000) =>
  auditLegacySites({ ctx: { db: db() }, bucketMin, bucketMax, bucketTotal })

describe('auditLegacySites', () => {
  it('finds nothing in a clean range, and counts its active rows', async () => {
    await insertV1Rows(db(), [
      { blogId: 1n, monitorUrl: 'https://one.example', bucketNo: 10 },
      { blogId: 2n, monitorUrl: 'http://two.example/path?q=1', bucketNo: 11 },
      // A second URL of one blog is no duplicate.
      { blogId: 2n, monitorUrl: 'http://two.example/shop', bucketNo: 11 },
      { blogId: 3n, monitorUrl: 'not a url', bucketNo: 12, monitorActive: 0 },
    ])
    expect(await audit(10, 19)).toEqual({
      range: { min: 10, max: 19 },
      bucketTotal: 1000,
      activeRows: 3,
      findings: [],
      blocking: false,
    })
  })

  it('reports every kind of finding on the active rows of the range, blocking ones first, with examples', async () => {
    const at = new Date('2026-03-01T10:00:00Z')
    const [dupA, dupB, , badUrl, badStatus, zero, down, seemsDown, drifted] = await insertV1Rows(db(), [
      { blogId: 100n, monitorUrl: 'https://dup.example', bucketNo: 20 },
      { blogId: 100n, monitorUrl: 'https://dup.example', bucketNo: 21 },
      // Inactive duplicates and rows of other ranges do not count.
      { blogId: 100n, monitorUrl: 'https://dup.example', bucketNo: 22, monitorActive: 0 },
      { blogId: 101n, monitorUrl: 'ftp://files.example', bucketNo: 20 },
      { blogId: 102n, monitorUrl: 'https://status.example', bucketNo: 20, siteStatus: 7 },
      { blogId: 103n, monitorUrl: 'https://zero.example', bucketNo: 20, checkInterval: 0 },
      { blogId: 104n, monitorUrl: 'https://down.example', bucketNo: 20, siteStatus: 2, lastStatusChange: at },
      { blogId: 105n, monitorUrl: 'https://seems.example', bucketNo: 20, siteStatus: 0, lastStatusChange: at },
      { blogId: 106n, monitorUrl: 'https://drift.example', bucketNo: 20 },
      { blogId: 107n, monitorUrl: 'https://dup.example', bucketNo: 30 },
      { blogId: 107n, monitorUrl: 'https://dup.example', bucketNo: 30 },
    ])
    // An open Down whose row says running: drift, not adoption.
    await openEvent({
      ctx: { db: db(), source: 'system', projection: false },
      input: { blogId: 106n, endpointId: drifted as bigint, checkType: 'http', state: 'Down' },
    })
    const before = await totalRows(db())

    const result = await audit(20, 29)
    expect(result.blocking).toBe(true)
    expect(result.activeRows).toBe(8)
    expect(result.findings.map((f) => [f.code, f.severity, f.count])).toEqual([
      ['duplicate_active_url', 'blocking', 1],
      ['invalid_monitor_url', 'blocking', 1],
      ['invalid_site_status', 'warning', 1],
      ['check_interval_zero', 'warning', 1],
      ['projection_drift', 'warning', 1],
      ['awaiting_adoption', 'warning', 2],
    ])
    const examples = Object.fromEntries(result.findings.map((f) => [f.code, f.examples.map((e) => e.endpointId)]))
    expect(examples).toEqual({
      duplicate_active_url: [dupA, dupB],
      invalid_monitor_url: [badUrl],
      invalid_site_status: [badStatus],
      check_interval_zero: [zero],
      projection_drift: [drifted],
      awaiting_adoption: [down, seemsDown],
    })
    expect(result.findings[0]?.examples[0]).toEqual({
      endpointId: dupA,
      blogId: 100n,
      bucketNo: 20,
      monitorUrl: 'https://dup.example',
      monitorActive: true,
      siteStatus: 1,
      checkInterval: 5,
    })
    expect(result.findings.find((f) => f.code === 'projection_drift')?.examples[0]?.note).toBe(
      'site_status 1, expected 2 (open http event: Down)',
    )
    for (const finding of result.findings) expect(finding.message).toMatch(/^\d+ /)

    // Read-only.
    expect(await totalRows(db())).toEqual(before)
    const [row] = await db()
      .select()
      .from(monitorSites)
      .where(eq(monitorSites.endpointId, drifted as bigint))
    expect(row?.siteStatus).toBe(1)

    // Once adopted, the range has nothing awaiting adoption.
    await adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 20, bucketMax: 29, execute: true })
    const after = await audit(20, 29)
    expect(after.findings.map((f) => f.code)).not.toContain('awaiting_adoption')
    expect(after.findings.find((f) => f.code === 'projection_drift')?.count).toBe(1)
  })

  it('counts a blog and URL on three active rows as one duplicate, with all three as examples', async () => {
    const ids = await insertV1Rows(db(), [
      { blogId: 500n, monitorUrl: 'https://triple.example', bucketNo: 50 },
      { blogId: 501n, monitorUrl: 'https://pair.example', bucketNo: 51 },
      { blogId: 500n, monitorUrl: 'https://triple.example', bucketNo: 52 },
      { blogId: 501n, monitorUrl: 'https://pair.example', bucketNo: 53 },
      { blogId: 500n, monitorUrl: 'https://triple.example', bucketNo: 54 },
      // Same URL, another blog: no duplicate.
      { blogId: 502n, monitorUrl: 'https://triple.example', bucketNo: 55 },
    ])
    const result = await audit(50, 59)
    expect(result.findings[0]).toMatchObject({ code: 'duplicate_active_url', count: 2 })
    expect(result.findings[0]?.examples.map((e) => e.endpointId)).toEqual([ids[0], ids[2], ids[4], ids[1], ids[3]])
    // Within a narrower range, only the rows in it count.
    expect((await audit(50, 52)).findings[0]).toMatchObject({ code: 'duplicate_active_url', count: 1 })
  })

  it('reports rows in buckets no host owns, over the whole table when no range is given', async () => {
    const [beyond] = await insertV1Rows(db(), [{ blogId: 200n, monitorUrl: 'https://far.example', bucketNo: 1000 }])
    const whole = await auditLegacySites({ ctx: { db: db() }, bucketTotal: 1000 })
    expect(whole.range).toBeNull()
    const finding = whole.findings.find((f) => f.code === 'bucket_out_of_range')
    expect(finding).toMatchObject({
      severity: 'blocking',
      count: 1,
      examples: [{ endpointId: beyond, bucketNo: 1000 }],
    })
    // With a larger bucket total, bucket 1000 is owned.
    const larger = await auditLegacySites({ ctx: { db: db() }, bucketTotal: 1001 })
    expect(larger.findings.map((f) => f.code)).not.toContain('bucket_out_of_range')
  })

  it('calls a URL invalid exactly when the checker could not parse it as http(s) with a host', async () => {
    const urls = [
      'https://example.com',
      'HTTPS://EXAMPLE.COM/Path',
      'http://example.com:8080/x',
      'http://user:secret@example.com/',
      'http://[::1]:8080/',
      'http://127.0.0.1/',
      'http://999.1.1.1/',
      'http://1.2.3.999/',
      'https://bücher.example/',
      'http://xn--abc-.example/',
      'http://xn--nxasmq6b.example/',
      'https://example.com:99999/',
      'https:example.com',
      'http://',
      'http:///path',
      'mailto:someone@example.com',
      'ftp://example.com/',
      'example.com',
      '',
      ' https://padded.example ',
      'https://exa mple.com/',
      'https://example.com/a path',
      'http://a..b.example/',
      'http://-.example/',
      'http://0x7f.1/',
      'javascript:alert(1)',
    ]
    const ids = await insertV1Rows(
      db(),
      urls.map((monitorUrl, index) => ({ blogId: 300n + BigInt(index), monitorUrl, bucketNo: 40 })),
    )
    const result = await auditLegacySites({
      ctx: { db: db() },
      bucketMin: 40,
      bucketMax: 40,
      bucketTotal: 1000,
      examples: 100,
    })
    const expected = ids.filter((_, index) => !isMonitorUrl(urls[index] as string))
    expect(expected.length).toBeGreaterThan(5)
    const finding = result.findings.find((f) => f.code === 'invalid_monitor_url')
    expect(finding?.count).toBe(expected.length)
    expect(finding?.examples.map((e) => e.endpointId)).toEqual(expected)
  })

  it('refuses half a range, a range upside down and a bucket total below 1', async () => {
    const ctx = { db: db() }
    await expect(auditLegacySites({ ctx, bucketMin: 3, bucketTotal: 10 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'bucketMax',
    })
    await expect(auditLegacySites({ ctx, bucketMin: 5, bucketMax: 4, bucketTotal: 10 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'bucketMin',
    })
    await expect(auditLegacySites({ ctx, bucketTotal: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'bucketTotal',
    })
  })
})
