import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { afterAll, describe, expect, test } from 'vitest'
import { crossCheck } from './cross-check.js'
import { ConfigSchemaError } from './errors.js'
import { httpUrl, integer } from './fields.js'
import { formatIssues } from './issues.js'
import { loadConfig } from './load.js'

const schema = v.pipe(
  v.object({
    NUM_OF_CHECKS: v.optional(integer(1, 20, 'Failed checks before asking verifliers.'), 3),
    BUCKET_TOTAL: v.optional(integer(1, 65536, 'Number of buckets.'), 1000),
    MAX_IN_FLIGHT: v.optional(v.union([v.literal('auto'), integer(1, 100000, 'Checks in flight.')]), 'auto'),
    HISTORY_MODE: v.optional(v.picklist(['all', 'failures']), 'all'),
    PROJECTION_ENABLE: v.optional(v.boolean(), true),
    AUTH_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16))),
    LABEL: v.optional(v.string()),
    VERIFLIERS: v.optional(
      v.array(v.object({ id: v.string(), url: httpUrl('Base URL.'), token: v.pipe(v.string(), v.minLength(16)) })),
      [],
    ),
    PINNED_MIN: v.optional(integer(0, 65535, 'First pinned bucket.')),
  }),
  crossCheck(['PINNED_MIN', 'BUCKET_TOTAL'], (c) => c.PINNED_MIN === undefined || c.PINNED_MIN < c.BUCKET_TOTAL, {
    path: 'PINNED_MIN',
    message: (c) => `must be below BUCKET_TOTAL (${c.BUCKET_TOTAL})`,
  }),
)

