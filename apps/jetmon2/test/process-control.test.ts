/**
 * `jetmon2 drain` and `jetmon2 reload` signal the pid of this host's monitor health row only when
 * that pid is still the monitor: a jetmon2 serve (or demo) process that started when the row says.
 * Real processes stand in for a stale row's pid: a `sleep`, and a process whose command line looks
 * like `jetmon2 serve` but which started long after the row's monitor.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processHealth } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readProcessIdentity } from '../src/process-health.js'
import { jetmon2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon2-signal-'))
let t: TestDatabase
let env: NodeJS.ProcessEnv
const HOST = `signal-${process.pid}`
const children: ChildProcess[] = []

beforeAll(async () => {
  t = await createTestDatabase()
  const config = join(tmp, 'jetmon2.json')
  writeFileSync(config, JSON.stringify({ HOST_ID: HOST }))
  env = { JETMON_CONFIG: config, DATABASE_URL: t.url, JETMON_DATA_DIR: join(tmp, 'no-db') }
})
afterEach(async () => {
  const running = children.splice(0).filter((child) => child.exitCode === null && child.signalCode === null)
  for (const child of running) child.kill('SIGKILL')
  await Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve))))
})
afterAll(async () => {
  await t?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

/** Starts a process and resolves once it runs, with the time it was known to be running. */
async function start(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: 'ignore' })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  )
  return { child, pid: child.pid!, runningAt: new Date(), exited }
}

/** A process whose command line reads `… jetmon2/dist/cli.js serve`, as an installed monitor's does. */
const lookalike = () =>
  start(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', join(tmp, 'jetmon2', 'dist', 'cli.js'), 'serve'])

/** The host's monitor health row, naming `pid` and started at `startedAt`. */
async function healthRow(pid: number, startedAt: Date) {
  const row = {
    processId: `${HOST}:monitor`,
    hostId: HOST,
    role: 'monitor' as const,
    pid,
    state: 'running' as const,
    health: 'green' as const,
    startedAt,
    updatedAt: new Date(),
  }
  await t.db
    .insert(processHealth)
    .values(row)
    .onDuplicateKeyUpdate({ set: { pid, startedAt, state: 'running' } })
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('jetmon2 drain and reload', () => {
  it('refuse a pid that now belongs to a process that is not jetmon2 (a sleep), and leave it running', async () => {
    const sleep = await start('sleep', ['300'])
    await healthRow(sleep.pid, sleep.runningAt)
    for (const command of ['drain', 'reload']) {
      const refused = await jetmon2([command], env)
      expect(refused.code, refused.stdout).toBe(1)
      expect(refused.stderr).toMatch(
        new RegExp(
          `^error: not sending SIG(TERM|HUP): pid ${sleep.pid} is not a jetmon2 serve.* \\(it runs: sleep 300\\)`,
        ),
      )
      expect(refused.stderr).toMatch(/run (drain|reload) on the machine that runs the monitor/)
      expect(refused.stdout).toBe('')
    }
    expect(alive(sleep.pid)).toBe(true)
  }, 60_000)

  it('refuse a jetmon2-looking process that started long after the monitor of the row', async () => {
    const impostor = await lookalike()
    // The row's monitor started an hour ago and died; the system has since reused its pid.
    await healthRow(impostor.pid, new Date(impostor.runningAt.getTime() - 3_600_000))
    const refused = await jetmon2(['drain'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      new RegExp(
        `pid ${impostor.pid} started at \\S+, but the monitor that wrote the health row started at \\S+: the pid now belongs to another process`,
      ),
    )
    expect(alive(impostor.pid)).toBe(true)
  }, 60_000)

  it('refuse a pid that no process has any more', async () => {
    const gone = await start('true', [])
    await gone.exited
    await healthRow(gone.pid, gone.runningAt)
    const refused = await jetmon2(['drain'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(new RegExp(`no process with pid ${gone.pid} runs on this machine`))
  }, 60_000)

  it('signal the process when it is a jetmon2 serve started when the row says', async () => {
    const monitor = await lookalike()
    await healthRow(monitor.pid, monitor.runningAt)
    const sent = await jetmon2(['drain'], env)
    expect(sent.code, sent.stderr).toBe(0)
    expect(sent.stdout).toBe(`sent SIGTERM to the monitor (pid ${monitor.pid})\n`)
    expect(await monitor.exited).toBe('SIGTERM')
  }, 60_000)

  it('reload refuses a demo, which has no configuration file to re-read', async () => {
    const demo = await start(process.execPath, [
      '-e',
      'setInterval(() => {}, 60_000)',
      join(tmp, 'jetmon2', 'src', 'cli.ts'),
      'demo',
    ])
    await healthRow(demo.pid, demo.runningAt)
    const refused = await jetmon2(['reload'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/is not a jetmon2 serve process/)
    expect(alive(demo.pid)).toBe(true)
  }, 60_000)
})

describe('readProcessIdentity', () => {
  it("reads a process's command line and start time from /proc", async () => {
    const sleep = await start('sleep', ['300'])
    const seen = readProcessIdentity(sleep.pid)
    expect(seen?.argv).toEqual(['sleep', '300'])
    expect(Math.abs(seen!.startedAt.getTime() - sleep.runningAt.getTime())).toBeLessThan(2_000)
    expect(readProcessIdentity(process.pid)?.startedAt.getTime()).toBeLessThan(sleep.runningAt.getTime())
  })

  it('answers null for a pid no process has', async () => {
    const gone = await start('true', [])
    await gone.exited
    expect(readProcessIdentity(gone.pid)).toBeNull()
  })
})
