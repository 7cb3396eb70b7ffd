import { sql } from 'drizzle-orm'
import { auditLog, siteTenants } from './schema.js'
import { type DbOrTx, withTransaction } from './transaction.js'

/** A gateway tenant's ownership of a blog, and where the mapping came from (`gateway` by default). */
export interface SiteTenantMapping {
  tenantId: string
  blogId: bigint
  source: string
}

/** How an import's mappings compare with the table (what was, or in a dry run would be, written). */
export interface SiteTenantCounts {
  /** Mappings the table did not have. */
  inserted: number
  /** Mappings the table had with another `source`. */
  updated: number
  /** Mappings the table already had as they are. */
  unchanged: number
}

/** Rows per lookup and per upsert statement: large files go through in bounded statements. */
const BATCH = 500
/** The audit detail column's width. */
const DETAIL_LENGTH = 1024

/**
 * The stored `source` of each mapping of `batch`, by its index (absent when there is none). Each
 * mapping is its own primary-key lookup with its values as literals, so the database's collation
 * (tenant ids compare case-insensitively) and exact BIGINT comparison decide what "the same
 * mapping" is, not JavaScript's.
 */
async function storedSources(db: DbOrTx, batch: readonly SiteTenantMapping[]): Promise<Map<number, string>> {
  const lookups = sql.join(
    batch.map(
      (row, at) =>
        sql`SELECT ${at} AS line, (SELECT source FROM ${siteTenants} WHERE tenant_id = ${row.tenantId} AND blog_id = ${row.blogId}) AS source`,
    ),
    sql` UNION ALL `,
  )
  const [found] = (await db.execute(lookups)) as unknown as [{ line: number | string; source: string | null }[]]
  const stored = new Map<number, string>()
  for (const row of found) if (row.source !== null) stored.set(Number(row.line), row.source)
  return stored
}

/** The audit row's detail, cut to the column (a long file path must not fail the import). */
function auditDetail(file: string, counts: SiteTenantCounts): string {
  const text = `site-tenants import from ${file}: ${counts.inserted} inserted, ${counts.updated} updated, ${counts.unchanged} unchanged`
  return text.length <= DETAIL_LENGTH ? text : `${text.slice(0, DETAIL_LENGTH - 1)}…`
}

/**
 * Imports tenant ↔ blog mappings (`jetmon_site_tenants`): compares each with the table and, when
 * `write`, upserts the new and changed ones and records a `site_tenants_imported` audit row with
 * the counts, all in one transaction (the caller's, when `ctx.db` is one). An ownership list is
 * all or nothing: a partial import would leave a tenant seeing some of its sites and not others.
 * With `write` false nothing is written and the counts say what would be (a dry run). When every
 * mapping is already in place nothing is written either, not even the audit row.
 *
 * `mappings` must not repeat a (tenant, blog) pair (the caller settles duplicates, which it can
 * report by line). `audit` describes the import in its record: where it came from and how many
 * rows were read and skipped as duplicates. `onProgress` hears the number of mappings done after
 * each batch, for a progress line on long imports.
 */
export async function importSiteTenants({
  ctx,
  mappings,
  write,
  actor,
  audit,
  onProgress,
}: {
  ctx: { db: DbOrTx }
  mappings: readonly SiteTenantMapping[]
  write: boolean
  /** Who imports: the audit row's `source` (`cli:<os user>`). */
  actor: string
  audit: { file: string; rows: number; duplicates: number }
  onProgress?: (done: number) => void
}): Promise<SiteTenantCounts> {
  return withTransaction(ctx.db, async (tx) => {
    const counts: SiteTenantCounts = { inserted: 0, updated: 0, unchanged: 0 }
    for (let start = 0; start < mappings.length; start += BATCH) {
      const batch = mappings.slice(start, start + BATCH)
      const stored = await storedSources(tx, batch)
      const changes = batch.filter((row, at) => {
        const source = stored.get(at)
        if (source === undefined) counts.inserted++
        else if (source === row.source) counts.unchanged++
        else counts.updated++
        return source !== row.source
      })
      if (write && changes.length > 0) {
        await tx
          .insert(siteTenants)
          .values(changes.map((row) => ({ tenantId: row.tenantId, blogId: row.blogId, source: row.source })))
          .onDuplicateKeyUpdate({ set: { source: sql`VALUES(source)`, updatedAt: sql`CURRENT_TIMESTAMP(3)` } })
      }
      onProgress?.(start + batch.length)
    }
    if (write && counts.inserted + counts.updated > 0) {
      await tx.insert(auditLog).values({
        eventType: 'site_tenants_imported',
        source: actor,
        detail: auditDetail(audit.file, counts),
        metadata: { file: audit.file, rows: audit.rows, ...counts, duplicates: audit.duplicates },
      })
    }
    return counts
  })
}
