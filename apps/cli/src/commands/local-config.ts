import { homedir } from 'node:os'
import { defineCommand } from 'citty'
import {
  type ApiConnection,
  describeOrigin,
  describeTokenSource,
  redactToken,
  type SettingOrigin,
} from '../connection.js'
import { LocalConfigError } from '../errors.js'
import { CONFIG_KEYS, DEFAULT_URL, type LocalConfigSettings, parseSettingText, type SettingKey } from '../keys.js'
import {
  CONFIG_ENV,
  type ConfigFileLocation,
  formatMode,
  initLocalConfig,
  localConfigLocation,
  setLocalConfigValue,
  unsetLocalConfigValue,
} from '../local-config.js'
import { formatJson, formatTable } from '../output.js'
import { connectionArgs, connectionFor, defineApiCommand, outputArgs, outputFormat, print } from './_shared.js'

function location(): ConfigFileLocation {
  return localConfigLocation({ env: process.env, home: homedir() })
}

/** The file's path, or `FILE_DISABLED` for a command that has to write it. */
function writablePath(): string {
  const where = location()
  if (where.disabled) {
    throw new LocalConfigError(
      'FILE_DISABLED',
      CONFIG_ENV,
      'is off, so no local config file is read or written; unset it (or set it to a file path) to use one',
    )
  }
  return where.path
}

/** A value as `show` and `set` print it: tokens redacted. */
function display(key: SettingKey, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (key === 'token') return redactToken(String(value))
  return String(value)
}

const path = defineApiCommand({
  meta: { name: 'path', description: 'Print the path of the local config file (JETMON_API_CONFIG or the default)' },
  run() {
    print(writablePath())
  },
})

const init = defineApiCommand({
  meta: { name: 'init', description: 'Create the local config file (mode 0600, its folder 0700)' },
  args: {
    force: { type: 'boolean', description: 'Replace an existing file' },
    url: { type: 'string', valueHint: 'url', description: `API base URL to write (default ${DEFAULT_URL})` },
    'token-file': { type: 'string', valueHint: 'path', description: 'Token file to write as token_file' },
  },
  run({ args }) {
    const file = writablePath()
    const settings: LocalConfigSettings = { url: parseSettingText('url', args.url ?? DEFAULT_URL, '--url') }
    if (args['token-file'] !== undefined)
      settings.token_file = parseSettingText('token_file', args['token-file'], '--token-file')
    initLocalConfig(file, settings, { force: args.force === true })
    print(`wrote ${file} (mode 0600)`)
    if (settings.token_file === undefined)
      print(
        'next: give it a token, kept in a file of its own:\n' +
          "  (umask 077; printf '%s\\n' 'jm_…' > ~/.config/jetmon2/token)\n" +
          '  jetmon2 api local-config set token_file ~/.config/jetmon2/token',
      )
  },
})

function fileLine(connection: ApiConnection): string {
  const file = connection.configFile
  if (file.disabled) return `off (${CONFIG_ENV}=off: not read)`
  if (!file.exists) return `${file.path} (does not exist: run jetmon2 api local-config init)`
  return `${file.path} (mode ${formatMode(file.mode ?? 0)})`
}

interface EffectiveSetting {
  key: SettingKey
  file: string | number | boolean | null
  value: string | number | boolean | null
  source: string | null
}

function effectiveSettings(connection: ApiConnection): EffectiveSetting[] {
  const stored = connection.configFile.settings
  const fromFile = (key: SettingKey) =>
    stored[key] === undefined ? null : key === 'token' ? display(key, stored[key]) : stored[key]
  const row = (key: SettingKey, value: string | number | boolean | null, origin: SettingOrigin | string | null) => ({
    key,
    file: fromFile(key),
    value,
    source: origin === null ? null : typeof origin === 'string' ? origin : describeOrigin(origin),
  })
  const token = connection.tokenSource
  return [
    row('url', connection.url, connection.origins.url),
    row(
      'token',
      connection.token === null ? null : redactToken(connection.token),
      token ? describeTokenSource(token) : null,
    ),
    row('token_file', token?.tokenFile ?? null, token?.tokenFile ? describeOrigin(token.origin) : null),
    row('output', connection.output, connection.origins.output),
    row('pretty', connection.pretty, connection.origins.pretty),
    row('timeout', connection.timeoutMs / 1000, connection.origins.timeout),
    row('allow_remote', connection.allowRemote, connection.origins.allowRemote),
  ]
}

