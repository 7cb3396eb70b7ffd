import { desc, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditLog,
  type DbOrTx,
  PREPARED_SHAPES_MAX,
  preparedPerDatabase,
  recordAudit,
  type ScratchDatabase,
  withNamedLock,
  withTransaction,
} from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t.drop()
})

describe('withNamedLock', () => {
  it('runs the unit on one host at a time and releases the lock when it settles', async () => {
    const name = `jetmon_test_${Date.now()}`
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let entered!: () => void
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const first = withNamedLock({
      ctx: { pool: t.pool },
      name,
      unit: async () => {
        entered()
        await held
        return 'first'
      },
    })
    await inside
    // Another session finds the lock taken and does not wait (the default).
    let ran = false
    const second = await withNamedLock({
      ctx: { pool: t.pool },
      name,
      unit: async () => {
        ran = true
      },
    })
    expect(second).toEqual({ acquired: false })
    expect(ran).toBe(false)
    release()
    expect(await first).toEqual({ acquired: true, result: 'first' })
    // Released: the next unit runs, and a failing unit releases it too.
    await expect(
      withNamedLock({
        ctx: { pool: t.pool },
        name,
        unit: async () => {
          throw new Error('unit failed')
        },
      }),
    ).rejects.toThrow('unit failed')
    expect(await withNamedLock({ ctx: { pool: t.pool }, name, unit: async () => 42 })).toEqual({
      acquired: true,
      result: 42,
    })
    const [[free]] = (await t.pool.query('SELECT IS_FREE_LOCK(?) AS free', [name])) as unknown as [{ free: number }[]]
    expect(free?.free).toBe(1)
  })
})

describe('recordAudit', () => {
  it('appends an audit row, inside the caller’s transaction when given one', async () => {
    await recordAudit({
      ctx: { db: t.db },
      entry: { eventType: 'config_reload', source: 'monitor:test', detail: 'SIGHUP: configuration reloaded' },
    })
    const [row] = await t.db.select().from(auditLog).where(eq(auditLog.source, 'monitor:test'))
    expect(row).toMatchObject({ eventType: 'config_reload', detail: 'SIGHUP: configuration reloaded', blogId: null })

    await expect(
      withTransaction(t.db, async (tx) => {
        await recordAudit({ ctx: { db: tx }, entry: { eventType: 'rolled_back', source: 'test', blogId: 7n } })
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    const [latest] = await t.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1)
    expect(latest?.eventType).toBe('config_reload')
  })
})

describe('preparedPerDatabase', () => {
  const built: string[] = []
  const byEvent = preparedPerDatabase((db: DbOrTx, shape: 'one' | 'all') => {
    built.push(shape)
    const query = db.select({ id: auditLog.id }).from(auditLog)
    return (shape === 'one' ? query.where(eq(auditLog.eventType, sql.placeholder('type'))) : query).prepare()
  })

  it('builds a shape once per handle and binds each call', async () => {
    const write = (eventType: string) =>
      recordAudit({ ctx: { db: t.db }, entry: { eventType, source: 'test', detail: 'prepared', blogId: 1n } })
    await write('prepared_a')
    await write('prepared_b')
    expect(await byEvent(t.db, 'one').execute({ type: 'prepared_a' })).toHaveLength(1)
    expect(await byEvent(t.db, 'one').execute({ type: 'prepared_c' })).toHaveLength(0)
    expect((await byEvent(t.db, 'all').execute()).length).toBeGreaterThanOrEqual(2)
    expect(byEvent(t.db, 'one')).toBe(byEvent(t.db, 'one'))
    expect(built).toEqual(['one', 'all'])
  })

  it('prepares a transaction its own query, which reads what the transaction wrote', async () => {
    await withTransaction(t.db, async (tx) => {
      await recordAudit({
        ctx: { db: tx },
        entry: { eventType: 'prepared_in_tx', source: 'test', detail: 'prepared', blogId: 1n },
      })
      expect(await byEvent(tx, 'one').execute({ type: 'prepared_in_tx' })).toHaveLength(1)
      expect(byEvent(tx, 'one')).not.toBe(byEvent(tx, 'one'))
      throw new Error('roll back')
    }).catch((error: Error) => expect(error.message).toBe('roll back'))
    expect(await byEvent(t.db, 'one').execute({ type: 'prepared_in_tx' })).toHaveLength(0)
  })

  it('keeps a bounded number of shapes per handle', () => {
    let builds = 0
    const byNumber = preparedPerDatabase((db: DbOrTx, n: number) => {
      builds++
      return db.select({ id: auditLog.id }).from(auditLog).limit(n).prepare()
    })
    for (let n = 1; n <= PREPARED_SHAPES_MAX; n++) byNumber(t.db, n)
    byNumber(t.db, 1)
    expect(builds).toBe(PREPARED_SHAPES_MAX)
    // One more shape starts afresh: the first ones are built again when asked for.
    byNumber(t.db, PREPARED_SHAPES_MAX + 1)
    byNumber(t.db, 1)
    expect(builds).toBe(PREPARED_SHAPES_MAX + 2)
  })
})
