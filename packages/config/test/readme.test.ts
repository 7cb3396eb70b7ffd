/**
 * The README's first example, run as written with the file and the environment its comments
 * describe: `config.json` holds `{"NUM_OF_CHEKS": 5}` (a temporary file in its place) and
 * NUM_OF_CHECKS=4 is in the environment. It warns about the typo, takes 4 from the environment and
 * builds the JSON Schema.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'jetmon-config-readme-'))
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  rmSync(file, { force: true })
  rmSync(dir, { recursive: true, force: true })
})

describe('README example', () => {
  it('warns about the misspelt key, lets the environment win and builds a JSON Schema', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain("file: 'config.json'")
    const configFile = join(dir, 'config.json')
    writeFileSync(configFile, '{"NUM_OF_CHEKS": 5}')
    vi.stubEnv('NUM_OF_CHECKS', '4')
    writeFileSync(
      file,
      `${code.replace("file: 'config.json'", `file: ${JSON.stringify(configFile)}`)}\nexport { jsonSchema, result }\n`,
    )
    const warned: unknown[][] = []
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warned.push(args)
    })
    const errors = vi.spyOn(console, 'error')
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)

    const { result, jsonSchema } = (await import(file.href)) as {
      result: { ok: boolean; config?: { NUM_OF_CHECKS: number; LOG_LEVEL: string } }
      jsonSchema: { title?: string; properties?: Record<string, unknown> }
    }

    expect(warned).toEqual([['NUM_OF_CHEKS: unknown key, ignored; did you mean NUM_OF_CHECKS?']])
    expect(errors).not.toHaveBeenCalled()
    expect(exit).not.toHaveBeenCalled()
    expect(result.ok).toBe(true)
    expect(result.config).toEqual({ NUM_OF_CHECKS: 4, LOG_LEVEL: 'info' }) // environment > file > default
    expect(jsonSchema.title).toBe('My service')
    expect(Object.keys(jsonSchema.properties ?? {})).toEqual(expect.arrayContaining(['NUM_OF_CHECKS', 'LOG_LEVEL']))
  })
})
