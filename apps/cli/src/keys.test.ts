import { describe, expect, test } from 'vitest'
import { LocalConfigError } from './errors.js'
import { CONFIG_KEYS, checkSettings, keyDefinition, parseSettingText } from './keys.js'

const failure = (fn: () => unknown): LocalConfigError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof LocalConfigError) return error
    throw error
  }
  throw new Error('expected a LocalConfigError')
}

describe('keys', () => {
  test('every key documents its type, default, sensitivity and description; only the token is sensitive', () => {
    expect(CONFIG_KEYS.map((d) => d.key)).toEqual([
      'url',
      'token',
      'token_file',
      'output',
      'pretty',
      'timeout',
      'allow_remote',
    ])
    for (const d of CONFIG_KEYS) expect(d.type && d.default && d.description).toBeTruthy()
    expect(CONFIG_KEYS.filter((d) => d.sensitive).map((d) => d.key)).toEqual(['token'])
  })

  test('an unknown key is a usage error that suggests the key that was meant', () => {
    const error = failure(() => keyDefinition('token-flie'))
    expect(error.code).toBe('UNKNOWN_KEY')
    expect(error.isUsageError).toBe(true)
    expect(error.message).toMatch(/^token-flie: unknown key; did you mean token_file\? supported keys: url, token/)
    expect(failure(() => keyDefinition('colour')).message).not.toMatch(/did you mean/)
  })

  test('reads command-line text as the key type', () => {
    expect(parseSettingText('url', 'https://jetmon.example.com/')).toBe('https://jetmon.example.com')
    expect(parseSettingText('url', 'http://10.0.0.5:8090/prefix/api/v1')).toBe('http://10.0.0.5:8090/prefix/api/v1')
    expect(parseSettingText('timeout', '12.5')).toBe(12.5)
    expect(parseSettingText('timeout', '30s')).toBe(30)
    expect(parseSettingText('allow_remote', 'yes')).toBe(true)
    expect(parseSettingText('pretty', 'false')).toBe(false)
    expect(parseSettingText('output', 'JSON')).toBe('json')
    expect(parseSettingText('token', ' jm_abc \n')).toBe('jm_abc')
  })

  test('names the key (or flag, or variable) and the problem for a bad value', () => {
    expect(failure(() => parseSettingText('url', 'ftp://x')).message).toBe(
      'url: must start with http:// or https://, got "ftp:"',
    )
    expect(failure(() => parseSettingText('url', 'https://me:pw@x', '--url')).message).toMatch(
      /^--url: must not contain a user name or password/,
    )
    expect(failure(() => parseSettingText('timeout', '0')).message).toBe(
      'timeout: must be a number of seconds above 0, got 0',
    )
    expect(failure(() => parseSettingText('timeout', 'soon')).code).toBe('INVALID_VALUE')
    expect(failure(() => parseSettingText('output', 'yaml')).message).toBe('output: must be table or json, got "yaml"')
    expect(failure(() => parseSettingText('allow_remote', 'maybe')).isUsageError).toBe(true)
  })

  test('never repeats a token in a message, even a malformed one', () => {
    const message = failure(() => parseSettingText('token', 'jm_secret part-two')).message
    expect(message).toBe('token: must be one word with no spaces or control characters')
    expect(message).not.toContain('secret')
    expect(checkSettings({ token: 12345678 }).problems).toEqual([{ key: 'token', message: 'must be a string' }])
  })

  test('checks a file key by key: good values kept, wrong types listed, unknown keys set aside', () => {
    const checked = checkSettings({
      url: 'http://127.0.0.1:8090/',
      timeout: '30',
      allow_remote: 'true',
      colour: 1,
      ulr: 'x',
    })
    expect(checked.settings).toEqual({ url: 'http://127.0.0.1:8090' })
    expect(checked.problems).toEqual([
      { key: 'timeout', message: 'must be a number of seconds, got string "30"' },
      { key: 'allow_remote', message: 'must be true or false, got string "true"' },
    ])
    expect(checked.unknown).toEqual([
      { key: 'colour', message: 'unknown key, ignored' },
      { key: 'ulr', message: 'unknown key, ignored; did you mean url?' },
    ])
  })
})
