// The real `jetmon2` binary from source, for the suites that drive one process through its CLI,
// its log lines and its REST API.
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { type CliResult, runToCompletion, spawnSource, waitFor } from '@jetmon/testkit'

const CLI = join(import.meta.dirname, '..', '..', '..', 'apps', 'jetmon2', 'src', 'cli.ts')

export type { CliResult }

/** Starts `jetmon2 <args>` (the same entry point the build ships). */
export function spawnJetmon2(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnSource(CLI, args, { env })
}

/** Runs `jetmon2 <args>` to completion. */
export function jetmon2(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runToCompletion(spawnJetmon2(args, env))
}

/**
 * The test kit's `waitFor` with a running process's patience (it takes seconds to check, confirm
 * and notify): 40 s, a probe every 250 ms.
 */
export function waitLong<T>(what: string, probe: () => T | Promise<T>): Promise<NonNullable<T>> {
  return waitFor(what, probe, { timeoutMs: 40_000, intervalMs: 250 })
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
