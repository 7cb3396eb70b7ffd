import { randomUUID } from 'node:crypto'
import { jsonId, type RouteDefinition, type Webhook, type webhooksRoutes } from '@jetmon/api-client'
import { type DbOrTx, webhooks, withTransaction } from '@jetmon/db'
import {
  buildPingPayload,
  checkTargetHost,
  generateWebhookSecret,
  PING_EVENT_TYPE,
  secretPreview,
  sendWebhook,
  signingSecretsAt,
} from '@jetmon/webhooks'
import { and, eq } from 'drizzle-orm'
import type { Handlers, RequestContext } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, notFound } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'
import {
  checkSiteFilterVisible,
  ownedBy,
  ownedPage,
  ownerField,
  sealSecret,
  siteFilterJson,
  siteFilterRow,
} from './_delivery-common.js'
import { listDeliveries, retryDelivery, webhookQueue } from './_delivery-queue.js'

type Ctx = RequestContext<RouteDefinition>
type WebhookRow = typeof webhooks.$inferSelect

/** A webhook row in wire form; the previous secret's expiry only while it still signs. */
function webhookJson(row: WebhookRow, ctx: Ctx): Webhook {
  const grace = previousSecretActive(row, ctx.now) ? row.previousSecretExpiresAt : null
  return {
    id: jsonId(row.id),
    url: row.url,
    active: row.active,
    events: (row.events ?? []) as Webhook['events'],
    site_filter: siteFilterJson(row.siteFilter),
    state_filter: { states: statesOf(row.stateFilter) as Webhook['state_filter']['states'] },
    secret_preview: row.secretPreview,
    previous_secret_expires_at: grace?.toISOString() ?? null,
    ...ownerField(row.ownerTenantId, ctx.tenantId),
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

/** The column holds a list of states; rows written as `{"states": [...]}` by other tools read too. */
function statesOf(stored: unknown): string[] {
  if (Array.isArray(stored)) return stored.filter((item): item is string => typeof item === 'string')
  const states = (stored as { states?: unknown } | null)?.states
  return Array.isArray(states) ? states.filter((item): item is string => typeof item === 'string') : []
}

function previousSecretActive(row: WebhookRow, now: Date): row is WebhookRow & { previousSecretExpiresAt: Date } {
  return (
    row.previousSecret !== null &&
    row.previousSecretExpiresAt !== null &&
    row.previousSecretExpiresAt.getTime() > now.getTime()
  )
}

/** The webhook if this request may see it, else 404 `webhook_not_found`; `lock` reads it `FOR UPDATE`. */
async function findWebhook(ctx: Ctx, db: DbOrTx, id: bigint, lock = false): Promise<WebhookRow> {
  const query = db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), ownedBy(webhooks.ownerTenantId, ctx.tenantId)))
  const [row] = lock ? await query.for('update') : await query
  if (!row) throw notFound('webhook', id)
  return row
}

/**
 * An IP literal that delivery would refuse is refused now, while someone is looking (422). Host
 * names are judged when they resolve, at every connection.
 */
function checkUrlTarget(ctx: Ctx, url: string): void {
  const refusal = checkTargetHost(new URL(url).hostname, { allowPrivateTargets: ctx.deps.allowPrivateTargets === true })
  if (refusal) {
    throw new ApiError(422, 'target_not_allowed', refusal.message, {
      details: [{ path: 'url', message: refusal.message }],
    })
  }
}

const webhookList = ownedPage(webhooks)

