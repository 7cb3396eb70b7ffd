/**
 * A demo-like fleet for the dashboard's tests and its screenshot: sites in every state, incidents
 * written with the event store's own verbs (with their evidence and veriflier votes), check
 * history with phase timings, hosts, process health, delivery queues, and a few secrets planted
 * where the dashboard must never show them.
 */
import {
  alertContacts,
  alertDeliveries,
  auditLog,
  checkHistory,
  checkRollups,
  type Db,
  dispatchCursors,
  endpointConfig,
  endpointState,
  eventTransitions,
  hosts,
  maintenanceWindows,
  monitorSites,
  processHealth,
  webhookDeliveries,
  webhooks,
} from '@jetmon/db'
import { closeEvent, type EventStoreContext, openEvent, promoteEvent } from '@jetmon/eventstore'
import { emptyHistogram, histogramOf } from '@jetmon/history'
import { eq, max } from 'drizzle-orm'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Values that must never appear in any page or asset. */
export const SECRETS = {
  customHeaderValue: 'HEADER-SECRET-VALUE-4242',
  metadataHeaderValue: 'METADATA-SECRET-7777',
  urlPassword: 'url-pass-9911',
  urlToken: 'QUERYTOKEN-5151',
  webhookSecret: 'whsec_WEBHOOK-SECRET-8080',
  alertDestination: 'pager-SECRET-dest@example.com',
} as const

export type SiteKind = 'down' | 'seems' | 'degraded' | 'warning' | 'maintenance' | 'paused' | 'up'

export interface SeedSite {
  blogId: bigint
  url: string
  kind: SiteKind
  /** Typical response time in ms. */
  rtt: number
  extraUrls?: string[]
}

/** The demo fleet. URLs are example domains. */
export const SEED_SITES: SeedSite[] = [
  { blogId: 1001n, url: 'https://shop.example.com/', kind: 'down', rtt: 240 },
  { blogId: 1002n, url: 'https://news.example.org/', kind: 'seems', rtt: 180 },
  { blogId: 1003n, url: 'https://slow.example.net/', kind: 'degraded', rtt: 1450 },
  { blogId: 1004n, url: 'https://cert.example.com/', kind: 'warning', rtt: 130 },
  { blogId: 1005n, url: 'https://docs.example.com/', kind: 'maintenance', rtt: 160 },
  { blogId: 1006n, url: 'https://archive.example.com/', kind: 'paused', rtt: 210 },
  {
    blogId: 1007n,
    url: `https://admin:${SECRETS.urlPassword}@www.example.com/?token=${SECRETS.urlToken}`,
    kind: 'up',
    rtt: 95,
  },
  {
    blogId: 1008n,
    url: 'https://api.example.com/health',
    kind: 'up',
    rtt: 60,
    extraUrls: ['https://api.example.com/v2/status'],
  },
  { blogId: 1009n, url: 'https://blog.example.org/', kind: 'up', rtt: 310 },
  { blogId: 1010n, url: 'https://studio.example.com/', kind: 'up', rtt: 120 },
  { blogId: 1011n, url: 'https://status.example.net/', kind: 'up', rtt: 75 },
  { blogId: 1012n, url: 'https://store.example.co.uk/', kind: 'up', rtt: 270 },
  { blogId: 1013n, url: 'https://photos.example.com/', kind: 'up', rtt: 190 },
  { blogId: 1014n, url: 'https://wiki.example.org/', kind: 'up', rtt: 140 },
]

/** A small deterministic PRNG, so seeded charts (and the screenshot) are the same every run. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface SeedOptions {
  now: Date
  /** Raw check history covers this many hours before now (default 6). */
  historyHours?: number
  /** Minutes between seeded checks (default 5). */
  intervalMin?: number
  /** Hourly rollups for this many days before the raw history (default 0). */
  rollupDays?: number
}

export interface SeededFleet {
  /** Endpoint ids by blog id (first endpoint first). */
  endpoints: Map<bigint, bigint[]>
  /** The open Down event of the `down` site. */
  downEventId: bigint
}

