import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { jetmon2 } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'jetmon-cli-e2e-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let counter = 0

/** A fresh, empty home for one test, and where its default config file would be. */
function newHome() {
  const home = join(root, `home-${++counter}`)
  mkdirSync(home, { mode: 0o700 })
  return { home, env: { HOME: home }, config: join(home, '.config', 'jetmon2', 'config.json') }
}
const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`
function write(path: string, content: unknown, fileMode: number): string {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  chmodSync(path, fileMode)
  return path
}
const api = (args: string[], env: NodeJS.ProcessEnv, input?: string) =>
  jetmon2(['api', 'local-config', ...args], env, input)

const FILE_TOKEN = 'jm_file_0123456789abcdef'
const ENV_TOKEN = 'jm_envv_0123456789abcdef'
const FLAG_TOKEN = 'jm_flag_0123456789abcdef'

// Each test spawns the binary several times; under a loaded machine that takes a while.
describe.concurrent('jetmon2 api local-config', { timeout: 120_000 }, () => {
  test('api without a subcommand is a usage error that lists local-config', async () => {
    const { env } = newHome()
    const result = await jetmon2(['api'], env)
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(/USAGE/)
    expect(result.stdout).toMatch(/local-config +Manage the local config file/)
  })

  test('path: the default under HOME, JETMON_API_CONFIG instead, and a failure when it is off', async () => {
    const { env, config, home } = newHome()
    expect(await api(['path'], env)).toMatchObject({ code: 0, stdout: `${config}\n` })
    const other = join(home, 'elsewhere.json')
    expect((await api(['path'], { ...env, JETMON_API_CONFIG: other })).stdout).toBe(`${other}\n`)
    const off = await api(['path'], { ...env, JETMON_API_CONFIG: 'off' })
    expect(off.code).toBe(1)
    expect(off.stderr).toMatch(/JETMON_API_CONFIG: is off, so no local config file is read or written/)
  })

  test('init creates the file 0600 in a 0700 folder and refuses to overwrite it without --force', async () => {
    const { env, config } = newHome()
    const first = await api(['init'], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`wrote ${config} (mode 0600)`)
    expect(mode(config)).toBe('0600')
    expect(mode(join(config, '..'))).toBe('0700')
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: 'http://127.0.0.1:8090' })

    const again = await api(['init', '--url', 'https://other.example.com'], env)
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists, left as it is.*init --force/)
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: 'http://127.0.0.1:8090' })

    const forced = await api(['init', '--force', '--url', 'https://other.example.com/'], env)
    expect(forced.code).toBe(0)
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: 'https://other.example.com' })
    expect(mode(config)).toBe('0600')
  })

  test('set, unset and keys', async () => {
    const { env, config } = newHome()
    expect((await api(['set', 'url', 'https://jetmon.example.com/'], env)).code).toBe(0)
    expect((await api(['set', 'timeout', '12'], env)).stdout).toBe(`set timeout = 12 in ${config}\n`)
    // A token piped in on stdin stays out of the shell history, and is not echoed back.
    const token = await api(['set', 'token', '-'], env, `${FILE_TOKEN}\n`)
    expect(token.code, token.stderr).toBe(0)
    expect(token.stdout).toContain('set token = jm_fi…(redacted)')
    expect(token.stdout).not.toContain(FILE_TOKEN)
    expect(mode(config)).toBe('0600')
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({
      url: 'https://jetmon.example.com',
      token: FILE_TOKEN,
      timeout: 12,
    })

    expect((await api(['unset', 'timeout'], env)).stdout).toBe(`removed timeout from ${config}\n`)
    expect((await api(['unset', 'timeout'], env)).stdout).toBe(`timeout was not set in ${config}\n`)
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: 'https://jetmon.example.com', token: FILE_TOKEN })

    const keys = await api(['keys'], env) // not a terminal: JSON
    const listed = JSON.parse(keys.stdout) as { key: string; type: string; default: string; sensitive: boolean }[]
    expect(listed.map((k) => k.key)).toEqual([
      'url',
      'token',
      'token_file',
      'output',
      'pretty',
      'timeout',
      'allow_remote',
    ])
    expect(listed[0]).toMatchObject({ key: 'url', type: 'url', default: 'http://127.0.0.1:8090', sensitive: false })
    expect(listed.find((k) => k.key === 'token')?.sensitive).toBe(true)

    const table = (await api(['keys', '--output', 'table'], env)).stdout.split('\n')
    expect(table[0]).toMatch(/^KEY +TYPE +DEFAULT +SENSITIVE +ENV +FLAG +DESCRIPTION$/)
    expect(table[2]).toMatch(/^token +string +none +yes +JETMON_API_TOKEN +--token +API token/)
    // Aligned: every row's TYPE column starts where the heading's does.
    expect(new Set(table.filter(Boolean).map((line) => line.search(/ \S/) + 1)).size).toBe(1)
  })

  test('show redacts the token and says where each value came from: flag > env > file', async () => {
    const { env, config, home } = newHome()
    write(config, { url: 'http://file.example:1', token: FILE_TOKEN, timeout: 7 }, 0o600)
    const show = async (extraEnv: NodeJS.ProcessEnv, flags: string[] = []) => {
      const result = await api(['show', '--output', 'json', ...flags], { ...env, ...extraEnv })
      expect(result.code, result.stderr).toBe(0)
      for (const token of [FILE_TOKEN, ENV_TOKEN, FLAG_TOKEN])
        expect(result.stdout + result.stderr).not.toContain(token)
      return JSON.parse(result.stdout) as {
        file: { path: string; mode: string; settings: Record<string, unknown> }
        effective: Record<string, { value: unknown; source: string | null }>
      }
    }

    const fileOnly = await show({})
    expect(fileOnly.file).toMatchObject({ path: config, mode: '0600', settings: { token: 'jm_fi…(redacted)' } })
    expect(fileOnly.effective.url).toEqual({ value: 'http://file.example:1', source: `file ${config}` })
    expect(fileOnly.effective.token).toEqual({ value: 'jm_fi…(redacted)', source: `file ${config}` })
    expect(fileOnly.effective.timeout).toEqual({ value: 7, source: `file ${config}` })

    const environment = { JETMON_API_URL: 'http://env.example:2', JETMON_API_TOKEN: ENV_TOKEN }
    const withEnv = await show(environment)
    expect(withEnv.effective.url).toEqual({ value: 'http://env.example:2', source: 'env JETMON_API_URL' })
    expect(withEnv.effective.token).toEqual({ value: 'jm_en…(redacted)', source: 'env JETMON_API_TOKEN' })

    const withFlags = await show(environment, ['--url', 'http://flag.example:3', '--token', FLAG_TOKEN])
    expect(withFlags.effective.url).toEqual({ value: 'http://flag.example:3', source: 'flag --url' })
    expect(withFlags.effective.token).toEqual({ value: 'jm_fl…(redacted)', source: 'flag --token' })
    expect(withFlags.effective.timeout).toEqual({ value: 7, source: `file ${config}` })

    const tokenFile = write(join(home, 'token'), `${FLAG_TOKEN}\n`, 0o600)
    const viaFile = await show(environment, ['--token-file', tokenFile])
    expect(viaFile.effective.token).toEqual({
      value: 'jm_fl…(redacted)',
      source: `token file ${tokenFile} (flag --token-file)`,
    })

    const table = await api(['show', '--output', 'table'], { ...env, ...environment })
    expect(table.stdout).toContain(`config file  ${config} (mode 0600)`)
    expect(table.stdout).toMatch(/^url +http:\/\/file\.example:1 +http:\/\/env\.example:2 +env JETMON_API_URL$/m)
    expect(table.stdout).toMatch(/^token +jm_fi…\(redacted\) +jm_en…\(redacted\) +env JETMON_API_TOKEN$/m)
    expect(table.stdout).toMatch(
      /requests go to http:\/\/env\.example:2\/api\/v1 \(remote: writes need --allow-remote\)/,
    )
    expect(table.stdout).not.toContain(FILE_TOKEN)
  })

  test('a config file with a token that is not 0600 is refused with the chmod hint (exit 1)', async () => {
    const { env, config } = newHome()
    write(config, { url: 'http://127.0.0.1:8090', token: FILE_TOKEN }, 0o644)
    for (const args of [['show'], ['set', 'timeout', '5'], ['unset', 'token']]) {
      const result = await api(args, env)
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderr).toContain(
        `error: ${config}: this config file holds an API token, and other users on this host can access it (mode 0644)`,
      )
      expect(result.stderr.trimEnd()).toMatch(new RegExp(`Fix it with: chmod 600 ${config}$`))
      expect(result.stdout + result.stderr).not.toContain(FILE_TOKEN)
    }
    expect(mode(config)).toBe('0644') // refused, not rewritten

    chmodSync(config, 0o600)
    expect((await api(['show'], env)).code).toBe(0)
  })

  test('a token file that is not 0600 is refused, however it is named (exit 1)', async () => {
    const { env, config, home } = newHome()
    const tokenFile = write(join(home, 'token'), FILE_TOKEN, 0o644)
    const hint = `Fix it with: chmod 600 ${tokenFile}`
    const byFlag = await api(['show', '--token-file', tokenFile], env)
    expect(byFlag.code).toBe(1)
    expect(byFlag.stderr).toContain(`${tokenFile}: other users on this host can access this token file (mode 0644)`)
    expect(byFlag.stderr).toContain(hint)
    const byEnv = await api(['show'], { ...env, JETMON_API_TOKEN_FILE: tokenFile })
    expect([byEnv.code, byEnv.stderr.includes(hint)]).toEqual([1, true])
    expect((await api(['set', 'token_file', tokenFile], env)).code).toBe(0) // naming it is fine; reading it is not
    const byConfig = await api(['show'], env)
    expect([byConfig.code, byConfig.stderr.includes(hint)]).toEqual([1, true])
    expect(byConfig.stdout + byConfig.stderr).not.toContain(FILE_TOKEN)
    expect(mode(config)).toBe('0600')
  })

  test('an unknown key or a bad value is a usage error: help, the problem, exit 2', async () => {
    const { env, config } = newHome()
    const unknown = await api(['set', 'tiemout', '10'], env)
    expect(unknown.code).toBe(2)
    expect(unknown.stdout).toMatch(/USAGE .*set/)
    expect(unknown.stderr).toMatch(/error: tiemout: unknown key; did you mean timeout\? supported keys: url, token/)
    expect((await api(['unset', 'colour'], env)).code).toBe(2)
    const bad = await api(['set', 'allow_remote', 'perhaps'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/error: allow_remote: must be true or false, got "perhaps"/)
    expect((await api(['set', 'url'], env)).code).toBe(2) // the value is missing
    expect((await api(['show', '--url', 'not a url'], env)).stderr).toMatch(/error: --url: must be an http\(s\) URL/)
    expect((await api(['show', '--output', 'yaml'], env)).code).toBe(2)
    expect((await api(['frobnicate'], env)).code).toBe(2)
    expect(() => statSync(config)).toThrow(/ENOENT/) // nothing was written
  })

  test('JETMON_API_CONFIG=off ignores the file entirely; writes fail', async () => {
    const { env, config } = newHome()
    write(config, { url: 'http://file.example:1', token: FILE_TOKEN }, 0o644) // would be refused if read
    const off = { ...env, JETMON_API_CONFIG: 'off' }
    const show = await api(['show', '--output', 'json'], off)
    expect(show.code, show.stderr).toBe(0)
    const shown = JSON.parse(show.stdout) as {
      file: { disabled: boolean; path: string | null }
      effective: Record<string, { value: unknown; source: string | null }>
    }
    expect(shown.file).toMatchObject({ disabled: true, path: null })
    expect(shown.effective.url).toEqual({ value: 'http://127.0.0.1:8090', source: 'default' })
    expect(shown.effective.token).toEqual({ value: null, source: null })
    expect((await api(['show', '--output', 'table'], off)).stdout).toContain(
      'config file  off (JETMON_API_CONFIG=off: not read)',
    )
    const set = await api(['set', 'timeout', '5'], off)
    expect(set.code).toBe(1)
    expect(set.stderr).toMatch(/JETMON_API_CONFIG: is off/)
  })
})
