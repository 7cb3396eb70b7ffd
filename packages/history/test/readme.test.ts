/**
 * The README's first example, run as written against the test kit's database: it records one
 * check, writes it on stop, prunes, and prints the week's statistics, which count that check.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { FlushOutcome, UptimeAndLatency } from '../src/index.js'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
})

describe('README example', () => {
  it('writes the recorded check on stop and reports it in the statistics', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('process.env.DATABASE_URL!')
    writeFileSync(file, code.replace('process.env.DATABASE_URL!', JSON.stringify(database().url)))
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    await import(file.href)

    const [outcome, stats] = printed[0] as [FlushOutcome, { pending: Record<string, number> }]
    expect(outcome.ok).toBe(true)
    expect(outcome.rowsWritten).toBeGreaterThan(0)
    expect(Object.values(stats.pending).every((n) => n === 0)).toBe(true)

    const [week] = printed[1] as [UptimeAndLatency]
    expect(week).toMatchObject({ checks: 1, failures: 0, rttSamples: 1, p50Ms: 87, meanMs: 87, source: 'raw' })
    expect(printed).toHaveLength(2)
  })
})
