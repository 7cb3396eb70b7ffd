import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAlertSender } from '@jetmon/alerting'
import { alertContacts, sloObjectives } from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { digestWeekStart, sendWeeklyDigests } from '@jetmon/slo'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { Jetmon2Config } from '../config.js'
import { digestSender, startObjectiveEvaluator } from './slo.js'

const database = useTestDatabase()

/** A Slack/Teams-like webhook receiver on loopback: every POST it got, by path. */
async function webhookPeer(): Promise<{ url: string; received: { path: string; body: string }[]; server: Server }> {
  const received: { path: string; body: string }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', body })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server }
}

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

/** Two tenants' opted-in contacts and a third that did not opt in; an objective of each tenant (names end in `suffix`). */
async function setUp(suffix = '') {
  const { db } = database()
  const peer = await webhookPeer()
  closers.push(() => new Promise((resolve) => peer.server.close(resolve)))
  const alertSender = createAlertSender({ allowPrivateTargets: true, allowInsecureHttp: true })
  closers.push(() => alertSender.close())
  const contact = (
    name: string,
    tenant: string | null,
    digest: boolean,
    transport: 'slack' | 'teams' = 'slack',
    blogIds: string[] = [],
  ) => ({
    label: `${name}${suffix}`,
    transport,
    destination: { webhook_url: `${peer.url}/${name}${suffix}` },
    destinationPreview: name.slice(0, 8),
    ownerTenantId: tenant,
    createdBy: 'test',
    sloDigest: digest ? ('weekly' as const) : null,
    siteFilter: { blog_ids: blogIds },
  })
  await db
    .insert(alertContacts)
    .values([
      contact('tenant-a', 'a', true),
      contact('tenant-b', 'b', true, 'teams'),
      contact('quiet', 'a', false),
      contact('operator', null, true, 'slack', ['202']),
    ])
  const objective = (name: string, blogId: bigint, tenant: string) => ({
    name,
    blogId,
    sli: 'availability' as const,
    target: 99.9,
    window: '30d',
    ownerTenantId: tenant,
    createdBy: 'test',
  })
  await db
    .insert(sloObjectives)
    .values([objective(`checkout of a${suffix}`, 101n, 'a'), objective(`front page of b${suffix}`, 202n, 'b')])
  return { db, peer, alerting: { secretsKey: null, alertSender } }
}

describe('the weekly objective digest', () => {
  it('reports the ISO week before: Monday 00:00 to Monday 00:00 UTC', () => {
    expect(digestWeekStart(new Date('2026-11-30T00:00:05Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z')
    expect(digestWeekStart(new Date('2026-12-06T23:59:59Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z')
    expect(digestWeekStart(new Date('2026-12-07T00:00:00Z')).toISOString()).toBe('2026-11-30T00:00:00.000Z')
  })

  it('sends each opted-in contact one digest of its own tenant’s objectives, though two hosts evaluate', async () => {
    const { db, peer, alerting } = await setUp()
    let now = new Date('2026-11-30T00:01:05Z')
    const host = (name: string) =>
      startObjectiveEvaluator({
        db,
        config: () => ({ HOST_ID: name }) as Jetmon2Config,
        logger: createLogger({ level: 'silent' }),
        registry: new Registry(),
        clock: () => now,
        alerting,
      })
    const [a, b] = [host('host-a'), host('host-b')]
    closers.push(
      () => a.stop(() => 1_000),
      () => b.stop(() => 1_000),
    )
    expect(await a.evaluator.runOnce()).toMatchObject({ claimed: true })
    expect(await b.evaluator.runOnce()).toMatchObject({ claimed: false })
    now = new Date('2026-11-30T00:02:05Z')
    expect(await b.evaluator.runOnce()).toMatchObject({ claimed: true })
    now = new Date('2026-12-06T23:59:05Z')
    expect(await a.evaluator.runOnce()).toMatchObject({ claimed: true })

    expect(peer.received.map((request) => request.path).sort()).toEqual(['/operator', '/tenant-a', '/tenant-b'])
    const to = (path: string) => peer.received.find((request) => request.path === path)?.body ?? ''
    expect(to('/tenant-a')).toContain('week of 2026-11-23')
    expect(to('/tenant-a')).toContain('checkout of a')
    expect(to('/tenant-a')).not.toContain('front page of b')
    expect(to('/tenant-b')).toContain('front page of b')
    expect(to('/tenant-b')).not.toContain('checkout of a')
    // The operator's contact may see every objective; its site filter keeps site 202's.
    expect(to('/operator')).toContain('front page of b')
    expect(to('/operator')).not.toContain('checkout of a')
    const rows = await db.select().from(alertContacts).where(eq(alertContacts.label, 'quiet'))
    expect(rows[0]?.sloDigestSentWeek).toBeNull()

    // The next week's digest is due from the next Monday on.
    now = new Date('2026-12-07T00:00:05Z')
    expect(await b.evaluator.runOnce()).toMatchObject({ claimed: true })
    expect(peer.received).toHaveLength(6)
  })

  it('gives a week to one of two processes sending at the same time', async () => {
    const { db, peer, alerting } = await setUp('-2')
    const now = new Date('2026-12-01T09:00:00Z')
    const deliver = digestSender(alerting)
    const reports = await Promise.all([
      sendWeeklyDigests({ ctx: { db }, deliver, now }),
      sendWeeklyDigests({ ctx: { db }, deliver, now }),
    ])
    expect(reports.reduce((sum, report) => sum + report.claimed, 0)).toBe(3)
    expect(reports.reduce((sum, report) => sum + report.sent, 0)).toBe(3)
    expect(peer.received).toHaveLength(3)
  })

  it('is not paged: a PagerDuty contact’s digest is refused', async () => {
    const alertSender = createAlertSender()
    closers.push(() => alertSender.close())
    const result = await digestSender({ secretsKey: null, alertSender })(
      {
        id: 1n,
        label: 'on call',
        transport: 'pagerduty',
        destination: { integration_key: 'k'.repeat(32) },
        ownerTenantId: null,
      },
      { match: 'digest', title: 'Service level objectives', summary: '', fields: [], footer: '' },
    )
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^pagerduty: pages only on events/) })
  })
})
