/**
 * The README's first example, run as written against the test kit's database: an objective is
 * created, switched to latency, refused when invalid and deactivated.
 */
import { monitorSites } from '@jetmon/db'
import { runReadmeExample, useTestDatabase } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'

const database = useTestDatabase()

describe('README example', () => {
  it('creates, updates, refuses and deactivates objectives as it says', async () => {
    await database().db.insert(monitorSites).values({ blogId: 42n, monitorUrl: 'https://shop.example' })
    const printed = await runReadmeExample(new URL('../README.md', import.meta.url), {
      replace: { 'process.env.DATABASE_URL!': JSON.stringify(database().url) },
    })
    expect(printed).toEqual([
      ['shop availability', 99.9, '30d', null],
      ['latency', 800],
      ['INVALID_OBJECTIVE', ['target', 'window']],
      ['active:', 0],
    ])
  })
})
