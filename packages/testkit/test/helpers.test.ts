import { createConnection } from 'node:net'
import { describe, expect, it } from 'vitest'
import { manualClock, recordingLogger, refusedPort, useTestDatabase, waitFor } from '../src/index.js'

describe('useTestDatabase', () => {
  const database = useTestDatabase()
  it('hands the file a migrated database of its own', async () => {
    const [rows] = (await database().pool.query('SELECT DATABASE() AS name')) as unknown as [{ name: string }[]]
    expect(rows[0]?.name).toBe(database().name)
    const [tables] = (await database().pool.query("SHOW TABLES LIKE 'jetmon_webhooks'")) as unknown as [unknown[]]
    expect(tables).toHaveLength(1)
  })
})

describe('manualClock', () => {
  it('moves only when told; the monotonic reading never goes back', () => {
    const clock = manualClock(new Date('2030-01-01T00:00:00.000Z'))
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z')
    const before = clock.monotonic()
    expect(clock.advance(1_500).toISOString()).toBe('2030-01-01T00:00:01.500Z')
    expect(clock.monotonic()).toBe(before + 1_500)
    clock.set(new Date('2029-12-31T00:00:00.000Z'))
    expect(clock.now().toISOString()).toBe('2029-12-31T00:00:00.000Z')
    expect(clock.monotonic()).toBe(before + 1_500)
  })
})

describe('recordingLogger', () => {
  it('keeps every call with its level, fields and message', () => {
    const logger = recordingLogger()
    logger.warn({ blogId: 1 }, 'slow')
    logger.info('started')
    expect(logger.entries).toEqual([
      { level: 'warn', obj: { blogId: 1 }, msg: 'slow' },
      { level: 'info', obj: {}, msg: 'started' },
    ])
    expect(logger.messages('warn')).toEqual(['slow'])
  })
})

describe('waitFor', () => {
  it('resolves with the first truthy probe', async () => {
    let calls = 0
    expect(await waitFor('the third call', () => (++calls >= 3 ? calls : 0), { intervalMs: 1 })).toBe(3)
  })

  it('fails naming what it waited for', async () => {
    await expect(waitFor('a miracle', () => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      /waiting for a miracle/,
    )
  })
})

describe('refusedPort', () => {
  it('is a loopback port that refuses connections', async () => {
    const port = await refusedPort()
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      createConnection({ port, host: '127.0.0.1' }).on('error', resolve)
    })
    expect(error.code).toBe('ECONNREFUSED')
  })
})
