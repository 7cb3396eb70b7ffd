import { events, monitorSites, type Tx } from '@jetmon/db'
import { and, asc, between, eq, gt, isNotNull, isNull, ne, sql } from 'drizzle-orm'
import { cursorBigint, decodeCursor, encodeCursor } from './_cursor.js'
import { requireLimit } from './_validate.js'
import { InvalidInputError } from './errors.js'
import type { Event, Page, ReadContext } from './types.js'
import { type EventState, LEGACY_SITE_STATUS, type LegacySiteStatus } from './vocabulary.js'

/** The legacy `site_status` for an endpoint with these open http events: Down wins over Seems Down. */
export function legacySiteStatus(openHttpStates: readonly EventState[]): LegacySiteStatus {
  if (openHttpStates.includes('Down')) return LEGACY_SITE_STATUS.down
  if (openHttpStates.includes('Seems Down')) return LEGACY_SITE_STATUS.seemsDown
  return LEGACY_SITE_STATUS.running
}

/**
 * Writes `site_status` (and `last_status_change`, when the status actually changes) on the
 * endpoint's row of `jetpack_monitor_sites`, inside the transaction that changed `event`. Keyed on
 * the endpoint (`jetpack_monitor_site_id`), never on `blog_id`: a blog can have several endpoints.
 * Only http events with an endpoint are projected; returns the status written, or null.
 */
export async function writeLegacyProjection(tx: Tx, event: Event, now: Date): Promise<LegacySiteStatus | null> {
  if (event.checkType !== 'http' || event.endpointId === null) return null
  // Other open http events of the endpoint (other discriminators) count too; usually there are none.
  const others = await tx
    .select({ state: events.state })
    .from(events)
    .where(
      and(
        eq(events.endpointId, event.endpointId),
        isNull(events.endedAt),
        eq(events.checkType, 'http'),
        ne(events.id, event.id),
      ),
    )
  const states = others.map((row) => row.state as EventState)
  if (event.endedAt === null) states.push(event.state)
  const status = legacySiteStatus(states)
  // Assignments run left to right on both engines: last_status_change compares the old status.
  await tx.execute(sql`
    UPDATE ${monitorSites}
    SET last_status_change = IF(site_status <> ${status} OR last_status_change IS NULL, ${now}, last_status_change),
        site_status = ${status}
    WHERE jetpack_monitor_site_id = ${event.endpointId}`)
  return status
}

/** One endpoint whose legacy `site_status` disagrees with its open http events. */
export interface ProjectionDrift {
  endpointId: bigint
  blogId: bigint
  monitorActive: boolean
  /** As stored (v1 readers may have written values outside 0–2). */
  siteStatus: number
  /** What the open http events say it should be. */
  expectedStatus: LegacySiteStatus
  /** The worst open http event's state, or null when none is open. */
  openHttpState: 'Seems Down' | 'Down' | null
  lastStatusChange: Date | null
}

/**
 * Read-only drift report: endpoints whose `site_status` disagrees with their open http events,
 * in endpoint id order, a page at a time. Repairs nothing (the next http transition of an endpoint
 * rewrites its projection).
 */
export async function projectionDrift({
  ctx,
  limit,
  cursor,
  buckets,
}: {
  ctx: ReadContext
  limit?: number
  cursor?: string | null
  /** Only endpoints whose `bucket_no` is in this inclusive range. */
  buckets?: { min: number; max: number }
}): Promise<Page<ProjectionDrift>> {
  const pageSize = requireLimit(limit)
  const after = cursor ? cursorBigint(decodeCursor('d', cursor, 1)[0]) : null
  if (buckets && !(Number.isInteger(buckets.min) && Number.isInteger(buckets.max) && buckets.min <= buckets.max)) {
    throw new InvalidInputError('buckets', `expected whole numbers with min ≤ max, got ${buckets.min}–${buckets.max}`)
  }
  const db = ctx.db
  // 2 = a Down http event is open, 1 = a Seems Down one, 0 (or no row) = none.
  const openHttp = db
    .select({
      endpointId: events.endpointId,
      rank: sql<number>`MAX(CASE ${events.state} WHEN 'Down' THEN 2 WHEN 'Seems Down' THEN 1 ELSE 0 END)`.as(
        'http_rank',
      ),
    })
    .from(events)
    .where(and(isNull(events.endedAt), eq(events.checkType, 'http'), isNotNull(events.endpointId)))
    .groupBy(events.endpointId)
    .as('open_http')
  const expected = sql`(CASE COALESCE(${openHttp.rank}, 0) WHEN 2 THEN ${LEGACY_SITE_STATUS.down} WHEN 1 THEN ${LEGACY_SITE_STATUS.seemsDown} ELSE ${LEGACY_SITE_STATUS.running} END)`
  const rows = await db
    .select({
      endpointId: monitorSites.endpointId,
      blogId: monitorSites.blogId,
      monitorActive: monitorSites.monitorActive,
      siteStatus: monitorSites.siteStatus,
      lastStatusChange: monitorSites.lastStatusChange,
      rank: openHttp.rank,
    })
    .from(monitorSites)
    .leftJoin(openHttp, eq(openHttp.endpointId, monitorSites.endpointId))
    .where(
      and(
        sql`${monitorSites.siteStatus} <> ${expected}`,
        after === null ? undefined : gt(monitorSites.endpointId, after),
        buckets ? between(monitorSites.bucketNo, buckets.min, buckets.max) : undefined,
      ),
    )
    .orderBy(asc(monitorSites.endpointId))
    .limit(pageSize + 1)
  const page = rows.slice(0, pageSize)
  const items = page.map((row): ProjectionDrift => {
    const rank = Number(row.rank ?? 0)
    const openHttpState = rank === 2 ? 'Down' : rank === 1 ? 'Seems Down' : null
    return {
      endpointId: row.endpointId,
      blogId: row.blogId,
      monitorActive: row.monitorActive !== 0,
      siteStatus: row.siteStatus,
      expectedStatus: legacySiteStatus(openHttpState ? [openHttpState] : []),
      openHttpState,
      lastStatusChange: row.lastStatusChange,
    }
  })
  const last = page.at(-1)
  return { items, next: rows.length > pageSize && last ? encodeCursor('d', [last.endpointId.toString()]) : null }
}
