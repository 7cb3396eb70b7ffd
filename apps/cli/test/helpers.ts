import { join } from 'node:path'
import { type CliResult, runToCompletion, spawnSource } from '@jetmon/testkit'

// The real `jetmon2` binary from source: `api` is mounted there, so this is what an operator runs.
const CLI = join(import.meta.dirname, '..', '..', 'jetmon2', 'src', 'cli.ts')

export type { CliResult }

/**
 * Runs `jetmon2 <args>` to completion with `env` on top of a copy of this process's environment
 * from which every `JETMON_API_*` variable is removed, so a developer's own settings never leak in.
 * Pass `HOME` (and `JETMON_API_CONFIG`) per test: the real home is never touched.
 */
export function jetmon2(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JETMON_API_')))
  return runToCompletion(spawnSource(CLI, args, { baseEnv: base, env, stdin: true }), input)
}
