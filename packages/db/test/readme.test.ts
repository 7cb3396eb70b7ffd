/**
 * The README's first example, run as written (its MariaDB in a scratch directory instead of
 * `.jetmon/mariadb`): it starts a server, migrates it, commits a row with an id beyond 2^53 and
 * stops. Started again on the same directory, the server still holds that row, its id exact.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase, monitorSites, startEmbeddedMariadb, stopEmbeddedMariadb } from '../src/index.js'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'jetmon-db-readme-'))

afterAll(async () => {
  rmSync(file, { force: true })
  await stopEmbeddedMariadb(dir)
  rmSync(dir, { recursive: true, force: true })
})

describe('README example', () => {
  it('starts a private MariaDB, migrates it and commits a row whose id is beyond 2^53', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code, 'the README has a ts example').toContain("{ dir: '.jetmon/mariadb' }")
    writeFileSync(file, (code as string).replace("{ dir: '.jetmon/mariadb' }", `{ dir: ${JSON.stringify(dir)} }`))
    await import(file.href)

    const server = await startEmbeddedMariadb({ dir })
    const { db, close } = createDatabase(server.url)
    try {
      const rows = await db.select().from(monitorSites).where(eq(monitorSites.blogId, 9_007_199_254_740_993n))
      expect(rows.map((row) => [row.blogId, row.monitorUrl])).toEqual([
        [9_007_199_254_740_993n, 'https://example.com/'],
      ])
    } finally {
      await close()
      await server.stop()
    }
  }, 120_000)
})
