/**
 * Pagination cursors are opaque, but a client can still send anything: every list answers a
 * cursor it did not issue with 400 `invalid_request` on `query.cursor`, never a 500.
 */
import { type Event, openEvent } from '@jetmon/eventstore'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeCursor } from '../src/index.js'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

const harness = useTestApi()
const blogId = newBlogId()
let eventId = 0n
let endpointId = 0

beforeAll(async () => {
  const h = harness()
  const created = await h.client.write.call('sites.create', {
    body: { blog_id: blogId.toString(), monitor_url: `https://cursor-${blogId}.example/` },
  })
  endpointId = Number(created.data.endpoints[0]!.endpoint_id)
  const opened = await openEvent({
    ctx: { db: h.database.db, source: 'monitor:test' },
    input: { blogId, endpointId: BigInt(endpointId), checkType: 'http', state: 'Seems Down' as Event['state'] },
  })
  eventId = opened.event.id
})

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const TOO_BIG_ID = '99999999999999999999' // 20 digits, above 2^64 − 1
const NOW = Date.now()

/** Cursors shaped like `[ms, id]` whose values are out of range or of the wrong kind. */
const timeCursors = [
  encodeCursor([1e300, '1']),
  encodeCursor([-1e15, '1']),
  encodeCursor([8.64e15 + 1, '1']),
  encodeCursor([9_007_199_254_740_991, '1']),
  encodeCursor([NOW + 0.5, '1']),
  encodeCursor([NOW, TOO_BIG_ID]),
  raw([NOW, '1', 'extra']),
  raw({ at: NOW }),
  '%%%',
]
/** Cursors shaped like `[id]` whose id is out of range or not an id. */
const idCursors = [encodeCursor([TOO_BIG_ID]), encodeCursor(['-1']), raw([1]), raw(null), 'bm90IGpzb24']
/** The event store's own cursors, tampered. */
const storeCursors = [
  raw(['t', TOO_BIG_ID]),
  raw(['t', '1e5']),
  raw(['e', 9_007_199_254_740_991, '1']),
  raw(['e', -1e15, '1']),
  raw(['t']),
]

async function expectRefused(path: string, cursor: string) {
  const response = await harness().fetch(`${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`)
  const text = await response.text()
  expect(response.status, `${path} with cursor ${cursor}: ${text}`).toBe(400)
  const error = await envelopeOf(new Response(text))
  expect(error.code).toBe('invalid_request')
  expect(error.details).toEqual([{ path: 'query.cursor', message: expect.any(String) }])
}

describe('tampered pagination cursors', () => {
  it('are 400 on lists keyed by time and id', async () => {
    for (const path of ['/events', `/sites/${blogId}/events`, '/audit', `/sites/${blogId}/maintenance-windows`]) {
      for (const cursor of timeCursors) await expectRefused(path, cursor)
    }
  })

  it('are 400 on lists keyed by id', async () => {
    for (const path of [
      '/sites',
      `/sites/${blogId}/endpoints`,
      '/keys',
      '/webhooks',
      '/alert-contacts',
      `/events/${eventId}/transitions`,
    ]) {
      for (const cursor of idCursors) await expectRefused(path, cursor)
    }
  })

  it("are 400 when they imitate the event store's own cursors", async () => {
    for (const cursor of storeCursors) await expectRefused(`/events/${eventId}/transitions`, cursor)
  })

  it('a cursor the API issued still pages through', async () => {
    const h = harness()
    for (let i = 0; i < 3; i++) {
      await openEvent({
        ctx: { db: h.database.db, source: 'monitor:test' },
        input: { blogId, endpointId: null, checkType: `probe_${i}`, state: 'Seems Down' as Event['state'] },
      })
    }
    const first = await h.client.read.call('events.listForSite', { params: { blog_id: blogId }, query: { limit: 2 } })
    expect(first.data.page.next).not.toBeNull()
    const second = await h.client.read.call('events.listForSite', {
      params: { blog_id: blogId },
      query: { limit: 2, cursor: first.data.page.next! },
    })
    expect(second.data.data.length).toBeGreaterThan(0)
  })
})
