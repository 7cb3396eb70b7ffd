import { type ArgsDef, type CommandDef, defineCommand } from 'citty'
import { type ApiConnection, type ConnectionFlags, resolveConnection } from '../connection.js'
import { LocalConfigError, UsageError } from '../errors.js'
import type { OutputFormat } from '../keys.js'

/** `--url`, `--token`, `--token-file`: the highest-precedence connection settings (apps/cli/README.md). */
export const connectionArgs = {
  url: {
    type: 'string',
    valueHint: 'url',
    description: 'API base URL (overrides JETMON_API_URL and the config file; default http://127.0.0.1:8090)',
  },
  token: {
    type: 'string',
    valueHint: 'token',
    description: 'API token (overrides JETMON_API_TOKEN); prefer --token-file, flags show in the process list',
  },
  'token-file': {
    type: 'string',
    valueHint: 'path',
    description: 'File holding the API token, mode 0600 (overrides JETMON_API_TOKEN_FILE)',
  },
} as const

/** `--output` and `--pretty`, on every command that prints data. */
export const outputArgs = {
  output: {
    type: 'enum' as const,
    options: ['table', 'json'],
    description: 'table (default on a terminal) or json (default otherwise)',
  },
  pretty: { type: 'boolean' as const, description: 'Indent JSON output' },
}

/** The flags of {@link connectionArgs} and {@link outputArgs} in the resolver's shape. */
export function connectionFlags(args: Record<string, unknown>): ConnectionFlags {
  const text = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined)
  return {
    url: text('url'),
    token: text('token'),
    tokenFile: text('token-file'),
    output: text('output'),
    pretty: args.pretty === true ? true : undefined,
    timeout: text('timeout'),
    allowRemote: args['allow-remote'] === true ? true : undefined,
  }
}

/** Resolves the connection for a command and prints the resolver's warnings on stderr. */
export function connectionFor(args: Record<string, unknown>): ApiConnection {
  const connection = resolveConnection({ flags: connectionFlags(args) })
  for (const warning of connection.warnings) process.stderr.write(`warning: ${warning}\n`)
  return connection
}

/** The output format of a command that does not read the config file: `--output`, else by terminal. */
export function outputFormat(args: Record<string, unknown>): OutputFormat {
  if (args.output === 'table' || args.output === 'json') return args.output
  return process.stdout.isTTY ? 'table' : 'json'
}

function toRunnerError(error: unknown): unknown {
  return error instanceof LocalConfigError && error.isUsageError
    ? new UsageError(error.message, { cause: error })
    : error
}

/**
 * citty's `defineCommand`, with `run` wrapped so that our usage errors reach the runner as usage
 * errors (help, exit 2) and every other error as a failure (its message, exit 1).
 */
export function defineApiCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  const run = def.run
  if (!run) return defineCommand(def)
  return defineCommand({
    ...def,
    async run(context) {
      try {
        return await run(context)
      } catch (error) {
        throw toRunnerError(error)
      }
    },
  })
}

/** Writes a line (or lines) to stdout. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`)
}
