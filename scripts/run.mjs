#!/usr/bin/env node
// The two Quick-start commands (`npm run demo`, `npm test`) land here. This file uses nothing but
// Node's standard library, because on a fresh machine nothing else is installed yet: it brings in
// pnpm, the locked dependencies and Debian's MariaDB server when they are missing (and, for the
// tests, Debian's chromium), builds, and then runs the demo or the test suite. Each step is skipped
// quickly when it is already done. The runtime is the Node.js pinned in the lockfile (the npm
// registry's `node` package, a root devDependency installed into node_modules): when the `node`
// that started this script is another major version, the script runs itself again on that one.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const PNPM_VERSION = manifest.packageManager.split('@')[1]
/** The Node.js the project is built, tested and measured on; installed by `pnpm install`. */
const NODE_VERSION = manifest.optionalDependencies.node
const PROJECT_NODE = join(root, 'node_modules', 'node', 'bin', 'node')
const major = (version) => Number(version.replace(/^v/, '').split('.')[0])
const MARIADB_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin']

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`
const step = (message) => process.stdout.write(`\x1b[36m▸\x1b[0m ${message}\n`)
const fail = (message) => {
  process.stderr.write(`\x1b[31m✖ ${message}\x1b[0m\n`)
  process.exit(1)
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options })
  if (result.error) return { ok: false, status: null, error: result.error }
  return { ok: result.status === 0, status: result.status }
}

function quiet(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', cwd: root, ...options })
  return result.status === 0 ? result.stdout.trim() : null
}

function ensurePnpm() {
  const found = quiet('pnpm', ['--version'])
  if (found?.split('.')[0] === PNPM_VERSION.split('.')[0]) return
  step(`installing pnpm ${PNPM_VERSION} (${found ? `found ${found}` : 'not found'})`)
  // corepack needs COREPACK_INTEGRITY_KEYS=0 on these machines; a global npm install is simpler and
  // reaches the same registry.
  const npm = run('npm', ['install', '--global', '--no-fund', '--no-audit', `pnpm@${PNPM_VERSION}`])
  if (!npm.ok) {
    const corepack = run('corepack', ['enable', 'pnpm'], { env: { ...process.env, COREPACK_INTEGRITY_KEYS: '0' } })
    if (!corepack.ok) fail('could not install pnpm with npm or corepack; install pnpm 9 and run again')
  }
}

function ensureDependencies() {
  const lock = join(root, 'pnpm-lock.yaml')
  const marker = join(root, 'node_modules', '.modules.yaml')
  // pnpm records its install in node_modules/.modules.yaml; a lockfile newer than that means the
  // dependencies changed since the last install.
  if (existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
  step('installing dependencies from the lockfile')
  const started = Date.now()
  const args = ['install', '--prefer-offline', ...(existsSync(lock) ? ['--frozen-lockfile'] : [])]
  if (!run('pnpm', args).ok) fail('pnpm install failed (see above)')
  step(`dependencies installed (${seconds(started)})`)
}

export function findMariadbd() {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...MARIADB_DIRS]) {
    for (const name of ['mariadbd', 'mysqld']) {
      if (dir && existsSync(join(dir, name))) return join(dir, name)
    }
  }
  return null
}

/**
 * Runs this script again on the project's Node.js when the one that started it is another major
 * version (a machine with an older `node`). Its directory goes first on the PATH, so pnpm, turbo,
 * the build and every test process run on it too. Nothing outside the project changes.
 */
function ensureRuntime() {
  if (major(process.version) === major(NODE_VERSION)) return
  const engines = manifest.engines.node.replace(/^>=/, '')
  if (!existsSync(PROJECT_NODE) || realpathSync(process.execPath) === realpathSync(PROJECT_NODE)) {
    if (major(process.version) >= major(engines)) return // a supported runtime all the same
    fail(
      `Node.js ${process.version} is too old (the project needs ${manifest.engines.node}) and the project's Node.js ` +
        `${NODE_VERSION} is not in node_modules/node/bin: run \`pnpm install\` again and read its output`,
    )
  }
  step(`running on the project's Node.js ${NODE_VERSION} (this machine's node is ${process.version})`)
  const env = { ...process.env, PATH: `${dirname(PROJECT_NODE)}:${process.env.PATH ?? ''}` }
  handOver(PROJECT_NODE, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], env)
  return true
}

