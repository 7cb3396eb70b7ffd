/**
 * How every `jetmon2 api` command is built: the global flags, a strict reading of the command line
 * (an unknown or value-less flag is a usage error, not silently ignored), one {@link Session} per
 * run, the mapping of errors to exit codes, and the catalog entry (`jetmon2 api commands`).
 */

import {
  JetmonApiError,
  JetmonResponseError,
  JetmonTransportError,
  JetmonUsageError,
  type RouteId,
} from '@jetmon/api-client'
import { CommandError, closestKey } from '@jetmon/config'
import { type ArgDef, type ArgsDef, type CommandDef, defineCommand, type ParsedArgs } from 'citty'
import { openSession, type Session } from './_session.js'
import { connectionArgs, connectionFor, outputArgs, print } from './commands/_shared.js'
import { LocalConfigError, UsageError } from './errors.js'
import { formatJson, formatValue, terminalSafe } from './output.js'

/** The flags of every API command (apps/cli/README.md): connection, output, `--verbose`, `--timeout`. */
export const globalArgs = {
  ...connectionArgs,
  ...outputArgs,
  verbose: {
    type: 'boolean',
    description: 'Print each request and response header on stderr (tokens and credentials redacted)',
  },
  timeout: {
    type: 'string',
    valueHint: 'seconds',
    description: 'How long one request may take (default 30, or timeout in the config file)',
  },
} as const satisfies ArgsDef

/** `--allow-remote`, on every command that can write. */
export const writeArgs = {
  'allow-remote': {
    type: 'boolean',
    description: 'Allow writes to an API that is not on this host (localhost/127.0.0.1/::1)',
  },
} as const satisfies ArgsDef

/** What `jetmon2 api commands` lists about a command besides its name and description. */
export interface CatalogInfo {
  examples: readonly string[]
  /** The route(s) it calls. */
  routes?: readonly string[]
  /** For a command without routes: what it needs (`any` for `request`, `local` for none). */
  scope?: string
  writes: boolean
}

const catalog = new WeakMap<object, CatalogInfo>()

/** The catalog entry of a command built here (or registered), if any. */
export function catalogInfo(command: object): CatalogInfo | undefined {
  return catalog.get(command)
}

/** Records the catalog entry of a command not built by {@link defineApiCommand} (local-config). */
export function registerCatalog(command: object, info: CatalogInfo): void {
  catalog.set(command, info)
}

export interface RunContext<A extends ArgsDef> {
  args: ParsedArgs<A>
  session: Session
}

export interface ApiCommandDef<A extends ArgsDef> {
  name: string
  description: string
  /** Whole command lines, `jetmon2 api …`; the first is the one the catalog shows. */
  examples: readonly string[]
  args?: A
  /** Adds `--allow-remote`; the command must call `session.assertWritable` before writing. */
  writes?: boolean
  routes?: readonly RouteId[]
  /** The catalog's scope for a command without routes (default `local`). */
  scope?: string
  run(context: RunContext<A & typeof globalArgs & typeof writeArgs>): Promise<void>
}

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * Reads the command line as citty will, and refuses what citty would let through: unknown flags
 * (with a suggestion), a string flag without a value, surplus positional arguments.
 */
export function checkCommandLine(rawArgs: readonly string[], args: ArgsDef): void {
  const flags = new Map<string, ArgDef>()
  const positionals: string[] = []
  for (const [name, def] of Object.entries(args)) {
    if (def.type === 'positional') {
      positionals.push(name)
      continue
    }
    const aliases = 'alias' in def && def.alias !== undefined ? [def.alias].flat() : []
    for (const spelling of [name, camel(name), kebab(name), ...aliases]) flags.set(spelling, def)
    if (def.type === 'boolean') flags.set(`no-${name}`, def)
  }
  let extra = 0
  let firstExtra: string | undefined
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!
    if (token === '--') {
      extra += rawArgs.length - i - 1
      firstExtra ??= rawArgs[i + 1]
      break
    }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      extra++
      if (extra > positionals.length) firstExtra ??= token
      continue
    }
    const [rawName, inline] = token.replace(/^--?/, '').split(/=(.*)/s) as [string, string | undefined]
    const def = flags.get(rawName)
    if (!def) {
      const known = [...flags.keys()].filter((name) => name.includes('-') || name === name.toLowerCase())
      const guess = closestKey(rawName, known)
      throw new UsageError(`unknown option ${token.split('=')[0]}${guess ? ` (did you mean --${guess}?)` : ''}`)
    }
    if ((def.type === 'string' || def.type === 'enum') && inline === undefined) {
      const value = rawArgs[i + 1]
      if (value === undefined || (value.startsWith('--') && value !== '--'))
        throw new UsageError(`--${rawName} needs a value${def.valueHint ? ` (${def.valueHint})` : ''}`)
      i++
    }
  }
  if (extra > positionals.length)
    throw new UsageError(
      `unexpected argument ${JSON.stringify(firstExtra)}` +
        (positionals.length === 0
          ? ': this command takes none'
          : `: this command takes ${positionals.map((p) => p.toUpperCase()).join(' ')}`),
    )
}

