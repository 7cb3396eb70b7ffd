/**
 * Vitest global setup: one database server for the whole run. It is the embedded MariaDB (started
 * here, stopped at the end) unless JETMON_TEST_DATABASE_URL names an external server. Test files
 * then create their own freshly migrated database on it (`createTestDatabase`).
 *
 * If the server cannot start, the run fails here, loudly: database tests are never skipped.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type EmbeddedMariadb, runningEmbeddedMariadb, startEmbeddedMariadb } from '@jetmon/db'
import mysql from 'mysql2/promise'
import type { TestProject } from 'vitest/node'
import type {} from './provided.js'

// Every project of the run calls this setup; they share one server through this process-wide slot.
const SHARED = Symbol.for('jetmon.testkit.database')
type Shared = { server: Promise<{ url: string; server: EmbeddedMariadb | null }>; users: number }
const slot = globalThis as unknown as { [SHARED]?: Shared }

function repositoryRoot(): string {
  let dir = process.cwd()
  while (!existsSync(join(dir, 'pnpm-workspace.yaml')) && dir !== '/') dir = resolve(dir, '..')
  return dir
}

/** Databases of an earlier run that was killed before its files could drop them. */
async function dropLeftovers(url: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: url })
  try {
    const [rows] = await conn.query("SHOW DATABASES LIKE 'jt\\_%'")
    for (const row of rows as Record<string, string>[]) {
      await conn.query(`DROP DATABASE \`${Object.values(row)[0]}\``)
    }
  } finally {
    await conn.end()
  }
}

async function startServer(): Promise<{ url: string; server: EmbeddedMariadb | null }> {
  const external = process.env.JETMON_TEST_DATABASE_URL
  if (external) return { url: external, server: null }
  // Up to eight runs can go on side by side (an editor's watch mode and a full run, say): each
  // takes the first data folder whose server is not already in use.
  const base = process.env.JETMON_TEST_DATA_DIR ?? join(repositoryRoot(), '.jetmon', 'test-db')
  const problems: string[] = []
  for (let n = 0; n < 8; n++) {
    const dir = join(base, String(n))
    if (runningEmbeddedMariadb(dir)) continue
    try {
      const server = await startEmbeddedMariadb({ dir, database: 'jetmon_test' })
      await dropLeftovers(server.url)
      return { url: server.url, server }
    } catch (error) {
      // Another run may have claimed this folder a moment ago (its server holds the data lock).
      // A missing MariaDB is not a race: say so at once.
      if ((error as { code?: string }).code === 'MARIADB_NOT_FOUND') throw error
      problems.push(`${dir}: ${(error as Error).message}`)
    }
  }
  throw new Error(`no test database could be started:\n${problems.join('\n') || 'all eight folders are in use'}`)
}

export default async function setup(project: TestProject) {
  slot[SHARED] ??= { server: startServer(), users: 0 }
  const shared = slot[SHARED]
  shared.users++
  const { url } = await shared.server
  project.provide('jetmonDatabaseUrl', url)
  return async () => {
    shared.users--
    if (shared.users > 0) return
    const { server } = await shared.server
    slot[SHARED] = undefined
    await server?.stop()
  }
}
