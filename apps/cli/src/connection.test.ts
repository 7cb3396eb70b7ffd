import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import {
  apiBaseUrl,
  describeOrigin,
  describeTokenSource,
  isLoopbackUrl,
  type ResolveConnectionOptions,
  redactToken,
  resolveConnection,
} from './connection.js'
import { LocalConfigError } from './errors.js'

const root = mkdtempSync(join(tmpdir(), 'jetmon-cli-connection-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let counter = 0

/** A fresh home with (optionally) a config file and token files, all private unless told. */
function home(files: Record<string, { content: unknown; mode?: number }> = {}): string {
  const dir = join(root, `home-${++counter}`)
  mkdirSync(join(dir, '.config', 'jetmon2'), { recursive: true })
  for (const [name, { content, mode }] of Object.entries(files)) {
    const path = join(dir, name)
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
    chmodSync(path, mode ?? 0o600)
  }
  return dir
}
const CONFIG = '.config/jetmon2/config.json'
const resolve = (options: ResolveConnectionOptions & { home: string }) =>
  resolveConnection({ env: {}, isTTY: false, cwd: options.home, ...options })
const failure = (fn: () => unknown): LocalConfigError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof LocalConfigError) return error
    throw error
  }
  throw new Error('expected a LocalConfigError')
}

const FILE_TOKEN = 'jm_file_0123456789abcdef'
const ENV_TOKEN = 'jm_env_0123456789abcdef'
const FLAG_TOKEN = 'jm_flag_0123456789abcdef'

