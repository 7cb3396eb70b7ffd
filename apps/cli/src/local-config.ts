import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { LocalConfigError } from './errors.js'
import {
  type CheckedSettings,
  CONFIG_KEYS,
  checkSettings,
  keyDefinition,
  type LocalConfigSettings,
  parseSettingText,
  type SettingKey,
} from './keys.js'

/** The variable that names the local config file; `off` disables the file. */
export const CONFIG_ENV = 'JETMON_API_CONFIG'

/** Where the local config file is, and why there. */
export type ConfigFileLocation =
  | { disabled: false; path: string; source: 'env' | 'default' }
  | { disabled: true; path: null; source: 'env' }

/** `~/.config/jetmon2/config.json`, or `JETMON_API_CONFIG` (a path, or `off`). */
export function localConfigLocation(options: {
  env: Readonly<Record<string, string | undefined>>
  home: string
  cwd?: string
}): ConfigFileLocation {
  const named = options.env[CONFIG_ENV]?.trim()
  if (named?.toLowerCase() === 'off') return { disabled: true, path: null, source: 'env' }
  if (named)
    return { disabled: false, path: expandPath(named, { home: options.home, base: options.cwd }), source: 'env' }
  return { disabled: false, path: join(options.home, '.config', 'jetmon2', 'config.json'), source: 'default' }
}

/** `~/x` → `<home>/x`; a relative path is taken from `base` (default: the working directory). */
export function expandPath(path: string, options: { home: string; base?: string | undefined }): string {
  if (path === '~') return options.home
  if (path.startsWith('~/')) return join(options.home, path.slice(2))
  return isAbsolute(path) ? path : resolve(options.base ?? process.cwd(), path)
}

/** `0644` from a stat mode. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

// Group and other bits mean someone else on the host may read (or replace) the secret. Windows has
// no such bits, so the rule cannot be checked there.
const isOpenToOthers = (mode: number) => process.platform !== 'win32' && (mode & 0o077) !== 0

/** A shell-safe spelling of `path` for a command an operator will paste. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`
}

/**
 * Reads a secret-bearing file: refuses it unless it is a regular file that only its owner can use.
 * The mode is taken from the open descriptor, so the file checked is the file read.
 */
