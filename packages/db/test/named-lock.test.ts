import { desc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, recordAudit, type ScratchDatabase, withNamedLock, withTransaction } from '../src/index.js'
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