describe('resolveConnection', () => {
  test('without a file, variables or flags: the local API, no token, json when piped', () => {
    const connection = resolve({ home: home() })
    expect(connection).toMatchObject({
      url: 'http://127.0.0.1:8090',
      apiBaseUrl: 'http://127.0.0.1:8090/api/v1',
      isLoopback: true,
      token: null,
      tokenSource: null,
      output: 'json',
      pretty: false,
      timeoutMs: 30_000,
      allowRemote: false,
      configFile: { disabled: false, exists: false, source: 'default' },
      warnings: [],
    })
    expect(describeOrigin(connection.origins.output)).toBe('default (stdout is not a terminal)')
    expect(resolveConnection({ home: home(), env: {}, isTTY: true }).output).toBe('table')
  })

  test('precedence for every setting: file < environment < flags', () => {
    const dir = home({
      [CONFIG]: {
        content: { url: 'http://file:1', token: FILE_TOKEN, output: 'table', timeout: 5, allow_remote: true },
      },
    })
    const env = { JETMON_API_URL: 'http://env:2', JETMON_API_TOKEN: ENV_TOKEN }
    const fromFile = resolve({ home: dir })
    expect([fromFile.url, fromFile.token, fromFile.output, fromFile.timeoutMs, fromFile.allowRemote]).toEqual([
      'http://file:1',
      FILE_TOKEN,
      'table',
      5000,
      true,
    ])
    expect(describeOrigin(fromFile.origins.url)).toBe(`file ${join(dir, CONFIG)}`)

    const fromEnv = resolve({ home: dir, env })
    expect([fromEnv.url, fromEnv.token]).toEqual(['http://env:2', ENV_TOKEN])
    expect(describeTokenSource(fromEnv.tokenSource!)).toBe('env JETMON_API_TOKEN')

    const fromFlags = resolve({
      home: dir,
      env,
      flags: { url: 'https://flag:3/', token: FLAG_TOKEN, output: 'json', timeout: '2.5', pretty: true },
    })
    expect(fromFlags).toMatchObject({
      url: 'https://flag:3',
      apiBaseUrl: 'https://flag:3/api/v1',
      isLoopback: false,
      token: FLAG_TOKEN,
      output: 'json',
      pretty: true,
      timeoutMs: 2500,
      allowRemote: true,
    })
    expect(describeOrigin(fromFlags.origins.url)).toBe('flag --url')
    expect(describeTokenSource(fromFlags.tokenSource!)).toBe('flag --token')
  })

  test('a token file at a higher level beats a token at a lower one, and the other way round', () => {
    const dir = home({ [CONFIG]: { content: { token: FILE_TOKEN } }, 'env-token': { content: `${ENV_TOKEN}\n` } })
    const viaEnvFile = resolve({ home: dir, env: { JETMON_API_TOKEN_FILE: join(dir, 'env-token') } })
    expect(viaEnvFile.token).toBe(ENV_TOKEN)
    expect(viaEnvFile.tokenSource).toEqual({
      origin: { kind: 'env', name: 'JETMON_API_TOKEN_FILE' },
      tokenFile: join(dir, 'env-token'),
    })
    expect(describeTokenSource(viaEnvFile.tokenSource!)).toBe(
      `token file ${join(dir, 'env-token')} (env JETMON_API_TOKEN_FILE)`,
    )

    const viaFlag = resolve({
      home: dir,
      env: { JETMON_API_TOKEN_FILE: join(dir, 'env-token') },
      flags: { token: FLAG_TOKEN },
    })
    expect(viaFlag.token).toBe(FLAG_TOKEN)
  })

  test('a token file named in the config file may use ~ or be relative to the config file', () => {
    const dir = home({
      '.config/jetmon2/token': { content: FILE_TOKEN },
      [CONFIG]: { content: { token_file: 'token' } },
    })
    expect(resolve({ home: dir }).tokenSource?.tokenFile).toBe(join(dir, '.config/jetmon2/token'))
    const tilde = home({ 'my-token': { content: FILE_TOKEN }, [CONFIG]: { content: { token_file: '~/my-token' } } })
    expect(resolve({ home: tilde }).token).toBe(FILE_TOKEN)
  })

  test('refuses a token file that others can read, and a config file with a token that others can read', () => {
    const dir = home({ token: { content: FILE_TOKEN, mode: 0o644 } })
    const tokenFile = failure(() => resolve({ home: dir, flags: { tokenFile: join(dir, 'token') } }))
    expect(tokenFile.code).toBe('INSECURE_PERMISSIONS')
    expect(tokenFile.message).toBe(
      `${join(dir, 'token')}: other users on this host can access this token file (mode 0644); it must be mode 0600 (owner only), so it was not read. Fix it with: chmod 600 ${join(dir, 'token')}`,
    )

    const config = home({ [CONFIG]: { content: { token: FILE_TOKEN }, mode: 0o644 } })
    const error = failure(() => resolve({ home: config, flags: { token: FLAG_TOKEN } }))
    expect(error.code).toBe('INSECURE_PERMISSIONS')
    expect(error.message).toMatch(/chmod 600 .*config\.json$/)
  })

  test('a missing or empty token file is a failure that says what to do', () => {
    const dir = home({ empty: { content: '\n' } })
    const missing = failure(() => resolve({ home: dir, env: { JETMON_API_TOKEN_FILE: 'nope' } }))
    expect([missing.code, missing.path]).toEqual(['UNREADABLE', join(dir, 'nope')])
    expect(missing.message).toMatch(/does not exist; create it with: \(umask 077;/)
    expect(failure(() => resolve({ home: dir, flags: { tokenFile: 'empty' } })).message).toMatch(/is empty/)
  })

  test('a token and a token file at the same level are a usage error', () => {
    const dir = home({ token: { content: FILE_TOKEN } })
    const error = failure(() =>
      resolve({ home: dir, env: { JETMON_API_TOKEN: ENV_TOKEN, JETMON_API_TOKEN_FILE: join(dir, 'token') } }),
    )
    expect([error.code, error.isUsageError]).toEqual(['CONFLICTING_SETTINGS', true])
    expect(error.message).toBe('JETMON_API_TOKEN and JETMON_API_TOKEN_FILE: both are set; give the token one way only')
  })

  test('bad flags and variables are usage errors naming the flag or variable; empty variables are unset', () => {
    const dir = home()
    const flag = failure(() => resolve({ home: dir, flags: { url: 'localhost:8090' } }))
    expect([flag.code, flag.isUsageError, flag.path]).toEqual(['INVALID_VALUE', true, '--url'])
    expect(failure(() => resolve({ home: dir, env: { JETMON_API_URL: 'nope' } })).path).toBe('JETMON_API_URL')
    expect(failure(() => resolve({ home: dir, flags: { timeout: 'forever' } })).path).toBe('--timeout')
    expect(resolve({ home: dir, env: { JETMON_API_URL: '', JETMON_API_TOKEN: ' ' } })).toMatchObject({
      url: 'http://127.0.0.1:8090',
      token: null,
    })
  })

  test('a bad value in the file is a failure listing every problem', () => {
    const dir = home({ [CONFIG]: { content: { url: 'x', timeout: -1, colour: 'red' } } })
    const error = failure(() => resolve({ home: dir }))
    expect([error.code, error.isUsageError]).toEqual(['INVALID_FILE', false])
    expect(error.message).toContain('2 problem(s):\n  url: must be an http(s) URL')
    expect(error.message).toContain('\n  timeout: must be a number of seconds above 0, got -1\n')
  })

  test('unknown keys in the file are warnings, not errors', () => {
    const dir = home({ [CONFIG]: { content: { url: 'http://127.0.0.1:1', tokne: 'x' } } })
    expect(resolve({ home: dir }).warnings).toEqual([
      `${join(dir, CONFIG)}: tokne: unknown key, ignored; did you mean token?`,
    ])
  })

  test('JETMON_API_CONFIG names the file, or turns it off (then even a 0644 file with a token is not read)', () => {
    const dir = home({
      'other.json': { content: { url: 'http://other:9' } },
      [CONFIG]: { content: { url: 'http://file:1', token: FILE_TOKEN }, mode: 0o644 },
    })
    expect(resolve({ home: dir, env: { JETMON_API_CONFIG: join(dir, 'other.json') } }).url).toBe('http://other:9')
    const off = resolve({ home: dir, env: { JETMON_API_CONFIG: 'off' } })
    expect(off).toMatchObject({ url: 'http://127.0.0.1:8090', token: null, configFile: { disabled: true, path: null } })
    expect(resolve({ home: dir, env: { JETMON_API_CONFIG: join(dir, 'missing.json') } }).warnings).toEqual([
      `JETMON_API_CONFIG names ${join(dir, 'missing.json')}, which does not exist: only the environment and flags apply`,
    ])
  })
})

describe('helpers', () => {
  test('redactToken shows the first five characters of a real token, nothing of a short one', () => {
    expect(redactToken('jm_abcdefghijklmnopqrstuvwxyz')).toBe('jm_ab…(redacted)')
    expect(redactToken('short')).toBe('(redacted)')
  })

  test('isLoopbackUrl and apiBaseUrl', () => {
    expect(['http://localhost:8090', 'http://127.0.0.2', 'http://[::1]:8090'].map(isLoopbackUrl)).toEqual([
      true,
      true,
      true,
    ])
    expect(['https://jetmon.example.com', 'http://10.0.0.1', 'http://128.0.0.1'].map(isLoopbackUrl)).toEqual([
      false,
      false,
      false,
    ])
    expect(apiBaseUrl('https://x/jetmon')).toBe('https://x/jetmon/api/v1')
    expect(apiBaseUrl('https://x/api/v1')).toBe('https://x/api/v1')
  })
})
