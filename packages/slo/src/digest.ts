/**
 * The weekly digest of service level objectives: each alert contact that opted in
 * (`slo_digest = 'weekly'`) gets, once per ISO week, a report of the week before (Monday 00:00 to
 * Monday 00:00 UTC) on the objectives it may see: each objective's SLI over those 7 days and over
 * its window, the error budget left, its streak and the objective alerts opened that week. The
 * contact's `slo_digest_sent_week` is claimed with one conditional UPDATE before the send, so any
 * number of processes running this send each week once per contact (at most once: a failed send
 * is logged, not repeated). PagerDuty contacts page on events only and get no digest.
 */
import { alertContacts, type DbOrTx, events, sloDailySnapshots, sloObjectives } from '@jetmon/db'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { and, asc, count, eq, gte, inArray, isNull, lt, ne, or, type SQL } from 'drizzle-orm'
import { SLO_BUDGET, SLO_BURN } from './evaluator.js'
import { objectiveStatuses } from './status.js'
import { type Objective, objectiveOf } from './store.js'

const DAY_MS = 86_400_000
const WEEK_MS = 7 * DAY_MS
/** The most objectives one digest lists; more are counted in its summary. */
export const MAX_DIGEST_OBJECTIVES = 50

/** The alert contact a digest goes to, as stored (the destination may be sealed). */
export interface DigestContact {
  id: bigint
  label: string
  transport: string
  destination: unknown
  ownerTenantId: string | null
  /** `{"blog_ids": [...]}` as stored: the digest lists only these sites' objectives; empty or null = every site. */
  siteFilter?: { blog_ids?: readonly (bigint | number | string)[] | null } | null
}

/** The digest's words, in the shape the alert sender of @jetmon/alerting sends (`match: 'digest'`). */
export interface WeeklyDigest {
  match: 'digest'
  title: string
  summary: string
  fields: { label: string; value: string }[]
  footer: string
}

/** Sends a digest through the contact's transport; never throws (a failure is `ok: false`). */
export type DigestDeliver = (
  contact: DigestContact,
  digest: WeeklyDigest,
) => Promise<{ ok: boolean; error?: string | null | undefined }>

/** What one pass of {@link sendWeeklyDigests} did. */
export interface DigestReport {
  /** The Monday (`YYYY-MM-DD`) of the week reported. */
  week: string
  /** Contacts whose digest of the week this pass claimed. */
  claimed: number
  sent: number
  failed: number
}

/** The Monday 00:00 UTC that starts the ISO week before the one `now` falls in: the week a digest at `now` reports. */
export function digestWeekStart(now: Date): Date {
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS
  const sinceMonday = (now.getUTCDay() + 6) % 7
  return new Date(midnight - sinceMonday * DAY_MS - WEEK_MS)
}

const dayOf = (date: Date): string => date.toISOString().slice(0, 10)

function affectedRows(result: unknown): number {
  const header = Array.isArray(result) ? result[0] : result
  return Number((header as { affectedRows?: number } | undefined)?.affectedRows ?? 0)
}

const percent = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'n/a' : `${Number(value.toFixed(3))} %`

/**
 * The digest of the week starting `weekStart` for a contact: the active objectives its tenant owns
 * (all of them for an operator's contact), of the sites its site filter names if it names any, at most {@link MAX_DIGEST_OBJECTIVES}, in id order.
 */
