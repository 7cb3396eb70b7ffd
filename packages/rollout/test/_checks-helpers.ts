/**
 * Loopback peers for the preflight, smoke and compare tests: the fixture sites behind a local DNS
 * server, real veriflier servers, v1 rows and host rows, and row counts of every table.
 */
import { createChecker } from '@jetmon/checker'
import { type DbOrTx, hosts, monitorSites } from '@jetmon/db'
import type { VeriflierTarget } from '@jetmon/monitor'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit'
import { createVeriflierServer, type VeriflierServer, veriflier2ConfigSchema } from '@jetmon/veriflier2'
import { sql } from 'drizzle-orm'
import * as v from 'valibot'

export const VERIFLIER_TOKEN = 'rollout-checks-test-token-0123'

export interface Peers {
  sites: FixtureServer
  dns: DnsServer
  check: ReturnType<typeof createChecker>
  /** Starts a real veriflier on loopback; closed by `close`. */
  veriflier(id: string, region: string): Promise<VeriflierTarget>
  close(): Promise<void>
}

export async function startPeers(): Promise<Peers> {
  const sites = await startFixtureServer()
  const dns = await startDnsServer({ zone: sites.zone() })
  const verifliers: VeriflierServer[] = []
  return {
    sites,
    dns,
    check: createChecker({ dnsServers: [dns.server], ca: [sites.ca] }),
    async veriflier(id, region) {
      const config = v.parse(veriflier2ConfigSchema, {
        VERIFLIER_ID: id,
        VERIFLIER_REGION: region,
        VERIFLIER_TOKENS: [VERIFLIER_TOKEN],
        PORT: 0,
        BIND: '127.0.0.1',
        DNS_SERVERS: [dns.server],
      })
      const server = createVeriflierServer({ config })
      verifliers.push(server)
      const { url } = await server.listen()
      return { id, region, url, token: VERIFLIER_TOKEN }
    },
    async close() {
      await Promise.all(verifliers.map((server) => server.close({ timeoutMs: 0 })))
      await Promise.all([sites.close(), dns.close()])
    },
  }
}

let nextBlogId = 7_000_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)) * 1000n

/** Inserts active v1 rows (one per URL) in `bucketNo` and returns their endpoint ids, in order. */
export async function insertSites(
  db: DbOrTx,
  rows: { url: string; bucketNo: number; active?: 0 | 1 }[],
): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const row of rows) {
    const [header] = await db.insert(monitorSites).values({
      blogId: nextBlogId++,
      monitorUrl: row.url,
      bucketNo: row.bucketNo,
      monitorActive: row.active ?? 1,
    })
    ids.push(BigInt(header.insertId))
  }
  return ids
}

/** Writes a `jetmon_hosts` row as a running monitor would. */
export async function upsertHost(
  db: DbOrTx,
  host: {
    hostId: string
    mode: 'active' | 'standby' | 'api-controlled'
    heartbeatAt: Date
    leaseExpiresAt?: Date
    pinned?: boolean
    bucketMin?: number | null
    bucketMax?: number | null
    status?: 'active' | 'draining'
  },
): Promise<void> {
  const values = {
    hostId: host.hostId,
    rolloutMode: host.mode,
    heartbeatAt: host.heartbeatAt,
    leaseExpiresAt: host.leaseExpiresAt ?? new Date(host.heartbeatAt.getTime() + 30_000),
    pinned: host.pinned ?? false,
    bucketMin: host.bucketMin ?? null,
    bucketMax: host.bucketMax ?? null,
    status: host.status ?? 'active',
    version: 'test',
  }
  await db.insert(hosts).values(values).onDuplicateKeyUpdate({ set: values })
}

/** `COUNT(*)` of every table of the database. */
export async function countEveryTable(db: DbOrTx): Promise<Record<string, number>> {
  const [tables] = (await db.execute(
    sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  )) as unknown as [{ name: string }[]]
  const counts: Record<string, number> = {}
  for (const { name } of tables) {
    const [rows] = (await db.execute(sql.raw(`SELECT COUNT(*) AS n FROM \`${name}\``))) as unknown as [
      { n: number | string }[],
    ]
    counts[name] = Number(rows[0]?.n ?? 0)
  }
  return counts
}
