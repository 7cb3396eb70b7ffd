import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@jetmon/testkit'
import mysql from 'mysql2/promise'
import { afterAll, describe, expect, it } from 'vitest'
import { jetmon2, spawnJetmon2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'jetmon2-db-'))
const configFile = join(tmp, 'config.json')
writeFileSync(configFile, '{}')
const env = { JETMON_CONFIG: configFile, DATABASE_URL: '', JETMON_DATA_DIR: join(tmp, 'mariadb') }

afterAll(async () => {
  await jetmon2(['db', 'stop'], env)
  rmSync(tmp, { recursive: true, force: true })
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('jetmon2 db', () => {
  it('starts, reports, hands out its URL, lets migrate use it, and stops', async () => {
    expect((await jetmon2(['db', 'status'], env)).code).toBe(1)
    expect((await jetmon2(['db', 'url'], env)).code).toBe(1)

    const start = await jetmon2(['db', 'start'], env)
    expect(start.code, start.stderr).toBe(0)
    expect(start.stdout).toMatch(/Embedded MariaDB started: pid \d+, 127\.0\.0\.1:\d+/)

    const status = await jetmon2(['db', 'status', '--json'], env)
    const state = JSON.parse(status.stdout) as { running: boolean; pid: number; port: number }
    expect(status.code).toBe(0)
    expect(state.running).toBe(true)

    const url = (await jetmon2(['db', 'url'], env)).stdout.trim()
    expect(url).toMatch(new RegExp(`^mysql://jetmon:[^@]+@127\\.0\\.0\\.1:${state.port}/jetmon$`))
    const conn = await mysql.createConnection({ uri: url })
    await conn.end()

    // With no DATABASE_URL configured, admin commands find the running embedded server.
    const migrate = await jetmon2(['migrate'], env)
    expect(migrate.code, migrate.stderr).toBe(0)
    expect(migrate.stdout).toMatch(/schema is up to date|already applied/)

    expect((await jetmon2(['db', 'start'], env)).stdout).toMatch(/is already running/)
    const stop = await jetmon2(['db', 'stop'], env)
    expect(stop.stdout).toMatch(/stopped/)
    expect(alive(state.pid)).toBe(false)
    expect((await jetmon2(['db', 'status'], env)).code).toBe(1)
  }, 120_000)
})

/** Starts `jetmon2 demo` on free ports and waits until it says it is up; `output()` is what it has printed. */
async function startDemo(environment: Record<string, string>) {
  const child = spawnJetmon2(['demo', '--port', '0', '--api-port', '0'], environment)
  let out = ''
  child.stdout?.on('data', (chunk) => {
    out += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  // A limit, not a pause: on a quiet machine the demo is up in seconds; a loaded CI host needs more.
  const deadline = Date.now() + 100_000
  while (!out.includes('Press Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  expect(out).toContain('Press Ctrl-C')
  return { child, output: () => out, exited }
}

describe('jetmon2 demo', () => {
  it('comes up, says what is running, and stops cleanly on Ctrl-C leaving no mariadbd behind', async () => {
    const { child, output, exited } = await startDemo(env)
    expect(output()).toMatch(/✓ schema migrated/)
    // The dashboard, the API and the delivery subscriptions are up and say where they are.
    const dashboard = /(http:\/\/127\.0\.0\.1:\d+)\/ +the dashboard/.exec(output())?.[1]
    expect(dashboard).toBeDefined()
    const page = await fetch(`${dashboard}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/^<!doctype html>/)
    const api = /REST API on (http:\/\/\S+)/.exec(output())?.[1]
    expect((await fetch(`${api}/health`)).status).toBe(200)
    expect(output()).toMatch(/a signed webhook \(every event\) and an email alert contact/)
    // Beside it, the api-controlled monitor of the rollout rehearsal, and the objectives.
    expect(output()).toMatch(/✓ a second monitor, demo-b, waits in api-controlled mode/)
    expect(output()).toMatch(/✓ objectives: 99\.9 % over 7d for blog 101, 99\.95 % over 7d for blog 102/)

    const status = JSON.parse((await jetmon2(['db', 'status', '--json'], env)).stdout) as { pid: number }
    expect(alive(status.pid)).toBe(true)

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(output()).toMatch(/Nothing is left running/)
    expect(alive(status.pid)).toBe(false)
  }, 120_000)
})

describe('jetmon2 demo with DATABASE_URL', () => {
  it('uses that database, starts no MariaDB of its own, and says so without the password', async () => {
    const external = await createTestDatabase({ migrate: false })
    const dataDir = join(tmp, 'unused-mariadb')
    // A user with a password, so that the output can be searched for it.
    const user = `demo_${process.pid}`
    const url = new URL(external.url)
    await external.pool.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'demo-Pa55word'`)
    await external.pool.query(`GRANT ALL ON \`${url.pathname.slice(1)}\`.* TO '${user}'@'%'`)
    url.username = user
    url.password = 'demo-Pa55word'
    try {
      const { child, output, exited } = await startDemo({
        ...env,
        DATABASE_URL: url.href,
        JETMON_DATA_DIR: dataDir,
      })
      expect(output()).toMatch(/✓ database from DATABASE_URL: mysql:\/\//)
      expect(output()).toMatch(/✓ schema migrated \(\d+ migration\(s\)\)/)
      const password = url.password
      if (password) expect(output()).not.toContain(password)
      // The demo's sites are in the external database, and no embedded server was started.
      const [rows] = await external.pool.query('SELECT COUNT(*) AS n FROM jetpack_monitor_sites')
      expect(Number((rows as { n: number }[])[0]?.n)).toBeGreaterThan(0)
      expect(existsSync(dataDir)).toBe(false)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      await external.pool.query(`DROP USER IF EXISTS '${user}'@'%'`)
      await external.drop()
    }
  }, 120_000)
})
