import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { LocalConfigError } from './errors.js'
import {
  formatMode,
  initLocalConfig,
  localConfigLocation,
  readLocalConfig,
  setLocalConfigValue,
  unsetLocalConfigValue,
  validSettings,
} from './local-config.js'

const root = mkdtempSync(join(tmpdir(), 'jetmon-cli-local-config-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let counter = 0
/** A fresh folder per test: no test sees another's file. */
function folder(): string {
  const dir = join(root, `case-${++counter}`)
  mkdirSync(dir)
  return dir
}
const mode = (path: string) => formatMode(statSync(path).mode)
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
function write(path: string, content: unknown, fileMode: number): string {
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  chmodSync(path, fileMode)
  return path
}
const failure = (fn: () => unknown): LocalConfigError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof LocalConfigError) return error
    throw error
  }
  throw new Error('expected a LocalConfigError')
}

describe('localConfigLocation', () => {
  test('defaults to ~/.config/jetmon2/config.json; JETMON_API_CONFIG names another file or turns it off', () => {
    expect(localConfigLocation({ env: {}, home: '/home/op' })).toEqual({
      disabled: false,
      path: '/home/op/.config/jetmon2/config.json',
      source: 'default',
    })
    expect(localConfigLocation({ env: { JETMON_API_CONFIG: '~/jm.json' }, home: '/home/op' }).path).toBe(
      '/home/op/jm.json',
    )
    expect(localConfigLocation({ env: { JETMON_API_CONFIG: 'jm.json' }, home: '/h', cwd: '/srv' }).path).toBe(
      '/srv/jm.json',
    )
    expect(localConfigLocation({ env: { JETMON_API_CONFIG: 'OFF' }, home: '/h' })).toEqual({
      disabled: true,
      path: null,
      source: 'env',
    })
    expect(localConfigLocation({ env: { JETMON_API_CONFIG: '' }, home: '/h' }).source).toBe('default')
  })
})

describe('init', () => {
  test('creates the file 0600 in a new 0700 folder, and will not overwrite it without force', () => {
    const dir = folder()
    const path = join(dir, 'jetmon2', 'config.json')
    initLocalConfig(path, { url: 'http://127.0.0.1:8090' })
    expect(mode(path)).toBe('0600')
    expect(mode(join(dir, 'jetmon2'))).toBe('0700')
    expect(json(path)).toEqual({ url: 'http://127.0.0.1:8090' })

    setLocalConfigValue(path, 'timeout', '5')
    const error = failure(() => initLocalConfig(path, { url: 'http://other:1' }))
    expect(error.code).toBe('FILE_EXISTS')
    expect(error.isUsageError).toBe(false)
    expect(json(path)).toEqual({ url: 'http://127.0.0.1:8090', timeout: 5 })

    initLocalConfig(path, { url: 'http://other:1' }, { force: true })
    expect(json(path)).toEqual({ url: 'http://other:1' })
  })

  test('force replaces a file whatever its state, and leaves it 0600', () => {
    const dir = folder()
    initLocalConfig(join(dir, 'x.json'), {})
    const path = write(join(dir, 'x.json'), '{"token": "jm_leaked', 0o644)
    initLocalConfig(path, { url: 'http://127.0.0.1:8090' }, { force: true })
    expect(mode(path)).toBe('0600')
    expect(readLocalConfig(path).checked.settings).toEqual({ url: 'http://127.0.0.1:8090' })
  })
})

