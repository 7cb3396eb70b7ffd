/**
 * The embedded MariaDB: a private `mariadbd` of our own, with its data in a folder we choose, on a
 * free loopback port and a unix socket. Demo and tests use it so that a fresh machine needs no
 * database set-up; production points DATABASE_URL at a real MySQL 8 / MariaDB server instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import mysql from 'mysql2/promise'
import { EmbeddedDatabaseError, MariadbNotFoundError } from './errors.js'
import { type Logger, noopLogger } from './logger.js'

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin']
const STATE_FILE = 'embedded.json'
const DB_USER = 'jetmon'

/** Where and how {@link startEmbeddedMariadb} runs a private MariaDB server. */
export interface EmbeddedMariadbOptions {
  /** Folder holding the server's data, socket, logs and state (created when missing). */
  dir: string
  /** Loopback TCP port; default: a free one. */
  port?: number
  /** Database created for the application user; default `jetmon`. */
  database?: string
  /**
   * `attached` (default): the server stops when this process exits, even if it is killed.
   * `detached`: the server outlives this process (`jetmon2 db start`); stop it with `stopEmbeddedMariadb`.
   */
  mode?: 'attached' | 'detached'
  /** How long the server may take to accept connections (default 30 000 ms). */
  startTimeoutMs?: number
  logger?: Logger
}

/** A running private MariaDB server, from {@link startEmbeddedMariadb}. */
export interface EmbeddedMariadb {
  /** `mysql://jetmon:…@127.0.0.1:<port>/<database>` */
  url: string
  port: number
  pid: number
  socketPath: string
  dir: string
  /** True when an already running server (started by `jetmon2 db start`) was reused. */
  reused: boolean
  /** Stops the server if this process started it; a reused server is left running. */
  stop(): Promise<void>
}

interface State {
  pid: number
  port: number
  socketPath: string
  mode: 'attached' | 'detached'
  database: string
  startedAt: string
}

interface Credentials {
  user: string
  password: string
}

/** Path of the `mariadbd` (or `mysqld`) binary, or null when none is installed. `JETMON_MARIADBD` overrides. */
export function findMariadbd(): string | null {
  const chosen = process.env.JETMON_MARIADBD
  if (chosen) return existsSync(chosen) ? chosen : null
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...SEARCH_DIRS]) {
    for (const name of ['mariadbd', 'mysqld']) {
      const path = dir ? join(dir, name) : ''
      if (path && existsSync(path)) return path
    }
  }
  return null
}

function findInstallDb(mariadbd: string): string {
  for (const dir of [join(mariadbd, '..'), ...SEARCH_DIRS]) {
    for (const name of ['mariadb-install-db', 'mysql_install_db']) {
      if (existsSync(join(dir, name))) return join(dir, name)
    }
  }
  throw new MariadbNotFoundError('mariadb-install-db was not found next to mariadbd')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return true
}

/** Alive and still a MariaDB server: a recycled pid must not be mistaken for our server. */
function isMariadb(pid: number): boolean {
  if (!isAlive(pid)) return false
  try {
    return /mariadbd|mysqld/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))
  } catch {
    return process.platform !== 'linux'
  }
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return null
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()))
    })
  })
}

function errorLogTail(dir: string, lines = 12): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no error log)'
  }
}

function urlFor(state: State, creds: Credentials): string {
  return `mysql://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${state.port}/${state.database}`
}

