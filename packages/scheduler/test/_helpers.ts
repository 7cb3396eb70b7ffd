import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll } from 'vitest'
import type { Logger } from '../src/index.js'

/** A fresh migrated database for this test file; the getter is valid inside tests. */
export function useTestDatabase(): () => TestDatabase {
  let database: TestDatabase | undefined
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })
  return () => {
    if (!database) throw new Error('the test database is not ready (use it inside a test)')
    return database
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: unknown
  msg: string | undefined
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const at =
    (level: LogEntry['level']) =>
    (obj: unknown, msg?: string): void => {
      if (typeof obj === 'string') entries.push({ level, obj: {}, msg: obj })
      else entries.push({ level, obj, msg })
    }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Resolves after `ms` of real time (for lease expiry judged by the database clock). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
