import { safeErrorMessage, serializeError } from '@jetmon/logging'
import { type CommandDef, runCommand, showUsage } from 'citty'

/**
 * An expected failure of a command (the database is unreachable, a migration failed): the message
 * is printed as it is, for an operator, without a stack trace, and the process exits with `exitCode`.
 */
export class CommandError extends Error {
  readonly exitCode: number
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'CommandError'
    this.exitCode = options.exitCode ?? 1
  }
}

/** Exit codes shared by every subcommand of our binaries: success, failure, usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

const USAGE_ERRORS = new Set(['EARG', 'E_UNKNOWN_COMMAND', 'E_NO_COMMAND'])

/** Walks the argument list down the subcommand tree, for help on the command that was meant. */
async function resolveCommand(root: CommandDef, rawArgs: string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let command = root
  let parent: CommandDef | undefined
  for (const arg of rawArgs) {
    if (arg.startsWith('-')) continue
    const subCommands = (await (typeof command.subCommands === 'function'
      ? command.subCommands()
      : command.subCommands)) as Record<string, CommandDef | (() => Promise<CommandDef>)> | undefined
    const next = subCommands?.[arg]
    if (!next) break
    parent = command
    command = typeof next === 'function' ? await next() : next
  }
  return [command, parent]
}

/**
 * Runs a citty command tree with our exit codes: 0 success, 1 failure (the message printed for an
 * operator), 2 usage error (with the command's help). Returns the code instead of exiting so tests
 * and embedding callers decide.
 */
export async function runCli(root: CommandDef, rawArgs: string[]): Promise<number> {
  if (rawArgs.includes('--help') || rawArgs.includes('-h') || rawArgs.length === 0) {
    const [command, parent] = await resolveCommand(root, rawArgs)
    await showUsage(command, parent)
    return rawArgs.length === 0 ? EXIT.usage : EXIT.ok
  }
  try {
    await runCommand(root, { rawArgs })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code && USAGE_ERRORS.has(code)) {
      const [command, parent] = await resolveCommand(root, rawArgs)
      await showUsage(command, parent)
      process.stderr.write(`\nerror: ${(error as Error).message}\n`)
      return EXIT.usage
    }
    // What reaches the terminal goes through the log's error rules: a failed statement's message
    // carries its bound values (webhook secrets, destinations, header values), which are dropped.
    if (error instanceof CommandError) {
      process.stderr.write(`error: ${safeErrorMessage(error)}\n`)
      return error.exitCode
    }
    process.stderr.write(`error: ${error instanceof Error ? safeErrorMessage(error) : String(error)}\n`)
    if (process.env.JETMON_DEBUG) {
      const serialized = serializeError(error) as { stack?: string }
      process.stderr.write(`${serialized?.stack ?? ''}\n`)
    }
    return EXIT.failure
  }
}
