import { closestKey } from '@jetmon/config'
import { LocalConfigError } from './errors.js'

/** How data is printed: aligned tables for a person, JSON for a pipe. */
export type OutputFormat = 'table' | 'json'
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json']

/** The API a fresh install answers on: `jetmon2` serves `/api/v1` on 127.0.0.1:8090 by default (API_PORT). */
export const DEFAULT_URL = 'http://127.0.0.1:8090'
/** Seconds a whole request may take (connect, headers and body). */
export const DEFAULT_TIMEOUT_SECONDS = 30

/** What the local config file may hold; every key is optional. */
export interface LocalConfigSettings {
  url?: string
  token?: string
  token_file?: string
  output?: OutputFormat
  pretty?: boolean
  timeout?: number
  allow_remote?: boolean
}

export type SettingKey = keyof LocalConfigSettings

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

/** One supported key of the local config file, as `local-config keys` lists it. */
export interface KeyDefinition<K extends SettingKey = SettingKey> {
  key: K
  /** The value's type in words: `url`, `string`, `path`, `table|json`, `boolean`, `seconds`. */
  type: string
  /** The default in words (`none` when there is none). */
  default: string
  /** Never printed in full: `show` redacts it, and a file holding it must be mode 0600. */
  sensitive: boolean
  /** The environment variable that overrides the file, if any. */
  env?: string
  /** The flag that overrides the environment and the file, if any. */
  flag?: string
  description: string
  /** Reads the value from command-line text (`set`, flags, environment). */
  fromText(text: string): Parsed<NonNullable<LocalConfigSettings[K]>>
  /** Checks a value read from the JSON file. */
  fromJson(value: unknown): Parsed<NonNullable<LocalConfigSettings[K]>>
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const problem = <T>(message: string): Parsed<T> => ({ ok: false, message })

/** `http://host:8090/` → `http://host:8090`: the canonical spelling of an API base URL. */
function parseUrl(text: string): Parsed<string> {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return problem(`must be an http(s) URL such as ${DEFAULT_URL}, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return problem(`must start with http:// or https://, got ${JSON.stringify(url.protocol)}`)
  // A password in the URL would be printed by `show` and sent in clear by proxies' logs.
  if (url.username || url.password) return problem('must not contain a user name or password: use token or token_file')
  if (url.search || url.hash) return problem('must not have a query string or a fragment')
  return ok(url.href.replace(/\/+$/, ''))
}

// Tokens never appear in messages, not even a wrong one: it may be a real token pasted in the wrong place.
function parseToken(text: string): Parsed<string> {
  const token = text.trim()
  if (token === '') return problem('must not be empty')
  if (/[\s\p{Cc}]/u.test(token)) return problem('must be one word with no spaces or control characters')
  return ok(token)
}

function parsePath(text: string): Parsed<string> {
  return text.trim() === '' ? problem('must be a file path') : ok(text.trim())
}

function parseOutput(text: string): Parsed<OutputFormat> {
  const value = text.trim().toLowerCase()
  return value === 'table' || value === 'json'
    ? ok(value)
    : problem(`must be table or json, got ${JSON.stringify(text)}`)
}

const TRUE = new Set(['true', 'yes', 'on', '1'])
const FALSE = new Set(['false', 'no', 'off', '0'])
function parseBoolean(text: string): Parsed<boolean> {
  const value = text.trim().toLowerCase()
  if (TRUE.has(value)) return ok(true)
  if (FALSE.has(value)) return ok(false)
  return problem(`must be true or false, got ${JSON.stringify(text)}`)
}

function checkSeconds(value: number): Parsed<number> {
  if (!Number.isFinite(value) || value <= 0) return problem(`must be a number of seconds above 0, got ${value}`)
  if (value > 3600) return problem(`must be at most 3600 seconds (one hour), got ${value}`)
  return ok(value)
}
function parseSeconds(text: string): Parsed<number> {
  const trimmed = text.trim().replace(/s$/, '')
  if (trimmed === '' || !Number.isFinite(Number(trimmed)))
    return problem(`must be a number of seconds such as 30, got ${JSON.stringify(text)}`)
  return checkSeconds(Number(trimmed))
}

const jsonString =
  <T>(parse: (text: string) => Parsed<T>, words = 'a string') =>
  (value: unknown): Parsed<T> =>
    typeof value === 'string' ? parse(value) : problem(`must be ${words}, got ${typeName(value)}`)

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`
}

const definitions: { [K in SettingKey]: KeyDefinition<K> } = {
  url: {
    key: 'url',
    type: 'url',
    default: DEFAULT_URL,
    sensitive: false,
    env: 'JETMON_API_URL',
    flag: '--url',
    description: 'Base URL of the Jetmon API server; /api/v1 is appended unless the URL already ends with it.',
    fromText: parseUrl,
    fromJson: jsonString(parseUrl, 'a URL string'),
  },
  token: {
    key: 'token',
    type: 'string',
    default: 'none',
    sensitive: true,
    env: 'JETMON_API_TOKEN',
    flag: '--token',
    description: 'API token (jm_…), sent as a bearer token to the url origin only. The file must then be mode 0600.',
    fromText: parseToken,
    fromJson: (value) => (typeof value === 'string' ? parseToken(value) : problem('must be a string')),
  },
  token_file: {
    key: 'token_file',
    type: 'path',
    default: 'none',
    sensitive: false,
    env: 'JETMON_API_TOKEN_FILE',
    flag: '--token-file',
    description:
      'File holding the API token (mode 0600); ~ is the home folder, a relative path is relative to this file.',
    fromText: parsePath,
    fromJson: jsonString(parsePath, 'a path string'),
  },
  output: {
    key: 'output',
    type: 'table|json',
    default: 'table on a terminal, json otherwise',
    sensitive: false,
    flag: '--output',
    description: 'How commands print data: aligned tables or JSON.',
    fromText: parseOutput,
    fromJson: jsonString(parseOutput, '"table" or "json"'),
  },
  pretty: {
    key: 'pretty',
    type: 'boolean',
    default: 'false',
    sensitive: false,
    flag: '--pretty',
    description: 'Indent JSON output for reading.',
    fromText: parseBoolean,
    fromJson: (value) =>
      typeof value === 'boolean' ? ok(value) : problem(`must be true or false, got ${typeName(value)}`),
  },
  timeout: {
    key: 'timeout',
    type: 'seconds',
    default: String(DEFAULT_TIMEOUT_SECONDS),
    sensitive: false,
    flag: '--timeout',
    description: 'Seconds a whole API request may take before the command gives up.',
    fromText: parseSeconds,
    fromJson: (value) =>
      typeof value === 'number' ? checkSeconds(value) : problem(`must be a number of seconds, got ${typeName(value)}`),
  },
  allow_remote: {
    key: 'allow_remote',
    type: 'boolean',
    default: 'false',
    sensitive: false,
    flag: '--allow-remote',
    description:
      'Allow writes to an API that is not on this host without --allow-remote each time (bulk and smoke writes still need --batch).',
    fromText: parseBoolean,
    fromJson: (value) =>
      typeof value === 'boolean' ? ok(value) : problem(`must be true or false, got ${typeName(value)}`),
  },
}

/** Every supported key, in the order `keys` and `show` list them. */
export const CONFIG_KEYS: readonly KeyDefinition[] = Object.values(definitions) as KeyDefinition[]
export const SETTING_KEYS = CONFIG_KEYS.map((d) => d.key)

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(definitions, key)
}

/** The definition of `key`, or an `UNKNOWN_KEY` error that suggests the key that was probably meant. */
export function keyDefinition(key: string): KeyDefinition {
  if (isSettingKey(key)) return definitions[key] as KeyDefinition
  const near = closestKey(key, SETTING_KEYS)
  const hint = near ? `did you mean ${near}? ` : ''
  throw new LocalConfigError('UNKNOWN_KEY', key, `unknown key; ${hint}supported keys: ${SETTING_KEYS.join(', ')}`)
}

/** Reads `text` (from `set`, a flag or a variable) as the value of `key`; `INVALID_VALUE` names `where`. */
export function parseSettingText<K extends SettingKey>(
  key: K,
  text: string,
  where: string = key,
): NonNullable<LocalConfigSettings[K]> {
  const parsed = (definitions[key] as KeyDefinition<K>).fromText(text)
  if (!parsed.ok) throw new LocalConfigError('INVALID_VALUE', where, parsed.message)
  return parsed.value
}

/** What a config file holds once checked: the good settings, and one `key: message` per problem. */
export interface CheckedSettings {
  settings: LocalConfigSettings
  /** Values of the wrong type or shape. */
  problems: { key: string; message: string }[]
  /** Keys this version does not know (ignored), with a suggestion when one is near. */
  unknown: { key: string; message: string }[]
}

/** Checks the parsed JSON of a config file key by key. */
export function checkSettings(json: Record<string, unknown>): CheckedSettings {
  const settings: Record<string, unknown> = {}
  const problems: CheckedSettings['problems'] = []
  const unknown: CheckedSettings['unknown'] = []
  for (const [key, value] of Object.entries(json)) {
    if (key === '$schema') continue
    if (!isSettingKey(key)) {
      const near = closestKey(key, SETTING_KEYS)
      unknown.push({ key, message: `unknown key, ignored${near ? `; did you mean ${near}?` : ''}` })
      continue
    }
    const parsed = definitions[key].fromJson(value)
    if (parsed.ok) settings[key] = parsed.value
    else problems.push({ key, message: parsed.message })
  }
  return { settings: settings as LocalConfigSettings, problems, unknown }
}
