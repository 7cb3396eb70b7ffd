import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts the real `jetmon2` binary from source (the same entry point the build ships). */
export function spawnJetmon2(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=@jetmon/source', '--import', 'tsx', CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Runs `jetmon2 <args>` to completion. */
export function jetmon2(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawnJetmon2(args, env)
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
