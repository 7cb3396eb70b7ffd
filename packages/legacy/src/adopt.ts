/**
 * Adoption: the incidents v1 already reported (`site_status` 0 or 2 on an active row) become open
 * http events of Jetmon 2, written through the event store, so that the switch neither forgets an
 * outage nor reports it a second time.
 */
import {
  type Db,
  events,
  type Logger,
  monitorSites,
  noopLogger,
  recordAudit,
  rerunDeadlockVictim,
  withTransaction,
} from '@jetmon/db'
import { markDownNotified, openEvent } from '@jetmon/eventstore'
import { LEGACY_SITE_STATUS } from '@jetmon/vocabulary'
import { and, asc, between, eq, gt, inArray, isNull, sql } from 'drizzle-orm'
import { type BucketRange, bucketRange, requireCount } from './range.js'

/** What a v1 status becomes. */
const STATE_OF = { [LEGACY_SITE_STATUS.seemsDown]: 'Seems Down', [LEGACY_SITE_STATUS.down]: 'Down' } as const
type AdoptedStatus = keyof typeof STATE_OF

export interface AdoptionExample {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  monitorUrl: string
  siteStatus: AdoptedStatus
  state: 'Seems Down' | 'Down'
  /** The incident's start: v1's `last_status_change`, or the time of the adoption when v1 left it NULL. */
  startedAt: Date
  /** The event opened (execute only). */
  eventId?: bigint
}

export interface AdoptionProgress {
  /** Candidates handled so far, and how many there were when the run began. */
  done: number
  total: number
  adopted: number
  skipped: number
}

export interface AdoptLegacyIncidentsInput {
  ctx: {
    db: Db
    clock?: () => Date
    logger?: Logger
    /** Who adopts, on every transition: `cli:<user>`, `api:<consumer>`. Default `system`. */
    source?: string
    /** Write the legacy projection (`LEGACY_STATUS_PROJECTION_ENABLE`). Default true. */
    projection?: boolean
  }
  bucketMin: number
  bucketMax: number
  /** False (the default): change nothing and say what would be done. */
  execute?: boolean
  /** Rows adopted per transaction (default 500, at most 5 000). */
  batchSize?: number
  /** Examples returned (default 5, at most 100). */
  examples?: number
  /** Called after each committed batch (execute only). */
  onProgress?: (progress: AdoptionProgress) => void
}

export interface AdoptionResult {
  execute: boolean
  range: BucketRange
  /**
   * Dry run: the rows that would be adopted now. Execute: the events this run opened, by state
   * (`seemsDown` from site_status 0, `down` from 2).
   */
  adopted: { seemsDown: number; down: number }
  /** Rows down for v1 that already have an open http event (adopted before, or opened by a monitor): left alone. */
  alreadyOpen: number
  /** Candidates that got an open http event from someone else while this run went (execute only). */
  skipped: number
  examples: AdoptionExample[]
}

const s = monitorSites

/** Active rows of the range that v1 reports as down (site_status 0 or 2). */
function downForV1(range: BucketRange) {
  return and(
    eq(s.monitorActive, 1),
    between(s.bucketNo, range.min, range.max),
    inArray(s.siteStatus, [LEGACY_SITE_STATUS.seemsDown, LEGACY_SITE_STATUS.down]),
  )
}

/**
 * The endpoint's open http events, joined on the event store's (endpoint_id, ended_at) index: with
 * `openHttp.id IS NULL`, the rows that have none. (A NOT EXISTS subquery may be planned as a scan of
 * every event.)
 */
const openHttp = and(eq(events.endpointId, s.endpointId), isNull(events.endedAt), eq(events.checkType, 'http'))

/**
 * Takes over v1's incidents in the buckets `bucketMin`–`bucketMax`: every active row whose
 * `site_status` is 0 (v1 saw it fail) or 2 (v1 confirmed it Down) and whose endpoint has no open http
 * event gets one, opened through the event store with the reason `adopted`: `Seems Down` for 0,
 * `Down` for 2, started at `last_status_change` (or now when NULL), with the metadata
 * `{"adopted_from":"v1","site_status":N}`. A Down is marked as already notified in the same
 * transaction (v1 told WordPress.com), so no second Down notice goes out and its recovery does.
 * Webhooks and alert contacts are not told of adoptions. Each batch writes a `legacy_adopted` row
 * to the audit log, with the endpoints it adopted.
 *
 * Dry run by default: counts and examples, nothing written. With `execute`, batches of
 * `batchSize` rows in one transaction each. Running it again adopts nothing twice (an endpoint with
 * an open http event is left alone, and the event store opens one event per identity).
 *
 * @throws InvalidInputError for a range upside down or out of bounds, or a batch size out of range.
 */
