import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Database, pingDatabase } from '@jetmon/db'
import type { Logger } from '@jetmon/logging'
import type { Registry } from 'prom-client'

export interface Readiness {
  ok: boolean
  /** What was checked, for a person: `{ database: 'ok', leases: 'holding 0-999', pressure: 'none' }`. */
  checks: Record<string, string>
  /**
   * The monitor's own pressure: `amber` while it holds (still ready, but the timeouts and connect
   * failures it sees give no verdict), with the signals raised, their readings and bounds.
   */
  pressure?: {
    state: 'green' | 'amber'
    signals: string[]
    since: string | null
    last_ended_at: string | null
    suppressed: number
    reading: Record<string, number>
    bounds: Record<string, number | boolean>
  }
  /** When `serve` runs several checking processes: each of them (its lease name, pid, state, restarts). */
  workers?: unknown[]
}

export interface OpsServerOptions {
  bind: string
  port: number
  registry: Registry
  /** `/readyz`: database reachable, leases held. */
  readiness: () => Promise<Readiness>
  /** More routes on the same port (the dashboard); return false when the path is not theirs. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>
}

/**
 * The database part of `/readyz`: `ok`, or `unreachable` when `SELECT 1` fails. The driver's error
 * goes to the log, never into the answer: its message can name the host, the user or the schema.
 */
export async function databaseReadiness(
  pool: Database['pool'],
  logger: Pick<Logger, 'warn'>,
): Promise<'ok' | 'unreachable'> {
  try {
    await pingDatabase({ ctx: { pool } })
    return 'ok'
  } catch (error) {
    logger.warn({ err: error }, 'readiness: the database did not answer SELECT 1')
    return 'unreachable'
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(body)
}

/** The ops endpoints of a jetmon2 process: `/healthz`, `/readyz`, `/metrics`. */
export async function startOpsServer(
  options: OpsServerOptions,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]
    const handle = async () => {
      if (path === '/healthz') return send(res, 200, 'ok\n')
      if (path === '/readyz') {
        // A readiness probe that throws is reported as failed; its error is not echoed.
        const readiness = await options.readiness().catch(() => ({ ok: false, checks: { readiness: 'failed' } }))
        return send(res, readiness.ok ? 200 : 503, `${JSON.stringify(readiness)}\n`, 'application/json')
      }
      if (path === '/metrics') return send(res, 200, await options.registry.metrics(), options.registry.contentType)
      if (options.fallback && (await options.fallback(req, res))) return
      send(res, 404, 'not found\n')
    }
    handle().catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n')
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.bind, () => resolve())
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
