import { PassThrough } from 'node:stream'
import { createDatabase } from '@jetmon/db'
import { createLogger } from '@jetmon/logging'
import { testServerUrl } from '@jetmon/testkit'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseReadiness, startOpsServer } from './ops.js'

/** A pool on the test server with a user that does not exist: every query fails with the driver's message. */
const url = new URL(testServerUrl())
url.username = 'readyz_probe_user'
url.password = 'readyz-pass-2468'
const refused = createDatabase(url.toString(), { connectTimeout: 2_000 })
afterAll(() => refused.pool.end())

const lines: string[] = []
const stream = new PassThrough()
stream.on('data', (chunk) => lines.push(String(chunk)))
const logger = createLogger({ format: 'json', destination: stream })

async function readyz(readiness: () => Promise<{ ok: boolean; checks: Record<string, string> }>) {
  const ops = await startOpsServer({ bind: '127.0.0.1', port: 0, registry: new Registry(), readiness })
  try {
    const response = await fetch(`http://127.0.0.1:${ops.port}/readyz`)
    return { status: response.status, text: await response.text() }
  } finally {
    await ops.close()
  }
}

describe('/readyz', () => {
  it('does not echo the driver error of a readiness probe that throws', async () => {
    const answer = await readyz(async () => {
      await refused.pool.query('SELECT 1')
      return { ok: true, checks: { database: 'ok' } }
    })
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.text)).toEqual({ ok: false, checks: { readiness: 'failed' } })
  })

  it('reports an unreachable database as such, and the driver error only in the log', async () => {
    const answer = await readyz(async () => {
      const database = await databaseReadiness(refused.pool, logger)
      return { ok: database === 'ok', checks: { database } }
    })
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.text)).toEqual({ ok: false, checks: { database: 'unreachable' } })
    expect(answer.text).not.toMatch(/readyz_probe_user|Access denied|127\.0\.0\.1/)
    expect(lines.join('')).toContain('readyz_probe_user')
    expect(lines.join('')).not.toContain('readyz-pass-2468')
  })
})
