/**
 * The README's first example, run as written against the test kit's database: the audit finds the
 * row v1 reports as down, and adoption takes it over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { insertV1Rows } from './_helpers.js'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
})

describe('README example', () => {
  it('audits the range and adopts what v1 reports as down', async () => {
    await insertV1Rows(database().db, [
      { blogId: 1n, monitorUrl: 'https://up.example', bucketNo: 3 },
      { blogId: 2n, monitorUrl: 'https://down.example', bucketNo: 4, siteStatus: 2 },
    ])
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
      ['warning', 'awaiting_adoption', 1],
      ['blocking:', false],
      ['would adopt', { seemsDown: 0, down: 1 }],
      ['adopted', { seemsDown: 0, down: 1 }],
    ])
  })
})