describe('set and unset', () => {
  test('create the file when missing, keep unknown keys and key order, and always write 0600', () => {
    const path = join(folder(), 'config.json')
    setLocalConfigValue(path, 'allow_remote', 'true')
    setLocalConfigValue(path, 'url', 'https://jetmon.example.com/')
    expect(mode(path)).toBe('0600')
    expect(Object.keys(json(path))).toEqual(['url', 'allow_remote'])

    // A 0644 file without a token may be read; once it gets a token it is rewritten 0600.
    write(path, { url: 'http://a:1', future_key: [1, 2] }, 0o644)
    expect(setLocalConfigValue(path, 'token', 'jm_0123456789abcdef')).toEqual({
      key: 'token',
      value: 'jm_0123456789abcdef',
    })
    expect(mode(path)).toBe('0600')
    expect(json(path)).toEqual({ url: 'http://a:1', token: 'jm_0123456789abcdef', future_key: [1, 2] })

    expect(unsetLocalConfigValue(path, 'token')).toEqual({ key: 'token', removed: true })
    expect(unsetLocalConfigValue(path, 'token')).toEqual({ key: 'token', removed: false })
    expect(json(path)).toEqual({ url: 'http://a:1', future_key: [1, 2] })
  })

  test('reject an unknown key or a bad value as usage errors, leaving the file alone', () => {
    const path = join(folder(), 'config.json')
    initLocalConfig(path, { url: 'http://127.0.0.1:8090' })
    const before = readFileSync(path, 'utf8')
    const unknown = failure(() => setLocalConfigValue(path, 'urll', 'http://x'))
    expect([unknown.code, unknown.isUsageError, unknown.message]).toEqual([
      'UNKNOWN_KEY',
      true,
      'urll: unknown key; did you mean url? supported keys: url, token, token_file, output, pretty, timeout, allow_remote',
    ])
    expect(failure(() => setLocalConfigValue(path, 'timeout', '-1')).code).toBe('INVALID_VALUE')
    expect(failure(() => unsetLocalConfigValue(path, 'nope')).code).toBe('UNKNOWN_KEY')
    expect(readFileSync(path, 'utf8')).toBe(before)
  })

  test('a file holds a token or a token file, never both', () => {
    const path = join(folder(), 'config.json')
    setLocalConfigValue(path, 'token_file', '~/token')
    const error = failure(() => setLocalConfigValue(path, 'token', 'jm_0123456789abcdef'))
    expect(error.code).toBe('CONFLICTING_SETTINGS')
    expect(error.message).toMatch(/unset token_file/)
    expect(json(path)).toEqual({ token_file: '~/token' })
  })

  test('can repair a value of the wrong type that was written by hand', () => {
    const path = write(join(folder(), 'config.json'), { timeout: 'thirty' }, 0o600)
    expect(failure(() => validSettings(readLocalConfig(path))).message).toContain(
      'timeout: must be a number of seconds, got string "thirty"',
    )
    setLocalConfigValue(path, 'timeout', '30')
    expect(validSettings(readLocalConfig(path))).toEqual({ timeout: 30 })
  })

  test('writes through a symlink instead of replacing it', () => {
    const dir = folder()
    initLocalConfig(join(dir, 'real.json'), {})
    symlinkSync(join(dir, 'real.json'), join(dir, 'link.json'))
    setLocalConfigValue(join(dir, 'link.json'), 'output', 'json')
    expect(json(join(dir, 'real.json'))).toEqual({ output: 'json' })
  })
})

describe('readLocalConfig', () => {
  test('a missing file is an empty one', () => {
    expect(readLocalConfig(join(folder(), 'none.json'))).toMatchObject({ exists: false, mode: null, raw: {} })
  })

  test('refuses a file holding a token unless it is mode 0600, and says how to fix it', () => {
    const dir = folder()
    initLocalConfig(join(dir, 'config.json'), {})
    for (const open of [0o644, 0o640, 0o604, 0o660]) {
      const path = write(join(dir, 'config.json'), { token: 'jm_0123456789abcdef' }, open)
      const error = failure(() => readLocalConfig(path))
      expect(error.code).toBe('INSECURE_PERMISSIONS')
      expect(error.message).toContain(`(mode ${formatMode(open)})`)
      expect(error.message).toMatch(new RegExp(`Fix it with: chmod 600 ${path}$`))
      expect(error.message).not.toContain('jm_0123456789abcdef')
    }
    const path = write(join(dir, 'config.json'), { token: 'jm_0123456789abcdef' }, 0o400)
    expect(readLocalConfig(path).checked.settings.token).toBe('jm_0123456789abcdef')
    // Without a token there is nothing to protect.
    write(path, { url: 'http://127.0.0.1:8090' }, 0o644)
    expect(readLocalConfig(path).checked.settings).toEqual({ url: 'http://127.0.0.1:8090' })
  })

  test('reports broken JSON without quoting the file, which may hold a token', () => {
    const path = write(join(folder(), 'config.json'), '{"url": "http://a:1",\n "token": jm_notquoted}', 0o600)
    const error = failure(() => readLocalConfig(path))
    expect(error.code).toBe('INVALID_FILE')
    expect(error.message).toMatch(/: is not valid JSON.*init --force$/)
    expect(error.message).not.toContain('jm_notquoted')
    expect(failure(() => readLocalConfig(write(path, '[1]', 0o600))).message).toMatch(/must hold a JSON object/)
  })

  test('a 0644 file that is plainly meant to hold a token is refused even when it does not parse', () => {
    const path = write(join(folder(), 'config.json'), '{"token": "jm_0123456789abcdef",}', 0o644)
    expect(failure(() => readLocalConfig(path)).code).toBe('INSECURE_PERMISSIONS')
  })
})