/**
 * The envelope of an API error as an operator reads it: code, status, message, request id, details.
 * What the server (or whatever answered in its place) wrote cannot steer the terminal.
 */
export function describeApiError(error: JetmonApiError): string {
  const lines = [`${error.code} (HTTP ${error.status}): ${error.message}`]
  if (error.requestId) lines.push(`  request id: ${error.requestId}`)
  for (const detail of error.details ?? []) lines.push(`  ${detail.path || '(body)'}: ${detail.message}`)
  if (error.retryAfterSeconds !== null) lines.push(`  retry after: ${error.retryAfterSeconds} s`)
  if (error.body !== undefined && error.code === 'unexpected_response')
    lines.push(`  body: ${error.body.slice(0, 200)}`)
  return terminalSafe(lines.join('\n'))
}

/** The error envelope as JSON output prints it (on stdout, so a pipe always gets one document). */
export function apiErrorJson(error: JetmonApiError) {
  return {
    error: {
      status: error.status,
      code: error.code,
      message: error.message,
      request_id: error.requestId,
      ...(error.details ? { details: error.details } : {}),
    },
  }
}

/** Turns what a command threw into what `runCli` expects: usage errors (exit 2) or failures (exit 1). */
export function toExitError(error: unknown, session: Session | undefined): unknown {
  if (error instanceof UsageError || error instanceof CommandError) return error
  if (error instanceof LocalConfigError)
    return error.isUsageError ? new UsageError(error.message, { cause: error }) : error
  if (error instanceof JetmonApiError) {
    if (session?.format === 'json') process.stdout.write(`${formatJson(apiErrorJson(error), session.pretty)}\n`)
    return new CommandError(describeApiError(error), { cause: error })
  }
  if (error instanceof JetmonTransportError) {
    const hint =
      error.code === 'TIMEOUT'
        ? 'the API did not answer in time; raise --timeout, or check the server'
        : `no answer from the API; is it running at ${session?.connection.url ?? 'the configured URL'}? (--url, JETMON_API_URL)`
    return new CommandError(terminalSafe(`${error.code}: ${error.message}\n  ${hint}`), { cause: error })
  }
  if (error instanceof JetmonUsageError) {
    return error.code === 'PAGINATION_LOOP'
      ? new CommandError(error.message, { cause: error })
      : new UsageError(`${error.code}: ${error.message}`, { cause: error })
  }
  if (error instanceof JetmonResponseError)
    return new CommandError(
      terminalSafe(`${error.code}: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ''}`),
      {
        cause: error,
      },
    )
  return error
}

/** Defines a `jetmon2 api` leaf command (see the module comment). */
export function defineApiCommand<const A extends ArgsDef = Record<never, never>>(def: ApiCommandDef<A>): CommandDef {
  const args = { ...def.args, ...globalArgs, ...(def.writes ? writeArgs : {}) } as A &
    typeof globalArgs &
    typeof writeArgs
  const command = defineCommand({
    meta: { name: def.name, description: def.description },
    args,
    async run({ args: parsed, rawArgs }) {
      let session: Session | undefined
      try {
        checkCommandLine(rawArgs, args)
        session = openSession(connectionFor(parsed), { verbose: parsed.verbose === true })
        await def.run({ args: parsed, session })
      } catch (error) {
        throw toExitError(error, session)
      }
    },
  })
  catalog.set(command, {
    examples: def.examples,
    writes: def.writes === true,
    ...(def.routes ? { routes: def.routes } : {}),
    ...(def.scope ? { scope: def.scope } : {}),
  })
  return command as CommandDef
}

/** Writes a line to stderr (notes that must not end up in a pipe). */
export function note(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`)
}

/** Prints data the way the session asks: JSON (one document) or, for a person, a table. */
export function printData(session: Session, data: unknown, table?: (data: unknown) => string): void {
  if (session.format === 'json') print(formatJson(data ?? null, session.pretty))
  else print(table ? table(data) : formatValue(data))
}
