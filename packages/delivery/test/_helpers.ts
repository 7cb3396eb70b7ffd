import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  alertContacts,
  alertDeliveries,
  type Db,
  type DbOrTx,
  dispatchCursors,
  dispatchGaps,
  eventTransitions,
  monitorSites,
  siteTenants,
  webhookDeliveries,
  webhooks,
} from '@jetmon/db'
import { type EventStoreContext, openEvent } from '@jetmon/eventstore'
import { encryptSecret, generateWebhookSecret, secretPreview } from '@jetmon/webhooks'
import { sql } from 'drizzle-orm'

/**
 * Empties what delivery owns (subscribers, deliveries, cursors and gaps, tenant mappings), so each test
 * starts from "nothing subscribed, no cursor"; events and transitions stay (a new cursor starts
 * after them, which is what a test relies on).
 */
export async function resetDelivery(db: Db): Promise<void> {
  for (const table of [
    webhookDeliveries,
    alertDeliveries,
    webhooks,
    alertContacts,
    dispatchCursors,
    dispatchGaps,
    siteTenants,
  ]) {
    await db.delete(table)
  }
}

/** Creates both cursors at the newest transition, as a first dispatcher pass would. */
export async function cursorsAtNewest(db: Db): Promise<bigint> {
  const [row] = await db.select({ id: sql<string | null>`MAX(${eventTransitions.id})` }).from(eventTransitions)
  const newest = BigInt(row?.id ?? 0)
  await db
    .insert(dispatchCursors)
    .values([
      { consumer: 'webhooks', lastTransitionId: newest },
      { consumer: 'alerts', lastTransitionId: newest },
    ])
    .onDuplicateKeyUpdate({ set: { lastTransitionId: newest } })
  return newest
}

let lastBlogId = 9_100_000_000_000_000n // beyond 2^53 on purpose: ids must survive JSON
/** A blog id no other test of this file uses. */
export const newBlogId = (): bigint => ++lastBlogId

/** Inserts an endpoint row for the blog and returns its id. */
export async function insertEndpoint(db: DbOrTx, blogId: bigint, url = `https://${blogId}.example/`): Promise<bigint> {
  const [header] = await db.insert(monitorSites).values({ blogId, monitorUrl: url })
  return BigInt(header.insertId)
}

export function eventContext(db: DbOrTx, clock: () => Date): EventStoreContext {
  return { db, source: 'monitor:test-host', clock }
}

/** Opens an http event (Seems Down) on a new site; returns the ids. */
export async function openHttpEvent(
  db: DbOrTx,
  clock: () => Date,
  options: { blogId?: bigint; url?: string } = {},
): Promise<{ blogId: bigint; endpointId: bigint; eventId: bigint; transitionId: bigint }> {
  const blogId = options.blogId ?? newBlogId()
  const endpointId = await insertEndpoint(db, blogId, options.url)
  const result = await openEvent({
    ctx: eventContext(db, clock),
    input: {
      blogId,
      endpointId,
      checkType: 'http',
      state: 'Seems Down',
      eventMetadata: { check: { error: 'connect_timeout', detail: 'no answer within 10 s', http_code: null } },
      transitionMetadata: { error: 'connect_timeout', detail: 'no answer within 10 s' },
    },
  })
  if (!result.opened) throw new Error('the event was already open')
  return { blogId, endpointId, eventId: result.event.id, transitionId: result.transition.id }
}

/** A transition written by a transaction that stays open until the test ends it: a writer that commits late. */
export interface HeldTransition {
  /** Assigned at insert; invisible to other connections until {@link commit}. */
  transitionId: bigint
  commit(): Promise<void>
  rollback(): Promise<void>
}

/** Opens an http event on a new site inside a transaction that is held open; resolves once the transition is inserted. */
export async function holdTransition(db: Db, clock: () => Date): Promise<HeldTransition> {
  const blogId = newBlogId()
  const endpointId = await insertEndpoint(db, blogId)
  const rolledBack = new Error('rolled back on purpose')
  let decide!: (commit: boolean) => void
  const decision = new Promise<boolean>((resolve) => {
    decide = resolve
  })
  let inserted!: (id: bigint) => void
  let failed!: (error: unknown) => void
  const transitionId = new Promise<bigint>((resolve, reject) => {
    inserted = resolve
    failed = reject
  })
  const writer = db
    .transaction(async (tx) => {
      const result = await openEvent({
        ctx: eventContext(tx, clock),
        input: { blogId, endpointId, checkType: 'http', state: 'Seems Down' },
      })
      inserted(result.transition!.id)
      if (!(await decision)) throw rolledBack
    })
    .catch((error: unknown) => {
      failed(error)
      if (error !== rolledBack) throw error
    })
  return {
    transitionId: await transitionId,
    async commit() {
      decide(true)
      await writer
    },
    async rollback() {
      decide(false)
      await writer
    },
  }
}

export interface WebhookFixture {
  id: bigint
  secret: string
}

