import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditLog,
  importSiteTenants,
  type ScratchDatabase,
  type SiteTenantMapping,
  siteTenants,
  withTransaction,
} from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t.drop()
})

const MAX_BLOG = 18_446_744_073_709_551_615n // BIGINT UNSIGNED's largest
const audit = { file: 'tenants.csv', rows: 3, duplicates: 0 }

const mappingsOf = (tenant: string) =>
  t.db
    .select({ blogId: sql<string>`CAST(${siteTenants.blogId} AS CHAR)`, source: siteTenants.source })
    .from(siteTenants)
    .where(eq(siteTenants.tenantId, tenant))
    .orderBy(siteTenants.blogId)

const importRows = (mappings: SiteTenantMapping[], write = true, file = audit.file) =>
  importSiteTenants({
    ctx: { db: t.db },
    mappings,
    write,
    actor: 'cli:op',
    audit: { ...audit, file, rows: mappings.length },
  })

const imports = () => t.db.select().from(auditLog).where(eq(auditLog.eventType, 'site_tenants_imported'))

describe('importSiteTenants', () => {
  it('inserts new mappings with exact blog ids and records the import once', async () => {
    const counts = await importRows([
      { tenantId: 'acme', blogId: 9_007_199_254_740_993n, source: 'gateway' },
      { tenantId: 'acme', blogId: MAX_BLOG, source: 'gateway' },
      { tenantId: 'acme, inc', blogId: 42n, source: 'sales "import"' },
    ])
    expect(counts).toEqual({ inserted: 3, updated: 0, unchanged: 0 })
    expect(await mappingsOf('acme')).toEqual([
      { blogId: '9007199254740993', source: 'gateway' },
      { blogId: MAX_BLOG.toString(), source: 'gateway' },
    ])
    const [row, ...more] = await imports()
    expect(more).toHaveLength(0)
    expect(row).toMatchObject({
      source: 'cli:op',
      detail: 'site-tenants import from tenants.csv: 3 inserted, 0 updated, 0 unchanged',
      metadata: { file: 'tenants.csv', rows: 3, inserted: 3, updated: 0, unchanged: 0, duplicates: 0 },
    })
  })

  it('counts what is in place as unchanged, by the database’s collation and exact ids, and writes no audit row', async () => {
    const before = (await imports()).length
    const counts = await importRows([
      { tenantId: 'ACME', blogId: 9_007_199_254_740_993n, source: 'gateway' },
      { tenantId: 'acme', blogId: MAX_BLOG, source: 'gateway' },
    ])
    expect(counts).toEqual({ inserted: 0, updated: 0, unchanged: 2 })
    expect(await imports()).toHaveLength(before)
    // 9007199254740992 is what 2^53 + 1 becomes as a number: a different blog, so a new mapping.
    expect(await importRows([{ tenantId: 'acme', blogId: 9_007_199_254_740_992n, source: 'gateway' }])).toEqual({
      inserted: 1,
      updated: 0,
      unchanged: 0,
    })
  })

  it('updates a mapping whose source changed', async () => {
    const counts = await importRows([
      { tenantId: 'beta', blogId: 100n, source: 'gateway' },
      { tenantId: 'acme', blogId: 9_007_199_254_740_993n, source: 'manual' },
    ])
    expect(counts).toEqual({ inserted: 1, updated: 1, unchanged: 0 })
    expect((await mappingsOf('acme')).find((m) => m.blogId === '9007199254740993')?.source).toBe('manual')
  })

  it('writes nothing when write is false, and counts what would change', async () => {
    const before = (await imports()).length
    const counts = await importRows(
      [
        { tenantId: 'dry', blogId: 1n, source: 'gateway' },
        { tenantId: 'beta', blogId: 100n, source: 'other' },
      ],
      false,
    )
    expect(counts).toEqual({ inserted: 1, updated: 1, unchanged: 0 })
    expect(await mappingsOf('dry')).toEqual([])
    expect(await mappingsOf('beta')).toEqual([{ blogId: '100', source: 'gateway' }])
    expect(await imports()).toHaveLength(before)
  })

  it('goes through more mappings than one batch holds, reporting progress per batch', async () => {
    const mappings = Array.from({ length: 1_203 }, (_, i) => ({
      tenantId: 'bulk',
      blogId: BigInt(i + 1),
      source: 'gateway',
    }))
    const progress: number[] = []
    const counts = await importSiteTenants({
      ctx: { db: t.db },
      mappings,
      write: true,
      actor: 'cli:op',
      audit: { file: 'bulk.csv', rows: 1_204, duplicates: 1 },
      onProgress: (done) => progress.push(done),
    })
    expect(counts).toEqual({ inserted: 1_203, updated: 0, unchanged: 0 })
    expect(progress).toEqual([500, 1_000, 1_203])
    expect(await mappingsOf('bulk')).toHaveLength(1_203)
  })

  it('cuts a long file name in the audit detail to the column', async () => {
    const file = `/${'x'.repeat(2_000)}.csv`
    await importRows([{ tenantId: 'long', blogId: 7n, source: 'gateway' }], true, file)
    const row = (await imports()).find((r) => (r.metadata as { file?: string } | null)?.file === file)
    expect(row?.detail).toHaveLength(1_024)
    expect(row?.detail?.endsWith('…')).toBe(true)
  })

  it('composes into the caller’s transaction, which rolls back as a whole', async () => {
    const before = (await imports()).length
    await expect(
      withTransaction(t.db, async (tx) => {
        await importSiteTenants({
          ctx: { db: tx },
          mappings: [{ tenantId: 'rolled', blogId: 5n, source: 'gateway' }],
          write: true,
          actor: 'cli:op',
          audit,
        })
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await mappingsOf('rolled')).toEqual([])
    expect(await imports()).toHaveLength(before)
  })
})
