/**
 * A real API server for the rollout command tests: the rollout routes with the real checker behind
 * preflight, smoke and compare (fixture sites on loopback behind a local DNS server), an admin and
 * a write key in 0600 token files, and helpers that stand in for an api-controlled monitor host in
 * the database (its `jetmon_hosts` row, acknowledging activations and releases, recording checks):
 * the CLI drives the API only, and no monitor process runs here.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiKey } from '@jetmon/api-keys'
import { createApiApp, type RunningApiServer, startApiServer } from '@jetmon/api-server'
import { createChecker } from '@jetmon/checker'
import {
  createTestDatabase,
  type DnsServer,
  type FixtureServer,
  startDnsServer,
  startFixtureServer,
  type TestDatabase,
} from '@jetmon/testkit'
import { afterAll, beforeAll } from 'vitest'
import { openSession, type Session } from '../src/_session.js'
import { type ApiConnection, resolveConnection } from '../src/connection.js'
import { jetmon2 } from './helpers.js'

const noop = () => {}
const logger = { debug: noop, info: noop, warn: noop, error: noop }

export interface RolloutServer {
  database: TestDatabase
  server: RunningApiServer
  sites: FixtureServer
  /** What `--url` takes. */
  url: string
  tokenFiles: { admin: string; write: string }
  /** A session of the CLI over this server with the admin key, for in-process runs (guided). */
  session(): Session
  /** Inserts `count` active v1 rows spread over buckets `min`–`max` (site_status as given); their endpoint ids. */
  insertSites(
    range: { min: number; max: number },
    count: number,
    options?: { siteStatus?: number; path?: string },
  ): Promise<bigint[]>
  /** The host's `jetmon_hosts` row, with a heartbeat of now. */
  upsertHost(hostId: string, mode: 'active' | 'standby' | 'api-controlled'): Promise<void>
  /**
   * What the api-controlled host does within a poll: refreshes its heartbeat, acknowledges its new
   * locks and drains (releases) its releasing ones. With `check`, also records a check now of every
   * active endpoint in the buckets of its acknowledged locks.
   */
  actAsHost(hostId: string, options?: { check?: boolean }): Promise<void>
  query<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>
}

let nextBlogId = 6_100_000_000n + BigInt(process.pid % 10_000) * 100_000n

