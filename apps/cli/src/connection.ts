import { homedir } from 'node:os'
import { dirname } from 'node:path'
import { LocalConfigError } from './errors.js'
import {
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_URL,
  type LocalConfigSettings,
  type OutputFormat,
  parseSettingText,
  type SettingKey,
} from './keys.js'
import {
  type ConfigFileLocation,
  expandPath,
  type LocalConfigFile,
  localConfigLocation,
  readLocalConfig,
  readPrivateFile,
  shellQuote,
  validSettings,
} from './local-config.js'

/** The connection flags every `jetmon2 api` command accepts, as citty parses them. */
export interface ConnectionFlags {
  url?: string | undefined
  token?: string | undefined
  tokenFile?: string | undefined
  output?: string | undefined
  pretty?: boolean | undefined
  /** Seconds. */
  timeout?: string | number | undefined
  allowRemote?: boolean | undefined
}

/** Where a setting's value came from, lowest to highest precedence: default < file < env < flag. */
export type SettingOrigin =
  | { kind: 'default'; detail?: string }
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }

/** Where the token came from: a setting holding it, or a token file named by one. */
export interface TokenSource {
  origin: SettingOrigin
  /** The token file it was read from, or `null` when the setting held the token itself. */
  tokenFile: string | null
}

/** The local config file as the resolver saw it. */
export type ConfigFileState = ConfigFileLocation & {
  exists: boolean
  /** Permission bits, or `null` when there is no file. */
  mode: number | null
  /** The file's own (valid) settings. */
  settings: LocalConfigSettings
}

/** Everything an API command needs to reach the API, with where each value came from. */
export interface ApiConnection {
  /** The server's base URL, without a trailing slash (`http://127.0.0.1:8090`). */
  url: string
  /** The REST API root to hand to `createApiClient({ baseUrl })`: `url` + `/api/v1`. */
  apiBaseUrl: string
  /** Whether `url` is on this host (localhost, 127.0.0.0/8, ::1); writes elsewhere need `allowRemote`. */
  isLoopback: boolean
  token: string | null
  tokenSource: TokenSource | null
  output: OutputFormat
  pretty: boolean
  timeoutMs: number
  allowRemote: boolean
  origins: {
    url: SettingOrigin
    output: SettingOrigin
    pretty: SettingOrigin
    timeout: SettingOrigin
    allowRemote: SettingOrigin
  }
  configFile: ConfigFileState
  /** Things worth telling the operator on stderr (unknown keys in the file). */
  warnings: string[]
}

export interface ResolveConnectionOptions {
  flags?: ConnectionFlags
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>
  /** For `~` and the default config file; default `os.homedir()`. */
  home?: string
  /** For relative paths from flags and variables; default `process.cwd()`. */
  cwd?: string
  /** Whether stdout is a terminal (table output by default); default `process.stdout.isTTY`. */
  isTTY?: boolean
}

/** The user-facing name of an origin: `flag --url`, `env JETMON_API_URL`, `file <path>`, `default`. */
export function describeOrigin(origin: SettingOrigin): string {
  switch (origin.kind) {
    case 'flag':
      return `flag ${origin.name}`
    case 'env':
      return `env ${origin.name}`
    case 'file':
      return `file ${origin.path}`
    case 'default':
      return origin.detail ? `default (${origin.detail})` : 'default'
  }
}

/** `token file /path (env JETMON_API_TOKEN_FILE)`, or the origin of a token given directly. */
export function describeTokenSource(source: TokenSource): string {
  return source.tokenFile
    ? `token file ${source.tokenFile} (${describeOrigin(source.origin)})`
    : describeOrigin(source.origin)
}

/** `jm_ab…(redacted)`: enough to tell two tokens apart, never enough to use one. Short tokens show nothing. */
export function redactToken(token: string): string {
  return token.length >= 16 ? `${token.slice(0, 5)}…(redacted)` : '(redacted)'
}

/** Whether a URL points at this host: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** `http://host:8090` → `http://host:8090/api/v1`; a URL that already ends in `/api/v1` is kept. */
export function apiBaseUrl(url: string): string {
  return /\/api\/v1$/.test(url) ? url : `${url}/api/v1`
}