export function readPrivateFile(
  path: string,
  options: {
    /** `config file`, `token file`: for messages. */
    what: string
    /** Whether this content needs the file to be private (a config file without a token does not). */
    mustBePrivate: (content: string) => boolean
    /** What is wrong when it is not, in words: `other users on this host can access this token file`. */
    exposed: string
  },
): { content: string; mode: number } | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new LocalConfigError('UNREADABLE', path, `cannot read the ${options.what}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new LocalConfigError('UNREADABLE', path, `the ${options.what} is not a regular file`)
    const content = readFileSync(fd, 'utf8')
    if (isOpenToOthers(stat.mode) && options.mustBePrivate(content)) {
      throw new LocalConfigError(
        'INSECURE_PERMISSIONS',
        path,
        `${options.exposed} (mode ${formatMode(stat.mode)}); it must be mode 0600 (owner only), so it was not read. Fix it with: chmod 600 ${shellQuote(path)}`,
      )
    }
    return { content, mode: stat.mode & 0o777 }
  } finally {
    closeSync(fd)
  }
}

/** The local config file as read: its raw JSON (kept whole when rewriting) and the checked settings. */
export interface LocalConfigFile {
  path: string
  exists: boolean
  /** Permission bits (`0o600`), or `null` when the file does not exist. */
  mode: number | null
  /** The JSON object as it is in the file, unknown keys included. */
  raw: Record<string, unknown>
  checked: CheckedSettings
}

/**
 * Reads the local config file. A missing file is an empty one. Throws `INSECURE_PERMISSIONS` when it
 * holds a token and is not mode 0600, `INVALID_FILE` when it is not a JSON object, `UNREADABLE`
 * when it cannot be opened. Values of the wrong type are reported in `checked.problems`, not thrown,
 * so that `set` can repair them; {@link validSettings} turns them into an error.
 */
export function readLocalConfig(path: string): LocalConfigFile {
  const file = readPrivateFile(path, {
    what: 'config file',
    exposed: 'this config file holds an API token, and other users on this host can access it',
    mustBePrivate: (content) => {
      try {
        const json = JSON.parse(content) as unknown
        return typeof json === 'object' && json !== null && 'token' in json
      } catch {
        // Unparsable, but plainly meant to hold a token.
        return /"token"\s*:/.test(content)
      }
    },
  })
  if (file === null) return { path, exists: false, mode: null, raw: {}, checked: checkSettings({}) }
  let json: unknown
  try {
    json = file.content.trim() === '' ? {} : JSON.parse(file.content)
  } catch (error) {
    // V8's message may quote the text around the mistake, which may be the token: keep only where it is.
    const where = /line \d+ column \d+|position \d+/.exec((error as Error).message)?.[0]
    throw new LocalConfigError(
      'INVALID_FILE',
      path,
      `is not valid JSON${where ? ` (at ${where})` : ''}; fix it by hand, or start over with: jetmon2 api local-config init --force`,
    )
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new LocalConfigError(
      'INVALID_FILE',
      path,
      'must hold a JSON object such as {"url": "http://127.0.0.1:8090"}; start over with: jetmon2 api local-config init --force',
    )
  }
  const raw = json as Record<string, unknown>
  return { path, exists: true, mode: file.mode, raw, checked: checkSettings(raw) }
}

/** The file's settings, or `INVALID_FILE` listing every `key: message` problem. */
export function validSettings(file: LocalConfigFile): LocalConfigSettings {
  const { problems } = file.checked
  if (problems.length === 0) return file.checked.settings
  const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n')
  throw new LocalConfigError(
    'INVALID_FILE',
    file.path,
    `${problems.length} problem(s):\n${lines}\nfix them with: jetmon2 api local-config set <key> <value> (or unset <key>)`,
  )
}

// Known keys first in their documented order, then whatever else the file holds.
function ordered(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key } of CONFIG_KEYS) if (raw[key] !== undefined) out[key] = raw[key]
  for (const [key, value] of Object.entries(raw)) if (!(key in out) && value !== undefined) out[key] = value
  return out
}

/**
 * Writes the file with mode 0600 (its folder created 0700), whatever it holds: a token may be added
 * later. The content goes to a temporary file that is renamed over the old one, so a crash never
 * leaves half a file, and the new file never exists with wider permissions.
 */
export function writeLocalConfig(path: string, raw: Record<string, unknown>): void {
  let target = path
  try {
    target = realpathSync(path) // write through a symlink, not over it
  } catch {
    // not there yet
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
  const temporary = `${target}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, `${JSON.stringify(ordered(raw), null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    renameSync(temporary, target)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw new LocalConfigError('UNREADABLE', path, `cannot write the config file: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

/** Writes a fresh config file; an existing one is replaced only with `force`. */
export function initLocalConfig(path: string, settings: LocalConfigSettings, options: { force?: boolean } = {}): void {
  let exists = true
  try {
    closeSync(openSync(path, 'r'))
  } catch (error) {
    exists = (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
  if (exists && !options.force) {
    throw new LocalConfigError(
      'FILE_EXISTS',
      path,
      'already exists, left as it is; see it with: jetmon2 api local-config show, or replace it with: jetmon2 api local-config init --force',
    )
  }
  writeLocalConfig(path, settings as Record<string, unknown>)
}

/** Validates `text` for `key` and writes it into the file (created if missing). Returns the stored value. */
export function setLocalConfigValue(
  path: string,
  key: string,
  text: string,
): { key: SettingKey; value: string | number | boolean } {
  const definition = keyDefinition(key)
  const value = parseSettingText(definition.key, text)
  const file = readLocalConfig(path)
  const raw = { ...file.raw, [definition.key]: value }
  // One way to get a token per level: a file with both would leave the reader guessing which wins.
  const other = definition.key === 'token' ? 'token_file' : definition.key === 'token_file' ? 'token' : undefined
  if (other && raw[other] !== undefined) {
    throw new LocalConfigError(
      'CONFLICTING_SETTINGS',
      definition.key,
      `the file already sets ${other}; a file may hold token or token_file, not both: first run jetmon2 api local-config unset ${other}`,
    )
  }
  writeLocalConfig(path, raw)
  return { key: definition.key, value }
}

/** Removes `key` from the file. Returns whether it was there. */
export function unsetLocalConfigValue(path: string, key: string): { key: SettingKey; removed: boolean } {
  const definition = keyDefinition(key)
  const file = readLocalConfig(path)
  if (!file.exists || !(definition.key in file.raw)) return { key: definition.key, removed: false }
  const { [definition.key]: _removed, ...rest } = file.raw
  writeLocalConfig(path, rest)
  return { key: definition.key, removed: true }
}