const show = defineApiCommand({
  meta: {
    name: 'show',
    description: 'Print the file settings and the effective ones (file < env < flags), token redacted',
  },
  args: { ...connectionArgs, ...outputArgs },
  run({ args }) {
    const connection = connectionFor(args)
    const settings = effectiveSettings(connection)
    if (connection.output === 'json') {
      const file = connection.configFile
      const fileSettings = Object.fromEntries(settings.filter((s) => s.file !== null).map((s) => [s.key, s.file]))
      print(
        formatJson(
          {
            file: {
              path: file.path,
              disabled: file.disabled,
              exists: file.exists,
              mode: file.mode === null ? null : formatMode(file.mode),
              settings: fileSettings,
            },
            effective: Object.fromEntries(settings.map((s) => [s.key, { value: s.value, source: s.source }])),
            api_base_url: connection.apiBaseUrl,
            loopback: connection.isLoopback,
          },
          connection.pretty,
        ),
      )
      return
    }
    const cell = (value: string | number | boolean | null) => (value === null ? '' : String(value))
    print(`config file  ${fileLine(connection)}`)
    print('')
    print(
      formatTable(
        ['key', 'file', 'effective', 'source'],
        settings.map((s) => [s.key, cell(s.file), cell(s.value), cell(s.source)]),
      ),
    )
    const remote = connection.isLoopback
      ? 'on this host'
      : connection.allowRemote
        ? 'remote: writes allowed by allow_remote'
        : 'remote: writes need --allow-remote'
    print(`\nrequests go to ${connection.apiBaseUrl} (${remote})${connection.token ? '' : ', without a token'}`)
  },
})

/** Standard input, whole, for `set <key> -`: a token piped in stays out of the shell history. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('paste the value, then press Enter and Ctrl-D:\n')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').trim()
}

const set = defineApiCommand({
  meta: { name: 'set', description: 'Set one key in the local config file (see keys); VALUE - reads stdin' },
  args: {
    key: { type: 'positional', required: true, description: 'A key from `jetmon2 api local-config keys`' },
    value: { type: 'positional', required: true, description: 'Its value, or - to read it from standard input' },
  },
  async run({ args }) {
    const file = writablePath()
    const text = args.value === '-' ? await readStdin() : args.value
    const result = setLocalConfigValue(file, args.key, text)
    print(`set ${result.key} = ${display(result.key, result.value)} in ${file}`)
    if (result.key === 'token')
      print('note: the token is stored in this file (mode 0600); a token_file keeps it out of the config')
  },
})

const unset = defineApiCommand({
  meta: { name: 'unset', description: 'Remove one key from the local config file (back to its default)' },
  args: { key: { type: 'positional', required: true, description: 'A key from `jetmon2 api local-config keys`' } },
  run({ args }) {
    const file = writablePath()
    const result = unsetLocalConfigValue(file, args.key)
    print(result.removed ? `removed ${result.key} from ${file}` : `${result.key} was not set in ${file}`)
  },
})

const keys = defineApiCommand({
  meta: { name: 'keys', description: 'List the supported keys: type, default, sensitivity, description' },
  args: { ...outputArgs },
  run({ args }) {
    if (outputFormat(args) === 'json') {
      const rows = CONFIG_KEYS.map((d) => ({
        key: d.key,
        type: d.type,
        default: d.default,
        sensitive: d.sensitive,
        env: d.env ?? null,
        flag: d.flag ?? null,
        description: d.description,
      }))
      print(formatJson(rows, args.pretty === true))
      return
    }
    print(
      formatTable(
        ['key', 'type', 'default', 'sensitive', 'env', 'flag', 'description'],
        CONFIG_KEYS.map((d) => [
          d.key,
          d.type,
          d.default,
          d.sensitive ? 'yes' : 'no',
          d.env ?? '',
          d.flag ?? '',
          d.description,
        ]),
      ),
    )
  },
})

/** `jetmon2 api local-config …`: manage the local config file of the API commands. */
export default defineCommand({
  meta: {
    name: 'local-config',
    description: `Manage the local config file of the api commands (~/.config/jetmon2/config.json or ${CONFIG_ENV})`,
  },
  subCommands: { path, init, show, set, unset, keys },
})
