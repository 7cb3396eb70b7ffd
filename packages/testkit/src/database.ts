import { createScratchDatabase, type ScratchDatabase } from '@jetmon/db'
import { afterAll, beforeAll, inject } from 'vitest'
import type {} from './provided.js'

export type TestDatabase = ScratchDatabase

/** URL of the run's database server (embedded MariaDB, or JETMON_TEST_DATABASE_URL). */
export function testServerUrl(): string {
  const url = inject('jetmonDatabaseUrl')
  if (!url) throw new Error('no test database: the vitest globalSetup of @jetmon/testkit did not run')
  return url
}

/**
 * A new database on the run's server, migrated with the real migrations, for one test file (call it
 * in `beforeAll`, and `drop()` in `afterAll`). Nothing is shared between files.
 */
export function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  return createScratchDatabase(testServerUrl(), options)
}

/**
 * A fresh migrated database for the calling test file: created in `beforeAll`, dropped in `afterAll`.
 * The returned getter is valid inside tests and hooks that run after the file's `beforeAll`.
 */
export function useTestDatabase(options: { migrate?: boolean } = {}): () => TestDatabase {
  let database: TestDatabase | undefined
  beforeAll(async () => {
    database = await createTestDatabase(options)
  })
  afterAll(async () => {
    await database?.drop()
  })
  return () => {
    if (!database) throw new Error('the test database is not ready (use it inside a test)')
    return database
  }
}
