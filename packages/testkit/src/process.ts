import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

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

/** The first fenced block of `language` in a Markdown file (a README's first example). */
export function firstCodeBlock(markdown: string, language: string): string {
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(markdown)
  if (!match?.[1]) throw new Error(`no \`\`\`${language} block`)
  return match[1]
}

/**
 * Runs a shell example with bash, stopping at the first failing command (`set -e`), with each
 * workspace binary in `binaries` (name → TypeScript entry) on the `PATH` as a small script that
 * `exec`s it as {@link spawnSource} does (so `$!` of a backgrounded one is the program itself).
 * Each line of the script is preceded by a `### <line>` marker on stdout, so a test can read what
 * each command printed ({@link outputByCommand}).
 */
export async function runShellExample(
  script: string,
  options: { binaries: Record<string, string>; env?: NodeJS.ProcessEnv; baseEnv?: NodeJS.ProcessEnv; cwd?: string },
): Promise<CliResult> {
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`
  const bin = mkdtempSync(join(tmpdir(), 'jetmon-example-bin-'))
  try {
    for (const [name, entry] of Object.entries(options.binaries)) {
      const wrapper = join(bin, name)
      writeFileSync(
        wrapper,
        `#!/bin/sh\nexec ${quote(process.execPath)} --conditions=@jetmon/source --import tsx ${quote(entry)} "$@"\n`,
      )
      chmodSync(wrapper, 0o755)
    }
    const lines = script
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `echo ${quote(`### ${line.trim()}`)}\n${line}`)
    const env: NodeJS.ProcessEnv = { ...(options.baseEnv ?? process.env), NO_COLOR: '1', ...options.env }
    const child = spawn('bash', ['-c', ['set -eo pipefail', ...lines].join('\n')], {
      env: { ...env, PATH: `${bin}${delimiter}${env.PATH ?? ''}` },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return await runToCompletion(child)
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
}

/** What each command of a {@link runShellExample} printed on stdout, by its line. */
export function outputByCommand(stdout: string): Map<string, string> {
  const sections = new Map<string, string>()
  let current: string | undefined
  for (const line of stdout.split('\n')) {
    if (line.startsWith('### ')) {
      current = line.slice(4)
      sections.set(current, '')
    } else if (current !== undefined) sections.set(current, `${sections.get(current)}${line}\n`)
  }
  return sections
}

/**
 * Runs the first ```ts block of `readme` as a module (written beside the README, so its imports
 * resolve as the package's own would), each `replace` key swapped for its value first (a test
 * database's URL for `process.env.DATABASE_URL!`, say), and resolves with the arguments of every
 * `console.log` call it made, in order.
 */
export async function runReadmeExample(
  readme: URL,
  options: { replace?: Record<string, string> } = {},
): Promise<unknown[][]> {
  let code = firstCodeBlock(readFileSync(readme, 'utf8'), 'ts')
  for (const [from, to] of Object.entries(options.replace ?? {})) {
    if (!code.includes(from)) throw new Error(`the README example has no ${from}`)
    code = code.replace(from, to)
  }
  const file = new URL(`./.readme-example-${process.pid}-${Date.now()}.ts`, readme)
  writeFileSync(file, code)
  const printed: unknown[][] = []
  const log = console.log
  console.log = (...args: unknown[]) => {
    printed.push(args)
  }
  try {
    await import(file.href)
  } finally {
    console.log = log
    rmSync(file, { force: true })
  }
  return printed
}
