import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatIssues } from '@jetmon/config'
import { afterAll, describe, expect, test } from 'vitest'
import { describeConfig, loadVeriflier2Config, SECRET_KEYS, veriflier2JsonSchema } from './config.js'

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url))

const dir = mkdtempSync(join(tmpdir(), 'veriflier2-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
function configFile(content: Record<string, unknown> | string): string {
  const path = join(dir, `config-${++counter}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return path
}

const TOKEN = 'veriflier-token-0123456789'
const NEXT_TOKEN = 'veriflier-token-abcdefghij'
const minimal = { VERIFLIER_REGION: 'eu-west', VERIFLIER_TOKENS: [TOKEN] }

function load(values: Record<string, unknown>, env: Record<string, string> = {}) {
  return loadVeriflier2Config({ file: configFile(values), env })
}

test('applies every default', () => {
  const result = load(minimal)
  expect(result).toMatchObject({ ok: true, warnings: [] })
  expect(result.ok && result.config).toEqual({
    VERIFLIER_ID: hostname(),
    VERIFLIER_REGION: 'eu-west',
    VERIFLIER_TOKENS: [TOKEN],
    PORT: 7803,
    BIND: '0.0.0.0',
    MAX_CONCURRENCY: 50,
    BODY_READ_MAX_BYTES: 262144,
    KEYWORD_READ_MAX_BYTES: 1048576,
    BODY_READ_MAX_MS: 2000,
    LOG_LEVEL: 'info',
  })
})

test('runs from environment variables alone, lists as JSON, when the default file is absent', () => {
  const cwd = process.cwd()
  process.chdir(mkdtempSync(join(dir, 'workdir-')))
  const result = loadVeriflier2Config({
    env: {
      VERIFLIER_CONFIG: '',
      VERIFLIER_ID: 'eu-1',
      VERIFLIER_REGION: 'eu-west',
      VERIFLIER_TOKENS: JSON.stringify([TOKEN, NEXT_TOKEN]),
      PORT: '0',
      MAX_CONCURRENCY: '8',
      DNS_SERVERS: '["127.0.0.1:5353"]',
      LOG_FORMAT: 'pretty',
    },
  })
  process.chdir(cwd)
  expect(result.sources).toEqual({
    file: undefined,
    env: [
      'VERIFLIER_ID',
      'VERIFLIER_REGION',
      'VERIFLIER_TOKENS',
      'PORT',
      'MAX_CONCURRENCY',
      'DNS_SERVERS',
      'LOG_FORMAT',
    ],
  })
  expect(result.ok ? [] : result.issues).toEqual([])
  expect(result.ok && result.config).toMatchObject({
    VERIFLIER_ID: 'eu-1',
    VERIFLIER_TOKENS: [TOKEN, NEXT_TOKEN],
    PORT: 0,
    MAX_CONCURRENCY: 8,
    DNS_SERVERS: ['127.0.0.1:5353'],
    LOG_FORMAT: 'pretty',
  })
})

test('an environment variable overrides the file', () => {
  const result = load({ ...minimal, PORT: 7000 }, { PORT: '7100', VERIFLIER_REGION: 'us-east' })
  expect(result.ok && result.config).toMatchObject({ PORT: 7100, VERIFLIER_REGION: 'us-east' })
})

test('the file named by VERIFLIER_CONFIG must exist', () => {
  const absent = join(dir, 'absent.json')
  const result = loadVeriflier2Config({ env: { VERIFLIER_CONFIG: absent } })
  expect(!result.ok && result.issues).toEqual([{ path: absent, message: 'config file not found; check the path' }])
})

describe('rejects', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['VERIFLIER_TOKENS', { VERIFLIER_REGION: 'eu' }, 'is required'],
    ['VERIFLIER_TOKENS', { ...minimal, VERIFLIER_TOKENS: [] }, 'must list at least one token'],
    ['VERIFLIER_TOKENS[1]', { ...minimal, VERIFLIER_TOKENS: [TOKEN, 'short'] }, 'must be at least 16 characters long'],
    ['VERIFLIER_TOKENS', { ...minimal, VERIFLIER_TOKENS: TOKEN }, 'expected a list'],
    ['VERIFLIER_REGION', { VERIFLIER_TOKENS: [TOKEN] }, 'is required'],
    ['VERIFLIER_REGION', { ...minimal, VERIFLIER_REGION: '' }, 'must not be empty'],
    ['PORT', { ...minimal, PORT: 70000 }, 'must be at most 65535, got 70000'],
    ['BIND', { ...minimal, BIND: 'http://0.0.0.0' }, 'must be an IP address or host name without a port'],
    ['MAX_CONCURRENCY', { ...minimal, MAX_CONCURRENCY: 0 }, 'must be at least 1, got 0'],
    ['BODY_READ_MAX_MS', { ...minimal, BODY_READ_MAX_MS: 0 }, 'must be at least 1, got 0'],
    [
      'DNS_SERVERS[0]',
      { ...minimal, DNS_SERVERS: ['resolver.example'] },
      'must be an IP address with an optional port',
    ],
    ['LOG_LEVEL', { ...minimal, LOG_LEVEL: 'loud' }, 'expected "fatal", "error", "warn", "info"'],
  ])('%s in %j', (path, values, message) => {
    const result = load(values)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues).toHaveLength(1)
    expect(result.issues[0]?.path).toBe(path)
    expect(result.issues[0]?.message).toContain(message)
  })

  test('a bad token without showing it', () => {
    const result = load({ ...minimal, VERIFLIER_TOKENS: [TOKEN, 'short-secret'] })
    expect(JSON.stringify(result)).not.toContain('short-secret')
  })

  test('tokens given as a comma-separated variable, explaining the expected JSON', () => {
    const result = load({ VERIFLIER_REGION: 'eu' }, { VERIFLIER_TOKENS: `${TOKEN},${NEXT_TOKEN}` })
    expect(!result.ok && formatIssues(result.issues)).toBe(
      'VERIFLIER_TOKENS: expected a JSON array such as ["a","b"] (from environment variable VERIFLIER_TOKENS)',
    )
    expect(JSON.stringify(result)).not.toContain(TOKEN)
  })
})

test('warns about misspelt keys and about the Go veriflier settings', () => {
  const result = load({ ...minimal, MAX_CONCURENCY: 10, auth_token: 'x', port: '7803' })
  expect(result.ok).toBe(true)
  expect(result.warnings).toEqual([
    { path: 'MAX_CONCURENCY', message: 'unknown key, ignored; did you mean MAX_CONCURRENCY?' },
    {
      path: 'auth_token',
      message: 'setting of the Go veriflier, ignored: use VERIFLIER_TOKENS, a list of tokens',
    },
    { path: 'port', message: 'setting of the Go veriflier, ignored: use PORT' },
  ])
})

test('describeConfig hides the tokens but shows how many there are', () => {
  const result = load({ ...minimal, VERIFLIER_TOKENS: [TOKEN, NEXT_TOKEN] })
  if (!result.ok) throw new Error(formatIssues(result.issues))
  const described = describeConfig(result.config)
  expect(described.VERIFLIER_TOKENS).toEqual(['[redacted]', '[redacted]'])
  expect(JSON.stringify(described)).not.toContain(TOKEN)
  expect(SECRET_KEYS).toEqual(['VERIFLIER_TOKENS[*]'])
})

// Regenerate with: pnpm --filter @jetmon/jetmon2 run config:schema
test('config/veriflier2.schema.json is the generated JSON Schema', async () => {
  await expect(`${JSON.stringify(veriflier2JsonSchema(), null, 2)}\n`).toMatchFileSnapshot(
    repoFile('config/veriflier2.schema.json'),
  )
})
