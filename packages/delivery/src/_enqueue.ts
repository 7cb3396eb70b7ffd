/**
 * The dispatchers' matching and inserting: which subscribers want which transitions, and the
 * delivery rows (with their frozen payloads) that records. Runs inside the dispatch transaction,
 * under the consumer's cursor lock, so only one process at a time inserts into a delivery table.
 */
import { type AlertNotification, matchesAlertContact } from '@jetmon/alerting'
import {
  alertContacts,
  alertDeliveries,
  events,
  type Logger,
  monitorSites,
  siteTenants,
  type Tx,
  webhookDeliveries,
  webhooks,
} from '@jetmon/db'
import { MAX_JSON_NUMBER_ID } from '@jetmon/vocabulary'
import { buildWebhookPayload, eventTypeForReason, matchesWebhook } from '@jetmon/webhooks'
import { and, asc, count, gt, gte, inArray, ne, sql } from 'drizzle-orm'
import { causeOf, type EventRow, eventAfterTransition, type SiteRow, type TransitionRow } from './_snapshot.js'
import { alertDeliveryPayload } from './alert-payload.js'

/** Rows inserted by one dispatch pass. */
export interface EnqueueResult {
  pending: number
  suppressed: number
}

/** Rows per INSERT statement. */
const INSERT_CHUNK = 500
const HOUR_MS = 3_600_000

const unique = <T>(values: Iterable<T>): T[] => [...new Set(values)]
const tenantKey = (tenantId: string, blogId: bigint) => `${tenantId}\n${blogId}`

/** `tenant\nblog` for every (tenant, blog) pair of `jetmon_site_tenants` among the given ones. */
async function tenantSites(tx: Tx, tenantIds: string[], blogIds: bigint[]): Promise<Set<string>> {
  if (tenantIds.length === 0 || blogIds.length === 0) return new Set()
  const rows = await tx
    .select({ tenantId: siteTenants.tenantId, blogId: siteTenants.blogId })
    .from(siteTenants)
    .where(and(inArray(siteTenants.tenantId, tenantIds), inArray(siteTenants.blogId, blogIds)))
  return new Set(rows.map((row) => tenantKey(row.tenantId, row.blogId)))
}

/**
 * Whether a subscriber may see a transition: one without an owner sees every site; one owned by a
 * tenant (gateway mode) sees only the blogs mapped to that tenant in `jetmon_site_tenants`.
 */
function visibleTo(ownerTenantId: string | null, blogId: bigint, owned: Set<string>): boolean {
  return ownerTenantId === null || owned.has(tenantKey(ownerTenantId, blogId))
}

async function eventsById(tx: Tx, ids: bigint[], withMetadata: boolean): Promise<Map<bigint, EventRow>> {
  const rows = await tx
    .select({
      id: events.id,
      checkType: events.checkType,
      state: events.state,
      severity: events.severity,
      startedAt: events.startedAt,
      ...(withMetadata ? { metadata: events.metadata } : {}),
    })
    .from(events)
    .where(inArray(events.id, ids))
  return new Map(rows.map((row) => [row.id, { metadata: null, ...row }]))
}

/**
 * The site of each transition: its endpoint's row, or for a site-level event (no endpoint) the
 * blog's first endpoint. A site whose rows were deleted since keeps its ids and an empty URL.
 */