/** Reads a token file: it must exist, be mode 0600 and hold the token alone. */
export function readTokenFile(path: string): string {
  const file = readPrivateFile(path, {
    what: 'token file',
    exposed: 'other users on this host can access this token file',
    mustBePrivate: () => true,
  })
  if (file === null) {
    throw new LocalConfigError(
      'UNREADABLE',
      path,
      `the token file does not exist; create it with: (umask 077; printf '%s\\n' 'jm_…' > ${shellQuote(path)})`,
    )
  }
  const token = file.content.trim()
  if (token === '') throw new LocalConfigError('UNREADABLE', path, 'the token file is empty; put the API token in it')
  if (/[\s\p{Cc}]/u.test(token))
    throw new LocalConfigError('UNREADABLE', path, 'the token file must hold the token alone, on one line')
  return token
}

interface Layer {
  origin: SettingOrigin
  token?: string | undefined
  tokenFile?: string | undefined
  /** For relative token file paths. */
  base: string
  names: { token: string; tokenFile: string }
}

function resolveToken(layers: Layer[], home: string): { token: string; source: TokenSource } | null {
  for (const layer of layers) {
    if (layer.token !== undefined && layer.tokenFile !== undefined) {
      throw new LocalConfigError(
        'CONFLICTING_SETTINGS',
        `${layer.names.token} and ${layer.names.tokenFile}`,
        'both are set; give the token one way only',
      )
    }
    if (layer.token !== undefined)
      return {
        token: parseSettingText('token', layer.token, layer.names.token),
        source: { origin: layer.origin, tokenFile: null },
      }
    if (layer.tokenFile !== undefined) {
      const path = expandPath(parseSettingText('token_file', layer.tokenFile, layer.names.tokenFile), {
        home,
        base: layer.base,
      })
      return { token: readTokenFile(path), source: { origin: layer.origin, tokenFile: path } }
    }
  }
  return null
}

const envValue = (env: Readonly<Record<string, string | undefined>>, name: string) => {
  const value = env[name]
  // An empty variable is an unset one, as shells and process managers treat them.
  return value === undefined || value.trim() === '' ? undefined : value
}

/**
 * The connection settings of a `jetmon2 api` command (apps/cli/README.md): the local config file, then the
 * environment (`JETMON_API_URL`, `JETMON_API_TOKEN`, `JETMON_API_TOKEN_FILE`), then the flags; the
 * highest that sets a value wins. A token and a token file at the same level are a conflict; at
 * different levels the higher one wins.
 *
 * Throws {@link LocalConfigError}: `INVALID_VALUE` / `CONFLICTING_SETTINGS` for bad flags or
 * variables (usage errors), `INVALID_FILE`, `INSECURE_PERMISSIONS` (a config file holding a token,
 * or a token file, that is not mode 0600) and `UNREADABLE` for files.
 */
