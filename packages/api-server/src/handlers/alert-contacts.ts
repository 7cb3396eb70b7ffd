import {
  type AlertTransport,
  DEFAULT_MIN_SEVERITY,
  type DestinationByTransport,
  destinationPreview,
  parseMinSeverity,
  severityName,
  validateDestination,
} from '@jetmon/alerting'
import {
  type AlertContact,
  type alertContactsRoutes,
  jsonId,
  type MinSeverityName,
  type RouteDefinition,
} from '@jetmon/api-client'
import { alertContacts, type DbOrTx, withTransaction } from '@jetmon/db'
import { checkTargetHost } from '@jetmon/webhooks'
import { and, eq } from 'drizzle-orm'
import type { Handlers, RequestContext } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, invalidRequest, notFound } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'
import {
  checkSiteFilterVisible,
  openDestination,
  ownedBy,
  ownedPage,
  ownerField,
  redactDestination,
  sealDestination,
  siteFilterJson,
  siteFilterRow,
} from './_delivery-common.js'
import { alertQueue, listDeliveries, retryDelivery } from './_delivery-queue.js'

type Ctx = RequestContext<RouteDefinition>
type ContactRow = typeof alertContacts.$inferSelect

/** The weekly objective digest goes by email, Slack or Teams; PagerDuty pages on events only. */
function checkedDigest(transport: string, digest: 'weekly' | null): 'weekly' | null {
  if (digest !== null && transport === 'pagerduty') {
    throw new ApiError(
      422,
      'digest_not_supported',
      'a pagerduty contact pages on events only and cannot get the weekly digest',
      {
        details: [{ path: 'slo_digest', message: 'not for pagerduty contacts' }],
      },
    )
  }
  return digest
}

