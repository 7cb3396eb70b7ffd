/** The README's example against a real database. */
import { useTestDatabase } from '@jetmon/testkit'
import { expect, it } from 'vitest'
import { createApiKey, hashToken, keyStatus, rotateApiKey } from '../src/index.js'

const database = useTestDatabase()

it('creates a key stored as its hash and rotates it with a grace period, as the README shows', async () => {
  const { db } = database()
  const now = new Date('2031-01-01T00:00:00.000Z')
  const clock = () => now
  const { row, token } = await createApiKey({
    ctx: { db, clock },
    input: { consumer: 'status-page', scope: 'read', createdBy: 'cli:ops' },
  })
  expect(row.keyHash).toBe(hashToken(token))
  expect(keyStatus(row, clock())).toBe('active')

  const { next, cutoff } = await rotateApiKey({
    ctx: { db, clock },
    input: { id: row.id, graceSeconds: 3600, actor: 'cli:ops' },
  })
  expect(next.token).toMatch(/^jm_/)
  expect(cutoff.toISOString()).toBe('2031-01-01T01:00:00.000Z')
})
