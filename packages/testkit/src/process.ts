import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, delimiter, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** What a command run to completion left behind. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The newest modification time (ms) of the files under `dir`, 0 when there are none. */
function newestFile(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

const builtCache = new Map<string, boolean>()

/**
 * Whether every built workspace package under `root` is at least as new as its sources: each one
 * with a `build` script has a `dist` folder whose oldest file was written after its newest file
 * under `src` changed. Decided once per process and root.
 */
export function workspaceBuilt(root: string): boolean {
  const known = builtCache.get(root)
  if (known !== undefined) return known
  let built = true
  for (const group of ['packages', 'apps']) {
    for (const name of existsSync(join(root, group)) ? readdirSync(join(root, group)) : []) {
      const dir = join(root, group, name)
      const manifest = join(dir, 'package.json')
      if (!existsSync(manifest) || !existsSync(join(dir, 'src'))) continue
      const scripts = (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts
      if (!scripts?.build) continue
      const dist = join(dir, 'dist')
      const outputs = existsSync(dist) ? readdirSync(dist).filter((file) => file.endsWith('.js')) : []
      const oldestOutput = Math.min(...outputs.map((file) => statSync(join(dist, file)).mtimeMs))
      if (outputs.length === 0 || oldestOutput < newestFile(join(dir, 'src'))) {
        built = false
        break
      }
    }
    if (!built) break
  }
  builtCache.set(root, built)
  return built
}

/** The workspace folder (the one with `pnpm-workspace.yaml`) above `path`, if any. */
function workspaceRoot(path: string): string | undefined {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
  }
  return undefined
}

/**
 * The Node.js arguments that run a workspace entry point `<package>/src/<name>.ts`: its build
 * `<package>/dist/<name>.js` when the whole workspace is built and up to date (the code that ships,
 * and it starts several times faster than the sources through tsx), otherwise the TypeScript
 * source through tsx with workspace packages resolved to their sources. `JETMON_TEST_SOURCE=1`
 * always runs the sources.
 */
export function entryArguments(entry: string): string[] {
  const built = join(dirname(dirname(entry)), 'dist', `${basename(entry, '.ts')}.js`)
  const root = workspaceRoot(entry)
  const fromBuild =
    process.env.JETMON_TEST_SOURCE !== '1' &&
    basename(dirname(entry)) === 'src' &&
    root !== undefined &&
    existsSync(built) &&
    workspaceBuilt(root)
  return fromBuild ? [built] : ['--conditions=@jetmon/source', '--import', tsxUrl(), entry]
}

/** tsx's loader by absolute URL, so the sources run from any working directory. */
const tsxUrl = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * Starts a workspace binary named by its TypeScript entry point, built or from source as
 * {@link entryArguments} decides: `env` on top of this process's environment (or of `baseEnv`),
 * `NO_COLOR` set, stdout and stderr piped, stdin piped only when asked for.
 */
export function spawnSource(
  entry: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; baseEnv?: NodeJS.ProcessEnv; stdin?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, [...entryArguments(entry), ...args], {
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
        `#!/bin/sh\nexec ${[process.execPath, ...entryArguments(entry)].map(quote).join(' ')} "$@"\n`,
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
