/**
 * Gateway tenancy: the gateway key may name a tenant in `X-Jetmon-Tenant-ID`, and every read and
 * write of that request is limited to the blogs mapped to the tenant in `jetmon_site_tenants`.
 */
import type { RouteDefinition } from '@jetmon/api-client'
import { siteTenants } from '@jetmon/db'
import { and, eq } from 'drizzle-orm'
import type { Context } from 'hono'
import type { Principal, RequestContext } from './context.js'
import { ApiError } from './errors.js'

/** The one consumer allowed to speak for tenants. */
export const GATEWAY_CONSUMER = 'gateway'
export const TENANT_HEADER = 'x-jetmon-tenant-id'

/**
 * The tenant a request acts for: null without the header; 403 when a key other than the
 * gateway's sends it (or no key at all); 400 when it is empty or longer than 128 characters.
 */
export function tenantOf(c: Context, principal: Principal | null): string | null {
  const header = c.req.header(TENANT_HEADER)
  if (header === undefined) return null
  if (!principal || principal.consumer !== GATEWAY_CONSUMER) {
    throw new ApiError(403, 'forbidden_gateway_context', `only the ${GATEWAY_CONSUMER} key may send X-Jetmon-Tenant-ID`)
  }
  const tenant = header.trim()
  if (tenant === '' || tenant.length > 128) {
    throw new ApiError(400, 'invalid_request', 'X-Jetmon-Tenant-ID must be 1–128 characters', {
      details: [{ path: 'headers.x-jetmon-tenant-id', message: 'must be 1–128 characters' }],
    })
  }
  return tenant
}

/** Whether a tenant may see a blog (gateway mode); without a tenant, every blog is visible. */
export async function tenantSeesBlog(ctx: RequestContext<RouteDefinition>, blogId: bigint): Promise<boolean> {
  if (ctx.tenantId === null) return true
  const [row] = await ctx.deps.db
    .select({ blogId: siteTenants.blogId })
    .from(siteTenants)
    .where(and(eq(siteTenants.tenantId, ctx.tenantId), eq(siteTenants.blogId, blogId)))
    .limit(1)
  return row !== undefined
}
