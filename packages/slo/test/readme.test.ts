/**
 * The README's first example, run as written against the test kit's database: an objective is
 * created, switched to latency, refused when invalid and deactivated.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { monitorSites } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
})

describe('README example', () => {
  it('creates, updates, refuses and deactivates objectives as it says', async () => {
    await database().db.insert(monitorSites).values({ blogId: 42n, monitorUrl: 'https://shop.example' })
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('process.env.DATABASE_URL!')
    writeFileSync(file, code.replace('process.env.DATABASE_URL!', JSON.stringify(database().url)))
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    await import(file.href)
    expect(printed).toEqual([
      ['shop availability', 99.9, '30d', null],
      ['latency', 800],
      ['INVALID_OBJECTIVE', ['target', 'window']],
      ['active:', 0],
    ])
  })
})
