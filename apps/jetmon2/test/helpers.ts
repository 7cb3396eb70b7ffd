import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts the real `jetmon2` binary from source (the same entry point the build ships). */
export function spawnJetmon2(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { stdin?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, ['--conditions=@jetmon/source', '--import', 'tsx', CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
}

/** Runs `jetmon2 <args>` to completion; `input` is written to its stdin. */
export function jetmon2(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string } = {},
): Promise<CliResult> {
  const child = spawnJetmon2(args, env, { stdin: options.input !== undefined })
  if (options.input !== undefined) child.stdin?.end(options.input)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}