/** Starts the server for this test file; the getter is valid inside tests. */
export function useRolloutServer(): () => RolloutServer {
  let harness: RolloutServer | undefined
  let dir: string | undefined
  let dns: DnsServer | undefined
  beforeAll(async () => {
    const database = await createTestDatabase()
    const sites = await startFixtureServer()
    dns = await startDnsServer({ zone: sites.zone() })
    const check = createChecker({ dnsServers: [dns.server], ca: [sites.ca] })
    const query = async <T>(sql: string, values: unknown[] = []) =>
      ((await database.pool.query(sql, values)) as unknown as [T[]])[0]
    const hostIds = new Set<string>()
    const actAsHost = async (hostId: string, options: { check?: boolean } = {}) => {
      await query(
        'UPDATE jetmon_hosts SET heartbeat_at = NOW(3), lease_expires_at = NOW(3) + INTERVAL 30 SECOND WHERE host_id = ?',
        [hostId],
      )
      await query(
        "UPDATE jetmon_rollout_locks SET acknowledged_at = NOW(3) WHERE host_id = ? AND state = 'active' AND acknowledged_at IS NULL",
        [hostId],
      )
      await query(
        "UPDATE jetmon_rollout_locks SET state = 'released', released_at = NOW(3) WHERE host_id = ? AND state = 'releasing'",
        [hostId],
      )
      if (options.check)
        await query(
          `INSERT INTO jetmon_endpoint_state (endpoint_id, last_checked_at, last_http_code)
           SELECT s.jetpack_monitor_site_id, NOW(3), 200 FROM jetpack_monitor_sites s
           JOIN jetmon_rollout_locks l ON s.bucket_no BETWEEN l.bucket_min AND l.bucket_max
           WHERE l.host_id = ? AND l.state = 'active' AND l.acknowledged_at IS NOT NULL AND s.monitor_active = 1
           ON DUPLICATE KEY UPDATE last_checked_at = NOW(3), last_http_code = 200`,
          [hostId],
        )
    }
    const api = createApiApp(
      {
        db: database.db,
        logger,
        allowPrivateTargets: true,
        rollout: {
          // While an execution of release waits for the acknowledgement, every host drains.
          sleep: async () => {
            for (const hostId of hostIds) await actAsHost(hostId)
          },
        },
        rolloutChecks: () => ({
          check,
          bucketTotal: 1000,
          projectionEnabled: true,
          verifliers: [],
          endpointDefaults: { timeoutMs: 3_000, tlsExpiryWarnDays: 30, alertCooldownMinutes: 30 },
        }),
      },
      { validateResponses: true },
    )
    const server = await startApiServer(api, { port: 0 })
    dir = mkdtempSync(join(tmpdir(), 'jetmon-cli-rollout-'))
    const tokenFiles = {} as RolloutServer['tokenFiles']
    const tokens = {} as Record<'admin' | 'write', string>
    for (const scope of ['admin', 'write'] as const) {
      const { token } = await createApiKey({
        ctx: { db: database.db },
        input: { consumer: `rollout-${scope}`, scope, rateLimitPerMinute: 100_000, createdBy: 'test' },
      })
      tokens[scope] = token
      tokenFiles[scope] = join(dir, `${scope}.token`)
      writeFileSync(tokenFiles[scope], `${token}\n`)
      chmodSync(tokenFiles[scope], 0o600)
    }
    const url = server.url.replace(/\/api\/v1$/, '')
    harness = {
      database,
      server,
      sites,
      url,
      tokenFiles,
      session() {
        const connection: ApiConnection = resolveConnection({
          flags: { url, tokenFile: tokenFiles.admin, output: 'table' },
          env: { JETMON_API_CONFIG: 'off' },
        })
        return openSession(connection)
      },
      async insertSites(range, count, options = {}) {
        const ids: bigint[] = []
        for (let i = 0; i < count; i++) {
          const bucket = range.min + (i % (range.max - range.min + 1))
          const [header] = (await database.pool.query(
            'INSERT INTO jetpack_monitor_sites (blog_id, monitor_url, bucket_no, site_status) VALUES (?, ?, ?, ?)',
            [(nextBlogId++).toString(), sites.url(options.path ?? 'ok'), bucket, options.siteStatus ?? 1],
          )) as unknown as [{ insertId: number }]
          ids.push(BigInt(header.insertId))
        }
        return ids
      },
      async upsertHost(hostId, mode) {
        hostIds.add(hostId)
        await query(
          `INSERT INTO jetmon_hosts (host_id, status, lease_expires_at, heartbeat_at, pinned, version, rollout_mode)
           VALUES (?, 'active', NOW(3) + INTERVAL 30 SECOND, NOW(3), 0, 'test', ?)
           ON DUPLICATE KEY UPDATE heartbeat_at = NOW(3), lease_expires_at = NOW(3) + INTERVAL 30 SECOND, rollout_mode = VALUES(rollout_mode)`,
          [hostId, mode],
        )
      },
      actAsHost,
      query,
    }
  })
  afterAll(async () => {
    await harness?.server.close(1_000)
    await Promise.all([harness?.sites.close(), dns?.close()])
    await harness?.database.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    if (!harness) throw new Error('the test server is not ready (use it inside a test)')
    return harness
  }
}

/** `jetmon2 api <args>` against the server, with the admin key unless told otherwise. */
export function rolloutCli(server: () => RolloutServer) {
  return (args: string[], options: { scope?: 'admin' | 'write'; env?: NodeJS.ProcessEnv; input?: string } = {}) => {
    const s = server()
    return jetmon2(
      ['api', ...args],
      {
        JETMON_API_CONFIG: 'off',
        JETMON_API_URL: s.url,
        JETMON_API_TOKEN_FILE: s.tokenFiles[options.scope ?? 'admin'],
        ...options.env,
      },
      options.input,
    )
  }
}
