import { type ChildProcess, spawn } from 'node:child_process'

/** What a command run to completion left behind. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Starts a workspace binary from its TypeScript entry point (`node --import tsx`, workspace
 * packages resolved to their sources), the way the built one would run: `env` on top of this
 * process's environment (or of `baseEnv`), `NO_COLOR` set, stdout and stderr piped, stdin piped
 * only when asked for.
 */
export function spawnSource(
  entry: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; baseEnv?: NodeJS.ProcessEnv; stdin?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, ['--conditions=@jetmon/source', '--import', 'tsx', entry, ...args], {
    env: { ...(options.baseEnv ?? process.env), NO_COLOR: '1', ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
}

/** Collects a started process's output until it exits; `input`, when given, is written to its stdin. */
export function runToCompletion(child: ChildProcess, input?: string): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  if (input !== undefined) child.stdin?.end(input)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}
