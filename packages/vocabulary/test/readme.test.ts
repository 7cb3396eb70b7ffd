/**
 * The README's first example, run as written: what it prints is captured and compared with what
 * its comments say.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => rmSync(file, { force: true }))

describe('the README example', () => {
  it('prints an event state check, a severity name and ids as JSON writes them', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('console.log(')
    writeFileSync(
      file,
      `export const printed: unknown[][] = []\nconst log = (...values: unknown[]) => printed.push(values)\n${code.replaceAll('console.log(', 'log(')}`,
    )
    const { printed } = (await import(file.href)) as { printed: unknown[][] }
    expect(printed).toEqual([[true], ['Seems Down'], [42, '9007199254740993']])
  })
})
