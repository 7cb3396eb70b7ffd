/**
 * The README's first example, run as written against a fresh database: the host takes the
 * bucket space, the endpoint it owns is checked (printed), and its SIGTERM handler stops the
 * scheduler, the source and the lease, leaving the host's row draining with no buckets.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { endpointConfig, hosts, monitorSites } from '@jetmon/db'
import { createTestDatabase, type TestDatabase, waitFor } from '@jetmon/testkit'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
let t: TestDatabase
let onSigterm: (() => Promise<void>) | undefined
const previousUrl = process.env.DATABASE_URL

beforeAll(async () => {
  t = await createTestDatabase()
})

afterAll(async () => {
  vi.restoreAllMocks()
  if (onSigterm) {
    process.removeListener('SIGTERM', onSigterm)
    await onSigterm()
  }
  if (previousUrl === undefined) delete process.env.DATABASE_URL
  else process.env.DATABASE_URL = previousUrl
  rmSync(file, { force: true })
  await t?.drop()
})

describe('README example', () => {
  it('checks the endpoints of the buckets it leases, and shuts down cleanly on SIGTERM', async () => {
    const url = 'https://readme.example/'
    const [row] = await t.db.insert(monitorSites).values({ blogId: 42n, bucketNo: 400, monitorUrl: url }).$returningId()
    await t.db.insert(endpointConfig).values({ endpointId: BigInt(row!.endpointId), checkIntervalSec: 1 })

    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code, 'the README has a ts example').toContain('process.env.DATABASE_URL')
    writeFileSync(file, code as string)
    process.env.DATABASE_URL = t.url
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    const before = new Set(process.listeners('SIGTERM'))
    await import(file.href)
    onSigterm = process.listeners('SIGTERM').find((listener) => !before.has(listener)) as typeof onSigterm
    expect(onSigterm, 'the example handles SIGTERM').toBeDefined()

    await waitFor('the owned endpoint to be checked', () =>
      printed.some(([what, at]) => what === 'check' && at === url),
    )
    const [registered] = await t.db.select().from(hosts).where(eq(hosts.hostId, 'mon-1'))
    expect(registered).toMatchObject({ status: 'active', bucketMin: 0, bucketMax: 999, version: '2.0.0' })

    // What a SIGTERM runs (called here instead of signalling the test runner).
    const handler = onSigterm as () => Promise<void>
    onSigterm = undefined
    process.removeListener('SIGTERM', handler)
    await handler()
    const [drained] = await t.db.select().from(hosts).where(eq(hosts.hostId, 'mon-1'))
    expect(drained).toMatchObject({ status: 'draining', bucketMin: null })
  })
})