function ensureMariadb() {
  // An external database needs no local server.
  const external = process.argv[2] === 'test' ? process.env.JETMON_TEST_DATABASE_URL : process.env.DATABASE_URL
  if (external || findMariadbd()) return
  if (process.getuid?.() !== 0) {
    fail(
      'MariaDB is not installed and this user cannot install it.\n' +
        '  Install it with: sudo apt-get install -y mariadb-server\n' +
        '  or point DATABASE_URL (JETMON_TEST_DATABASE_URL for tests) at a MySQL 8 / MariaDB 10.6+ server.',
    )
  }
  step("installing Debian's mariadb-server (used as a private, embedded database)")
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // A machine that never ran apt-get update has no package lists.
  const listed = quiet('apt-cache', ['policy', 'mariadb-server'], { env })
  if (!listed?.includes('Candidate:') || listed.includes('Candidate: (none)')) {
    if (!run('apt-get', ['update', '-qq'], { env }).ok) fail('apt-get update failed (see above)')
  }
  if (!run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'mariadb-server'], { env }).ok) {
    fail('apt-get install mariadb-server failed (see above)')
  }
  if (!findMariadbd()) fail('mariadb-server was installed but no mariadbd binary was found')
}

/** Debian's chromium on the PATH, which the dashboard's browser tests drive headless. */
export function findChromium() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser']) {
      if (dir && existsSync(join(dir, name))) return join(dir, name)
    }
  }
  return null
}

function ensureChromium() {
  if (findChromium()) return
  if (process.getuid?.() !== 0) {
    fail(
      'chromium is not installed and this user cannot install it (the dashboard tests drive a real headless browser).\n' +
        '  Install it with: sudo apt-get install -y chromium',
    )
  }
  step("installing Debian's chromium (the dashboard tests drive it headless)")
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const listed = quiet('apt-cache', ['policy', 'chromium'], { env })
  if (!listed?.includes('Candidate:') || listed.includes('Candidate: (none)')) {
    if (!run('apt-get', ['update', '-qq'], { env }).ok) fail('apt-get update failed (see above)')
  }
  // With its recommended packages: they bring the fonts pages are drawn with.
  if (!run('apt-get', ['install', '-y', '-qq', 'chromium'], { env }).ok)
    fail('apt-get install chromium failed (see above)')
  if (!findChromium()) fail('chromium was installed but no chromium binary was found on the PATH')
}

function build() {
  step('building')
  const started = Date.now()
  if (!run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']).ok)
    fail('the build failed (see above)')
  step(`built (${seconds(started)})`)
}

/** Installs and builds what is missing; false when the script was handed over to the project's Node.js. */
function setup() {
  ensurePnpm()
  ensureDependencies()
  if (ensureRuntime()) return false
  ensureMariadb()
  build()
  return true
}

/** Runs a long-lived child, forwarding Ctrl-C/SIGTERM to it and exiting with its status. */
function handOver(cmd, args, env = process.env) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, env })
  const forward = (signal) => {
    // In a terminal the child receives the signal itself; forwarding covers `kill <pid>`.
    if (child.exitCode === null) child.kill(signal)
  }
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)))
}

const command = process.argv[2]
switch (command) {
  case 'setup':
    setup()
    break
  case 'demo':
    if (!setup()) break
    handOver(process.execPath, [join(root, 'apps/jetmon2/dist/cli.js'), 'demo', ...process.argv.slice(3)])
    break
  case 'test':
    if (!setup()) break
    ensureChromium()
    handOver(process.execPath, [join(root, 'scripts/test.mjs'), ...process.argv.slice(3)])
    break
  default:
    fail(`unknown command "${command ?? ''}": expected setup, demo or test`)
}