export async function composeWeeklyDigest(input: {
  ctx: { db: DbOrTx }
  contact: Pick<DigestContact, 'label' | 'ownerTenantId' | 'siteFilter'>
  weekStart: Date
}): Promise<WeeklyDigest> {
  const { ctx, contact, weekStart } = input
  const weekEnd = new Date(weekStart.getTime() + WEEK_MS)
  const tenant = contact.ownerTenantId
  const blogIds = (contact.siteFilter?.blog_ids ?? []).map((blogId) => BigInt(blogId))
  const owned: SQL | undefined =
    tenant === null ? undefined : and(eq(sloObjectives.ownerKey, tenant), eq(sloObjectives.ownerTenantId, tenant))
  const rows = await ctx.db
    .select()
    .from(sloObjectives)
    .where(
      and(
        owned,
        eq(sloObjectives.active, true),
        blogIds.length > 0 ? inArray(sloObjectives.blogId, blogIds) : undefined,
      ),
    )
    .orderBy(asc(sloObjectives.id))
    .limit(MAX_DIGEST_OBJECTIVES + 1)
  const objectives: Objective[] = rows.slice(0, MAX_DIGEST_OBJECTIVES).map(objectiveOf)
  const ids = objectives.map((objective) => objective.id)
  const lastDay = dayOf(new Date(weekEnd.getTime() - DAY_MS))

  const weekly =
    objectives.length === 0
      ? []
      : await objectiveStatuses({
          ctx,
          objectives: objectives.map((objective) => ({ ...objective, window: '7d' as const })),
          now: weekEnd,
        })
  const snapshots =
    ids.length === 0
      ? []
      : await ctx.db
          .select()
          .from(sloDailySnapshots)
          .where(and(inArray(sloDailySnapshots.objectiveId, ids), eq(sloDailySnapshots.day, lastDay)))
  const snapshotOf = new Map(snapshots.map((row) => [row.objectiveId, row]))
  const opened =
    ids.length === 0
      ? []
      : await ctx.db
          .select({ discriminator: events.discriminator, opened: count() })
          .from(events)
          .where(
            and(
              inArray(events.blogId, [...new Set(objectives.map((objective) => objective.blogId))]),
              inArray(events.checkType, [SLO_BURN, SLO_BUDGET]),
              inArray(
                events.discriminator,
                ids.map((id) => id.toString()),
              ),
              gte(events.startedAt, weekStart),
              lt(events.startedAt, weekEnd),
            ),
          )
          .groupBy(events.discriminator)
  const openedOf = new Map(opened.map((row) => [row.discriminator, Number(row.opened)]))

  const fields = objectives.map((objective, i) => {
    const snapshot = snapshotOf.get(objective.id)
    const scope = objective.endpointId === null ? '' : `, endpoint ${objective.endpointId}`
    const parts = [
      `SLI ${percent(weekly[i]?.sliPercent)} over the week`,
      snapshot
        ? `${percent(snapshot.sli)} over ${objective.window} (target ${objective.target} %)`
        : `no snapshot of ${lastDay} (target ${objective.target} %)`,
      `budget left ${snapshot ? percent(snapshot.budgetRemainingPercent) : 'n/a'}`,
      `streak ${snapshot ? snapshot.streakDays : 0} days`,
      `alerts opened ${openedOf.get(objective.id.toString()) ?? 0}`,
    ]
    return { label: `${objective.name} (blog ${objective.blogId}${scope})`, value: parts.join(' · ') }
  })
  const more = rows.length > MAX_DIGEST_OBJECTIVES ? ` (the first ${MAX_DIGEST_OBJECTIVES} are listed)` : ''
  const week = dayOf(weekStart)
  return {
    match: 'digest',
    title: `Service level objectives, week of ${week}`,
    summary:
      objectives.length === 0
        ? `No active objectives in the week of ${week}.`
        : `${rows.length > MAX_DIGEST_OBJECTIVES ? 'More than ' : ''}${objectives.length} objective${objectives.length === 1 ? '' : 's'} from ${week} to ${dayOf(weekEnd)} (UTC)${more}.`,
    fields,
    footer: `Jetmon's weekly objective digest. You receive it because alert contact “${contact.label}” opted in (slo_digest: weekly).`,
  }
}

/**
 * Sends the digest of the week before `now`'s to every active, opted-in contact that has not had it
 * yet (not PagerDuty). Each contact is claimed first; of several processes only one claims it.
 */
export async function sendWeeklyDigests(input: {
  ctx: { db: DbOrTx; clock?: () => Date; logger?: Logger }
  deliver: DigestDeliver
  now?: Date
}): Promise<DigestReport> {
  const { ctx, deliver } = input
  const logger = ctx.logger ?? noopLogger
  const now = input.now ?? (ctx.clock ?? (() => new Date()))()
  const weekStart = digestWeekStart(now)
  const week = dayOf(weekStart)
  const report: DigestReport = { week, claimed: 0, sent: 0, failed: 0 }
  const due = and(
    eq(alertContacts.active, true),
    eq(alertContacts.sloDigest, 'weekly'),
    ne(alertContacts.transport, 'pagerduty'),
    or(isNull(alertContacts.sloDigestSentWeek), lt(alertContacts.sloDigestSentWeek, week)),
  )
  const contacts = await ctx.db
    .select({
      id: alertContacts.id,
      label: alertContacts.label,
      transport: alertContacts.transport,
      destination: alertContacts.destination,
      ownerTenantId: alertContacts.ownerTenantId,
      siteFilter: alertContacts.siteFilter,
      updatedAt: alertContacts.updatedAt,
    })
    .from(alertContacts)
    .where(due)
    .orderBy(asc(alertContacts.id))
  for (const contact of contacts) {
    const claim = await ctx.db
      .update(alertContacts)
      // The claim is not an edit of the contact: its updated_at stays.
      .set({ sloDigestSentWeek: week, updatedAt: contact.updatedAt })
      .where(and(eq(alertContacts.id, contact.id), due))
    if (affectedRows(claim) !== 1) continue
    report.claimed++
    try {
      const digest = await composeWeeklyDigest({ ctx, contact, weekStart })
      const result = await deliver(contact, digest)
      if (result.ok) report.sent++
      else {
        report.failed++
        logger.warn({ contactId: contact.id.toString(), week, error: result.error }, 'weekly objective digest not sent')
      }
    } catch (error) {
      report.failed++
      logger.warn({ err: error, contactId: contact.id.toString(), week }, 'weekly objective digest failed')
    }
  }
  return report
}
