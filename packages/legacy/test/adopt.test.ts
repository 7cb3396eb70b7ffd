/** Adoption of v1's incidents against the real database. Each test keeps to buckets of its own. */
import { auditLog, events, monitorSites } from '@jetmon/db'
import { closeEvent, getEventDetail, openEvent, replayTransitions } from '@jetmon/eventstore'
import { manualClock, useTestDatabase } from '@jetmon/testkit'
import { eq, inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { type AdoptionProgress, adoptLegacyIncidents } from '../src/index.js'
import { eventsOf, insertV1Rows, totalRows, transitionsOf } from './_helpers.js'

const database = useTestDatabase()
const db = () => database().db
const time = manualClock(new Date('2026-03-02T09:00:00.000Z'))
const v1DownAt = new Date('2026-03-01T22:15:00.000Z')
const v1SeemsDownAt = new Date('2026-03-02T08:58:00.000Z')

/** A range as v1 leaves it: running, seems down, down, down with no time, inactive, and beyond the range. */
async function seedRange(bucket: number, blogBase: bigint) {
  const ids = await insertV1Rows(db(), [
    { blogId: blogBase, monitorUrl: 'https://up.example', bucketNo: bucket },
    {
      blogId: blogBase + 1n,
      monitorUrl: 'https://seems.example',
      bucketNo: bucket,
      siteStatus: 0,
      lastStatusChange: v1SeemsDownAt,
    },
    {
      blogId: blogBase + 2n,
      monitorUrl: 'https://down.example',
      bucketNo: bucket,
      siteStatus: 2,
      lastStatusChange: v1DownAt,
    },
    { blogId: blogBase + 3n, monitorUrl: 'https://undated.example', bucketNo: bucket, siteStatus: 2 },
    { blogId: blogBase + 4n, monitorUrl: 'https://paused.example', bucketNo: bucket, siteStatus: 2, monitorActive: 0 },
    { blogId: blogBase + 5n, monitorUrl: 'https://other.example', bucketNo: bucket + 1, siteStatus: 2 },
  ])
  const [up, seemsDown, down, undated, paused, elsewhere] = ids as [bigint, bigint, bigint, bigint, bigint, bigint]
  return { ids, up, seemsDown, down, undated, paused, elsewhere }
}

describe('adoptLegacyIncidents', () => {
  it('dry run by default: says what it would adopt and writes nothing', async () => {
    const range = await seedRange(10, 1_000n)
    const before = await totalRows(db())
    const plan = await adoptLegacyIncidents({ ctx: { db: db(), clock: time.now }, bucketMin: 10, bucketMax: 10 })
    expect(plan).toEqual({
      execute: false,
      range: { min: 10, max: 10 },
      adopted: { seemsDown: 1, down: 2 },
      alreadyOpen: 0,
      skipped: 0,
      examples: [
        {
          endpointId: range.seemsDown,
          blogId: 1_001n,
          bucketNo: 10,
          monitorUrl: 'https://seems.example',
          siteStatus: 0,
          state: 'Seems Down',
          startedAt: v1SeemsDownAt,
        },
        expect.objectContaining({ endpointId: range.down, siteStatus: 2, state: 'Down', startedAt: v1DownAt }),
        expect.objectContaining({ endpointId: range.undated, state: 'Down', startedAt: time.now() }),
      ],
    })
    expect(await totalRows(db())).toEqual(before)
    expect(await db().select().from(auditLog).where(eq(auditLog.eventType, 'legacy_adopted'))).toEqual([])
  })

  it('opens Seems Down for 0 and Down for 2, adopted, from last_status_change, a Down already notified; the projection keeps its values', async () => {
    const range = await seedRange(20, 2_000n)
    const result = await adoptLegacyIncidents({
      ctx: { db: db(), clock: time.now, source: 'cli:operator' },
      bucketMin: 20,
      bucketMax: 20,
      execute: true,
    })
    expect(result).toMatchObject({ execute: true, adopted: { seemsDown: 1, down: 2 }, alreadyOpen: 0, skipped: 0 })
    const audits = await db().select().from(auditLog).where(eq(auditLog.eventType, 'legacy_adopted'))
    expect(audits.filter((row) => row.source === 'cli:operator')).toEqual([
      expect.objectContaining({
        detail: 'adopted 3 incident(s) from v1 in buckets 20–20',
        metadata: {
          bucket_min: 20,
          bucket_max: 20,
          seems_down: 1,
          down: 2,
          endpoint_ids: [range.seemsDown, range.down, range.undated].map(String),
        },
      }),
    ])
    expect(result.examples.map((e) => e.eventId)).toEqual([expect.any(BigInt), expect.any(BigInt), expect.any(BigInt)])

    const opened = await eventsOf(db(), range.ids)
    expect(
      opened.map((e) => ({
        endpointId: e.endpointId,
        checkType: e.checkType,
        state: e.state,
        severity: e.severity,
        startedAt: e.startedAt,
        metadata: e.metadata,
        downNotifiedAt: e.downNotifiedAt,
        endedAt: e.endedAt,
      })),
    ).toEqual([
      {
        endpointId: range.seemsDown,
        checkType: 'http',
        state: 'Seems Down',
        severity: 3,
        startedAt: v1SeemsDownAt,
        metadata: { adopted_from: 'v1', site_status: 0 },
        downNotifiedAt: null,
        endedAt: null,
      },
      {
        endpointId: range.down,
        checkType: 'http',
        state: 'Down',
        severity: 4,
        startedAt: v1DownAt,
        metadata: { adopted_from: 'v1', site_status: 2 },
        downNotifiedAt: v1DownAt,
        endedAt: null,
      },
      {
        endpointId: range.undated,
        checkType: 'http',
        state: 'Down',
        severity: 4,
        startedAt: time.now(),
        metadata: { adopted_from: 'v1', site_status: 2 },
        downNotifiedAt: time.now(),
        endedAt: null,
      },
    ])
    const transitions = await transitionsOf(db(), range.ids)
    expect(transitions.map((t) => [t.endpointId, t.reason, t.stateBefore, t.stateAfter, t.source, t.metadata])).toEqual(
      [
        [range.seemsDown, 'adopted', null, 'Seems Down', 'cli:operator', { adopted_from: 'v1', site_status: 0 }],
        [range.down, 'adopted', null, 'Down', 'cli:operator', { adopted_from: 'v1', site_status: 2 }],
        [range.undated, 'adopted', null, 'Down', 'cli:operator', { adopted_from: 'v1', site_status: 2 }],
      ],
    )
    for (const event of opened) {
      const detail = await getEventDetail({ ctx: { db: db() }, eventId: event.id })
      expect(replayTransitions(detail?.transitions ?? [])).toMatchObject({ state: event.state, closed: false })
    }

    // v1's values stay; a NULL change time gets the adoption's.
    const rows = await db()
      .select({ id: monitorSites.endpointId, status: monitorSites.siteStatus, at: monitorSites.lastStatusChange })
      .from(monitorSites)
      .where(inArray(monitorSites.endpointId, [range.seemsDown, range.down, range.undated]))
    expect(rows).toEqual([
      { id: range.seemsDown, status: 0, at: v1SeemsDownAt },
      { id: range.down, status: 2, at: v1DownAt },
      { id: range.undated, status: 2, at: new Date(Math.floor(time.now().getTime() / 1000) * 1000) },
    ])
  })

  it('adopts nothing twice, and leaves alone an endpoint that already has an open http event', async () => {
    const range = await seedRange(30, 3_000n)
    // A monitor already opened an event for the Seems Down one.
    await openEvent({
      ctx: { db: db(), source: 'monitor:host-a' },
      input: { blogId: 3_001n, endpointId: range.seemsDown, checkType: 'http', state: 'Seems Down' },
    })
    const first = await adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 30, bucketMax: 30, execute: true })
    expect(first).toMatchObject({ adopted: { seemsDown: 0, down: 2 }, alreadyOpen: 1 })
    // A second open http event of another discriminator: the endpoint still counts once.
    await openEvent({
      ctx: { db: db(), source: 'monitor:host-a' },
      input: { blogId: 3_001n, endpointId: range.seemsDown, checkType: 'http', discriminator: 'www', state: 'Down' },
    })
    const before = await totalRows(db())
    const again = await adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 30, bucketMax: 30, execute: true })
    expect(again).toMatchObject({ adopted: { seemsDown: 0, down: 0 }, alreadyOpen: 3, skipped: 0, examples: [] })
    const dry = await adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 30, bucketMax: 30 })
    expect(dry).toMatchObject({ adopted: { seemsDown: 0, down: 0 }, alreadyOpen: 3, examples: [] })
    expect(await totalRows(db())).toEqual(before)
    const open = await db().select().from(events).where(inArray(events.endpointId, range.ids))
    expect(open.filter((e) => e.endedAt === null)).toHaveLength(4)

    // After a recovery closed the adopted Down, v1's old status is no incident any more: the
    // projection wrote 1, and nothing is adopted again.
    const down = open.find((e) => e.endpointId === range.down)
    await closeEvent({
      ctx: { db: db(), source: 'monitor:host-a' },
      input: { eventId: down?.id as bigint, reason: 'verifier_cleared' },
    })
    const later = await adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 30, bucketMax: 30, execute: true })
    expect(later.adopted).toEqual({ seemsDown: 0, down: 0 })
  })

  it('works in batches, reporting progress after each, and two runs at once open one event per endpoint', async () => {
    const rows = Array.from({ length: 7 }, (_, index) => ({
      blogId: 4_000n + BigInt(index),
      monitorUrl: `https://batch-${index}.example`,
      bucketNo: 40,
      siteStatus: index % 2 === 0 ? 2 : 0,
    }))
    const ids = await insertV1Rows(db(), rows)
    const progress: AdoptionProgress[] = []
    const run = (onProgress?: (p: AdoptionProgress) => void) =>
      adoptLegacyIncidents({
        ctx: { db: db() },
        bucketMin: 40,
        bucketMax: 40,
        execute: true,
        batchSize: 3,
        ...(onProgress ? { onProgress } : {}),
      })
    const [a, b] = await Promise.all([run((p) => progress.push(p)), run()])
    expect(a.adopted.seemsDown + a.adopted.down + b.adopted.seemsDown + b.adopted.down).toBe(7)
    expect(progress.at(-1)).toMatchObject({ total: 7 })
    expect(progress.length).toBeGreaterThanOrEqual(1)
    const opened = await eventsOf(db(), ids)
    expect(opened).toHaveLength(7)
    expect(new Set(opened.map((e) => e.endpointId)).size).toBe(7)

    // On its own, a run reports each batch.
    const more = await insertV1Rows(
      db(),
      rows.map((row, index) => ({ ...row, blogId: 4_100n + BigInt(index), bucketNo: 41 })),
    )
    const steps: AdoptionProgress[] = []
    await adoptLegacyIncidents({
      ctx: { db: db() },
      bucketMin: 41,
      bucketMax: 41,
      execute: true,
      batchSize: 3,
      onProgress: (p) => steps.push(p),
    })
    expect(steps).toEqual([
      { done: 3, total: 7, adopted: 3, skipped: 0 },
      { done: 6, total: 7, adopted: 6, skipped: 0 },
      { done: 7, total: 7, adopted: 7, skipped: 0 },
    ])
    expect(await eventsOf(db(), more)).toHaveLength(7)
  })

  it('refuses a range upside down and a batch size out of range', async () => {
    await expect(adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 9, bucketMax: 8 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    await expect(
      adoptLegacyIncidents({ ctx: { db: db() }, bucketMin: 1, bucketMax: 8, batchSize: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'batchSize' })
  })
})