async function sitesFor(tx: Tx, transitions: TransitionRow[]): Promise<(transition: TransitionRow) => SiteRow> {
  const endpointIds = unique(transitions.flatMap((t) => (t.endpointId === null ? [] : [t.endpointId])))
  const siteLevelBlogs = unique(transitions.flatMap((t) => (t.endpointId === null ? [t.blogId] : [])))
  const columns = {
    endpointId: monitorSites.endpointId,
    blogId: monitorSites.blogId,
    monitorUrl: monitorSites.monitorUrl,
  }
  const byEndpoint = new Map<bigint, string>()
  const byBlog = new Map<bigint, string>()
  if (endpointIds.length > 0) {
    for (const row of await tx
      .select(columns)
      .from(monitorSites)
      .where(inArray(monitorSites.endpointId, endpointIds))) {
      byEndpoint.set(row.endpointId, row.monitorUrl)
    }
  }
  if (siteLevelBlogs.length > 0) {
    const rows = await tx
      .select(columns)
      .from(monitorSites)
      .where(inArray(monitorSites.blogId, siteLevelBlogs))
      .orderBy(asc(monitorSites.endpointId))
    for (const row of rows) if (!byBlog.has(row.blogId)) byBlog.set(row.blogId, row.monitorUrl)
  }
  return (t) => ({
    blogId: t.blogId,
    endpointId: t.endpointId,
    monitorUrl: (t.endpointId === null ? byBlog.get(t.blogId) : byEndpoint.get(t.endpointId)) ?? '',
  })
}

function chunks<T>(values: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size))
  return out
}

function warnMissingEvent(logger: Logger, transition: TransitionRow): void {
  logger.warn(
    { transitionId: String(transition.id), eventId: String(transition.eventId) },
    'a transition names an event that does not exist: it is not delivered (the event store never writes one; was the event deleted by hand?)',
  )
}

// ── Webhooks ────────────────────────────────────────────────────────────────────────────────────

/**
 * Inserts a `pending` webhook delivery (`INSERT IGNORE` on `(webhook_id, transition_id)`) for
 * every active webhook whose filters and tenant match each transition, with the webhook payload
 * frozen in it. The payload's `id` is the delivery row's own id, known only after the
 * insert: rows are written with `0` there and given their id by one `JSON_SET` right after, in
 * the same transaction.
 */
export async function enqueueWebhookDeliveries(
  tx: Tx,
  transitions: TransitionRow[],
  now: Date,
  logger: Logger,
): Promise<EnqueueResult> {
  const subscribers = await tx
    .select({
      id: webhooks.id,
      events: webhooks.events,
      siteFilter: webhooks.siteFilter,
      stateFilter: webhooks.stateFilter,
      ownerTenantId: webhooks.ownerTenantId,
    })
    .from(webhooks)
    .where(sql`${webhooks.active} = 1`)
  const deliverable = transitions.filter((t) => eventTypeForReason(t.reason) !== null)
  if (subscribers.length === 0 || deliverable.length === 0) return { pending: 0, suppressed: 0 }

  const owned = await tenantSites(
    tx,
    unique(subscribers.flatMap((s) => (s.ownerTenantId === null ? [] : [s.ownerTenantId]))),
    unique(deliverable.map((t) => t.blogId)),
  )
  const values: (typeof webhookDeliveries.$inferInsert)[] = []
  let eventRows: Map<bigint, EventRow> | null = null
  let siteOf: ((t: TransitionRow) => SiteRow) | null = null
  for (const transition of deliverable) {
    const matching = subscribers.filter(
      (webhook) =>
        visibleTo(webhook.ownerTenantId, transition.blogId, owned) &&
        matchesWebhook(
          { events: webhook.events, siteFilter: webhook.siteFilter, stateFilter: webhook.stateFilter },
          transition,
        ),
    )
    if (matching.length === 0) continue
    eventRows ??= await eventsById(tx, unique(deliverable.map((t) => t.eventId)), false)
    siteOf ??= await sitesFor(tx, deliverable)
    const event = eventRows.get(transition.eventId)
    if (!event) {
      warnMissingEvent(logger, transition)
      continue
    }
    const payload = buildWebhookPayload({
      deliveryId: 0n,
      transition,
      event: eventAfterTransition(event, transition),
      site: siteOf(transition),
    })
    for (const webhook of matching) {
      values.push({
        webhookId: webhook.id,
        transitionId: transition.id,
        eventId: transition.eventId,
        blogId: transition.blogId,
        eventType: payload.type,
        payload: payload as unknown as Record<string, unknown>,
        status: 'pending',
        attempt: 0,
        nextAttemptAt: now,
        createdAt: now,
      })
    }
  }

  let inserted = 0
  let firstId: bigint | null = null
  for (const chunk of chunks(values, INSERT_CHUNK)) {
    const [header] = await tx.insert(webhookDeliveries).ignore().values(chunk)
    if (header.affectedRows > 0) {
      inserted += header.affectedRows
      // insertId is the first id this statement generated; nothing else inserts here meanwhile.
      firstId ??= BigInt(header.insertId)
    }
  }
  if (firstId !== null) {
    const transitionIds = unique(values.map((v) => v.transitionId))
    const mine = and(gte(webhookDeliveries.id, firstId), inArray(webhookDeliveries.transitionId, transitionIds))
    await tx
      .update(webhookDeliveries)
      .set({ payload: sql`JSON_SET(${webhookDeliveries.payload}, '$.id', ${webhookDeliveries.id})` })
      .where(and(mine, sql`${webhookDeliveries.id} <= ${MAX_JSON_NUMBER_ID}`))
    if (firstId + BigInt(inserted) > MAX_JSON_NUMBER_ID) {
      // Beyond 2^53 an id is a decimal string in JSON (docs/api.md).
      await tx
        .update(webhookDeliveries)
        .set({ payload: sql`JSON_SET(${webhookDeliveries.payload}, '$.id', CAST(${webhookDeliveries.id} AS CHAR))` })
        .where(and(mine, gt(webhookDeliveries.id, MAX_JSON_NUMBER_ID)))
    }
  }
  return { pending: inserted, suppressed: 0 }
}

