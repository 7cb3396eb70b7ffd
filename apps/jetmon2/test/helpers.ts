import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
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

/** Polls `probe` every 250 ms until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Collects a child's output line by line; `until` resolves with the first line matching. */
export function lines(child: ChildProcess): {
  all: string[]
  until(pattern: RegExp, timeoutMs?: number): Promise<string>
} {
  const all: string[] = []
  const waiting = new Set<{ pattern: RegExp; resolve: (line: string) => void }>()
  let buffered = ''
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString()
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      all.push(line)
      for (const waiter of waiting) {
        if (waiter.pattern.test(line)) {
          waiting.delete(waiter)
          waiter.resolve(line)
        }
      }
      newline = buffered.indexOf('\n')
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  return {
    all,
    until(pattern, timeoutMs = 30_000) {
      const seen = all.find((line) => pattern.test(line))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve }
        waiting.add(waiter)
        const timer = setTimeout(() => {
          waiting.delete(waiter)
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${all.join('\n')}`))
        }, timeoutMs)
        const done = waiter.resolve
        waiter.resolve = (line) => {
          clearTimeout(timer)
          done(line)
        }
      })
    },
  }
}

/** A port that was free a moment ago (API_PORT 0 means "no API", so a test picks one). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