export const webhooksHandlers: Handlers<typeof webhooksRoutes> = {
  async 'webhooks.list'(ctx) {
    const limit = ctx.query.limit ?? DEFAULT_LIMIT
    const before = ctx.query.cursor === undefined ? undefined : decodeCursor(ctx.query.cursor, ['id'])[0]
    const rows = await webhookList(ctx.deps.db, ctx.tenantId, before, limit + 1)
    return pageOf(
      rows,
      limit,
      (row) => webhookJson(row, ctx),
      (row) => [row.id.toString()],
    )
  },

  async 'webhooks.create'(ctx) {
    const { body, deps } = ctx
    checkUrlTarget(ctx, body.url)
    await checkSiteFilterVisible(ctx, deps.db, body.site_filter.blog_ids)
    const secret = generateWebhookSecret()
    const [inserted] = await deps.db
      .insert(webhooks)
      .values({
        url: body.url,
        active: body.active,
        events: body.events,
        siteFilter: siteFilterRow(body.site_filter.blog_ids),
        stateFilter: body.state_filter.states,
        secret: sealSecret(secret, deps.secretsKey),
        secretPreview: secretPreview(secret),
        ownerTenantId: ctx.tenantId,
        createdBy: ctx.source,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      })
      .$returningId()
    const row = await findWebhook(ctx, deps.db, BigInt(inserted!.id))
    return new Reply({ webhook: webhookJson(row, ctx), secret }, 201)
  },

  async 'webhooks.get'(ctx) {
    return webhookJson(await findWebhook(ctx, ctx.deps.db, ctx.params.id), ctx)
  },

  async 'webhooks.update'(ctx) {
    const { body, deps, params } = ctx
    if (body.url !== undefined) checkUrlTarget(ctx, body.url)
    const row = await withTransaction(deps.db, async (tx) => {
      const current = await findWebhook(ctx, tx, params.id, true)
      if (body.site_filter) await checkSiteFilterVisible(ctx, tx, body.site_filter.blog_ids)
      const changes: Partial<typeof webhooks.$inferInsert> = { updatedAt: ctx.now }
      if (body.url !== undefined) changes.url = body.url
      if (body.active !== undefined) changes.active = body.active
      if (body.events !== undefined) changes.events = body.events
      if (body.site_filter !== undefined) changes.siteFilter = siteFilterRow(body.site_filter.blog_ids)
      if (body.state_filter !== undefined) changes.stateFilter = body.state_filter.states
      await tx.update(webhooks).set(changes).where(eq(webhooks.id, current.id))
      return findWebhook(ctx, tx, current.id)
    })
    return webhookJson(row, ctx)
  },

  async 'webhooks.delete'(ctx) {
    await withTransaction(ctx.deps.db, async (tx) => {
      const current = await findWebhook(ctx, tx, ctx.params.id, true)
      await tx.delete(webhooks).where(eq(webhooks.id, current.id))
    })
    return new Reply(undefined, 204)
  },

  async 'webhooks.rotateSecret'(ctx) {
    const { deps, params, now } = ctx
    const graceSeconds = ctx.body.grace_seconds
    const secret = generateWebhookSecret()
    const row = await withTransaction(deps.db, async (tx) => {
      const current = await findWebhook(ctx, tx, params.id, true)
      // The outgoing secret keeps signing until the grace period ends; one still in an earlier
      // grace period is dropped (a request carries at most two signatures).
      const keepPrevious = graceSeconds > 0
      await tx
        .update(webhooks)
        .set({
          secret: sealSecret(secret, deps.secretsKey),
          secretPreview: secretPreview(secret),
          previousSecret: keepPrevious ? current.secret : null,
          previousSecretExpiresAt: keepPrevious ? new Date(now.getTime() + graceSeconds * 1000) : null,
          updatedAt: now,
        })
        .where(eq(webhooks.id, current.id))
      return findWebhook(ctx, tx, current.id)
    })
    return { webhook: webhookJson(row, ctx), secret }
  },

  async 'webhooks.test'(ctx) {
    const { deps, now } = ctx
    const row = await findWebhook(ctx, deps.db, ctx.params.id)
    // A secret that cannot be opened is a deployment problem: a 500 whose log line says what to fix.
    const secrets = signingSecretsAt(row, deps.secretsKey, now)
    const pingId = `ping_${randomUUID().replace(/-/g, '')}`
    const result = await sendWebhook({
      url: row.url,
      secrets,
      body: JSON.stringify(buildPingPayload({ pingId, webhookId: row.id, now })),
      eventType: PING_EVENT_TYPE,
      deliveryId: pingId,
      now,
      allowPrivateTargets: deps.allowPrivateTargets === true,
    })
    if (result.outcome === 'refused') throw new ApiError(422, 'target_not_allowed', result.error)
    if (result.outcome === 'failed') {
      throw new ApiError(502, 'webhook_unreachable', `no answer from ${new URL(row.url).host}: ${result.error}`)
    }
    return {
      status_code: result.statusCode,
      response_excerpt: result.responseExcerpt,
      duration_ms: result.durationMs,
      error: result.error,
    }
  },

  async 'webhooks.deliveries'(ctx) {
    const row = await findWebhook(ctx, ctx.deps.db, ctx.params.id)
    return listDeliveries(ctx.deps.db, webhookQueue, row.id, ctx.query)
  },

  async 'webhooks.retryDelivery'(ctx) {
    const row = await findWebhook(ctx, ctx.deps.db, ctx.params.id)
    return retryDelivery(ctx.deps.db, webhookQueue, row.id, ctx.params.delivery_id, ctx.now)
  },
}
