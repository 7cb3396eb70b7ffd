/**
 * The README's first example, run as written against the test kit's database, on a free loopback
 * port instead of 8080: it serves the dashboard's pages, leaves other paths to the server around it
 * (404 `not found`), and on SIGINT closes the dashboard, the server and the pool.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { refusedPort, useTestDatabase, waitFor } from '@jetmon/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
let onSigint: (() => unknown) | undefined

afterAll(async () => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
  if (onSigint) {
    process.removeListener('SIGINT', onSigint)
    await onSigint()
  }
})

describe('README example', () => {
  it('serves the dashboard beside the paths it leaves alone, and closes on SIGINT', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('process.env.DATABASE_URL!')
    expect(code).toContain('8080')
    const port = await refusedPort() // free a moment ago
    writeFileSync(
      file,
      code.replace('process.env.DATABASE_URL!', JSON.stringify(database().url)).replaceAll('8080', String(port)),
    )
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    const before = new Set(process.listeners('SIGINT'))
    await import(file.href)
    onSigint = process.listeners('SIGINT').find((listener) => !before.has(listener)) as () => unknown
    expect(onSigint, 'the example waits for SIGINT').toBeDefined()

    const origin = `http://127.0.0.1:${port}`
    await waitFor('the server to listen', () => printed.length > 0)
    expect(printed).toEqual([[`${origin}/`]])

    const home = await fetch(`${origin}/`)
    expect(home.status).toBe(200)
    expect(home.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await home.text()).toContain('Jetmon')

    const ops = await fetch(`${origin}/healthz`)
    expect(ops.status).toBe(404)
    expect(await ops.text()).toBe('not found\n')

    const handler = onSigint as () => unknown
    process.removeListener('SIGINT', handler)
    onSigint = undefined
    await handler()
    await expect(fetch(`${origin}/`)).rejects.toThrow()
  })
})
