import type { Db } from '@jetmon/db'
import type { TestDatabase } from '@jetmon/testkit'
import type { Timers } from '@jetmon/vocabulary'
import { drizzle } from 'drizzle-orm/mysql2'
import type { CheckSample } from '../src/index.js'

export interface LoggedStatement {
  sql: string
  params: unknown[]
}

/**
 * A drizzle handle over the test pool that logs every statement it sends, so tests count real
 * statements instead of trusting the recorder's own counters.
 */
export function countingDb(pool: TestDatabase['pool']): {
  db: Db
  statements: LoggedStatement[]
  count(prefix: RegExp): number
} {
  const statements: LoggedStatement[] = []
  const db = drizzle(pool, {
    mode: 'default',
    logger: { logQuery: (sql, params) => statements.push({ sql, params }) },
  }) as unknown as Db
  return { db, statements, count: (prefix) => statements.filter((s) => prefix.test(s.sql)).length }
}

export const HISTORY_INSERT = /^insert into `?jetmon_check_history`? /i
export const ROLLUP_UPSERT = /^insert into `?jetmon_check_rollups`? /i
export const STATE_UPSERT = /^insert into `?jetmon_endpoint_state`? /i

/** The recorder's flush timer, fired by hand. */
export class ManualTimers implements Timers {
  callbacks = new Map<number, () => void>()
  cleared = 0
  #next = 1
  setTimeout(callback: () => void): unknown {
    const handle = this.#next++
    this.callbacks.set(handle, callback)
    return handle
  }
  clearTimeout(handle: unknown): void {
    if (this.callbacks.delete(handle as number)) this.cleared++
  }
  /** Fires every timer armed now (a timer a callback arms waits for the next call). */
  fire(): void {
    const due = [...this.callbacks]
    this.callbacks.clear()
    for (const [, callback] of due) callback()
  }
}

let nextEndpoint = 1_000n
/** Endpoint ids no other test of the file uses. */
export function freshEndpoints(count: number): bigint[] {
  const ids = Array.from({ length: count }, (_, i) => nextEndpoint + BigInt(i))
  nextEndpoint += BigInt(count) + 1_000n
  return ids
}

/** A healthy local check; override what the test is about. */
export function sample(overrides: Partial<CheckSample> & { endpointId: bigint }): CheckSample {
  return {
    blogId: overrides.endpointId + 9_000_000_000_000_000n, // beyond 2^53 on purpose
    checkedAt: new Date('2030-01-01T10:00:00.000Z'),
    vantage: 'local',
    method: 'GET',
    httpCode: 200,
    errorCode: 0,
    rttMs: 42,
    dnsMs: 1,
    tcpMs: 2,
    tlsMs: 10,
    ttfbMs: 30,
    failed: false,
    ...overrides,
  }
}

/** A failed check (connect refused: no HTTP code, no RTT). */
export function failedSample(overrides: Partial<CheckSample> & { endpointId: bigint }): CheckSample {
  return sample({
    httpCode: null,
    errorCode: 2,
    rttMs: null,
    tcpMs: null,
    tlsMs: null,
    ttfbMs: null,
    failed: true,
    ...overrides,
  })
}
