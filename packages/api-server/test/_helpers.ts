/**
 * Test harness: a real API server over real HTTP on a fresh migrated database, with one key per
 * scope (plus a gateway key) and typed clients for each.
 */
import { createJetmonClient, type JetmonClient, type Scope } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import { noopLogger } from '@jetmon/db'
import { createTestDatabase, type ManualClock, manualClock, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll } from 'vitest'
import { type ApiApp, type ApiDeps, createApiApp, type RunningApiServer, startApiServer } from '../src/index.js'

export interface TestApi {
  database: TestDatabase
  api: ApiApp
  server: RunningApiServer
  /** Base URL, `http://127.0.0.1:port/api/v1`. */
  url: string
  tokens: Record<Scope | 'gateway', string>
  /** A typed client per scope, and one for the gateway key. */
  client: Record<Scope | 'gateway', JetmonClient>
  /** Builds a client for any token. */
  clientFor(token: string): JetmonClient
  /** Raw fetch below the base URL (for malformed requests a typed client cannot send). */
  fetch(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>
  clock: ManualClock
}

/** Where the request clock starts when a test drives it by hand. */
const MANUAL_START = new Date('2026-05-01T12:00:00.000Z')

export interface UseTestApiOptions {
  /** Extra dependencies (probe, secrets key, …). */
  deps?: Partial<ApiDeps>
  /** Drive the request clock by hand (default: wall clock). */
  manualClock?: boolean
}

/** Starts the API for this test file; the getter is valid inside tests. */
export function useTestApi(options: UseTestApiOptions = {}): () => TestApi {
  let harness: TestApi | undefined
  beforeAll(async () => {
    const database = await createTestDatabase()
    const clock = manualClock(options.manualClock ? MANUAL_START : new Date())
    const realNow = () => new Date()
    const now = options.manualClock ? clock.now : realNow
    const api = createApiApp(
      { db: database.db, logger: noopLogger, now, allowPrivateTargets: true, ...options.deps },
      { validateResponses: true, ...(options.manualClock ? { rateClock: clock.monotonic } : {}) },
    )
    const server = await startApiServer(api, { port: 0 })
    const tokens = {} as Record<Scope | 'gateway', string>
    for (const scope of ['read', 'write', 'admin'] as const) {
      tokens[scope] = (
        await createApiKey({
          ctx: { db: database.db },
          input: {
            consumer: `test-${scope}`,
            scope,
            rateLimitPerMinute: 100_000,
            createdBy: 'test',
          },
        })
      ).token
    }
    tokens.gateway = (
      await createApiKey({
        ctx: { db: database.db },
        input: {
          consumer: 'gateway',
          scope: 'write',
          rateLimitPerMinute: 100_000,
          createdBy: 'test',
        },
      })
    ).token
    const clientFor = (token: string) => createJetmonClient({ baseUrl: server.url, token, timeoutMs: 15_000 })
    harness = {
      database,
      api,
      server,
      url: server.url,
      tokens,
      client: {
        read: clientFor(tokens.read),
        write: clientFor(tokens.write),
        admin: clientFor(tokens.admin),
        gateway: clientFor(tokens.gateway),
      },
      clientFor,
      fetch(path, init = {}) {
        const { token = tokens.admin, ...rest } = init
        const headers = new Headers(rest.headers)
        if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
        return fetch(`${server.url}${path}`, { ...rest, headers })
      },
      clock,
    }
  })
  afterAll(async () => {
    await harness?.server.close(1_000)
    await harness?.database.drop()
  })
  return () => {
    if (!harness) throw new Error('the test API is not ready (use it inside a test)')
    return harness
  }
}

/** Reads an error envelope from a raw response, asserting its shape. */
export async function envelopeOf(response: Response): Promise<{
  code: string
  message: string
  request_id: string
  details?: { path: string; message: string }[]
}> {
  const body = (await response.json()) as { error?: unknown }
  if (typeof body !== 'object' || body === null || typeof body.error !== 'object' || body.error === null) {
    throw new Error(`not an error envelope: ${JSON.stringify(body)}`)
  }
  return body.error as never
}

let lastBlogId = 5_000_000n
/** A blog id no other test of this file uses. */
export const newBlogId = (): bigint => ++lastBlogId
