/**
 * `q` of the site list through the trigram index: the same sites, in the same order, as a
 * case-insensitive `LIKE` over every URL, whichever way the query is searched (by its rarest
 * trigram, or site by site in page order), across pages, after URLs change by any writer; the
 * entries per trigram stay exact; and the plan reads the trigram index instead of every URL, and
 * picks the rarest trigram by primary-key reads of the per-trigram entries.
 */
import { monitorSites, urlTrigramCounts, urlTrigramQueue, urlTrigrams } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { sql } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { listSitePage, refreshUrlTrigrams, trigramsOf, URL_TRIGRAMS_PER_SEARCH } from '../src/index.js'
import { loggedDatabase } from './_logged.js'

const database = useTestDatabase()
const NOW = new Date('2026-05-01T12:00:00.000Z')

/** URLs of every shape: case, ports, paths, query strings, LIKE's own characters, non-ASCII, long ones. */
const URLS = [
  'https://Example.COM/',
  'https://www.example.com/shop?item=42&Colour=Red',
  'http://example.org:8080/a_b/c%20d',
  'https://blog.example.net/2026/05/hello-world/',
  'https://WWW.MIXED-Case.example/Path/To/Page',
  'https://café.example/menu',
  'https://xn--caf-dma.example/menu',
  'https://例え.テスト/パス',
  'https://under_score.example/100%',
  'https://back\\slash.example/',
  'http://a.io',
  'https://ab.cd/',
  `https://long.example/${'segment/'.repeat(40)}end`,
  'https://shop.example.com/checkout',
  'https://shop.example.com/cart',
  'https://status.example.com/api/v1/health',
  'https://api.example.com/v2/status',
]
const QUERIES = [
  'example',
  'EXAMPLE.com',
  'shop',
  'Shop.Example.Com/c',
  'a',
  'A',
  'ab',
  '.c',
  'www',
  '%',
  '100%',
  '_',
  'a_b',
  'under_',
  '\\',
  'back\\s',
  'café',
  'CAFÉ',
  'テスト',
  'パス',
  'segment/segment/end',
  `${'segment/'.repeat(30)}end`,
  '/api/v1/health',
  'v2/status',
  'status',
  'nothing-like-this',
  'xyz',
  ':8080',
  '?item=42&colour=red',
  'hello-world/',
]

let blogs: bigint[] = []

beforeAll(async () => {
  const { db } = database()
  // Three endpoints per blog at most, URLs assigned round-robin, blogs not in URL order.
  const rows = URLS.flatMap((url, i) => {
    const blogId = 7_000_000n + BigInt((i * 7) % URLS.length)
    return i % 4 === 0
      ? [
          { blogId, monitorUrl: url },
          { blogId, monitorUrl: `${url}#second` },
        ]
      : [{ blogId, monitorUrl: url }]
  })
  await db.insert(monitorSites).values(rows)
  blogs = [...new Set(rows.map((row) => row.blogId))]
})

/** The old way: every URL read, compared with LIKE under the column's collation. */
async function likeScan(q: string): Promise<bigint[]> {
  const { db } = database()
  const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  const [rows] = (await db.execute(
    sql`SELECT DISTINCT ${monitorSites.blogId} AS blog_id FROM ${monitorSites}
      WHERE ${monitorSites.monitorUrl} LIKE ${pattern} ORDER BY ${monitorSites.blogId}`,
  )) as unknown as [{ blog_id: string | number }[]]
  return rows.map((row) => BigInt(row.blog_id))
}

/**
 * Trigrams whose `jetmon_url_trigram_counts` entries differ from their rows in `jetmon_url_trigrams`
 * (compared in SQL, under the column's collation): none when the counts are exact.
 */
async function miscounted(): Promise<unknown[]> {
  const { db } = database()
  const [rows] = (await db.execute(
    sql`SELECT c.trigram, c.entries, (SELECT COUNT(*) FROM ${urlTrigrams} AS t WHERE t.trigram = c.trigram) AS actual
      FROM ${urlTrigramCounts} AS c HAVING c.entries <> actual
      UNION ALL
      SELECT DISTINCT t.trigram, NULL, NULL FROM ${urlTrigrams} AS t
      WHERE NOT EXISTS (SELECT 1 FROM ${urlTrigramCounts} AS c WHERE c.trigram = t.trigram)`,
  )) as unknown as [unknown[]]
  return rows
}

