/**
 * The README's first example, run as written against the test kit's database, on a free port
 * instead of 8090: it starts the API and prints its URL. The running server answers the public
 * OpenAPI document and refuses an unauthenticated request with the error envelope.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Database } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { RunningApiServer } from '../src/index.js'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
let example: { server: RunningApiServer; database: Database } | undefined

afterAll(async () => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
  await example?.server.close()
  await example?.database.close()
})

describe('README example', () => {
  it('starts the API on the given port and prints its URL', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const connect = 'const { db } = createDatabase(process.env.DATABASE_URL!)'
    expect(code, 'the README has a ts example').toContain(connect)
    expect(code).toContain('{ port: 8090 }')
    writeFileSync(
      file,
      `${code
        .replace(connect, `const database = createDatabase(${JSON.stringify(database().url)})\nconst { db } = database`)
        .replace('{ port: 8090 }', '{ port: 0 }')}\nexport { database, server }\n`,
    )
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    example = (await import(file.href)) as typeof example
    const { server } = example as NonNullable<typeof example>

    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/)
    expect(printed).toEqual([[`API on ${server.url}`]])

    const openapi = await fetch(`${server.url}/openapi.json`)
    expect(openapi.status).toBe(200)
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\.1/)

    const anonymous = await fetch(`${server.url}/sites`)
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ error: { code: expect.any(String) } })
  })
})
