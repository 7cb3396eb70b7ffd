/** The README's first example, run as written, prints what its comments say. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it, vi } from 'vitest'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
})

describe('README example', () => {
  it('validates destinations, matches the contact and builds the PagerDuty trigger it describes', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code, 'the README has a ts example').toBeDefined()
    writeFileSync(file, code as string)
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    await import(file.href)

    expect(printed[0]).toEqual([[]]) // "[] — valid"
    expect(printed[1]).toEqual([[{ path: 'destination.address', message: expect.any(String) }]])
    const [action, dedupKey, summary] = printed[2] as [string, string, string]
    expect(action).toBe('trigger')
    expect(dedupKey).toBe('jetmon-event-5')
    expect(summary).toMatch(/^Down: https:\/\/example\.com\/ — connect_timeout: no answer within 10 s \(since .+\)$/)
  })
})