/** Every page of the list for `q`, `limit` sites a page. */
async function listed(q: string, limit: number, rareTrigramEntries?: number): Promise<bigint[]> {
  const { db } = database()
  const out: bigint[] = []
  let after: bigint | null = null
  for (;;) {
    const page = await listSitePage({
      ctx: { db },
      now: NOW,
      tenantId: null,
      after,
      limit,
      states: null,
      minSeverity: null,
      monitorActive: null,
      q,
      ...(rareTrigramEntries === undefined ? {} : { rareTrigramEntries }),
    })
    out.push(...page.slice(0, limit).map((row) => row.blogId))
    if (page.length <= limit) return out
    after = page[limit - 1]!.blogId
  }
}

describe('GET /sites?q= through the trigram index', () => {
  it('finds exactly what a LIKE over every URL finds, by the rarest trigram and site by site', async () => {
    for (const q of QUERIES) {
      const expected = await likeScan(q)
      expect(await listed(q, 3), `q=${q} by trigram`).toEqual(expected)
      // Every trigram counted as common: the sites are tested one by one in page order.
      expect(await listed(q, 3, 1), `q=${q} site by site`).toEqual(expected)
      expect(await listed(q, 50), `q=${q} one page`).toEqual(expected)
    }
    // The fixture is varied enough to mean something: some queries match many blogs, some none.
    expect((await likeScan('example')).length).toBeGreaterThan(5)
    expect(await likeScan('nothing-like-this')).toEqual([])
  })

  it('follows every change of a URL, a blog or an endpoint, whoever writes it', async () => {
    const { db } = database()
    const [first] = await db
      .select()
      .from(monitorSites)
      .where(sql`${monitorSites.monitorUrl} = 'https://shop.example.com/cart'`)
    await db
      .update(monitorSites)
      .set({ monitorUrl: 'https://renamed.example/Basket' })
      .where(sql`${monitorSites.endpointId} = ${first!.endpointId}`)
    await db
      .update(monitorSites)
      .set({ blogId: 7_999_999n })
      .where(sql`${monitorSites.monitorUrl} = 'https://api.example.com/v2/status'`)
    await db
      .delete(monitorSites)
      .where(sql`${monitorSites.monitorUrl} = 'https://blog.example.net/2026/05/hello-world/'`)
    await db.execute(
      sql`INSERT INTO ${monitorSites} (blog_id, monitor_url) VALUES (7100000, 'https://added.example/Basket'), (7100001, 'https://CART.example/')`,
    )
    for (const q of ['cart', 'basket', 'renamed', 'v2/status', 'hello-world', 'added.ex', 'example']) {
      const expected = await likeScan(q)
      expect(await listed(q, 2), `q=${q}`).toEqual(expected)
      expect(await listed(q, 2, 1), `q=${q} site by site`).toEqual(expected)
    }
    expect(await likeScan('renamed')).toEqual([first!.blogId])
    expect(await likeScan('hello-world')).toEqual([])
    expect(blogs.length).toBeGreaterThan(0)
    expect(await miscounted()).toEqual([])
  })

  it('stays exact after a bulk import, while the index catches up a batch per search', async () => {
    const { db } = database()
    const imported = URL_TRIGRAMS_PER_SEARCH * 2 + 10
    await db.insert(monitorSites).values(
      Array.from({ length: imported }, (_, i) => ({
        blogId: 7_200_000n + BigInt(i),
        monitorUrl: `https://Bulk-${i}.example/`,
      })),
    )
    const queued = async () =>
      Number(
        ((await db.execute(sql`SELECT COUNT(*) AS n FROM ${urlTrigramQueue}`)) as unknown as [{ n: number }[]])[0][0]!
          .n,
      )
    expect(await queued()).toBe(imported)
    for (const q of ['bulk-1', 'BULK-99.', 'bulk-1000'])
      expect(await listed(q, 50), `q=${q}`).toEqual(await likeScan(q))
    expect(await queued()).toBeLessThan(imported - URL_TRIGRAMS_PER_SEARCH)
    expect(await refreshUrlTrigrams(db)).toMatchObject({ left: false })
    expect(await queued()).toBe(0)
    for (const q of ['bulk-1', 'BULK-99.', 'bulk-1000']) expect(await listed(q, 7), `q=${q}`).toEqual(await likeScan(q))
    expect(await miscounted()).toEqual([])
  })

  it('keeps the entries of each trigram exact when refreshes run side by side', async () => {
    const { db } = database()
    await db.execute(
      sql`UPDATE ${monitorSites} SET monitor_url = CONCAT(monitor_url, 'x') WHERE monitor_url LIKE 'https://Bulk-%'`,
    )
    await db.execute(sql`DELETE FROM ${monitorSites} WHERE monitor_url LIKE 'https://Bulk-1%'`)
    await Promise.all(Array.from({ length: 4 }, () => refreshUrlTrigrams(db, { limit: 150 })))
    await refreshUrlTrigrams(db)
    expect(await miscounted()).toEqual([])
    for (const q of ['bulk-2', '/x', 'bulk-1']) expect(await listed(q, 50), `q=${q}`).toEqual(await likeScan(q))
  })

  it('reads the trigram index, not every URL', async () => {
    const t = database()
    const { db: logged, pool, statements, close } = loggedDatabase(t.url)
    try {
      await listSitePage({
        ctx: { db: logged },
        now: NOW,
        tenantId: null,
        after: null,
        limit: 50,
        states: null,
        minSeverity: null,
        monitorActive: null,
        q: 'shop.example',
      })
      expect(statements).toHaveLength(2)
      // The rarest trigram is picked by primary-key reads of the entries per trigram, not by counting entries.
      const [choice] = (await pool.query(`EXPLAIN ${statements[0]!.query}`, statements[0]!.params)) as unknown as [
        { table: string | null; type: string | null; key: string | null }[],
      ]
      expect(choice.filter((row) => row.table === 'jetmon_url_trigrams')).toEqual([])
      const countReads = choice.filter((row) => row.table === 'jetmon_url_trigram_counts')
      expect(countReads.length).toBeGreaterThan(0)
      for (const row of countReads) expect([row.type, row.key]).toEqual(['const', 'PRIMARY'])
      const [, search] = statements
      for (const statement of [search!]) {
        const [plan] = (await pool.query(`EXPLAIN ${statement.query}`, statement.params)) as unknown as [
          { id: number; table: string | null; type: string | null; key: string | null; Extra: string | null }[],
        ]
        // The sites and their trigrams are read through keys only: no full scan of either.
        const reads = plan.filter((row) => ['s', 'matching', 'tri', 'jetmon_url_trigrams'].includes(row.table ?? ''))
        for (const row of reads)
          expect(['ref', 'eq_ref', 'range', 'const'], `${row.table}: ${statement.query}`).toContain(row.type)
        const trigramReads = reads.filter((row) => row.table === 'tri' || row.table === 'jetmon_url_trigrams')
        expect(trigramReads.length, statement.query).toBeGreaterThan(0)
        for (const row of trigramReads) expect(row.key).toBe('PRIMARY')
        // q is the only filter: its candidates are read in blog order up to the page, never sorted.
        const candidates = plan.filter((row) => row.id === trigramReads[0]!.id)
        for (const row of candidates) expect(row.Extra ?? '', statement.query).not.toMatch(/temporary|filesort/)
      }
    } finally {
      await close()
    }
  })

  it('splits a query into its distinct trigrams by character, ignoring case', () => {
    expect(trigramsOf('ab')).toEqual([])
    expect(trigramsOf('AbcAbc')).toEqual(['abc', 'bca', 'cab'])
    expect(trigramsOf('例え.テ')).toEqual(['例え.', 'え.テ'])
  })
})
