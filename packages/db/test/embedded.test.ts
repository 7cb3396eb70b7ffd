import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import mysql from 'mysql2/promise'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { runningEmbeddedMariadb, startEmbeddedMariadb, stopEmbeddedMariadb } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'jetmon-embedded-'))
afterAll(async () => {
  await stopEmbeddedMariadb(dir)
  rmSync(dir, { recursive: true, force: true })
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function serverTimeZone(url: string): Promise<string> {
  const conn = await mysql.createConnection({ uri: url })
  try {
    const [rows] = await conn.query('SELECT @@global.time_zone AS tz')
    return (rows as { tz: string }[])[0]!.tz
  } finally {
    await conn.end()
  }
}

describe('the embedded MariaDB', () => {
  it('never outlives a parent that is killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/start-attached.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`the starter exited with ${code}`)))
    })
    const { pid, url } = JSON.parse(line) as { pid: number; url: string }
    expect(await serverTimeZone(url)).toBe('+00:00')
    expect(alive(pid)).toBe(true)
    child.kill('SIGKILL')
    // The test kit's waitFor is out of reach here (the test kit depends on this package): vitest's own.
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 20_000, interval: 50 })
  }, 60_000)

  it('runs detached for `jetmon2 db start`, is found again, and stops', async () => {
    const server = await startEmbeddedMariadb({ dir, mode: 'detached' })
    expect(server.reused).toBe(false)
    const found = runningEmbeddedMariadb(dir)
    expect(found?.state.pid).toBe(server.pid)
    expect(found?.url).toBe(server.url)
    // Starting again in the same folder reuses the running server instead of failing on its lock.
    const again = await startEmbeddedMariadb({ dir })
    expect(again).toMatchObject({ reused: true, pid: server.pid })
    await again.stop() // a reused server is left running
    expect(alive(server.pid)).toBe(true)
    expect(await stopEmbeddedMariadb(dir)).toBe(true)
    expect(alive(server.pid)).toBe(false)
    expect(runningEmbeddedMariadb(dir)).toBeNull()
    expect(await stopEmbeddedMariadb(dir)).toBe(false)
  }, 60_000)

  it('says what to do when MariaDB is not installed', async () => {
    const previous = process.env.JETMON_MARIADBD
    process.env.JETMON_MARIADBD = '/nonexistent/mariadbd'
    try {
      const error = await startEmbeddedMariadb({ dir: join(dir, 'none') }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'MARIADB_NOT_FOUND' })
      expect((error as Error).message).toMatch(/apt-get install mariadb-server/)
      expect((error as Error).message).toMatch(/DATABASE_URL/)
    } finally {
      if (previous === undefined) delete process.env.JETMON_MARIADBD
      else process.env.JETMON_MARIADBD = previous
    }
  })
})