/** Inserts a webhook as the API would store it (secret encrypted when a key is given). */
export async function createWebhook(
  db: Db,
  options: {
    url: string
    active?: boolean
    events?: string[] | null
    blogIds?: bigint[]
    states?: string[] | null
    ownerTenantId?: string | null
    key?: Buffer | null
    secret?: string
    previousSecret?: string
    previousSecretExpiresAt?: Date
  },
): Promise<WebhookFixture> {
  const secret = options.secret ?? generateWebhookSecret()
  const seal = (value: string) => (options.key ? encryptSecret(value, options.key) : Buffer.from(value, 'utf8'))
  const [header] = await db.insert(webhooks).values({
    url: options.url,
    active: options.active ?? true,
    events: options.events ?? [],
    siteFilter: { blog_ids: (options.blogIds ?? []).map(String) },
    stateFilter: options.states ?? [],
    secret: seal(secret),
    secretPreview: secretPreview(secret),
    previousSecret: options.previousSecret ? seal(options.previousSecret) : null,
    previousSecretExpiresAt: options.previousSecretExpiresAt ?? null,
    ownerTenantId: options.ownerTenantId ?? null,
    createdBy: 'test',
  })
  return { id: BigInt(header.insertId), secret }
}

/** Inserts an alert contact (destination sealed like the API does when a key is given). */
export async function createAlertContact(
  db: Db,
  options: {
    transport: 'email' | 'pagerduty' | 'slack' | 'teams'
    destination: Record<string, string>
    label?: string
    active?: boolean
    blogIds?: bigint[]
    minSeverity?: number
    maxPerHour?: number
    ownerTenantId?: string | null
    key?: Buffer | null
  },
): Promise<bigint> {
  const destination = options.key
    ? { encrypted: encryptSecret(JSON.stringify(options.destination), options.key).toString('base64') }
    : options.destination
  const [header] = await db.insert(alertContacts).values({
    label: options.label ?? 'On-call',
    active: options.active ?? true,
    transport: options.transport,
    destination,
    destinationPreview: 'xxxx',
    siteFilter: { blog_ids: (options.blogIds ?? []).map(String) },
    minSeverity: options.minSeverity ?? 4,
    maxPerHour: options.maxPerHour ?? 60,
    ownerTenantId: options.ownerTenantId ?? null,
    createdBy: 'test',
  })
  return BigInt(header.insertId)
}

export interface ReceivedRequest {
  path: string
  headers: IncomingHttpHeaders
  body: string
  json: unknown
  /** `X-Jetmon-Delivery`, when present. */
  deliveryId: string | null
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  origin: string
  requests: ReceivedRequest[]
  /** Hits per `X-Jetmon-Delivery`. */
  hits: Map<string, number>
  /** Most requests seen in flight at once, per path. */
  maxConcurrent: Map<string, number>
  /** How to answer; default 200 `ok`. Return a promise to hold the answer. */
  answer(respond: (request: ReceivedRequest, res: ServerResponse) => void | Promise<void>): void
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A webhook receiver on 127.0.0.1 that records every request. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const hits = new Map<string, number>()
  const concurrent = new Map<string, number>()
  const maxConcurrent = new Map<string, number>()
  const waiters: { count: number; resolve: () => void }[] = []
  let respond: (request: ReceivedRequest, res: ServerResponse) => void | Promise<void> = (_request, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
  }
  const server = createServer((req, res) => {
    const path = req.url ?? ''
    const now = (concurrent.get(path) ?? 0) + 1
    concurrent.set(path, now)
    maxConcurrent.set(path, Math.max(maxConcurrent.get(path) ?? 0, now))
    res.on('close', () => concurrent.set(path, (concurrent.get(path) ?? 1) - 1))
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json: unknown = null
      try {
        json = JSON.parse(body)
      } catch {
        // not JSON
      }
      const header = req.headers['x-jetmon-delivery']
      const deliveryId = typeof header === 'string' ? header : null
      const request = { path, headers: req.headers, body, json, deliveryId }
      requests.push(request)
      if (deliveryId) hits.set(deliveryId, (hits.get(deliveryId) ?? 0) + 1)
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
      void respond(request, res)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    hits,
    maxConcurrent,
    answer(next) {
      respond = next
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the receiver got ${requests.length} requests, not ${count}, within ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Rows of a delivery table, oldest first. */
export async function webhookRows(db: Db) {
  return db.select().from(webhookDeliveries).orderBy(webhookDeliveries.id)
}

export async function alertRows(db: Db) {
  return db.select().from(alertDeliveries).orderBy(alertDeliveries.id)
}

let nextFakeTransition = 1_000_000n
/**
 * Inserts `count` pending deliveries for a webhook directly (no dispatcher), due at `dueAt`, with
 * a webhook payload of the documented shape; returns their ids.
 */
export async function insertWebhookDeliveries(
  db: Db,
  webhookId: bigint,
  count: number,
  dueAt: Date,
): Promise<bigint[]> {
  const rows = Array.from({ length: count }, () => {
    const transitionId = nextFakeTransition++
    return {
      webhookId,
      transitionId,
      eventId: 1n,
      blogId: 42n,
      eventType: 'event.opened',
      payload: {
        id: 0,
        type: 'event.opened',
        occurred_at: dueAt.toISOString(),
        transition: { id: Number(transitionId), reason: 'opened' },
      },
      status: 'pending' as const,
      attempt: 0,
      nextAttemptAt: dueAt,
      createdAt: dueAt,
    }
  })
  const ids: bigint[] = []
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500)
    const [header] = await db.insert(webhookDeliveries).values(chunk)
    for (let n = 0; n < chunk.length; n++) ids.push(BigInt(header.insertId) + BigInt(n))
  }
  return ids
}

/** Polls `check` until it returns true (readiness by probing, never a fixed sleep). */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
