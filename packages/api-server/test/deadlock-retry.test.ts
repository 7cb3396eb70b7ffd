/** Writes behind the site routes rerun a transaction InnoDB chose as a deadlock victim. */
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTransaction } from '../src/handlers/_sites-writes.js'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
})

/** What drizzle throws for a deadlock: its own error, the driver's kept as `cause`. */
const deadlock = () => Object.assign(new Error('Failed query'), { cause: { code: 'ER_LOCK_DEADLOCK', errno: 1213 } })

describe('inTransaction', () => {
  it('reruns a deadlock victim and returns what the rerun returns', async () => {
    let calls = 0
    const result = await inTransaction(database.db, async () => {
      calls++
      if (calls < 4) throw deadlock()
      return 'committed'
    })
    expect(result).toBe('committed')
    expect(calls).toBe(4)
  })

  it('gives up after five attempts, with the deadlock', async () => {
    let calls = 0
    const error = await inTransaction(database.db, async () => {
      calls++
      throw deadlock()
    }).catch((e: unknown) => e)
    expect(calls).toBe(5)
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('ER_LOCK_DEADLOCK')
  })

  it('does not rerun anything else', async () => {
    let calls = 0
    await expect(
      inTransaction(database.db, async () => {
        calls++
        throw new Error('a constraint, not a deadlock')
      }),
    ).rejects.toThrow('a constraint')
    expect(calls).toBe(1)
  })
})
