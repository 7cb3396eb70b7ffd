/**
 * The README's first example, run as written against the test kit's database: the audit finds the
 * row v1 reports as down, and adoption takes it over.
 */
import { runReadmeExample, useTestDatabase } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { insertV1Rows } from './_helpers.js'

const database = useTestDatabase()

describe('README example', () => {
  it('audits the range and adopts what v1 reports as down', async () => {
    await insertV1Rows(database().db, [
      { blogId: 1n, monitorUrl: 'https://up.example', bucketNo: 3 },
      { blogId: 2n, monitorUrl: 'https://down.example', bucketNo: 4, siteStatus: 2 },
    ])
    const printed = await runReadmeExample(new URL('../README.md', import.meta.url), {
      replace: { 'process.env.DATABASE_URL!': JSON.stringify(database().url) },
    })
    expect(printed).toEqual([
      ['warning', 'awaiting_adoption', 1],
      ['blocking:', false],
      ['would adopt', { seemsDown: 0, down: 1 }],
      ['adopted', { seemsDown: 0, down: 1 }],
    ])
  })
})
