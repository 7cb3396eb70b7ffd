import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type CliResult, runToCompletion, spawnSource } from '@jetmon/testkit'
import * as v from 'valibot'
import { type Veriflier2Config, type Veriflier2ConfigInput, veriflier2ConfigSchema } from '../src/config.js'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

export const TOKEN = 'veriflier-test-token-0123456789'
export const NEXT_TOKEN = 'veriflier-test-token-rotated-abcdef'

/** A validated configuration for in-process servers: loopback, any free port, both test tokens. */
export function testConfig(overrides: Partial<Veriflier2ConfigInput> = {}): Veriflier2Config {
  return v.parse(veriflier2ConfigSchema, {
    VERIFLIER_ID: 'test-1',
    VERIFLIER_REGION: 'test-region',
    VERIFLIER_TOKENS: [TOKEN, NEXT_TOKEN],
    PORT: 0,
    BIND: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...overrides,
  })
}

/** POSTs a JSON body (or raw text) to /v1/check. */
export async function postChecks(
  baseUrl: string,
  body: unknown,
  options: { token?: string | null; raw?: boolean; signal?: AbortSignal } = {},
): Promise<{ status: number; headers: Headers; json: unknown; text: string }> {
  const token = options.token === undefined ? TOKEN : options.token
  const response = await fetch(`${baseUrl}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: options.raw ? (body as string) : JSON.stringify(body),
    ...(options.signal && { signal: options.signal }),
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, json, text }
}

export type { CliResult }

/** Starts the real `veriflier2` binary from source (the same entry point the build ships). */
export function spawnVeriflier2(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnSource(CLI, args, { env: { VERIFLIER_CONFIG: '', ...env } })
}

/** Runs `veriflier2 <args>` to completion. */
export function veriflier2(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runToCompletion(spawnVeriflier2(args, env))
}

/** A `veriflier2 serve` process that has logged its address. */
export interface ServeProcess {
  child: ChildProcess
  url: string
  /** Every JSON log line so far (stdout). */
  logs: Record<string, unknown>[]
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>
}

/** Starts `veriflier2 serve` and waits (by reading its log, not by sleeping) until it listens. */
export async function startServe(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawnVeriflier2(['serve'], { LOG_FORMAT: 'json', PORT: '0', BIND: '127.0.0.1', ...env })
  const logs: Record<string, unknown>[] = []
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`veriflier2 serve logged no address within 15 s:\n${stdout}${stderr}`))
    }, 15_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout += `${line}\n`
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (typeof entry.port === 'number' && typeof entry.url === 'string') {
          clearTimeout(timer)
          resolve(entry.url)
        }
      } catch {
        // not a log line
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`veriflier2 serve exited (${code}) before listening:\n${stderr}`))
    })
  })
  return { child, url, logs, stdout: () => stdout, stderr: () => stderr, exited }
}