/** The evidence the monitor stores for a failed http check (pipeline.ts `evidence`). */
export function httpEvidence(url: string, at: Date, failure: 'http_503' | 'timeout'): Record<string, unknown> {
  return {
    check: {
      url,
      final_url: url,
      method: 'GET',
      started_at: at.toISOString(),
      http_code: failure === 'http_503' ? 503 : null,
      error_code: failure === 'http_503' ? 10 : 1,
      error: failure === 'http_503' ? 'http_status' : 'timeout',
      detail: failure === 'http_503' ? 'the server answered 503 Service Unavailable' : 'no first byte within 10 s',
      timeout_phase: failure === 'timeout' ? 'ttfb' : null,
      timings: {
        dnsMs: 4,
        connectMs: 11,
        tlsMs: 23,
        ttfbMs: failure === 'timeout' ? null : 41,
        transferMs: 1,
        totalMs: failure === 'timeout' ? 10_000 : 80,
      },
      redirects: [],
      tls: {
        protocol: 'TLSv1.3',
        cipher: 'TLS_AES_128_GCM_SHA256',
        subject: 'CN=example',
        issuer: 'CN=Example CA',
        altNames: [],
        validFrom: null,
        validTo: null,
        daysUntilExpiry: 80,
      },
      remote_address: '192.0.2.10',
      // Not something the monitor stores, but the dashboard must not render unknown fields anyway.
      request_headers: { authorization: `Bearer ${SECRETS.metadataHeaderValue}` },
    },
  }
}

function votes(down: number, up: number) {
  const regions = ['eu-west', 'us-east', 'ap-south']
  return Array.from({ length: down + up }, (_, i) => ({
    veriflier: `vf-${regions[i % 3]}`,
    region: regions[i % 3],
    success: i >= down,
    vote: i >= down ? 'up' : 'down',
    http_code: i >= down ? 200 : 503,
    error_code: i >= down ? 0 : 10,
    rtt_ms: 120 + i * 37,
  }))
}

