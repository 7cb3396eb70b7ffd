/**
 * The README's first example, run as written against the test kit's database: adoption takes over
 * the row v1 reports as down, the range goes to an api-controlled host, and its token works once.
 */
import { runReadmeExample, useTestDatabase } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { insertEndpoints, registerHost } from './_helpers.js'

const database = useTestDatabase()

describe('README example', () => {
  it('adopts, activates and refuses a second use of the token', async () => {
    const { db } = database()
    await insertEndpoints(db, [3])
    await insertEndpoints(db, [4], { siteStatus: 2 })
    await registerHost(db, new Date(), { hostId: 'host-b', leaseMs: 3_600_000 })
    const printed = await runReadmeExample(new URL('../README.md', import.meta.url), {
      replace: { 'process.env.DATABASE_URL!': JSON.stringify(database().url) },
    })
    expect(printed).toEqual([
      ['would adopt', { seems_down: 0, down: 1 }],
      ['blocked', [], 'warnings', []],
      ['owner', { kind: 'lock', lockId: expect.any(BigInt), hostId: 'host-b', phase: 'activating' }],
      ['refused', 'CONFIRMATION_EXPIRED'],
    ])
  })
})