export function resolveConnection(options: ResolveConnectionOptions = {}): ApiConnection {
  const flags = options.flags ?? {}
  const env = options.env ?? process.env
  const home = options.home ?? homedir()
  const cwd = options.cwd ?? process.cwd()
  const isTTY = options.isTTY ?? process.stdout.isTTY === true

  const location = localConfigLocation({ env, home, cwd })
  let file: LocalConfigFile | null = null
  let settings: LocalConfigSettings = {}
  const warnings: string[] = []
  if (!location.disabled) {
    file = readLocalConfig(location.path)
    settings = validSettings(file)
    for (const unknown of file.checked.unknown) warnings.push(`${location.path}: ${unknown.key}: ${unknown.message}`)
    if (!file.exists && location.source === 'env')
      warnings.push(
        `JETMON_API_CONFIG names ${location.path}, which does not exist: only the environment and flags apply`,
      )
  }
  const fromFile: SettingOrigin = { kind: 'file', path: location.path ?? '' }

  // Highest precedence first: the first layer with a value wins.
  const pick = <K extends SettingKey, T>(
    key: K,
    candidates: { value: string | number | boolean | undefined; origin: SettingOrigin; where: string }[],
    fallback: { value: T; origin: SettingOrigin },
  ): { value: NonNullable<LocalConfigSettings[K]> | T; origin: SettingOrigin } => {
    for (const candidate of candidates) {
      if (candidate.value === undefined) continue
      const value =
        typeof candidate.value === 'string' ? parseSettingText(key, candidate.value, candidate.where) : candidate.value
      return { value: value as NonNullable<LocalConfigSettings[K]>, origin: candidate.origin }
    }
    const stored = settings[key]
    if (stored !== undefined) return { value: stored as NonNullable<LocalConfigSettings[K]>, origin: fromFile }
    return fallback
  }

  const url = pick(
    'url',
    [
      { value: flags.url, origin: { kind: 'flag', name: '--url' }, where: '--url' },
      {
        value: envValue(env, 'JETMON_API_URL'),
        origin: { kind: 'env', name: 'JETMON_API_URL' },
        where: 'JETMON_API_URL',
      },
    ],
    { value: DEFAULT_URL, origin: { kind: 'default' } },
  )
  const output = pick(
    'output',
    [{ value: flags.output, origin: { kind: 'flag', name: '--output' }, where: '--output' }],
    isTTY
      ? { value: 'table' as const, origin: { kind: 'default', detail: 'stdout is a terminal' } }
      : { value: 'json' as const, origin: { kind: 'default', detail: 'stdout is not a terminal' } },
  )
  const pretty = pick(
    'pretty',
    [{ value: flags.pretty || undefined, origin: { kind: 'flag', name: '--pretty' }, where: '--pretty' }],
    { value: false, origin: { kind: 'default' } },
  )
  const timeoutFlag = typeof flags.timeout === 'number' ? String(flags.timeout) : flags.timeout
  const timeout = pick(
    'timeout',
    [{ value: timeoutFlag, origin: { kind: 'flag', name: '--timeout' }, where: '--timeout' }],
    { value: DEFAULT_TIMEOUT_SECONDS, origin: { kind: 'default' } },
  )
  const allowRemote = pick(
    'allow_remote',
    [
      {
        value: flags.allowRemote || undefined,
        origin: { kind: 'flag', name: '--allow-remote' },
        where: '--allow-remote',
      },
    ],
    { value: false, origin: { kind: 'default' } },
  )

  const token = resolveToken(
    [
      {
        origin: { kind: 'flag', name: flags.token !== undefined ? '--token' : '--token-file' },
        token: flags.token,
        tokenFile: flags.tokenFile,
        base: cwd,
        names: { token: '--token', tokenFile: '--token-file' },
      },
      {
        origin: {
          kind: 'env',
          name: envValue(env, 'JETMON_API_TOKEN') !== undefined ? 'JETMON_API_TOKEN' : 'JETMON_API_TOKEN_FILE',
        },
        token: envValue(env, 'JETMON_API_TOKEN'),
        tokenFile: envValue(env, 'JETMON_API_TOKEN_FILE'),
        base: cwd,
        names: { token: 'JETMON_API_TOKEN', tokenFile: 'JETMON_API_TOKEN_FILE' },
      },
      {
        origin: fromFile,
        token: settings.token,
        tokenFile: settings.token_file,
        base: location.path ? dirname(location.path) : cwd,
        names: { token: 'token', tokenFile: 'token_file' },
      },
    ],
    home,
  )

  return {
    url: url.value,
    apiBaseUrl: apiBaseUrl(url.value),
    isLoopback: isLoopbackUrl(url.value),
    token: token?.token ?? null,
    tokenSource: token?.source ?? null,
    output: output.value,
    pretty: pretty.value,
    timeoutMs: Math.round(timeout.value * 1000),
    allowRemote: allowRemote.value,
    origins: {
      url: url.origin,
      output: output.origin,
      pretty: pretty.origin,
      timeout: timeout.origin,
      allowRemote: allowRemote.origin,
    },
    configFile: location.disabled
      ? { ...location, exists: false, mode: null, settings: {} }
      : { ...location, exists: file?.exists ?? false, mode: file?.mode ?? null, settings },
    warnings,
  }
}