/** Writes the demo fleet into `db` (a freshly migrated database). */
export async function seedDemo(db: Db, options: SeedOptions): Promise<SeededFleet> {
  const now = options.now
  const nowMs = now.getTime()
  const historyHours = options.historyHours ?? 6
  const intervalMs = (options.intervalMin ?? 5) * MINUTE
  const rand = random(42)
  const endpoints = new Map<bigint, bigint[]>()

  for (const site of SEED_SITES) {
    const ids: bigint[] = []
    for (const url of [site.url, ...(site.extraUrls ?? [])]) {
      const [row] = await db
        .insert(monitorSites)
        .values({
          blogId: site.blogId,
          monitorUrl: url,
          monitorActive: site.kind === 'paused' ? 0 : 1,
          bucketNo: Number(site.blogId % 1000n),
        })
        .$returningId()
      ids.push(BigInt(row!.endpointId))
    }
    endpoints.set(site.blogId, ids)
  }
  const first = (blogId: bigint) => endpoints.get(blogId)![0]!
  await db.insert(endpointConfig).values([
    { endpointId: first(1008n), customHeaders: { 'X-Api-Key': SECRETS.customHeaderValue }, checkIntervalSec: 60 },
    { endpointId: first(1003n), latencyThresholdMs: 1000 },
    { endpointId: first(1009n), checkKeyword: 'Welcome', forbiddenKeywords: ['casino'] },
  ])

  // ── events, through the event store's verbs (a movable clock dates them) ────────────────────
  let clock = now
  const ctx: EventStoreContext = { db, source: 'monitor:mon-a', clock: () => clock }
  const at = (ms: number) => {
    clock = new Date(ms)
    return clock
  }
  const site = (blogId: bigint) => SEED_SITES.find((s) => s.blogId === blogId)!

  // Down: Seems Down 25 min ago, confirmed by 2 of 3 verifliers a minute later.
  const downStart = at(nowMs - 25 * MINUTE)
  const down = await openEvent({
    ctx,
    input: {
      blogId: 1001n,
      endpointId: first(1001n),
      checkType: 'http',
      state: 'Seems Down',
      startedAt: downStart,
      eventMetadata: httpEvidence(site(1001n).url, downStart, 'http_503'),
      transitionMetadata: { error: 'http_status', detail: 'the server answered 503 Service Unavailable' },
    },
  })
  at(nowMs - 24 * MINUTE)
  const confirmation = { confirmed_by: 'verifliers', votes: votes(2, 1), quorum: 2 }
  await promoteEvent({
    ctx: { ...ctx, source: 'monitor:mon-a' },
    input: {
      eventId: down.event.id,
      state: 'Down',
      reason: 'verifier_confirmed',
      transitionMetadata: confirmation,
      eventMetadata: { confirmation },
    },
  })

  // Seems Down 3 min ago; the verifliers could not be reached (confirmation unavailable).
  const seemsStart = at(nowMs - 3 * MINUTE)
  const seems = await openEvent({
    ctx,
    input: {
      blogId: 1002n,
      endpointId: first(1002n),
      checkType: 'http',
      state: 'Seems Down',
      startedAt: seemsStart,
      eventMetadata: httpEvidence(site(1002n).url, seemsStart, 'timeout'),
      transitionMetadata: { error: 'timeout', detail: 'no first byte within 10 s' },
    },
  })
  await db.insert(auditLog).values({
    blogId: 1002n,
    eventId: seems.event.id,
    eventType: 'veriflier_request',
    source: 'monitor:mon-a',
    detail: 'confirmation unavailable: fewer than 2 usable veriflier answers',
    metadata: { outcome: 'inconclusive', confirmation: 'unavailable', votes: [], quorum: 2 },
    createdAt: new Date(nowMs - 1 * MINUTE),
  })

  // Degraded: slower than its latency threshold for 50 min.
  at(nowMs - 50 * MINUTE)
  await openEvent({
    ctx,
    input: {
      blogId: 1003n,
      endpointId: first(1003n),
      checkType: 'latency',
      state: 'Degraded',
      eventMetadata: { threshold_ms: 1000, total_ms: 1480, consecutive: 3 },
      transitionMetadata: { threshold_ms: 1000, total_ms: 1480, consecutive: 3 },
    },
  })

  // Warning: certificate expires in 21 days.
  at(nowMs - 2 * DAY)
  const validTo = new Date(nowMs + 21 * DAY).toISOString()
  await openEvent({
    ctx,
    input: {
      blogId: 1004n,
      endpointId: first(1004n),
      checkType: 'tls_expiry',
      state: 'Warning',
      eventMetadata: {
        valid_to: validTo,
        days_until_expiry: 21,
        subject: 'CN=cert.example.com',
        issuer: 'CN=Example CA',
      },
      transitionMetadata: { valid_to: validTo, days_until_expiry: 21 },
    },
  })

  // Past incidents: a confirmed outage 3 h ago (12 min), a false alarm 20 h ago, one 2 days ago.
  const pastStart = at(nowMs - 3 * HOUR)
  const past = await openEvent({
    ctx,
    input: {
      blogId: 1007n,
      endpointId: first(1007n),
      checkType: 'http',
      state: 'Seems Down',
      startedAt: pastStart,
      eventMetadata: httpEvidence(site(1007n).url, pastStart, 'http_503'),
    },
  })
  at(nowMs - 3 * HOUR + MINUTE)
  await promoteEvent({
    ctx,
    input: {
      eventId: past.event.id,
      state: 'Down',
      reason: 'verifier_confirmed',
      transitionMetadata: { confirmed_by: 'verifliers', votes: votes(3, 0), quorum: 2 },
    },
  })
  at(nowMs - 3 * HOUR + 12 * MINUTE)
  await closeEvent({ ctx, input: { eventId: past.event.id, reason: 'verifier_cleared' } })

  const alarmStart = at(nowMs - 20 * HOUR)
  const alarm = await openEvent({
    ctx,
    input: {
      blogId: 1009n,
      endpointId: first(1009n),
      checkType: 'http',
      state: 'Seems Down',
      startedAt: alarmStart,
      eventMetadata: httpEvidence(site(1009n).url, alarmStart, 'timeout'),
    },
  })
  at(nowMs - 20 * HOUR + 2 * MINUTE)
  await closeEvent({
    ctx,
    input: { eventId: alarm.event.id, reason: 'false_alarm', transitionMetadata: { votes: votes(0, 3), quorum: 2 } },
  })

  const oldStart = at(nowMs - 2 * DAY - 5 * HOUR)
  const old = await openEvent({
    ctx,
    input: {
      blogId: 1008n,
      endpointId: first(1008n),
      checkType: 'http',
      state: 'Seems Down',
      startedAt: oldStart,
      eventMetadata: httpEvidence(site(1008n).url, oldStart, 'http_503'),
    },
  })
  at(oldStart.getTime() + MINUTE)
  await promoteEvent({
    ctx,
    input: {
      eventId: old.event.id,
      state: 'Down',
      reason: 'verifier_confirmed',
      transitionMetadata: { confirmed_by: 'verifliers', votes: votes(2, 1), quorum: 2 },
    },
  })
  at(oldStart.getTime() + 40 * MINUTE)
  await closeEvent({ ctx, input: { eventId: old.event.id, reason: 'verifier_cleared' } })

  // Maintenance: a window over the docs site now.
  await db.insert(maintenanceWindows).values({
    blogId: 1005n,
    startsAt: new Date(nowMs - 30 * MINUTE),
    endsAt: new Date(nowMs + 90 * MINUTE),
    reason: 'Database upgrade',
    createdBy: 'api:ops',
  })

  // ── check history (local vantage) with phase timings ──────────────────────────────────────
  const rows: (typeof checkHistory.$inferInsert)[] = []
  const failingSince = (blogId: bigint, t: number) => {
    if (blogId === 1001n) return t >= downStart.getTime()
    if (blogId === 1002n) return t >= seemsStart.getTime()
    if (blogId === 1007n) return t >= pastStart.getTime() && t < pastStart.getTime() + 12 * MINUTE
    return false
  }
  const historyFrom = nowMs - historyHours * HOUR
  for (const s of SEED_SITES) {
    if (s.kind === 'paused') continue
    for (const endpointId of endpoints.get(s.blogId)!) {
      for (let t = historyFrom + (Number(endpointId) % 7) * 20_000; t < nowMs - 10_000; t += intervalMs) {
        const failed = failingSince(s.blogId, t)
        const wave = 1 + 0.18 * Math.sin(t / (2.5 * HOUR) + Number(s.blogId))
        const total = Math.round(s.rtt * wave * (0.85 + rand() * 0.3) + (rand() < 0.03 ? s.rtt * 1.5 : 0))
        const dns = Math.round(2 + rand() * 12)
        const connect = Math.round(8 + rand() * 20)
        const tls = s.url.startsWith('https') ? Math.round(15 + rand() * 30) : null
        const ttfb = Math.max(1, Math.round(total * 0.78) - dns - connect - (tls ?? 0))
        rows.push({
          endpointId,
          blogId: s.blogId,
          checkedAt: new Date(t),
          vantage: 'local',
          method: 'GET',
          httpCode: failed ? (s.blogId === 1002n ? null : 503) : 200,
          errorCode: failed ? (s.blogId === 1002n ? 1 : 10) : 0,
          rttMs: failed ? null : total,
          dnsMs: dns,
          tcpMs: connect,
          tlsMs: tls,
          ttfbMs: failed ? null : ttfb,
        })
      }
    }
  }
  for (let i = 0; i < rows.length; i += 1000) await db.insert(checkHistory).values(rows.slice(i, i + 1000))

  // Hourly rollups before the raw history (long windows, daily uptime bar).
  const rollupDays = options.rollupDays ?? 0
  if (rollupDays > 0) {
    const rollups: (typeof checkRollups.$inferInsert)[] = []
    const firstHour = Math.floor((historyFrom - rollupDays * DAY) / HOUR) * HOUR
    for (const s of SEED_SITES) {
      if (s.kind === 'paused') continue
      const endpointId = first(s.blogId)
      for (let hour = firstHour; hour < Math.floor(historyFrom / HOUR) * HOUR; hour += HOUR) {
        const checks = Math.round(HOUR / intervalMs)
        const samples = Array.from({ length: checks }, () => Math.round(s.rtt * (0.85 + rand() * 0.3)))
        rollups.push({
          endpointId,
          hourStart: new Date(hour),
          blogId: s.blogId,
          checks,
          failures: 0,
          rttSumMs: samples.reduce((a, b) => a + b, 0),
          rttHist: checks ? histogramOf(samples) : emptyHistogram(),
        })
      }
    }
    for (let i = 0; i < rollups.length; i += 1000) await db.insert(checkRollups).values(rollups.slice(i, i + 1000))
  }

  // Coarse runtime state, as the monitor flushes it.
  const stateRows = SEED_SITES.filter((s) => s.kind !== 'paused').flatMap((s) =>
    endpoints.get(s.blogId)!.map((endpointId) => ({
      endpointId,
      lastCheckedAt: new Date(nowMs - 2 * MINUTE),
      lastHttpCode: s.kind === 'down' ? 503 : s.kind === 'seems' ? null : 200,
      lastErrorCode: s.kind === 'down' ? 10 : s.kind === 'seems' ? 1 : 0,
      tlsVersion: 'TLSv1.3',
      sslExpiresAt: new Date(nowMs + (s.kind === 'warning' ? 21 : 80) * DAY),
    })),
  )
  await db.insert(endpointState).values(stateRows)

  // One endpoint whose legacy site_status disagrees with its events (projection drift).
  await db
    .update(monitorSites)
    .set({ siteStatus: 0 })
    .where(eq(monitorSites.endpointId, first(1011n)))

  // ── fleet ────────────────────────────────────────────────────────────────────────────────
  await db.insert(hosts).values([
    {
      hostId: 'mon-a',
      bucketMin: 0,
      bucketMax: 499,
      status: 'active',
      leaseExpiresAt: new Date(nowMs + 22_000),
      heartbeatAt: new Date(nowMs - 8_000),
      version: '2.0.0',
      startedAt: new Date(nowMs - 3 * DAY),
    },
    {
      hostId: 'mon-b',
      bucketMin: 500,
      bucketMax: 999,
      status: 'active',
      leaseExpiresAt: new Date(nowMs + 25_000),
      heartbeatAt: new Date(nowMs - 5_000),
      version: '2.0.0',
      startedAt: new Date(nowMs - 3 * DAY + 40 * MINUTE),
    },
  ])
  const health = (host: string, role: 'monitor' | 'api' | 'deliverer', stats: Record<string, number>) => ({
    processId: `${host}:${role}`,
    hostId: host,
    role,
    pid: 4000 + host.length * 7 + role.length,
    version: '2.0.0',
    state: 'running' as const,
    health: 'green' as const,
    stats,
    startedAt: new Date(nowMs - 3 * DAY),
    updatedAt: new Date(nowMs - 3_000),
  })
  await db.insert(processHealth).values([
    health('mon-a', 'monitor', {
      endpoints: 7,
      checks_per_sec: 1.4,
      in_flight: 2,
      max_in_flight: 64,
      due_backlog: 0,
      lag_p95_ms: 38,
      rss: 142 * 1024 * 1024,
    }),
    health('mon-b', 'monitor', {
      endpoints: 8,
      checks_per_sec: 1.6,
      in_flight: 1,
      max_in_flight: 64,
      due_backlog: 0,
      lag_p95_ms: 41,
      rss: 151 * 1024 * 1024,
    }),
    health('mon-a', 'deliverer', { rss: 96 * 1024 * 1024 }),
  ])

  // Delivery queues (the webhook's secret and the contact's destination must never be shown).
  const [hook] = await db
    .insert(webhooks)
    .values({
      url: 'https://hooks.example.com/jetmon',
      secret: Buffer.from(SECRETS.webhookSecret),
      secretPreview: 'whsec_WE',
      createdBy: 'api:ops',
    })
    .$returningId()
  const [contact] = await db
    .insert(alertContacts)
    .values({
      label: 'On-call pager',
      transport: 'email',
      destination: { address: SECRETS.alertDestination },
      destinationPreview: 'pag…',
      createdBy: 'api:ops',
    })
    .$returningId()
  const [lastTransition] = await db.select({ id: max(eventTransitions.id) }).from(eventTransitions)
  const lastId = BigInt(lastTransition?.id ?? 0n)
  const delivery = (n: number, status: 'pending' | 'abandoned') => ({
    transitionId: lastId - BigInt(n),
    eventId: down.event.id,
    blogId: 1001n,
    eventType: 'event.state_changed',
    payload: { secret_hint: SECRETS.webhookSecret },
    status,
    nextAttemptAt: new Date(nowMs - n * 1000),
    createdAt: new Date(nowMs - (n + 1) * MINUTE),
  })
  await db.insert(webhookDeliveries).values([
    { webhookId: BigInt(hook!.id), ...delivery(0, 'pending') },
    { webhookId: BigInt(hook!.id), ...delivery(1, 'pending') },
    { webhookId: BigInt(hook!.id), ...delivery(2, 'abandoned') },
  ])
  await db.insert(alertDeliveries).values([{ alertContactId: BigInt(contact!.id), ...delivery(0, 'pending') }])
  await db.insert(dispatchCursors).values([
    { consumer: 'webhooks', lastTransitionId: lastId - 1n },
    { consumer: 'alerts', lastTransitionId: lastId },
  ])
  return { endpoints, downEventId: down.event.id }
}
