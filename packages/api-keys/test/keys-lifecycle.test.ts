import { apiKeys, auditLog, withTransaction } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyError, createApiKey, revokeApiKey, rotateApiKey } from '../src/index.js'

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database?.drop()
})

const NOW = new Date('2030-06-01T12:00:00.000Z')
const HOUR = 3_600_000

async function newKey(consumer: string, expiresAt: Date | null = null) {
  const { row } = await createApiKey({
    ctx: { db: database.db },
    input: { consumer, scope: 'write', expiresAt, createdBy: 'test' },
  })
  return row
}

async function keyRow(id: bigint) {
  const [row] = await database.db.select().from(apiKeys).where(eq(apiKeys.id, id))
  return row!
}

async function audits(eventType: string, id: bigint) {
  const rows = await database.db.select().from(auditLog).where(eq(auditLog.eventType, eventType))
  return rows.filter((row) => (row.metadata as { key_id?: string } | null)?.key_id === id.toString())
}

describe('revokeApiKey', () => {
  it('revokes once, with one key_revoked audit row, and is idempotent after', async () => {
    const key = await newKey('revokee')
    const first = await revokeApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, actor: 'api:ops' },
    })
    expect(first.changed).toBe(true)
    expect(first.before.revokedAt).toBeNull()
    expect(first.row.revokedAt).toEqual(NOW)
    expect((await keyRow(key.id)).revokedAt).toEqual(NOW)
    const [audit, ...more] = await audits('key_revoked', key.id)
    expect(more).toHaveLength(0)
    expect(audit).toMatchObject({
      source: 'api:ops',
      detail: `key ${key.id} of revokee revoked`,
      metadata: { key_id: key.id.toString(), consumer: 'revokee' },
    })

    const again = await revokeApiKey({
      ctx: { db: database.db, clock: () => new Date(NOW.getTime() + HOUR) },
      input: { id: key.id, actor: 'cli:x' },
    })
    expect(again.changed).toBe(false)
    expect(again.row.revokedAt).toEqual(NOW)
    expect(await audits('key_revoked', key.id)).toHaveLength(1)
  })

  it('revokes a rotating key now', async () => {
    const key = await newKey('rotating')
    await rotateApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, graceSeconds: 3600, actor: 'api:ops' },
    })
    const revoked = await revokeApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, actor: 'api:ops' },
    })
    expect(revoked.changed).toBe(true)
    expect((await keyRow(key.id)).revokedAt).toEqual(NOW)
  })

  it('throws KEY_NOT_FOUND for a missing key', async () => {
    await expect(
      revokeApiKey({ ctx: { db: database.db, clock: () => NOW }, input: { id: 987_654n, actor: 'api:ops' } }),
    ).rejects.toMatchObject({
      name: 'ApiKeyError',
      code: 'KEY_NOT_FOUND',
      id: 987_654n,
      key: null,
    })
  })
})

describe('rotateApiKey', () => {
  it('sets the cutoff to now + grace, creates the replacement and audits it', async () => {
    const expiresAt = new Date('2031-01-01T00:00:00.000Z')
    const key = await newKey('rotator', expiresAt)
    const result = await rotateApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, graceSeconds: 7200, actor: 'cli:op' },
    })
    const cutoff = new Date(NOW.getTime() + 2 * HOUR)
    expect(result.cutoff).toEqual(cutoff)
    expect(result.keptEarlier).toBe(false)
    expect(result.before.revokedAt).toBeNull()
    expect(result.old.revokedAt).toEqual(cutoff)
    expect((await keyRow(key.id)).revokedAt).toEqual(cutoff)
    expect(result.next.token).toMatch(/^jm_/)
    expect(result.next.row).toMatchObject({ consumerName: 'rotator', scope: 'write', expiresAt, createdBy: 'cli:op' })
    const [audit] = await audits('key_rotated', key.id)
    expect(audit).toMatchObject({
      source: 'cli:op',
      detail: `key ${key.id} of rotator rotated to ${result.next.row.id}; old key valid until ${cutoff.toISOString()}`,
      metadata: { key_id: key.id.toString(), new_key_id: result.next.row.id.toString(), grace_seconds: 7200 },
    })
  })

  it('keeps an earlier cutoff of a key already rotating', async () => {
    const key = await newKey('twice')
    await rotateApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, graceSeconds: 3600, actor: 'api:ops' },
    })
    const second = await rotateApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, graceSeconds: 7200, actor: 'api:ops' },
    })
    expect(second.keptEarlier).toBe(true)
    expect(second.cutoff).toEqual(new Date(NOW.getTime() + HOUR))
    expect((await keyRow(key.id)).revokedAt).toEqual(new Date(NOW.getTime() + HOUR))
  })

  it('refuses a revoked key with KEY_REVOKED and writes nothing', async () => {
    const key = await newKey('gone')
    await revokeApiKey({ ctx: { db: database.db, clock: () => NOW }, input: { id: key.id, actor: 'api:ops' } })
    const error = await rotateApiKey({
      ctx: { db: database.db, clock: () => NOW },
      input: { id: key.id, graceSeconds: 60, actor: 'api:ops' },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiKeyError)
    expect(error).toMatchObject({ code: 'KEY_REVOKED', id: key.id, key: { consumerName: 'gone' } })
    expect(await audits('key_rotated', key.id)).toHaveLength(0)
  })

  it('refuses an expired key, whose replacement would be born expired', async () => {
    const key = await newKey('expired', new Date(NOW.getTime() - HOUR))
    await expect(
      rotateApiKey({
        ctx: { db: database.db, clock: () => NOW },
        input: { id: key.id, graceSeconds: 60, actor: 'cli:op' },
      }),
    ).rejects.toMatchObject({ code: 'KEY_EXPIRED', key: { consumerName: 'expired' } })
    expect((await keyRow(key.id)).revokedAt).toBeNull()
    expect(await audits('key_rotated', key.id)).toHaveLength(0)
  })

  it('composes into the caller’s transaction, which rolls back as a whole', async () => {
    const key = await newKey('rollback')
    await expect(
      withTransaction(database.db, async (tx) => {
        await rotateApiKey({
          ctx: { db: tx, clock: () => NOW },
          input: { id: key.id, graceSeconds: 60, actor: 'api:ops' },
        })
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect((await keyRow(key.id)).revokedAt).toBeNull()
    const replacements = await database.db.select().from(apiKeys).where(eq(apiKeys.consumerName, 'rollback'))
    expect(replacements).toHaveLength(1)
    expect(await audits('key_rotated', key.id)).toHaveLength(0)
  })
})
