import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { closeEvent, downNotifiedAt, markDownNotified, openEvent } from '../src/index.js'
import { contextFor, countRows, newBlogId } from './_helpers.js'

const database = useTestDatabase()
const time = manualClock(new Date('2026-03-01T12:00:00.000Z'))
const ctx = () => contextFor(database().db, { clock: time.now, projection: false })

describe('markDownNotified', () => {
  it('records when the Down notice went out, keeps the first time, and writes no transition', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'http', state: 'Down' },
    })
    expect(await downNotifiedAt({ ctx: ctx(), eventId: event.id })).toBeNull()

    const first = time.advance(1_000)
    expect(await markDownNotified({ ctx: ctx(), eventId: event.id, at: first })).toBe(true)
    expect(await markDownNotified({ ctx: ctx(), eventId: event.id, at: time.advance(1_000) })).toBe(false)
    expect(await downNotifiedAt({ ctx: ctx(), eventId: event.id })).toEqual(first)
    expect(await countRows(database().db, blogId)).toEqual({ events: 1, transitions: 1 })
  })

  it('marks a closed incident too, and an unknown one not at all', async () => {
    const blogId = newBlogId()
    const { event } = await openEvent({
      ctx: ctx(),
      input: { blogId, endpointId: 1n, checkType: 'http', state: 'Down' },
    })
    await closeEvent({ ctx: ctx(), input: { eventId: event.id, reason: 'verifier_cleared' } })
    expect(await markDownNotified({ ctx: ctx(), eventId: event.id, at: time.now() })).toBe(true)
    expect(await markDownNotified({ ctx: ctx(), eventId: event.id + 1_000_000n, at: time.now() })).toBe(false)
  })
})
