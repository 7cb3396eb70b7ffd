/** The README's lifecycle example, run as written against a fresh database, prints what it says. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
})

describe('README example', () => {
  it('runs and prints the transitions its comments show', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code, 'the README has a ts example').toBeDefined()
    const promised = [...(code as string).matchAll(/^\/\/ (\d+ \S+: .+)$/gm)].map((m) => m[1])
    expect(promised).toHaveLength(3)

    const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
    writeFileSync(file, code as string)
    const printed: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed.push(String(line))
    })
    const previous = process.env.DATABASE_URL
    process.env.DATABASE_URL = database.url
    try {
      await import(file.href)
    } finally {
      log.mockRestore()
      if (previous === undefined) delete process.env.DATABASE_URL
      else process.env.DATABASE_URL = previous
      rmSync(file, { force: true })
    }
    expect(printed[0]).toMatch(/^event \d+ opened: true$/)
    expect(printed.slice(1)).toEqual(promised)
  })
})
