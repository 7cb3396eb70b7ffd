import { describe, expect, test } from 'vitest'
import { cliFor, useTestServer } from './_server.js'

const server = useTestServer()
const api = cliFor(server)

let nextBlog = 7_100_000n
async function site(): Promise<bigint> {
  const blogId = nextBlog++
  await server().database.pool.query('INSERT INTO jetpack_monitor_sites (blog_id, monitor_url) VALUES (?, ?)', [
    blogId.toString(),
    `https://${blogId}.example/`,
  ])
  return blogId
}

describe.concurrent('jetmon2 api slos against a real API server', { timeout: 300_000 }, () => {
  test('create, list, status and snapshots; export as OpenSLO, apply it back unchanged, then a change, dry run first', async () => {
    const blogId = await site()
    const created = await api([
      'slos',
      'create',
      '--name',
      'shop availability',
      '--blog-id',
      String(blogId),
      '--sli',
      'availability',
      '--target',
      '99.9',
      '--window',
      '30d',
    ])
    expect(created.code, created.stderr).toBe(0)
    const slo = JSON.parse(created.stdout) as { id: number; name: string; target: number }
    expect(slo).toMatchObject({ name: 'shop availability', target: 99.9, blog_id: Number(blogId) })

    const list = await api(['slos', 'list', '--blog-id', String(blogId), '--output', 'table'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/^ID +NAME +BLOG_ID/m)
    expect(list.stdout).toMatch(new RegExp(`^${slo.id} +shop availability +${blogId} `, 'm'))

    const status = await api(['slos', 'status', String(slo.id), '--output', 'table'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^target +99\.9 % over 30d$/m)
    expect(status.stdout).toMatch(/^budget_remaining_percent +100$/m)
    expect(status.stdout).toMatch(/^burn_rates +5m 0 {2}30m 0 {2}1h 0/m)
    const statusJson = await api(['slos', 'status', String(slo.id)])
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ objective: { id: slo.id }, budget_remaining_percent: 100 })

    const snapshots = await api(['slos', 'snapshots', String(slo.id), '--output', 'table'])
    expect(snapshots.code, snapshots.stderr).toBe(0)

    // SLOs as code: the export applied as it is changes nothing.
    const exported = await api(['slos', 'export', '--blog-id', String(blogId), '--format', 'openslo'])
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout).toMatch(/^apiVersion: openslo\/v1\nkind: SLO\nmetadata:\n {2}name: shop availability\n/)
    expect(exported.stdout).toMatch(/^ {4}- target: 0\.999$/m)
    const unchanged = await api(['slos', 'apply', '-f', '-', '--output', 'table'], { input: exported.stdout })
    expect(unchanged.code, unchanged.stderr).toBe(0)
    expect(unchanged.stdout).toMatch(new RegExp(`^0 +shop availability +unchanged +${slo.id} +-$`, 'm'))
    expect(unchanged.stdout).toMatch(/^0 created, 0 updated, 1 unchanged$/m)

    // A reviewed change: the dry run shows it and writes nothing; the apply makes it.
    const edited = exported.stdout.replace('- target: 0.999', '- target: 0.995')
    const dry = await api(['slos', 'apply', '-f', '-', '--dry-run', '--output', 'table'], { input: edited })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(new RegExp(`^0 +shop availability +update +${slo.id} +target$`, 'm'))
    expect(dry.stdout).toMatch(/^dry run: 0 to create, 1 to update, 0 unchanged; nothing was written$/m)
    expect(JSON.parse((await api(['slos', 'get', String(slo.id)])).stdout)).toMatchObject({ target: 99.9 })
    const applied = await api(['slos', 'apply', '-f', '-'], { input: edited })
    expect(applied.code, applied.stderr).toBe(0)
    expect(JSON.parse(applied.stdout)).toMatchObject({
      dry_run: false,
      summary: { create: 0, update: 1, unchanged: 0 },
      documents: [{ action: 'update', changes: [{ field: 'target', from: 99.9, to: 99.5 }] }],
    })
    expect(JSON.parse((await api(['slos', 'get', String(slo.id)])).stdout)).toMatchObject({ target: 99.5 })

    const json = await api(['slos', 'export', '--id', String(slo.id), '--format', 'json'])
    expect(JSON.parse(json.stdout)).toMatchObject([{ kind: 'SLO', spec: { objectives: [{ target: 0.995 }] } }])
  })

  test('invalid documents exit 1 with the path of each problem; deleting frees the name', async () => {
    const blogId = await site()
    const yaml = [
      'apiVersion: openslo/v1',
      'kind: SLO',
      'metadata: { name: checkout }',
      'spec:',
      '  indicator:',
      '    spec:',
      `      thresholdMetric: { metricSource: { type: Jetmon, spec: { sli: latency, blogId: ${blogId} } } }`,
      '  timeWindow: [{ duration: 2w }]',
      '  objectives: [{ target: 0.99 }]',
      '',
    ].join('\n')
    const invalid = await api(['slos', 'apply', '-f', '-', '--output', 'table'], { input: yaml })
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toMatch(/^error: invalid_request \(HTTP 400\)/m)
    expect(invalid.stderr).toMatch(
      /^ {2}0\.spec\.timeWindow\.0\.duration: must be one of 7d, 28d, 30d, 90d \(rolling\) or 1M, 1Q \(calendar, UTC\)$/m,
    )
    const fixed = yaml.replace('2w', '7d')
    const latency = await api(['slos', 'apply', '-f', '-', '--output', 'table'], { input: fixed })
    expect(latency.code).toBe(1)
    expect(latency.stderr).toMatch(
      /^ {2}0\.spec\.indicator\.spec\.thresholdMetric\.metricSource\.spec\.latencyThresholdMs: is required for a latency objective$/m,
    )
    const good = fixed.replace('blogId:', 'latencyThresholdMs: 500, blogId:')
    const created = await api(['slos', 'apply', '-f', '-'], { input: good })
    expect(created.code, created.stderr).toBe(0)
    const report = JSON.parse(created.stdout) as { documents: { action: string; objective: { id: number } }[] }
    expect(report.documents[0]?.action).toBe('create')
    const id = String(report.documents[0]?.objective.id)

    const deleted = await api(['slos', 'delete', id, '--output', 'table'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(deleted.stdout).toBe(`objective ${id} deleted: no longer evaluated, its name free, its history kept\n`)
    const again = await api(['slos', 'apply', '-f', '-'], { input: good })
    expect(JSON.parse(again.stdout)).toMatchObject({ summary: { create: 1, update: 0, unchanged: 0 } })

    const noFile = await api(['slos', 'apply'])
    expect(noFile.code).toBe(2)
    expect(noFile.stderr).toMatch(/-f\/--file: name the documents to apply/)
  })
})
