import { auditLog, siteTenants } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { beforeAll, describe, expect, it } from 'vitest'
import { listAuditLog } from '../src/index.js'
import { loggedDatabase } from './_logged.js'

const database = useTestDatabase()

const NOW = new Date('2030-06-01T12:00:00.000Z')
const ago = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000)
const BIG_BLOG = 9_007_199_254_740_993n // 2^53 + 1: not exact as a JavaScript number

describe('listAuditLog', () => {
  beforeAll(async () => {
    await database()
      .db.insert(auditLog)
      .values([
        { blogId: BIG_BLOG, eventType: 'wpcom_sent', source: 'monitor:a', detail: 'sent 2h ago', createdAt: ago(2) },
        {
          blogId: BIG_BLOG,
          eventType: 'wpcom_failed',
          source: 'monitor:a',
          detail: 'failed 30h ago',
          createdAt: ago(30),
        },
        { blogId: 77n, eventType: 'wpcom_sent', source: 'monitor:b', detail: 'other blog 1h ago', createdAt: ago(1) },
        {
          blogId: BIG_BLOG,
          eventType: 'config_reload',
          source: 'monitor:a',
          detail: 'reload 10d ago',
          createdAt: ago(240),
        },
        {
          blogId: null,
          eventType: 'config_reload',
          source: 'monitor:a',
          detail: 'fleet-wide 3h ago',
          createdAt: ago(3),
        },
      ])
  })

  const details = async (filter: Parameters<typeof listAuditLog>[0]['filter'], limit = 50) =>
    (await listAuditLog({ ctx: { db: database().db }, filter, limit })).map((row) => row.detail)

  it('lists every entry newest first without a filter', async () => {
    expect(await details(undefined)).toEqual([
      'other blog 1h ago',
      'sent 2h ago',
      'fleet-wide 3h ago',
      'failed 30h ago',
      'reload 10d ago',
    ])
  })

  it('filters by blog id, exact beyond 2^53', async () => {
    const rows = await listAuditLog({ ctx: { db: database().db }, filter: { blogId: BIG_BLOG }, limit: 50 })
    expect(rows.map((row) => row.detail)).toEqual(['sent 2h ago', 'failed 30h ago', 'reload 10d ago'])
    expect(rows[0]?.blogId).toBe(BIG_BLOG)
  })

  it('filters by event types, and an empty list of types matches nothing', async () => {
    expect(await details({ eventTypes: ['wpcom_sent'] })).toEqual(['other blog 1h ago', 'sent 2h ago'])
    expect(await details({ eventTypes: ['wpcom_sent', 'wpcom_failed'] }, 2)).toEqual([
      'other blog 1h ago',
      'sent 2h ago',
    ])
    expect(await details({ eventTypes: [] })).toEqual([])
  })

  it('takes since as inclusive and until as exclusive', async () => {
    expect(await details({ blogId: BIG_BLOG, since: ago(24) })).toEqual(['sent 2h ago'])
    expect(await details({ blogId: BIG_BLOG, since: ago(72), until: ago(24) })).toEqual(['failed 30h ago'])
    expect(await details({ since: ago(2), until: ago(1) })).toEqual(['sent 2h ago'])
  })

  it('keeps the newest `limit` entries', async () => {
    expect(await details({}, 1)).toEqual(['other blog 1h ago'])
  })

  it('pages from a position: entries after it in the list order, ties on the millisecond by id', async () => {
    const db = database().db
    await db.insert(auditLog).values([
      { blogId: 88n, eventType: 'page_tie', source: 't', detail: 'tie a', createdAt: ago(5) },
      { blogId: 88n, eventType: 'page_tie', source: 't', detail: 'tie b', createdAt: ago(5) },
      { blogId: 88n, eventType: 'page_tie', source: 't', detail: 'older', createdAt: ago(6) },
    ])
    const filter = { eventTypes: ['page_tie'] }
    const [first] = await listAuditLog({ ctx: { db }, filter, limit: 1 })
    expect(first?.detail).toBe('tie b')
    const rest = await listAuditLog({ ctx: { db }, filter, before: first!, limit: 50 })
    expect(rest.map((row) => row.detail)).toEqual(['tie a', 'older'])
  })

  it("lists a tenant's blogs only, never the fleet-wide entries", async () => {
    const db = database().db
    await db.insert(siteTenants).values({ tenantId: 'tenant-audit', blogId: 77n, source: 'test' })
    expect(await details({ tenantId: 'tenant-audit' })).toEqual(['other blog 1h ago'])
    expect(await details({ tenantId: 'nobody' })).toEqual([])
  })

  it('reads the whole log newest first in index order, from the top or from a position, without sorting it', async () => {
    const t = database()
    // Enough older entries that a scan and a sort would cost more than the index.
    await t.db.insert(auditLog).values(
      Array.from({ length: 2_000 }, (_, i) => ({
        eventType: 'bulk',
        source: 't',
        createdAt: ago(1_000 + Math.floor(i / 3)),
      })),
    )
    const { db: logged, pool, statements, close } = loggedDatabase(t.url)
    try {
      const first = await listAuditLog({ ctx: { db: logged }, limit: 50 })
      const next = await listAuditLog({ ctx: { db: logged }, before: first.at(-1)!, limit: 50 })
      expect(statements).toHaveLength(2)
      // Paged through, the whole log comes out in its order, three entries to a millisecond included.
      const all = (await t.db.select().from(auditLog)).sort(
        (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || Number(b.id - a.id),
      )
      const paged = [...first, ...next]
      for (let page = next; page.length === 50; ) {
        page = await listAuditLog({ ctx: { db: t.db }, before: page.at(-1)!, limit: 50 })
        paged.push(...page)
      }
      expect(paged.map((row) => row.id)).toEqual(all.map((row) => row.id))
      for (const [i, statement] of statements.entries()) {
        const [plan] = (await pool.query(`EXPLAIN ${statement.query}`, statement.params)) as unknown as [
          { table: string; type: string; key: string | null; Extra: string | null }[],
        ]
        expect(plan, statement.query).toHaveLength(1)
        expect(plan[0]!.key, statement.query).toBe('idx_created')
        expect(plan[0]!.Extra ?? '', statement.query).not.toMatch(/filesort/)
        // From a position, a range that starts there rather than a walk from the newest entry.
        if (i === 1) expect(plan[0]!.type, statement.query).toBe('range')
      }
    } finally {
      await close()
    }
  })
})
