import { spawn } from 'node:child_process'
import { join } from 'node:path'

// The real `jetmon2` binary from source: `api` is mounted there, so this is what an operator runs.
const CLI = join(import.meta.dirname, '..', '..', 'jetmon2', 'src', 'cli.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `jetmon2 <args>` to completion with `env` on top of a copy of this process's environment
 * from which every `JETMON_API_*` variable is removed, so a developer's own settings never leak in.
 * Pass `HOME` (and `JETMON_API_CONFIG`) per test: the real home is never touched.
 */
export function jetmon2(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JETMON_API_')))
  const child = spawn(process.execPath, ['--conditions=@jetmon/source', '--import', 'tsx', CLI, ...args], {
    env: { ...base, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  child.stdin.end(input)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}
