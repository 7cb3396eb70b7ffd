import { createDatabase, type Database, type DbOrTx } from '@jetmon/db'
import { closeEvent, openEvent } from '@jetmon/eventstore'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FollowedTransition, TransitionFollower } from '../src/transition-follower.js'

const database = useTestDatabase()
let other: Database
beforeAll(() => {
  other = createDatabase(database().url)
})
afterAll(async () => {
  await other?.close()
})

const open = (db: DbOrTx, blogId: bigint) =>
  openEvent({
    ctx: { db, source: 'api:operator', projection: false },
    input: { blogId, endpointId: blogId, checkType: 'http', state: 'Seems Down' },
  })

describe('TransitionFollower', () => {
  it('reports what was written after it started, and a transition that commits after a newer one', async () => {
    const before = await open(database().db, 1n)
    const seen: FollowedTransition[] = []
    const follower = new TransitionFollower({ db: database().db, everyMs: 0, onTransition: (tr) => seen.push(tr) })
    await follower.start()

    // A transaction takes an id, then commits only after a newer transition is visible and read.
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let inserted!: () => void
    const insertedPromise = new Promise<void>((resolve) => {
      inserted = resolve
    })
    const late = other.db.transaction(async (tx) => {
      await open(tx, 2n)
      inserted()
      await released
    })
    await insertedPromise
    await closeEvent({
      ctx: { db: database().db, source: 'api:operator', projection: false },
      input: { eventId: before.event.id, reason: 'manual_override' },
    })
    await follower.poll()
    expect(seen.map((tr) => tr.endpointId)).toEqual([1n])
    release()
    await late
    await follower.poll()
    expect(seen.map((tr) => [tr.endpointId, tr.source])).toEqual([
      [1n, 'api:operator'],
      [2n, 'api:operator'],
    ])
    await follower.poll()
    expect(seen).toHaveLength(2) // each transition is reported once
  })
})