/** Creates the system tables once; a half-finished initialisation is never left behind. */
function initialise(mariadbd: string, dir: string, logger: Logger): void {
  const dataDir = join(dir, 'data')
  if (existsSync(join(dataDir, 'mysql'))) return
  logger.info({ dir }, 'initialising the embedded MariaDB data folder (first run only)')
  const staging = join(dir, 'data.initialising')
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  const args = [
    '--no-defaults',
    `--datadir=${staging}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ]
  const result = spawnSync(findInstallDb(mariadbd), args, { encoding: 'utf8' })
  if (result.status !== 0) {
    throw new EmbeddedDatabaseError(
      `could not initialise the MariaDB data folder ${staging}: ${(result.stderr || result.stdout || '').trim().slice(-800)}`,
    )
  }
  rmSync(dataDir, { recursive: true, force: true })
  renameSync(staging, dataDir)
}

function serverArgs(dir: string, port: number, socketPath: string): string[] {
  return [
    '--no-defaults',
    `--datadir=${join(dir, 'data')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socketPath}`,
    `--pid-file=${join(dir, 'mariadbd.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--default-time-zone=+00:00',
    // A disposable local database: trade crash durability for speed.
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-doublewrite=0',
    '--innodb-buffer-pool-size=256M',
    '--skip-log-bin',
    '--max-connections=1000',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ]
}

async function waitUntilReady(
  socketPath: string,
  child: ChildProcess | null,
  pid: () => number | null,
  dir: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const exit: { reason: string | null } = { reason: null }
  child?.once('exit', (code, signal) => {
    exit.reason = `exited with ${signal ?? `code ${code}`}`
  })
  for (;;) {
    if (exit.reason) throw new EmbeddedDatabaseError(`mariadbd ${exit.reason} while starting:\n${errorLogTail(dir)}`)
    if (existsSync(socketPath)) {
      try {
        const conn = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 1000 })
        await conn.end()
        return
      } catch {
        // not accepting connections yet
      }
    }
    const p = pid()
    if (!child && p !== null && !isAlive(p)) {
      throw new EmbeddedDatabaseError(`mariadbd stopped while starting:\n${errorLogTail(dir)}`)
    }
    if (Date.now() > deadline) {
      throw new EmbeddedDatabaseError(
        `mariadbd did not accept connections within ${timeoutMs} ms:\n${errorLogTail(dir)}`,
      )
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Creates the application user and database; idempotent, runs on every start. */
async function provision(socketPath: string, creds: Credentials, database: string): Promise<void> {
  const conn = await mysql.createConnection({ socketPath, user: 'root', multipleStatements: true })
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [creds.user, host, creds.password])
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [creds.user, host, creds.password])
      // Tests create and drop a database per test file, so the user needs global rights.
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [creds.user, host])
    }
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await conn.end()
  }
}

function credentialsFor(dir: string): Credentials {
  const path = join(dir, 'credentials.json')
  const existing = readJson<Credentials>(path)
  if (existing) return existing
  const creds = { user: DB_USER, password: randomBytes(18).toString('base64url') }
  writeFileSync(path, JSON.stringify(creds), { mode: 0o600 })
  return creds
}

/** The state of a server started earlier in `dir`, when it is still running. */
export function runningEmbeddedMariadb(dir: string): { state: State; url: string } | null {
  const absolute = resolve(dir)
  const state = readJson<State>(join(absolute, STATE_FILE))
  const creds = readJson<Credentials>(join(absolute, 'credentials.json'))
  if (!state || !creds || !isMariadb(state.pid)) return null
  return { state, url: urlFor(state, creds) }
}

/**
 * Starts (or reuses) a private MariaDB server in `options.dir` and resolves once it accepts
 * connections and the application user and database exist.
 */
