import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { manualClock, recordingLogger, refusedPort, useTestDatabase, waitFor } from '../src/index.js'
import { entryArguments } from '../src/process.js'

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

describe('entryArguments', () => {
  const roots: string[] = []
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true })
  })
  /** A workspace of two built packages; `sourceAge` and `buildAge` are seconds before now. */
  function workspace(ages: { source: number; build: number | null }): { root: string; entry: string } {
    const root = mkdtempSync(join(tmpdir(), 'jetmon-entry-'))
    roots.push(root)
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n')
    const now = Date.now() / 1000
    for (const [name, age] of [
      ['lib', { source: 500, build: 400 }],
      ['app', ages],
    ] as const) {
      const dir = join(root, 'packages', name)
      mkdirSync(join(dir, 'src'), { recursive: true })
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, scripts: { build: 'tsup' } }))
      for (const file of ['index.ts', 'cli.ts']) {
        writeFileSync(join(dir, 'src', file), '')
        utimesSync(join(dir, 'src', file), now - age.source, now - age.source)
      }
      if (age.build === null) continue
      mkdirSync(join(dir, 'dist'))
      for (const file of ['index.js', 'cli.js']) {
        writeFileSync(join(dir, 'dist', file), '')
        utimesSync(join(dir, 'dist', file), now - age.build, now - age.build)
      }
    }
    return { root, entry: join(root, 'packages', 'app', 'src', 'cli.ts') }
  }
  const fromSource = (entry: string) => [
    '--conditions=@jetmon/source',
    '--import',
    expect.stringMatching(/^file:.*tsx/),
    entry,
  ]

  it('runs the build when every package was built after its sources last changed', () => {
    const { root, entry } = workspace({ source: 300, build: 200 })
    expect(entryArguments(entry)).toEqual([join(root, 'packages', 'app', 'dist', 'cli.js')])
  })
  it('runs the sources through tsx when a source is newer than its build, or a package is not built', () => {
    const stale = workspace({ source: 100, build: 200 }).entry
    expect(entryArguments(stale)).toEqual(fromSource(stale))
    const unbuilt = workspace({ source: 100, build: null }).entry
    expect(entryArguments(unbuilt)).toEqual(fromSource(unbuilt))
  })
  it('runs the sources when JETMON_TEST_SOURCE=1, built or not', () => {
    const { entry } = workspace({ source: 300, build: 200 })
    process.env.JETMON_TEST_SOURCE = '1'
    try {
      expect(entryArguments(entry)).toEqual(fromSource(entry))
    } finally {
      delete process.env.JETMON_TEST_SOURCE
    }
  })
})
