import { eq } from 'drizzle-orm'
import { endpointConfig, monitorSites } from './schema.js'
import { type DbOrTx, withTransaction } from './transaction.js'

/** An endpoint's own settings (`jetmon_endpoint_config`); a column left out keeps the fleet default. */
export type EndpointSettings = Omit<typeof endpointConfig.$inferInsert, 'endpointId' | 'createdAt' | 'updatedAt'>

/**
 * Makes `blogId` monitor `monitorUrl` with `settings`, for seeding and fixtures where a blog has one
 * endpoint: the blog's existing endpoint is pointed at the URL and made active, or one is added
 * (in `bucketNo`, default 0, as a row without a bucket gets); its settings row is written over.
 * `bucketNo`, when given, also moves an existing endpoint; `legacyStatusWhenAdded` is the v1
 * `site_status` (and its `last_status_change`) of an endpoint added now, as v1 would have left it.
 * Returns the endpoint id. The REST API adds endpoints with its own rules (conflicts, buckets,
 * announcements).
 */
export async function upsertBlogEndpoint(input: {
  ctx: { db: DbOrTx }
  blogId: bigint
  monitorUrl: string
  settings: EndpointSettings
  bucketNo?: number
  legacyStatusWhenAdded?: { siteStatus: number; lastStatusChange: Date }
}): Promise<bigint> {
  const { blogId, monitorUrl, settings, bucketNo } = input
  return withTransaction(input.ctx.db, async (tx) => {
    const [existing] = await tx
      .select({ endpointId: monitorSites.endpointId })
      .from(monitorSites)
      .where(eq(monitorSites.blogId, blogId))
      .limit(1)
    let endpointId = existing?.endpointId
    if (endpointId) {
      await tx
        .update(monitorSites)
        .set({ monitorUrl, monitorActive: 1, ...(bucketNo === undefined ? {} : { bucketNo }) })
        .where(eq(monitorSites.endpointId, endpointId))
    } else {
      const [row] = await tx
        .insert(monitorSites)
        .values({ blogId, monitorUrl, ...(bucketNo === undefined ? {} : { bucketNo }), ...input.legacyStatusWhenAdded })
        .$returningId()
      endpointId = BigInt(row!.endpointId)
    }
    await tx
      .insert(endpointConfig)
      .values({ endpointId, ...settings })
      .onDuplicateKeyUpdate({ set: { ...settings, updatedAt: new Date() } })
    return endpointId
  })
}
