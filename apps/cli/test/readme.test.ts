/**
 * The README's first example, run line by line with bash against a real API: only the API's
 * address and the token are the test's own; every command must succeed and print what its comment
 * says.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstCodeBlock, outputByCommand, runShellExample } from '@jetmon/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { useTestServer } from './_server.js'

const server = useTestServer()
const home = mkdtempSync(join(tmpdir(), 'jetmon-cli-readme-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const JETMON2 = join(import.meta.dirname, '..', '..', 'jetmon2', 'src', 'cli.ts')
const ROOT = join(import.meta.dirname, '..', '..', '..')

describe('the README example', () => {
  it('configures the CLI once, then every command in it works against the API', async () => {
    const s = server()
    await s.database.pool.query('INSERT INTO jetpack_monitor_sites (blog_id, monitor_url) VALUES (42, ?)', [
      'https://readme.example/',
    ])
    const example = firstCodeBlock(readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8'), 'sh')
    expect(example).toContain('https://jetmon.example.com')
    expect(example).toContain("'jm_…'")
    const script = example.replace('https://jetmon.example.com', s.url).replace("'jm_…'", `'${s.tokens.read}'`)
    // The operator's own settings never leak in: a bare environment with a fresh home.
    const baseEnv = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('JETMON_API_') && name !== 'XDG_CONFIG_HOME'),
    )
    const result = await runShellExample(script, {
      binaries: { jetmon2: JETMON2 },
      baseEnv,
      env: { HOME: home },
      cwd: ROOT,
    })
    expect(result.code, result.stderr).toBe(0)

    const printed = outputByCommand(result.stdout)
    // Standard output is not a terminal here, so each command prints JSON.
    const of = (command: string) => {
      const key = [...printed.keys()].find((line) => line.startsWith(command))
      expect(key, `the example runs \`${command}\``).toBeDefined()
      return JSON.parse(printed.get(key as string) as string)
    }
    expect(of('jetmon2 api health')).toEqual({ status: 'ok' })
    expect(of('jetmon2 api me')).toMatchObject({ consumer: 'cli-read', scope: 'read' })
    expect(of('jetmon2 api sites list')).toMatchObject({ data: [] }) // site 42 is Up
    expect(of('jetmon2 api sites get 42')).toMatchObject({ blog_id: 42, monitor_url: 'https://readme.example/' })
    expect(of('jetmon2 api events list')).toMatchObject({ data: [] })
    expect(of('jetmon2 api stats response-time 42')).toMatchObject({ samples: 0, p50_ms: null })
    expect(of('jetmon2 api commands').map((c: { command: string }) => c.command)).toContain('sites list')
  }, 120_000)
})
