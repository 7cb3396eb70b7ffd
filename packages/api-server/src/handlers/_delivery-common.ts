/**
 * What webhooks and alert contacts share: tenant ownership, site filters, and secrets at rest
 * (webhook signing secrets, alert destinations).
 */
import { jsonId, type RouteDefinition } from '@jetmon/api-client'
import { type alertContacts, type DbOrTx, preparedPerDatabase, siteTenants, type webhooks } from '@jetmon/db'
import { encryptSecret } from '@jetmon/webhooks'
import { and, desc, eq, inArray, lt, type Placeholder, type SQL, sql } from 'drizzle-orm'
import type { MySqlColumn } from 'drizzle-orm/mysql-core'
import type { RequestContext } from '../context.js'
import { ApiError } from '../errors.js'

type Ctx = RequestContext<RouteDefinition>

/** Rows a request may see: the tenant's own in gateway mode (others are 404), every row otherwise. */
export function ownedBy(column: MySqlColumn, tenantId: string | Placeholder | null): SQL | undefined {
  return tenantId === null ? undefined : eq(column, tenantId)
}

/**
 * A page of webhooks or alert contacts, newest first, as the request may see them (its tenant's
 * own in gateway mode), after the `before` cursor when there is one: the query is built once per
 * shape (tenant or not, cursor or not) and then bound.
 */
export function ownedPage<T extends typeof webhooks | typeof alertContacts>(table: T) {
  const page = preparedPerDatabase((db: DbOrTx, shape: string) => {
    const [tenant, before] = shape.split(':')
    return db
      .select()
      .from(table as typeof webhooks)
      .where(
        and(
          tenant ? ownedBy(table.ownerTenantId, sql.placeholder('tenantId')) : undefined,
          before ? lt(table.id, sql.placeholder('before')) : undefined,
        ),
      )
      .orderBy(desc(table.id))
      .limit(sql.placeholder('limit'))
      .prepare()
  })
  return async (db: DbOrTx, tenantId: string | null, before: bigint | undefined, limit: number) =>
    (await page(db, `${tenantId === null ? '' : 'tenant'}:${before === undefined ? '' : 'before'}`).execute({
      tenantId,
      before,
      limit,
    })) as T['$inferSelect'][]
}

/** `owner_tenant_id` in an answer: present only in gateway mode. */
export function ownerField(ownerTenantId: string | null, tenantId: string | null): { owner_tenant_id?: string } {
  return tenantId === null || ownerTenantId === null ? {} : { owner_tenant_id: ownerTenantId }
}

/**
 * In gateway mode a subscriber may only name the tenant's own sites in its `site_filter`; any other
 * blog is 404 `site_not_found`, as it is everywhere else (one query for the whole list).
 */
export async function checkSiteFilterVisible(ctx: Ctx, db: DbOrTx, blogIds: readonly bigint[]): Promise<void> {
  if (ctx.tenantId === null || blogIds.length === 0) return
  const rows = await db
    .select({ blogId: siteTenants.blogId })
    .from(siteTenants)
    .where(and(eq(siteTenants.tenantId, ctx.tenantId), inArray(siteTenants.blogId, [...blogIds])))
  const visible = new Set(rows.map((row) => row.blogId))
  const missing = blogIds.find((id) => !visible.has(id))
  if (missing !== undefined) {
    const index = blogIds.indexOf(missing)
    throw new ApiError(404, 'site_not_found', `site ${missing} not found`, {
      details: [{ path: `site_filter.blog_ids.${index}`, message: `site ${missing} not found` }],
    })
  }
}

/** A site filter as stored: blog ids as decimal strings (they exceed 2^53). */
export function siteFilterRow(blogIds: readonly bigint[]): { blog_ids: string[] } {
  return { blog_ids: blogIds.map((id) => id.toString()) }
}

/** A stored site filter in wire form; tolerates rows written by other tools (numbers, `null`). */
export function siteFilterJson(stored: { blog_ids?: readonly (string | number)[] | null } | null | undefined): {
  blog_ids: (number | string)[]
} {
  const ids = stored?.blog_ids ?? []
  return {
    blog_ids: ids.flatMap((id) => (/^\d+$/.test(String(id)) ? [jsonId(BigInt(String(id)))] : [])),
  }
}

/** A secret for its column: AES-256-GCM with `SECRETS_KEY` when configured, else its UTF-8 bytes. */
export function sealSecret(secret: string, key: Buffer | null | undefined): Buffer {
  return key ? encryptSecret(secret, key) : Buffer.from(secret, 'utf8')
}

/**
 * An alert destination for its JSON column: with `SECRETS_KEY`, `{"encrypted": base64(…)}` where
 * the bytes are {@link encryptSecret}'s format over the destination's JSON text; without a key,
 * the destination object itself. `openDestination` (@jetmon/alerting) reads both back.
 */
export function sealDestination(destination: unknown, key: Buffer | null | undefined): unknown {
  if (!key) return destination
  return { encrypted: encryptSecret(JSON.stringify(destination), key).toString('base64') }
}

/** A stored alert destination in plaintext; the reader lives with the senders that use it. */
export { openDestination } from '@jetmon/alerting'

/**
 * `text` with every string of a destination replaced by `[destination]`, so a transport's answer
 * or error that quotes the webhook URL, integration key or address does not reveal it in an API
 * answer or a log line (destinations are write-only).
 */
export function redactDestination(text: string, destination: unknown): string {
  const values: string[] = []
  const collect = (value: unknown): void => {
    if (typeof value === 'string' && value.length >= 4) values.push(value)
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect)
  }
  collect(destination)
  // Longest first, so a value containing another is replaced whole.
  return values.sort((a, b) => b.length - a.length).reduce((out, value) => out.split(value).join('[destination]'), text)
}