export async function startEmbeddedMariadb(options: EmbeddedMariadbOptions): Promise<EmbeddedMariadb> {
  const dir = resolve(options.dir)
  const logger = options.logger ?? noopLogger
  const mode = options.mode ?? 'attached'
  const database = options.database ?? 'jetmon'
  mkdirSync(dir, { recursive: true })
  const creds = credentialsFor(dir)

  const running = runningEmbeddedMariadb(dir)
  if (running) {
    await provision(running.state.socketPath, creds, database)
    const state = { ...running.state, database }
    logger.info({ pid: state.pid, port: state.port }, 'reusing the embedded MariaDB already running')
    return { ...describe(state, creds, dir), reused: true, stop: async () => {} }
  }

  const mariadbd = findMariadbd()
  if (!mariadbd) {
    throw new MariadbNotFoundError(
      'MariaDB is not installed (no mariadbd on this machine). Install it with `apt-get install mariadb-server` ' +
        '(`npm run demo` and `npm test` do this for you), or set DATABASE_URL to an external MySQL 8 / MariaDB 10.6+ server.',
    )
  }
  initialise(mariadbd, dir, logger)

  const socketPath = join(dir, 'mysqld.sock')
  rmSync(socketPath, { force: true })
  const port = options.port ?? (await freePort())
  const args = serverArgs(dir, port, socketPath)
  const started = Date.now()

  let child: ChildProcess
  if (mode === 'detached') {
    const log = openSync(join(dir, 'stdout.log'), 'a')
    child = spawn(mariadbd, args, { detached: true, stdio: ['ignore', log, log] })
    child.unref()
  } else {
    // A watchdog shell: its reader sees end-of-file on stdin when this process goes away, however
    // it dies (even SIGKILL), and then stops the server, so no mariadbd is ever orphaned. Its own
    // process group keeps a terminal's Ctrl-C from reaching the server before we stop it cleanly.
    // (An asynchronous list reads /dev/null unless told otherwise, hence the explicit <&5.)
    const script =
      'exec 5<&0; "$0" "$@" & db=$!; echo $db >&3; (while read -r _ <&5; do :; done; kill -TERM $db 2>/dev/null) & wait $db'
    child = spawn('/bin/sh', ['-c', script, mariadbd, ...args], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
    })
  }

  let pid: number | null = mode === 'detached' ? (child.pid ?? null) : null
  if (mode === 'attached') {
    const pidPipe = child.stdio[3] as NodeJS.ReadableStream
    pidPipe.on('data', (chunk: Buffer) => {
      pid ??= Number.parseInt(chunk.toString('utf8'), 10)
    })
  }

  try {
    await waitUntilReady(
      socketPath,
      mode === 'attached' ? child : null,
      () => pid,
      dir,
      options.startTimeoutMs ?? 30_000,
    )
    await provision(socketPath, creds, database)
  } catch (error) {
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL')
    child.kill('SIGKILL')
    throw error
  }
  if (pid === null) throw new EmbeddedDatabaseError('mariadbd started but its process id is unknown')

  const state: State = { pid, port, socketPath, mode, database, startedAt: new Date().toISOString() }
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2))
  logger.info({ pid, port, ms: Date.now() - started }, 'embedded MariaDB is ready')

  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      await stopPid(pid as number, 30_000)
      if (mode === 'attached') (child.stdin as NodeJS.WritableStream | null)?.end()
      rmSync(join(dir, STATE_FILE), { force: true })
    })()
    return stopping
  }
  if (mode === 'attached') {
    // The watchdog stops the server if we die; the synchronous exit hook covers ordinary exits.
    process.once('exit', () => {
      if (isAlive(pid as number)) process.kill(pid as number, 'SIGTERM')
    })
  }
  return { ...describe(state, creds, dir), reused: false, stop }
}

function describe(state: State, creds: Credentials, dir: string) {
  return { url: urlFor(state, creds), port: state.port, pid: state.pid, socketPath: state.socketPath, dir }
}

async function stopPid(pid: number, timeoutMs: number): Promise<void> {
  if (!isAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL')
      break
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Stops a server started in `dir` (by any process). Resolves to false when none was running. */
export async function stopEmbeddedMariadb(dir: string, timeoutMs = 30_000): Promise<boolean> {
  const running = runningEmbeddedMariadb(dir)
  if (!running) return false
  await stopPid(running.state.pid, timeoutMs)
  rmSync(join(resolve(dir), STATE_FILE), { force: true })
  return true
}
