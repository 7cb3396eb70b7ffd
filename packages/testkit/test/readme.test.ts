/**
 * The README's first example is a test file's body: written next to this file and imported while
 * vitest collects it, its `useTestDatabase()` hooks and its `it` become this file's, and the
 * `expect`s it carries are the promises of its comments.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, expect } from 'vitest'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
expect(code, 'the README has a ts example').toContain("from '@jetmon/testkit'")
writeFileSync(file, code)
afterAll(() => rmSync(file, { force: true }))
await import(file.href)
