import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { type CliResult, runToCompletion, spawnSource } from '@jetmon/testkit'

export type { CliResult }

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

/** Starts the real `jetmon2` binary from source (the same entry point the build ships). */
export function spawnJetmon2(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { stdin?: boolean } = {},
): ChildProcess {
  return spawnSource(CLI, args, { env, stdin: options.stdin ?? false })
}

/** Runs `jetmon2 <args>` to completion; `input` is written to its stdin. */
export function jetmon2(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string } = {},
): Promise<CliResult> {
  return runToCompletion(spawnJetmon2(args, env, { stdin: options.input !== undefined }), options.input)
}