// ── Alert contacts ──────────────────────────────────────────────────────────────────────────────

/**
 * Inserts an alert delivery for every active contact that {@link matchesAlertContact} (a trigger at
 * or above its `min_severity`, or a recovery from one) and whose tenant owns the site. The payload
 * is the notification the message is rendered from, frozen. A contact's `max_per_hour` is counted
 * from the delivery table itself — rows created in the last hour that were not suppressed — so the
 * cap holds across restarts and any number of processes (inserts are serialized by the cursor
 * lock); a row over the cap is inserted as `suppressed` with the reason and is never sent.
 */
export async function enqueueAlertDeliveries(
  tx: Tx,
  transitions: TransitionRow[],
  now: Date,
  logger: Logger,
): Promise<EnqueueResult> {
  const contacts = await tx
    .select({
      id: alertContacts.id,
      label: alertContacts.label,
      siteFilter: alertContacts.siteFilter,
      minSeverity: alertContacts.minSeverity,
      maxPerHour: alertContacts.maxPerHour,
      ownerTenantId: alertContacts.ownerTenantId,
    })
    .from(alertContacts)
    .where(sql`${alertContacts.active} = 1`)
  const deliverable = transitions.filter((t) => eventTypeForReason(t.reason) !== null)
  if (contacts.length === 0 || deliverable.length === 0) return { pending: 0, suppressed: 0 }

  const owned = await tenantSites(
    tx,
    unique(contacts.flatMap((c) => (c.ownerTenantId === null ? [] : [c.ownerTenantId]))),
    unique(deliverable.map((t) => t.blogId)),
  )
  type Candidate = { contact: (typeof contacts)[number]; transition: TransitionRow; match: 'trigger' | 'recovery' }
  const candidates: Candidate[] = []
  for (const transition of deliverable) {
    for (const contact of contacts) {
      if (!visibleTo(contact.ownerTenantId, transition.blogId, owned)) continue
      const match = matchesAlertContact(
        { active: true, siteFilter: contact.siteFilter, minSeverity: contact.minSeverity },
        transition,
      )
      if (match) candidates.push({ contact, transition, match })
    }
  }
  if (candidates.length === 0) return { pending: 0, suppressed: 0 }

  // A transition read again (the tail re-read) may already have its rows: those are neither
  // inserted nor counted against the cap a second time.
  const contactIds = unique(candidates.map((c) => c.contact.id))
  const existing = new Set(
    (
      await tx
        .select({ contactId: alertDeliveries.alertContactId, transitionId: alertDeliveries.transitionId })
        .from(alertDeliveries)
        .where(
          and(
            inArray(alertDeliveries.alertContactId, contactIds),
            inArray(alertDeliveries.transitionId, unique(candidates.map((c) => c.transition.id))),
          ),
        )
    ).map((row) => `${row.contactId}:${row.transitionId}`),
  )
  const fresh = candidates
    .filter((c) => !existing.has(`${c.contact.id}:${c.transition.id}`))
    .sort((a, b) => (a.transition.id < b.transition.id ? -1 : a.transition.id > b.transition.id ? 1 : 0))
  if (fresh.length === 0) return { pending: 0, suppressed: 0 }

  const capped = unique(fresh.filter((c) => c.contact.maxPerHour > 0).map((c) => c.contact.id))
  const sentLastHour = new Map<bigint, number>()
  if (capped.length > 0) {
    const rows = await tx
      .select({ contactId: alertDeliveries.alertContactId, sent: count() })
      .from(alertDeliveries)
      .where(
        and(
          inArray(alertDeliveries.alertContactId, capped),
          gt(alertDeliveries.createdAt, new Date(now.getTime() - HOUR_MS)),
          ne(alertDeliveries.status, 'suppressed'),
        ),
      )
      .groupBy(alertDeliveries.alertContactId)
    for (const row of rows) sentLastHour.set(row.contactId, Number(row.sent))
  }

  const eventRows = await eventsById(tx, unique(fresh.map((c) => c.transition.eventId)), true)
  const siteOf = await sitesFor(tx, unique(fresh.map((c) => c.transition)))
  const values: (typeof alertDeliveries.$inferInsert)[] = []
  let suppressed = 0
  for (const { contact, transition, match } of fresh) {
    const event = eventRows.get(transition.eventId)
    if (!event) {
      warnMissingEvent(logger, transition)
      continue
    }
    const notification: AlertNotification = {
      match,
      event: eventAfterTransition(event, transition),
      transition: { id: transition.id, reason: transition.reason, changedAt: transition.changedAt },
      site: siteOf(transition),
      contactLabel: contact.label,
    }
    const cause = causeOf(event, transition)
    if (cause) notification.cause = cause
    const payload = alertDeliveryPayload(notification, transition)
    const sent = sentLastHour.get(contact.id) ?? 0
    const overCap = contact.maxPerHour > 0 && sent >= contact.maxPerHour
    if (overCap) suppressed++
    else sentLastHour.set(contact.id, sent + 1)
    values.push({
      alertContactId: contact.id,
      transitionId: transition.id,
      eventId: transition.eventId,
      blogId: transition.blogId,
      // Not null: `deliverable` holds only transitions with an event type.
      eventType: eventTypeForReason(transition.reason)!,
      payload: payload as unknown as Record<string, unknown>,
      status: overCap ? 'suppressed' : 'pending',
      attempt: 0,
      nextAttemptAt: overCap ? null : now,
      lastResponse: overCap
        ? `suppressed: alert contact ${contact.id} already had ${sent} alerts in the hour before ${now.toISOString()} ` +
          `(max_per_hour ${contact.maxPerHour}); raise max_per_hour or narrow its site filter or min_severity`
        : null,
      createdAt: now,
    })
  }
  let inserted = 0
  for (const chunk of chunks(values, INSERT_CHUNK)) {
    const [header] = await tx.insert(alertDeliveries).ignore().values(chunk)
    inserted += header.affectedRows
  }
  return { pending: inserted - suppressed, suppressed }
}