/** An alert contact row in wire form; the destination itself is never shown. */
function contactJson(row: ContactRow, ctx: Ctx): AlertContact {
  return {
    id: jsonId(row.id),
    label: row.label,
    active: row.active,
    transport: row.transport,
    destination_preview: row.destinationPreview,
    site_filter: siteFilterJson(row.siteFilter),
    min_severity: minSeverityName(row.minSeverity),
    max_per_hour: row.maxPerHour,
    slo_digest: row.sloDigest ?? null,
    ...ownerField(row.ownerTenantId, ctx.tenantId),
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

/** The stored number as its name; a row written by another tool with 0 or > 4 reads as the nearest name. */
function minSeverityName(stored: number): MinSeverityName {
  return severityName(Math.min(Math.max(stored, 1), 4)) as MinSeverityName
}

function minSeverityNumber(name: MinSeverityName): number {
  return parseMinSeverity(name) ?? DEFAULT_MIN_SEVERITY
}

/**
 * The destination checked against its transport (400 with `destination.<field>` paths) and its
 * preview. A Slack or Teams URL whose host is an IP literal the delivery worker would refuse is
 * refused now, as webhooks' are (422 `target_not_allowed`); host names are judged when they
 * resolve, at every connection.
 */
function checkedDestination(ctx: Ctx, transport: AlertTransport, destination: unknown): { preview: string } {
  const issues = validateDestination(transport, destination)
  if (issues.length > 0) throw invalidRequest(issues)
  if (transport === 'slack' || transport === 'teams') {
    const { webhook_url: url } = destination as DestinationByTransport[typeof transport]
    const refusal = checkTargetHost(new URL(url).hostname, {
      allowPrivateTargets: ctx.deps.allowPrivateTargets === true,
    })
    if (refusal) {
      throw new ApiError(422, 'target_not_allowed', refusal.message, {
        details: [{ path: 'destination.webhook_url', message: refusal.message }],
      })
    }
  }
  return { preview: destinationPreview(transport, destination as DestinationByTransport[typeof transport]) }
}

/** The contact if this request may see it, else 404 `alert_contact_not_found`; `lock` reads it `FOR UPDATE`. */
async function findContact(ctx: Ctx, db: DbOrTx, id: bigint, lock = false): Promise<ContactRow> {
  const query = db
    .select()
    .from(alertContacts)
    .where(and(eq(alertContacts.id, id), ownedBy(alertContacts.ownerTenantId, ctx.tenantId)))
  const [row] = lock ? await query.for('update') : await query
  if (!row) throw notFound('alert_contact', id)
  return row
}

const contactList = ownedPage(alertContacts)

export const alertContactsHandlers: Handlers<typeof alertContactsRoutes> = {
  async 'alertContacts.list'(ctx) {
    const limit = ctx.query.limit ?? DEFAULT_LIMIT
    const before = ctx.query.cursor === undefined ? undefined : decodeCursor(ctx.query.cursor, ['id'])[0]
    const rows = await contactList(ctx.deps.db, ctx.tenantId, before, limit + 1)
    return pageOf(
      rows,
      limit,
      (row) => contactJson(row, ctx),
      (row) => [row.id.toString()],
    )
  },

  async 'alertContacts.create'(ctx) {
    const { body, deps } = ctx
    const { preview } = checkedDestination(ctx, body.transport, body.destination)
    await checkSiteFilterVisible(ctx, deps.db, body.site_filter.blog_ids)
    const [inserted] = await deps.db
      .insert(alertContacts)
      .values({
        label: body.label,
        active: body.active,
        transport: body.transport,
        destination: sealDestination(body.destination, deps.secretsKey),
        destinationPreview: preview,
        siteFilter: siteFilterRow(body.site_filter.blog_ids),
        minSeverity: minSeverityNumber(body.min_severity),
        maxPerHour: body.max_per_hour,
        sloDigest: checkedDigest(body.transport, body.slo_digest),
        ownerTenantId: ctx.tenantId,
        createdBy: ctx.source,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      })
      .$returningId()
    const row = await findContact(ctx, deps.db, BigInt(inserted!.id))
    return new Reply(contactJson(row, ctx), 201)
  },

  async 'alertContacts.get'(ctx) {
    return contactJson(await findContact(ctx, ctx.deps.db, ctx.params.id), ctx)
  },

  async 'alertContacts.update'(ctx) {
    const { body, deps, params } = ctx
    const row = await withTransaction(deps.db, async (tx) => {
      const current = await findContact(ctx, tx, params.id, true)
      if (body.transport !== undefined && body.transport !== current.transport) {
        throw new ApiError(
          422,
          'transport_immutable',
          `alert contact ${current.id} sends through ${current.transport}; a contact cannot change transport — create a new ${body.transport} contact instead`,
          { details: [{ path: 'transport', message: `cannot change from ${current.transport}` }] },
        )
      }
      const changes: Partial<typeof alertContacts.$inferInsert> = { updatedAt: ctx.now }
      if (body.destination !== undefined) {
        changes.destinationPreview = checkedDestination(ctx, current.transport, body.destination).preview
        changes.destination = sealDestination(body.destination, deps.secretsKey)
      }
      if (body.site_filter !== undefined) {
        await checkSiteFilterVisible(ctx, tx, body.site_filter.blog_ids)
        changes.siteFilter = siteFilterRow(body.site_filter.blog_ids)
      }
      if (body.label !== undefined) changes.label = body.label
      if (body.active !== undefined) changes.active = body.active
      if (body.min_severity !== undefined) changes.minSeverity = minSeverityNumber(body.min_severity)
      if (body.max_per_hour !== undefined) changes.maxPerHour = body.max_per_hour
      if (body.slo_digest !== undefined) changes.sloDigest = checkedDigest(current.transport, body.slo_digest)
      await tx.update(alertContacts).set(changes).where(eq(alertContacts.id, current.id))
      return findContact(ctx, tx, current.id)
    })
    return contactJson(row, ctx)
  },

  async 'alertContacts.delete'(ctx) {
    await withTransaction(ctx.deps.db, async (tx) => {
      const current = await findContact(ctx, tx, ctx.params.id, true)
      await tx.delete(alertContacts).where(eq(alertContacts.id, current.id))
    })
    return new Reply(undefined, 204)
  },

  async 'alertContacts.test'(ctx) {
    const { deps, now } = ctx
    const row = await findContact(ctx, deps.db, ctx.params.id)
    const tester = deps.alertTester
    if (!tester) {
      throw new ApiError(
        503,
        'alert_transport_unavailable',
        'this server has no alert transports configured, so it cannot send a test message',
      )
    }
    const destination = openDestination(row.destination, deps.secretsKey)
    const redact = (text: string | null | undefined) => (text == null ? null : redactDestination(text, destination))
    const started = performance.now()
    let result: Awaited<ReturnType<typeof tester.send>>
    try {
      result = await tester.send({ transport: row.transport, destination, label: row.label }, now)
    } catch (error) {
      // A transport that throws has a bug; what it says goes to the log, without the destination.
      const err = error instanceof Error ? error : new Error(String(error))
      deps.logger.error(
        {
          err: { name: err.name, message: redact(err.message), stack: redact(err.stack) },
          alertContactId: row.id.toString(),
          transport: row.transport,
          requestId: ctx.requestId,
        },
        'alert test send threw',
      )
      throw new ApiError(
        502,
        'alert_send_failed',
        `the ${row.transport} transport failed unexpectedly; the server log has the details (request id ${ctx.requestId})`,
      )
    }
    if (!result.ok) {
      const status = result.status_code != null ? ` (status ${result.status_code})` : ''
      const reason = redact(result.error) ?? redact(result.response) ?? 'no reason given'
      throw new ApiError(
        502,
        'alert_send_failed',
        `the ${row.transport} test message was not accepted${status}: ${reason}`,
      )
    }
    return {
      transport: row.transport,
      status_code: result.status_code ?? null,
      response: redact(result.response),
      duration_ms: Math.round(performance.now() - started),
    }
  },

  async 'alertContacts.deliveries'(ctx) {
    const row = await findContact(ctx, ctx.deps.db, ctx.params.id)
    return listDeliveries(ctx.deps.db, alertQueue, row.id, ctx.query)
  },

  async 'alertContacts.retryDelivery'(ctx) {
    const row = await findContact(ctx, ctx.deps.db, ctx.params.id)
    return retryDelivery(ctx.deps.db, alertQueue, row.id, ctx.params.delivery_id, ctx.now)
  },
}
