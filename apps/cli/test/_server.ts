/**
 * A real API server for the CLI tests: `createApiApp` + `startApiServer` on a fresh migrated test
 * database, with one key per scope (as packages/api-server/test/_helpers.ts does), token files of
 * mode 0600, and a trigger-now probe that reports every endpoint down and opens its Seems Down
 * http event the way the confirmation pipeline would.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Scope } from '@jetmon/api-client'
import { createApiKey } from '@jetmon/api-keys'
import { createApiApp, type EndpointProbe, type RunningApiServer, startApiServer } from '@jetmon/api-server'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll } from 'vitest'
import { jetmon2 } from './helpers.js'

export interface TestServer {
  database: TestDatabase
  server: RunningApiServer
  /** What `--url` takes: `http://127.0.0.1:port`. */
  url: string
  tokens: Record<Scope, string>
  /** A 0600 token file per scope. */
  tokenFiles: Record<Scope, string>
}

const noop = () => {}
const logger = { debug: noop, info: noop, warn: noop, error: noop }

/** Opens a Seems Down http event (with its `opened` transition) for each endpoint, as a failed check would. */
function failingProbe(database: () => TestDatabase): EndpointProbe {
  return {
    async probe(endpoints, source) {
      const at = new Date()
      const results = []
      for (const { endpointId, blogId } of endpoints) {
        const pool = database().pool
        const [event] = (await pool.query(
          `INSERT INTO jetmon_events (blog_id, endpoint_id, check_type, severity, state, started_at, updated_at, metadata)
           VALUES (?, ?, 'http', 3, 'Seems Down', ?, ?, '{"error":"dns"}')`,
          [blogId.toString(), endpointId.toString(), at, at],
        )) as unknown as [{ insertId: number }]
        await pool.query(
          `INSERT INTO jetmon_event_transitions (event_id, blog_id, endpoint_id, severity_after, state_after, reason, source, changed_at)
           VALUES (?, ?, ?, 3, 'Seems Down', 'opened', ?, ?)`,
          [event.insertId, blogId.toString(), endpointId.toString(), source, at],
        )
        const [rows] = (await pool.query(
          'SELECT monitor_url FROM jetpack_monitor_sites WHERE jetpack_monitor_site_id = ?',
          [endpointId.toString()],
        )) as unknown as [{ monitor_url: string }[]]
        results.push({
          endpoint_id: Number(endpointId),
          monitor_url: rows[0]?.monitor_url ?? '',
          success: false,
          http_code: null,
          error_code: 1,
          error: 'dns',
          error_detail: 'the name does not resolve',
          rtt_ms: null,
          checked_at: at.toISOString(),
          outcome: 'confirmation_started' as const,
        })
      }
      return results
    },
  }
}

/** Starts a server for this test file; the getter is valid inside tests. */
export function useTestServer(): () => TestServer {
  let harness: TestServer | undefined
  let dir: string | undefined
  beforeAll(async () => {
    const database = await createTestDatabase()
    const api = createApiApp(
      { db: database.db, logger, allowPrivateTargets: true, probe: failingProbe(() => database) },
      { validateResponses: true },
    )
    const server = await startApiServer(api, { port: 0 })
    dir = mkdtempSync(join(tmpdir(), 'jetmon-cli-api-'))
    const tokens = {} as Record<Scope, string>
    const tokenFiles = {} as Record<Scope, string>
    for (const scope of ['read', 'write', 'admin'] as const) {
      const { token } = await createApiKey({
        ctx: { db: database.db },
        input: {
          consumer: `cli-${scope}`,
          scope,
          rateLimitPerMinute: 100_000,
          createdBy: 'test',
        },
      })
      tokens[scope] = token
      tokenFiles[scope] = join(dir, `${scope}.token`)
      writeFileSync(tokenFiles[scope], `${token}\n`)
      chmodSync(tokenFiles[scope], 0o600)
    }
    harness = { database, server, url: server.url.replace(/\/api\/v1$/, ''), tokens, tokenFiles }
  })
  afterAll(async () => {
    await harness?.server.close(1_000)
    await harness?.database.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    if (!harness) throw new Error('the test server is not ready (use it inside a test)')
    return harness
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  /** The key to use (a 0600 token file); default `write`; `null` for no token at all. */
  scope?: Scope | null
}

/** `jetmon2 api <args>` against a test server: no config file, the server's URL, a token file. */
export function cliFor(server: () => TestServer) {
  return (args: string[], options: RunOptions = {}) => {
    const s = server()
    const scope = options.scope === undefined ? 'write' : options.scope
    return jetmon2(
      ['api', ...args],
      {
        JETMON_API_CONFIG: 'off',
        JETMON_API_URL: s.url,
        ...(scope ? { JETMON_API_TOKEN_FILE: s.tokenFiles[scope] } : {}),
        ...options.env,
      },
      options.input,
    )
  }
}
