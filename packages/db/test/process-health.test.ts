import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listProcessHealth, type ScratchDatabase, writeProcessHealth } from '../src/index.js'
import { scratchDatabase } from './helpers.js'

let t: ScratchDatabase
beforeAll(async () => {
  t = await scratchDatabase()
})
afterAll(async () => {
  await t.drop()
})

const at = (iso: string) => new Date(iso)

describe('writeProcessHealth and listProcessHealth', () => {
  it('creates a row per process, replaces it on the next report, and lists them in process-id order', async () => {
    const db = t.db
    await writeProcessHealth({
      ctx: { db },
      report: {
        processId: 'host-b:monitor',
        hostId: 'host-b',
        role: 'monitor',
        pid: 4242,
        version: '2.0.0',
        state: 'starting',
        health: 'amber',
        stats: { in_flight: 0 },
        startedAt: at('2030-06-01T12:00:00.000Z'),
        updatedAt: at('2030-06-01T12:00:00.000Z'),
      },
    })
    await writeProcessHealth({
      ctx: { db },
      report: {
        processId: 'host-a:deliverer',
        hostId: 'host-a',
        role: 'deliverer',
        pid: 7,
        state: 'running',
        health: 'green',
        startedAt: at('2030-06-01T11:00:00.000Z'),
        updatedAt: at('2030-06-01T12:00:05.000Z'),
      },
    })
    // The same process id restarted: a new pid, start time and state take the row over.
    await writeProcessHealth({
      ctx: { db },
      report: {
        processId: 'host-b:monitor',
        hostId: 'host-b',
        role: 'monitor',
        pid: 5151,
        version: '2.0.1',
        state: 'running',
        health: 'green',
        stats: { in_flight: 12 },
        startedAt: at('2030-06-01T12:10:00.000Z'),
        updatedAt: at('2030-06-01T12:10:30.123Z'),
      },
    })

    const rows = await listProcessHealth({ ctx: { db } })
    expect(rows.map((row) => row.processId)).toEqual(['host-a:deliverer', 'host-b:monitor'])
    expect(rows[1]).toMatchObject({
      pid: 5151,
      version: '2.0.1',
      state: 'running',
      health: 'green',
      stats: { in_flight: 12 },
      startedAt: at('2030-06-01T12:10:00.000Z'),
      updatedAt: at('2030-06-01T12:10:30.123Z'),
    })
    expect(rows[0]).toMatchObject({ role: 'deliverer', version: null, stats: null })
  })
})