const dir = mkdtempSync(join(tmpdir(), 'jetmon-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
function file(content: string | object): string {
  const path = join(dir, `config-${++counter}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return path
}

describe('loadConfig', () => {
  test('applies defaults when there is no file and no environment', () => {
    const result = loadConfig({ schema, env: {} })
    expect(result).toEqual({
      ok: true,
      config: {
        NUM_OF_CHECKS: 3,
        BUCKET_TOTAL: 1000,
        MAX_IN_FLIGHT: 'auto',
        HISTORY_MODE: 'all',
        PROJECTION_ENABLE: true,
        VERIFLIERS: [],
      },
      warnings: [],
      sources: { file: undefined, env: [] },
    })
  })

  test('reads the file and reports where values came from', () => {
    const path = file({ BUCKET_TOTAL: 64, HISTORY_MODE: 'failures' })
    const result = loadConfig({ schema, file: path, env: { NUM_OF_CHECKS: '5', UNRELATED: 'x' } })
    expect(result.ok && result.config).toMatchObject({ BUCKET_TOTAL: 64, HISTORY_MODE: 'failures', NUM_OF_CHECKS: 5 })
    expect(result.sources).toEqual({ file: path, env: ['NUM_OF_CHECKS'] })
  })

  test('warns about a misspelt key, naming the key and the closest known one', () => {
    const result = loadConfig({ schema, file: file({ NUM_OF_CHEKS: 4, history_mode: 'all' }), env: {} })
    expect(result.ok).toBe(true)
    expect(result.warnings).toEqual([
      { path: 'NUM_OF_CHEKS', message: 'unknown key, ignored; did you mean NUM_OF_CHECKS?' },
      { path: 'history_mode', message: 'unknown key, ignored; did you mean HISTORY_MODE?' },
    ])
  })

  test('warns about unknown keys inside lists of objects and uses hints for retired keys', () => {
    const result = loadConfig({
      schema,
      file: file({
        NET_COMMS_TIMEOUT: 10,
        COMPLETELY_DIFFERENT: 1,
        VERIFLIERS: [{ id: 'eu', url: 'https://eu.example', token: 'a-token-of-16-chars', tokne: 'x' }],
      }),
      env: {},
      hints: { NET_COMMS_TIMEOUT: 'old setting, ignored: use CHECK_TIMEOUT_MS (milliseconds) instead' },
    })
    expect(result.warnings).toEqual([
      { path: 'NET_COMMS_TIMEOUT', message: 'old setting, ignored: use CHECK_TIMEOUT_MS (milliseconds) instead' },
      { path: 'COMPLETELY_DIFFERENT', message: 'unknown key, ignored (keys are case-sensitive; check the spelling)' },
      { path: 'VERIFLIERS[0].tokne', message: 'unknown key, ignored; did you mean token?' },
    ])
  })

  test('ignores a $schema key, which points editors at the JSON Schema', () => {
    const result = loadConfig({ schema, file: file({ $schema: './app.schema.json', BUCKET_TOTAL: 10 }), env: {} })
    expect(result).toMatchObject({ ok: true, warnings: [], config: { BUCKET_TOTAL: 10 } })
    expect(result.ok && '$schema' in result.config).toBe(false)
  })

  test('reports every bad value with its path, not just the first', () => {
    const result = loadConfig({
      schema,
      file: file({
        BUCKET_TOTAL: -5,
        HISTORY_MODE: 'some',
        PROJECTION_ENABLE: 'true',
        NUM_OF_CHECKS: '3',
        VERIFLIERS: [{ id: 'eu', url: 'ftp://eu.example', token: 'a-token-of-16-chars' }, { id: 7 }],
      }),
      env: {},
    })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.issues).toEqual([
      { path: 'NUM_OF_CHECKS', message: 'expected a number, got "3" (write numbers without quotes)' },
      { path: 'BUCKET_TOTAL', message: 'must be at least 1, got -5' },
      { path: 'HISTORY_MODE', message: 'expected "all" or "failures", got "some"' },
      {
        path: 'PROJECTION_ENABLE',
        message: 'expected true or false, got "true" (write true and false without quotes)',
      },
      { path: 'VERIFLIERS[0].url', message: 'must be an http:// or https:// URL' },
      { path: 'VERIFLIERS[1].id', message: 'expected a string, got 7' },
      { path: 'VERIFLIERS[1].url', message: 'is required' },
      { path: 'VERIFLIERS[1].token', message: 'is required' },
    ])
  })

  test('runs cross-field checks, but not on top of a field that is already wrong', () => {
    const crossed = loadConfig({ schema, file: file({ BUCKET_TOTAL: 10, PINNED_MIN: 10 }), env: {} })
    expect(!crossed.ok && crossed.issues).toEqual([{ path: 'PINNED_MIN', message: 'must be below BUCKET_TOTAL (10)' }])

    const wrongTotal = loadConfig({ schema, file: file({ BUCKET_TOTAL: 0, PINNED_MIN: 10 }), env: {} })
    expect(!wrongTotal.ok && wrongTotal.issues.map((issue) => issue.path)).toEqual(['BUCKET_TOTAL'])
  })

  test('never shows the value of a secret in a message', () => {
    const result = loadConfig({
      schema,
      file: file({
        AUTH_TOKEN: 12345,
        VERIFLIERS: [{ id: 'eu', url: 'https://eu.example', token: 'short-secret' }],
      }),
      env: {},
      secrets: ['AUTH_TOKEN', 'VERIFLIERS[*].token'],
    })
    expect(!result.ok && result.issues).toEqual([
      { path: 'AUTH_TOKEN', message: 'expected a string' },
      { path: 'VERIFLIERS[0].token', message: 'must be at least 16 characters long' },
    ])
    expect(JSON.stringify(result)).not.toContain('12345')
    expect(JSON.stringify(result)).not.toContain('short-secret')
  })
})

describe('environment overrides', () => {
  test('an environment variable wins over the file, which wins over the default', () => {
    const path = file({ NUM_OF_CHECKS: 4, BUCKET_TOTAL: 64 })
    const result = loadConfig({ schema, file: path, env: { NUM_OF_CHECKS: '7' } })
    expect(result.ok && result.config).toMatchObject({ NUM_OF_CHECKS: 7, BUCKET_TOTAL: 64, HISTORY_MODE: 'all' })
  })

  test('coerces strings to the type of each key', () => {
    const result = loadConfig({
      schema,
      env: {
        BUCKET_TOTAL: ' 2000 ',
        MAX_IN_FLIGHT: '250',
        PROJECTION_ENABLE: 'no',
        HISTORY_MODE: 'failures',
        LABEL: '123',
        VERIFLIERS: '[{"id":"eu","url":"https://eu.example:7803","token":"a-token-of-16-chars"}]',
      },
    })
    expect(result.ok && result.config).toMatchObject({
      BUCKET_TOTAL: 2000,
      MAX_IN_FLIGHT: 250,
      PROJECTION_ENABLE: false,
      HISTORY_MODE: 'failures',
      LABEL: '123',
      VERIFLIERS: [{ id: 'eu', url: 'https://eu.example:7803', token: 'a-token-of-16-chars' }],
    })
  })

  test.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['No', false],
  ])('reads %j as the boolean %s', (raw, expected) => {
    const result = loadConfig({ schema, env: { PROJECTION_ENABLE: raw } })
    expect(result.ok && result.config.PROJECTION_ENABLE).toBe(expected)
  })

  test('keeps a literal alternative such as "auto" as a string', () => {
    const result = loadConfig({ schema, file: file({ MAX_IN_FLIGHT: 100 }), env: { MAX_IN_FLIGHT: 'auto' } })
    expect(result.ok && result.config.MAX_IN_FLIGHT).toBe('auto')
  })

  test('treats an empty variable as unset', () => {
    const result = loadConfig({ schema, file: file({ BUCKET_TOTAL: 64 }), env: { BUCKET_TOTAL: '' } })
    expect(result.ok && result.config.BUCKET_TOTAL).toBe(64)
    expect(result.sources.env).toEqual([])
  })

  test('says which variable a value that cannot be converted came from', () => {
    const result = loadConfig({
      schema,
      env: { BUCKET_TOTAL: 'lots', PROJECTION_ENABLE: 'maybe', VERIFLIERS: 'eu=https://eu.example' },
    })
    expect(!result.ok && result.issues).toEqual([
      { path: 'BUCKET_TOTAL', message: 'expected a number, got "lots" (from environment variable BUCKET_TOTAL)' },
      {
        path: 'PROJECTION_ENABLE',
        message: 'expected true or false (or 1/0, yes/no), got "maybe" (from environment variable PROJECTION_ENABLE)',
      },
      {
        path: 'VERIFLIERS',
        message: 'expected a JSON array such as ["a","b"] (from environment variable VERIFLIERS)',
      },
    ])
  })

  test('says which variable a converted but invalid value came from', () => {
    const result = loadConfig({ schema, file: file({ BUCKET_TOTAL: 64 }), env: { BUCKET_TOTAL: '-5' } })
    expect(!result.ok && result.issues).toEqual([
      { path: 'BUCKET_TOTAL', message: 'must be at least 1, got -5 (from environment variable BUCKET_TOTAL)' },
    ])
  })

  test('locates a JSON syntax error in a variable without echoing its text', () => {
    const env = { VERIFLIERS: '[{"id":"eu","token":"secret-token-value",}]' }
    const result = loadConfig({ schema, env })
    expect(!result.ok && result.issues).toEqual([
      {
        path: 'VERIFLIERS',
        message:
          'is not valid JSON: trailing comma before "}" (JSON does not allow one) (at character 41) (from environment variable VERIFLIERS)',
      },
    ])
    expect(JSON.stringify(result)).not.toContain('secret-token-value')
  })

  test('only reads variables named after keys of the schema', () => {
    const result = loadConfig({ schema, env: { NUM_OF_CHEKS: '9', PATH: '/usr/bin' } })
    expect(result).toMatchObject({ ok: true, warnings: [], sources: { env: [] }, config: { NUM_OF_CHECKS: 3 } })
  })
})

describe('aliases (old names of keys)', () => {
  const aliases = { OLD_PROJECTION: 'PROJECTION_ENABLE' }

  test('an old name applies when the current one is set nowhere, with a warning naming the current key', () => {
    for (const [content, env] of [
      [{ OLD_PROJECTION: false }, {}],
      [{}, { OLD_PROJECTION: 'no' }],
    ] as const) {
      const result = loadConfig({ schema, file: file(content), env, aliases })
      expect(result.ok && result.config.PROJECTION_ENABLE).toBe(false)
      expect(result.warnings).toEqual([
        {
          path: 'OLD_PROJECTION',
          message: 'deprecated name of PROJECTION_ENABLE, applied: rename it to PROJECTION_ENABLE',
        },
      ])
    }
  })

  test('the current name wins over the old one, wherever each is set', () => {
    const result = loadConfig({
      schema,
      file: file({ OLD_PROJECTION: false }),
      env: { PROJECTION_ENABLE: 'true' },
      aliases,
    })
    expect(result.ok && result.config.PROJECTION_ENABLE).toBe(true)
    expect(result.warnings.map((w) => w.path)).toEqual(['OLD_PROJECTION'])
    expect(result.warnings[0]?.message).toMatch(/ignored because PROJECTION_ENABLE is also set/)
  })

  test('a bad value is reported under the old name', () => {
    const fromFile = loadConfig({ schema, file: file({ OLD_PROJECTION: 'off' }), env: {}, aliases })
    expect(!fromFile.ok && formatIssues(fromFile.issues)).toBe('OLD_PROJECTION: expected true or false, got "off"')
    const fromEnv = loadConfig({ schema, env: { OLD_PROJECTION: 'off' }, aliases })
    expect(!fromEnv.ok && formatIssues(fromEnv.issues)).toBe(
      'OLD_PROJECTION: expected true or false (or 1/0, yes/no), got "off" (from environment variable OLD_PROJECTION)',
    )
  })

  test('an alias of an unknown key is a bug and throws', () => {
    expect(() => loadConfig({ schema, env: {}, aliases: { OLD: 'MISSING' } })).toThrow(ConfigSchemaError)
  })
})

describe('the file itself', () => {
  test('a JSON syntax error names the file, line and column', () => {
    const path = file('{\n  "BUCKET_TOTAL": 64\n  "NUM_OF_CHECKS": 3\n}\n')
    const result = loadConfig({ schema, file: path, env: {} })
    expect(!result.ok && result.issues).toEqual([
      {
        path: `${path}:3:3`,
        message:
          'not valid JSON at line 3, column 3: expected "," or "}" after a property value, found "\\"" (is a comma missing at the end of the previous value?)',
      },
    ])
    expect(!result.ok && formatIssues(result.issues)).toMatch(
      /config-\d+\.json:3:3: not valid JSON at line 3, column 3/,
    )
  })

  test('a missing file is fine unless it was asked for explicitly', () => {
    const missing = join(dir, 'does-not-exist.json')
    expect(loadConfig({ schema, file: missing, env: {} })).toMatchObject({ ok: true, sources: { file: undefined } })

    const required = loadConfig({ schema, file: missing, required: true, env: {} })
    expect(!required.ok && required.issues).toEqual([
      { path: missing, message: 'config file not found; check the path' },
    ])
  })

  test('a relative path that is missing names the working directory it was resolved against', () => {
    const result = loadConfig({ schema, file: 'no/such/config.json', required: true, env: {} })
    expect(!result.ok && result.issues[0]?.message).toBe(
      `config file not found (relative to the working directory ${process.cwd()}); check the path`,
    )
  })

  test('a file must hold an object', () => {
    const path = file('[1, 2]')
    const result = loadConfig({ schema, file: path, env: {} })
    expect(!result.ok && result.issues).toEqual([
      { path, message: 'must contain a JSON object such as {"LOG_LEVEL": "info"}, found a list' },
    ])
  })

  test('a directory is not a config file', () => {
    const result = loadConfig({ schema, file: dir, required: true, env: {} })
    expect(!result.ok && result.issues).toEqual([{ path: dir, message: 'is a directory, not a config file' }])
  })
})

test('a schema that is not an object schema is a bug and throws', () => {
  expect(() => loadConfig({ schema: v.string(), env: {} })).toThrow(ConfigSchemaError)
})

test('formatIssues writes one "path: message" line per issue', () => {
  expect(
    formatIssues([
      { path: 'BUCKET_TOTAL', message: 'must be at least 1, got -5' },
      { path: '', message: 'no path' },
    ]),
  ).toBe('BUCKET_TOTAL: must be at least 1, got -5\nno path')
})
