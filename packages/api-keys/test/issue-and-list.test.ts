import { auditLog, withTransaction } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { hashToken, issueApiKey, listApiKeys, revokeApiKey } from '../src/index.js'

const database = useTestDatabase()

const keyCreatedRows = async (id: bigint) =>
  (await database().db.select().from(auditLog).where(eq(auditLog.eventType, 'key_created'))).filter(
    (row) => (row.metadata as { key_id?: string } | null)?.key_id === id.toString(),
  )

describe('issueApiKey', () => {
  it('creates the key and its key_created audit row with the granted rate limit and expiry', async () => {
    const expiresAt = new Date('2031-03-01T00:00:00.000Z')
    const { row, token } = await issueApiKey({
      ctx: { db: database().db },
      input: { consumer: 'ops-bot', scope: 'write', rateLimitPerMinute: 90, expiresAt, actor: 'cli:op' },
    })
    expect(token).toMatch(/^jm_[A-Za-z0-9_-]{16,128}$/)
    expect(row).toMatchObject({
      consumerName: 'ops-bot',
      scope: 'write',
      rateLimitPerMinute: 90,
      expiresAt,
      createdBy: 'cli:op',
      keyHash: hashToken(token),
      keyPrefix: token.slice(0, 10),
    })
    const [audit, ...more] = await keyCreatedRows(row.id)
    expect(more).toHaveLength(0)
    expect(audit).toMatchObject({
      source: 'cli:op',
      detail: `key ${row.id} for ops-bot (write)`,
      metadata: {
        key_id: row.id.toString(),
        consumer: 'ops-bot',
        scope: 'write',
        rate_limit_per_minute: 90,
        expires_at: expiresAt.toISOString(),
      },
    })
  })

  it('records the scope’s default rate limit and no expiry when the key names neither', async () => {
    const { row } = await issueApiKey({
      ctx: { db: database().db },
      input: { consumer: 'reader', scope: 'read', actor: 'cli:op' },
    })
    const [audit] = await keyCreatedRows(row.id)
    expect(audit?.metadata).toMatchObject({ rate_limit_per_minute: 600, expires_at: null })
  })

  it('composes into the caller’s transaction: a rollback leaves neither key nor audit row', async () => {
    let issued: bigint | undefined
    await expect(
      withTransaction(database().db, async (tx) => {
        const { row } = await issueApiKey({ ctx: { db: tx }, input: { consumer: 'ghost', scope: 'read', actor: 'x' } })
        issued = row.id
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(issued).toBeDefined()
    expect((await listApiKeys({ ctx: { db: database().db } })).map((row) => row.id)).not.toContain(issued)
    expect(await keyCreatedRows(issued!)).toHaveLength(0)
  })
})

describe('listApiKeys', () => {
  it('lists every key newest first, revoked ones included', async () => {
    const db = database().db
    const first = await issueApiKey({ ctx: { db }, input: { consumer: 'first', scope: 'read', actor: 't' } })
    const second = await issueApiKey({ ctx: { db }, input: { consumer: 'second', scope: 'admin', actor: 't' } })
    await revokeApiKey({ ctx: { db }, input: { id: first.row.id, actor: 't' } })
    const rows = await listApiKeys({ ctx: { db } })
    const ids = rows.map((row) => row.id)
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)))
    expect(ids.indexOf(second.row.id)).toBeLessThan(ids.indexOf(first.row.id))
    expect(rows.find((row) => row.id === first.row.id)?.revokedAt).not.toBeNull()
  })

  it('pages by id: at most limit keys, each page after the last id of the one before', async () => {
    const db = database().db
    for (const consumer of ['p1', 'p2', 'p3']) {
      await issueApiKey({ ctx: { db }, input: { consumer, scope: 'read', actor: 't' } })
    }
    const all = (await listApiKeys({ ctx: { db } })).map((row) => row.id)
    const first = await listApiKeys({ ctx: { db }, limit: 2 })
    expect(first.map((row) => row.id)).toEqual(all.slice(0, 2))
    const second = await listApiKeys({ ctx: { db }, before: first[1]!.id, limit: 2 })
    expect(second.map((row) => row.id)).toEqual(all.slice(2, 4))
  })
})
