import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, pingDatabase, type ScratchDatabase, serverVersion } from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase({ migrate: false })
})
afterAll(async () => {
  await t.drop()
})

/** A loopback port that was just free: nothing listens there, so a connection is refused. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('serverVersion', () => {
  it('names the server the pool reaches', async () => {
    expect(await serverVersion({ ctx: { pool: t.pool } })).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('rejects with the driver’s own error when the server cannot be reached', async () => {
    const { pool, close } = createDatabase(`mysql://nobody:pw@127.0.0.1:${await closedPort()}/jetmon`, {
      connectionLimit: 1,
    })
    try {
      await expect(serverVersion({ ctx: { pool } })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    } finally {
      await close()
    }
  })
})

describe('pingDatabase', () => {
  it('resolves when the server answers, and rejects with the driver’s error when it cannot be reached', async () => {
    await expect(pingDatabase({ ctx: { pool: t.pool } })).resolves.toBeUndefined()
    const { pool, close } = createDatabase(`mysql://nobody:pw@127.0.0.1:${await closedPort()}/jetmon`, {
      connectionLimit: 1,
    })
    try {
      await expect(pingDatabase({ ctx: { pool } })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    } finally {
      await close()
    }
  })
})
