import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { eventTransitions, monitorSites } from '@jetmon/db'
import { openEvent } from '@jetmon/eventstore'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { max } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LiveHub } from './live.js'

/**
 * A stream response whose socket either drains at once (a fast browser) or never does (a browser
 * that stopped reading): what it was sent accumulates in `writableLength`, as in Node.
 */
class FakeResponse extends EventEmitter {
  status = 0
  frames: string[] = []
  writableLength = 0
  destroyed = false
  writableEnded = false
  constructor(private readonly drains: boolean) {
    super()
  }
  writeHead(status: number) {
    this.status = status
    return this
  }
  write(chunk: string) {
    this.frames.push(chunk)
    if (!this.drains) this.writableLength += Buffer.byteLength(chunk)
    return this.drains
  }
  end() {
    this.writableEnded = true
    this.emit('close')
  }
  destroy() {
    this.destroyed = true
    this.emit('close')
  }
}

const request = { socket: { setNoDelay() {} } } as unknown as IncomingMessage
const asResponse = (fake: FakeResponse) => fake as unknown as ServerResponse
const silent = { debug() {}, info() {}, warn() {}, error() {} }

let database: TestDatabase
let endpointId: bigint

beforeAll(async () => {
  database = await createTestDatabase()
  const [row] = await database.db
    .insert(monitorSites)
    .values({ blogId: 77n, monitorUrl: 'https://live.example/' })
    .$returningId()
  endpointId = BigInt(row!.endpointId)
})

afterAll(async () => {
  await database?.drop()
})

async function change(n: number) {
  // Several identities so that each open writes a transition.
  await openEvent({
    ctx: { db: database.db, source: 'test' },
    input: { blogId: 77n, endpointId, checkType: 'http', discriminator: `d${n}`, state: 'Seems Down' },
  })
}

describe('LiveHub', () => {
  it('drops a client that stops reading once its buffer is full, without holding back the others', async () => {
    const hub = new LiveHub({ db: database.db, logger: silent, headers: {}, maxBufferBytes: 2_000 })
    await hub.poll() // finds the cursor
    const fast = new FakeResponse(true)
    const slow = new FakeResponse(false)
    hub.connect(request, asResponse(fast), null)
    hub.connect(request, asResponse(slow), null)
    expect(hub.stats().clients).toBe(2)
    for (let i = 0; i < 12; i++) {
      await change(i)
      await hub.poll()
    }
    expect(slow.destroyed).toBe(true)
    expect(slow.writableLength).toBeLessThanOrEqual(2_000)
    expect(fast.destroyed).toBe(false)
    expect(fast.frames.filter((frame) => frame.includes('event: change'))).toHaveLength(12)
    expect(hub.stats()).toMatchObject({ clients: 1, dropped: 1, messages: 12 })
    hub.close()
    expect(fast.writableEnded).toBe(true)
  })

  it('refuses streams beyond its cap with a 503 the page turns into polling', async () => {
    const hub = new LiveHub({ db: database.db, logger: silent, headers: { 'x-test': '1' }, maxClients: 2 })
    const streams = [new FakeResponse(true), new FakeResponse(true), new FakeResponse(true)]
    for (const stream of streams) hub.connect(request, asResponse(stream), null)
    expect(streams.map((stream) => stream.status)).toEqual([200, 200, 503])
    expect(hub.stats()).toMatchObject({ clients: 2, refused: 1 })
    // A closed stream frees its place.
    streams[0]!.emit('close')
    const late = new FakeResponse(true)
    hub.connect(request, asResponse(late), null)
    expect(late.status).toBe(200)
    hub.close()
  })

  it('publishes each transition once, also those that commit behind the cursor', async () => {
    const hub = new LiveHub({ db: database.db, logger: silent, headers: {} })
    await hub.poll()
    const messages: string[][] = []
    hub.onChange((message) => messages.push(message.changes.map((c) => c.event_id)))
    await change(100)
    await hub.poll()
    await hub.poll() // re-reads the tail: nothing new, nothing repeated
    expect(messages).toHaveLength(1)
    expect(hub.seq).toBe(1)
    // Transactions commit in any order: an id below the newest one seen can appear later.
    const [{ latest }] = (await database.db.select({ latest: max(eventTransitions.id) }).from(eventTransitions)) as [
      { latest: bigint },
    ]
    const row = (id: bigint) => ({
      id,
      eventId: 1n,
      blogId: 77n,
      stateAfter: 'Seems Down',
      reason: 'opened',
      source: 'test',
      changedAt: new Date(),
    })
    await database.db.insert(eventTransitions).values(row(latest + 5n))
    await hub.poll()
    await database.db.insert(eventTransitions).values(row(latest + 2n))
    await hub.poll()
    await hub.poll()
    expect(messages.slice(1)).toEqual([['1'], ['1']])
    expect(hub.seq).toBe(3)
    // A position the ring still holds is replayed; a foreign one is told to resync.
    const replayed = new FakeResponse(true)
    hub.connect(request, asResponse(replayed), `${hub.epoch}.1`)
    expect(replayed.frames.filter((frame) => frame.includes('event: change'))).toHaveLength(2)
    expect(replayed.frames.some((frame) => frame.startsWith(`id: ${hub.epoch}.3\nevent: change`))).toBe(true)
    const foreign = new FakeResponse(true)
    hub.connect(request, asResponse(foreign), 'deadbeef.0')
    expect(foreign.frames.some((frame) => frame.includes('event: resync'))).toBe(true)
    hub.close()
  })
})