export async function adoptLegacyIncidents(input: AdoptLegacyIncidentsInput): Promise<AdoptionResult> {
  const range = bucketRange(input.bucketMin, input.bucketMax)
  if (!range) throw new Error('unreachable: bucketRange returns a range when both ends are given')
  const batchSize = requireCount('batchSize', input.batchSize ?? 500, 5_000)
  const exampleCount = requireCount('examples', input.examples ?? 5, 100)
  const { db } = input.ctx
  const clock = input.ctx.clock ?? (() => new Date())
  const logger = input.ctx.logger ?? noopLogger
  const source = input.ctx.source ?? 'system'

  const isOpen = sql`${events.id} IS NOT NULL`
  const tally = await db
    .select({
      siteStatus: s.siteStatus,
      open: sql<number>`${isOpen}`.mapWith(Number),
      // An endpoint with open http events of several discriminators counts once.
      rows: sql<number>`COUNT(DISTINCT ${s.endpointId})`.mapWith(Number),
    })
    .from(s)
    .leftJoin(events, openHttp)
    .where(downForV1(range))
    .groupBy(s.siteStatus, isOpen)
  const candidates = (status: number) =>
    tally.filter((row) => row.siteStatus === status && row.open === 0).reduce((n, row) => n + row.rows, 0)
  const alreadyOpen = tally.filter((row) => row.open !== 0).reduce((n, row) => n + row.rows, 0)
  const total = candidates(LEGACY_SITE_STATUS.seemsDown) + candidates(LEGACY_SITE_STATUS.down)

  const page = (after: bigint, limit: number) =>
    db
      .select({
        endpointId: s.endpointId,
        blogId: s.blogId,
        bucketNo: s.bucketNo,
        monitorUrl: s.monitorUrl,
        siteStatus: s.siteStatus,
        lastStatusChange: s.lastStatusChange,
      })
      .from(s)
      .leftJoin(events, openHttp)
      .where(and(downForV1(range), gt(s.endpointId, after), isNull(events.id)))
      .orderBy(asc(s.endpointId))
      .limit(limit)
  const exampleOf = (row: Awaited<ReturnType<typeof page>>[number], now: Date): AdoptionExample => {
    const siteStatus = row.siteStatus as AdoptedStatus
    return {
      endpointId: row.endpointId,
      blogId: row.blogId,
      bucketNo: row.bucketNo,
      monitorUrl: row.monitorUrl,
      siteStatus,
      state: STATE_OF[siteStatus],
      startedAt: row.lastStatusChange ?? now,
    }
  }

  if (!input.execute) {
    const now = clock()
    return {
      execute: false,
      range,
      adopted: { seemsDown: candidates(LEGACY_SITE_STATUS.seemsDown), down: candidates(LEGACY_SITE_STATUS.down) },
      alreadyOpen,
      skipped: 0,
      examples: total === 0 ? [] : (await page(0n, exampleCount)).map((row) => exampleOf(row, now)),
    }
  }

  const adopted = { seemsDown: 0, down: 0 }
  let skipped = 0
  let done = 0
  const examples: AdoptionExample[] = []
  let after = 0n
  for (;;) {
    const rows = await page(after, batchSize)
    if (rows.length === 0) break
    // One transaction per batch; a deadlock victim rolled all of it back and runs again.
    const outcome = await rerunDeadlockVictim(() =>
      withTransaction(db, async (tx) => {
        const now = clock()
        const ctx = { db: tx, source, clock: () => now, logger, projection: input.ctx.projection !== false }
        const batch = { seemsDown: 0, down: 0, skipped: 0, examples: [] as AdoptionExample[] }
        for (const row of rows) {
          const example = exampleOf(row, now)
          const opened = await openEvent({
            ctx,
            input: {
              blogId: row.blogId,
              endpointId: row.endpointId,
              checkType: 'http',
              state: example.state,
              startedAt: example.startedAt,
              reason: 'adopted',
              eventMetadata: { adopted_from: 'v1', site_status: example.siteStatus },
              transitionMetadata: { adopted_from: 'v1', site_status: example.siteStatus },
            },
          })
          if (!opened.opened) {
            batch.skipped++
            continue
          }
          if (example.state === 'Down') {
            // v1 sent this incident's Down notice: only its recovery is left to send.
            await markDownNotified({ ctx: { db: tx }, eventId: opened.event.id, at: example.startedAt })
            batch.down++
          } else {
            batch.seemsDown++
          }
          batch.examples.push({ ...example, eventId: opened.event.id })
        }
        if (batch.seemsDown + batch.down > 0) {
          // Who adopted what, in the transaction that did it.
          await recordAudit({
            ctx: { db: tx },
            entry: {
              eventType: 'legacy_adopted',
              source,
              detail: `adopted ${batch.seemsDown + batch.down} incident(s) from v1 in buckets ${range.min}–${range.max}`,
              metadata: {
                bucket_min: range.min,
                bucket_max: range.max,
                seems_down: batch.seemsDown,
                down: batch.down,
                endpoint_ids: batch.examples.map((example) => example.endpointId.toString()),
              },
            },
          })
        }
        return batch
      }),
    )
    adopted.seemsDown += outcome.seemsDown
    adopted.down += outcome.down
    skipped += outcome.skipped
    done += rows.length
    for (const example of outcome.examples) if (examples.length < exampleCount) examples.push(example)
    after = rows[rows.length - 1]?.endpointId ?? after
    const progress = { done, total, adopted: adopted.seemsDown + adopted.down, skipped }
    logger.info({ ...progress, bucketMin: range.min, bucketMax: range.max }, 'adopting v1 incidents')
    input.onProgress?.(progress)
    if (rows.length < batchSize) break
  }
  return { execute: true, range, adopted, alreadyOpen, skipped, examples }
}
