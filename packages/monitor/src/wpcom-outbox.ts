/**
 * The WordPress.com outbox (`jetmon_wpcom_outbox`): notices stored with the change that caused
 * them, claimed by any monitor under a lease (`FOR UPDATE SKIP LOCKED`, like webhook deliveries),
 * and finished with their outcome. Storage only: when to send, retry or give up is wpcom.ts's call.
 */
import {
  auditLog,
  type Db,
  type DbOrTx,
  endpointState,
  events,
  rerunDeadlockVictim,
  type Tx,
  wpcomOutbox,
  type wpcomOutboxStatus,
} from '@jetmon/db'
import { markDownNotified } from '@jetmon/eventstore'
import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/mysql-core'

export type WpcomOutboxStatus = (typeof wpcomOutboxStatus)[number]

/** How long a claim lasts: a monitor that dies leaves its notices claimable again after this. */
export const DEFAULT_WPCOM_LEASE_MS = 60_000

const o = wpcomOutbox

/** How long a notice waits behind an older one of its endpoint that is being sent. */
const BLOCKED_BY_SEND_MS = 1_000

export interface WpcomOutboxEntry {
  eventId: bigint
  blogId: bigint
  endpointId: bigint
  statusId: 1 | 2
  /** The request body, frozen: every attempt sends it. */
  payload: Record<string, unknown>
  /** The endpoint's own cooldown (null: the monitor's default). */
  cooldownMinutes: number | null
}

/**
 * Stores a notice, due at `now`. An incident has at most one Down and one recovery notice: a second
 * enqueue of the same (event, status) is ignored. Returns whether a row was added.
 */
export async function enqueueWpcomNotice(db: DbOrTx, entry: WpcomOutboxEntry, now: Date): Promise<boolean> {
  try {
    await db.insert(o).values({ ...entry, status: 'pending', nextAttemptAt: now })
    return true
  } catch (error) {
    // A duplicate key fails the statement only: a caller's transaction goes on.
    if (isDuplicateKey(error)) return false
    throw error
  }
}

function isDuplicateKey(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ER_DUP_ENTRY') return true
  }
  return false
}

/** A notice claimed by this monitor (`sending` under its lease), with what deciding on it needs. */
export interface ClaimedWpcomNotice extends WpcomOutboxEntry {
  id: bigint
  /** Attempts made before this one. */
  attempt: number
  leaseExpiresAt: Date
  /** When the endpoint's last Down notice was sent, by any monitor (the cooldown). */
  lastAlertSentAt: Date | null
  /** When the incident's Down notice went out; null: it did not (a recovery then sends nothing). */
  downNotifiedAt: Date | null
  /** What became of the incident's Down notice row, if there is one. */
  downStatus: WpcomOutboxStatus | null
}

/**
 * Claims due notices: `pending` rows whose `next_attempt_at` has come and `sending` rows whose lease
 * expired, locked with `SKIP LOCKED`, in a READ COMMITTED transaction that commits before anything
 * is sent. An endpoint's notices go one at a time, oldest first (a recovery never overtakes its
 * Down): a row with an older unfinished row of its endpoint is not claimed, and waits until that one
 * is due or its lease ends, so that it does not fill later claims.
 */
export async function claimWpcomNotices(
  db: Db,
  input: { now: Date; limit: number; leaseMs?: number },
): Promise<ClaimedWpcomNotice[]> {
  const { now, limit } = input
  const lease = new Date(now.getTime() + (input.leaseMs ?? DEFAULT_WPCOM_LEASE_MS))
  const page = Math.min(limit * 5, 500)
  return rerunOnDeadlock(() =>
    db.transaction(
      async (tx) => {
        const keys = { id: o.id, endpointId: o.endpointId }
        const expired = await tx
          .select(keys)
          .from(o)
          .where(and(eq(o.status, 'sending'), lte(o.leaseExpiresAt, now)))
          .orderBy(asc(o.leaseExpiresAt), asc(o.id))
          .limit(page)
          .for('update', { skipLocked: true })
        const due = await tx
          .select(keys)
          .from(o)
          .where(and(eq(o.status, 'pending'), lte(o.nextAttemptAt, now)))
          .orderBy(asc(o.nextAttemptAt), asc(o.id))
          .limit(page)
          .for('update', { skipLocked: true })
        const candidates = [...expired, ...due]
        if (candidates.length === 0) return []

        // The oldest unfinished row of each candidate's endpoint (a plain read: rows others hold count too).
        const unfinished = await tx
          .select({
            id: o.id,
            endpointId: o.endpointId,
            nextAttemptAt: o.nextAttemptAt,
            leaseExpiresAt: o.leaseExpiresAt,
          })
          .from(o)
          .where(
            and(
              inArray(o.endpointId, [...new Set(candidates.map((c) => c.endpointId))]),
              inArray(o.status, ['pending', 'sending']),
            ),
          )
        const heads = new Map<bigint, (typeof unfinished)[number]>()
        for (const row of unfinished) {
          const head = heads.get(row.endpointId)
          if (!head || row.id < head.id) heads.set(row.endpointId, row)
        }
        const chosen: bigint[] = []
        const taken = new Set<bigint>()
        for (const candidate of candidates) {
          const head = heads.get(candidate.endpointId)
          if (head && head.id !== candidate.id) {
            // Behind an older notice: due again when that one may next be tried (its retry), or
            // shortly when it is being sent (its outcome, not yet committed, also makes this one due).
            const wait = head.leaseExpiresAt ? new Date(now.getTime() + BLOCKED_BY_SEND_MS) : head.nextAttemptAt
            if (wait && wait > now) await tx.update(o).set({ nextAttemptAt: wait }).where(eq(o.id, candidate.id))
            continue
          }
          if (chosen.length >= limit || taken.has(candidate.endpointId)) continue
          taken.add(candidate.endpointId)
          chosen.push(candidate.id)
        }
        if (chosen.length === 0) return []
        await tx.update(o).set({ status: 'sending', leaseExpiresAt: lease }).where(inArray(o.id, chosen))
        return readClaimed(tx, chosen, lease)
      },
      { isolationLevel: 'read committed' },
    ),
  )
}

/** Claims and outcomes touch neighbouring rows of the same indexes: a deadlock victim simply runs again. */
function rerunOnDeadlock<T>(unit: () => Promise<T>): Promise<T> {
  return rerunDeadlockVictim(unit, { attempts: 5 })
}

async function readClaimed(tx: Tx, ids: bigint[], lease: Date): Promise<ClaimedWpcomNotice[]> {
  const down = alias(o, 'down')
  const rows = await tx
    .select({
      id: o.id,
      eventId: o.eventId,
      blogId: o.blogId,
      endpointId: o.endpointId,
      statusId: o.statusId,
      payload: o.payload,
      cooldownMinutes: o.cooldownMinutes,
      attempt: o.attempt,
      lastAlertSentAt: endpointState.lastAlertSentAt,
      downNotifiedAt: events.downNotifiedAt,
      downStatus: down.status,
    })
    .from(o)
    .leftJoin(endpointState, eq(endpointState.endpointId, o.endpointId))
    .leftJoin(events, eq(events.id, o.eventId))
    .leftJoin(down, and(eq(down.eventId, o.eventId), eq(down.statusId, 2)))
    .where(inArray(o.id, ids))
  const byId = new Map(rows.map((row) => [row.id, row]))
  return ids.flatMap((id) => {
    const row = byId.get(id)
    if (!row) return []
    return [{ ...row, statusId: row.statusId === 1 ? 1 : 2, leaseExpiresAt: lease } as ClaimedWpcomNotice]
  })
}

/** How a claimed notice ends, or that it is to be tried again. */
export type WpcomOutcome =
  | { kind: 'sent'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; response: string; nextAttemptAt: Date }
  | { kind: 'abandoned'; statusCode: number | null; response: string }
  | { kind: 'suppressed'; response: string }

/**
 * Records the outcome of a claim, with its audit row, in one transaction. A sent Down also marks
 * its incident as notified (the recovery may go) and the endpoint's last alert time (the cooldown),
 * even when the lease was lost meanwhile: it did reach WordPress.com. A finished notice lets the
 * endpoint's next one go at once. Returns false when the lease was lost (nothing else recorded).
 */
export async function finishWpcomNotice(
  db: Db,
  claimed: Pick<ClaimedWpcomNotice, 'id' | 'eventId' | 'endpointId' | 'statusId' | 'attempt' | 'leaseExpiresAt'>,
  outcome: WpcomOutcome,
  now: Date,
  audit: typeof auditLog.$inferInsert | null,
): Promise<boolean> {
  const attempt = outcome.kind === 'suppressed' ? claimed.attempt : claimed.attempt + 1
  const set: Partial<typeof o.$inferInsert> =
    outcome.kind === 'sent'
      ? { status: 'sent', sentAt: now, lastStatusCode: outcome.statusCode, lastResponse: null }
      : outcome.kind === 'retry'
        ? { status: 'pending', nextAttemptAt: outcome.nextAttemptAt, lastStatusCode: outcome.statusCode }
        : outcome.kind === 'abandoned'
          ? { status: 'abandoned', nextAttemptAt: null, lastStatusCode: outcome.statusCode }
          : { status: 'suppressed', nextAttemptAt: null }
  if (outcome.kind !== 'sent') set.lastResponse = outcome.response.slice(0, 2048)
  if (outcome.kind !== 'suppressed') set.lastAttemptAt = now
  return rerunOnDeadlock(() =>
    db.transaction(async (tx) => {
      const [header] = await tx
        .update(o)
        .set({ ...set, attempt, leaseExpiresAt: null })
        .where(and(eq(o.id, claimed.id), eq(o.status, 'sending'), eq(o.leaseExpiresAt, claimed.leaseExpiresAt)))
      const recorded = header.affectedRows > 0
      if (outcome.kind === 'sent' && claimed.statusId === 2) {
        await markDownNotified({ ctx: { db: tx }, eventId: claimed.eventId, at: now })
        // DATETIME holds whole seconds; truncating keeps the cooldown from ending late after a restart.
        const sentAt = new Date(Math.floor(now.getTime() / 1000) * 1000)
        await tx
          .insert(endpointState)
          .values({ endpointId: claimed.endpointId, lastAlertSentAt: sentAt, updatedAt: now })
          .onDuplicateKeyUpdate({ set: { lastAlertSentAt: sentAt, updatedAt: now } })
      }
      if (!recorded) return false
      if (outcome.kind !== 'retry') {
        // The endpoint's next notice (a recovery waiting behind its Down) need not wait for a poll.
        // Its rows are locked by endpoint first: a claim that is pushing one of them back (it saw
        // this notice still sending) holds that row, and this waits for it and reads what it wrote.
        // An UPDATE filtered on `next_attempt_at` alone may be planned on the (status, due) index
        // and miss a row whose new due time is not committed yet, leaving it pushed back.
        const waiting = await tx
          .select({ id: o.id, attempt: o.attempt, nextAttemptAt: o.nextAttemptAt })
          .from(o)
          .where(and(eq(o.endpointId, claimed.endpointId), eq(o.status, 'pending')))
          .for('update')
        const behind = waiting.filter((row) => row.attempt === 0 && row.nextAttemptAt && row.nextAttemptAt > now)
        if (behind.length > 0) {
          await tx
            .update(o)
            .set({ nextAttemptAt: now })
            .where(
              inArray(
                o.id,
                behind.map((row) => row.id),
              ),
            )
        }
      }
      if (audit) await tx.insert(auditLog).values(audit)
      return true
    }),
  )
}

/** Gives claimed notices back untried (a monitor stopping): `pending`, due now, attempts unchanged. */
export async function releaseWpcomNotices(
  db: Db,
  claims: readonly Pick<ClaimedWpcomNotice, 'id' | 'leaseExpiresAt'>[],
  now: Date,
): Promise<number> {
  let released = 0
  for (const claim of claims) {
    const [header] = await rerunOnDeadlock(() =>
      db
        .update(o)
        .set({ status: 'pending', nextAttemptAt: now, leaseExpiresAt: null })
        .where(and(eq(o.id, claim.id), eq(o.status, 'sending'), eq(o.leaseExpiresAt, claim.leaseExpiresAt))),
    )
    released += header.affectedRows
  }
  return released
}

/** Makes every notice waiting out a retry backoff due now (WordPress.com answers again). */
export async function hurryWpcomNotices(db: Db, now: Date): Promise<number> {
  const [header] = await rerunOnDeadlock(() =>
    db
      .update(o)
      .set({ nextAttemptAt: now })
      .where(and(eq(o.status, 'pending'), gt(o.nextAttemptAt, now))),
  )
  return header.affectedRows
}

/** The fleet's backlog: notices not finished, and when the next one falls due (a pending one, or a lease ending). */
export async function wpcomBacklog(db: Db): Promise<{ unfinished: number; nextDueAt: Date | null }> {
  const rows = await db
    .select({
      status: o.status,
      count: sql<number>`COUNT(*)`.mapWith(Number),
      nextAttemptAt: sql<Date | null>`MIN(${o.nextAttemptAt})`.mapWith(o.nextAttemptAt),
      leaseExpiresAt: sql<Date | null>`MIN(${o.leaseExpiresAt})`.mapWith(o.leaseExpiresAt),
    })
    .from(o)
    .where(inArray(o.status, ['pending', 'sending']))
    .groupBy(o.status)
  let unfinished = 0
  let next: number | null = null
  for (const row of rows) {
    unfinished += row.count
    const at = row.status === 'pending' ? row.nextAttemptAt : row.leaseExpiresAt
    if (at && (next === null || at.getTime() < next)) next = at.getTime()
  }
  return { unfinished, nextDueAt: next === null ? null : new Date(next) }
}

/**
 * Bounds the backlog: abandons the oldest pending notices beyond `max` (they are never sent, so
 * their recoveries are not either). Returns the abandoned rows.
 */
export async function trimWpcomOutbox(
  db: Db,
  max: number,
  now: Date,
): Promise<{ id: bigint; blogId: bigint; endpointId: bigint; eventId: bigint; statusId: number }[]> {
  return rerunOnDeadlock(() =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .select({ count: sql<number>`COUNT(*)`.mapWith(Number) })
        .from(o)
        .where(inArray(o.status, ['pending', 'sending']))
      const excess = (row?.count ?? 0) - max
      if (excess <= 0) return []
      const oldest = await tx
        .select({ id: o.id, blogId: o.blogId, endpointId: o.endpointId, eventId: o.eventId, statusId: o.statusId })
        .from(o)
        .where(eq(o.status, 'pending'))
        .orderBy(asc(o.id))
        .limit(excess)
        .for('update', { skipLocked: true })
      if (oldest.length === 0) return []
      await tx
        .update(o)
        .set({
          status: 'abandoned',
          nextAttemptAt: null,
          lastResponse: `dropped: more than ${max} notices waiting`,
          lastAttemptAt: now,
        })
        .where(
          inArray(
            o.id,
            oldest.map((r) => r.id),
          ),
        )
      return oldest
    }),
  )
}

/** How long finished notices (sent, abandoned, suppressed) stay in the outbox, for audits and support. */
export const WPCOM_OUTBOX_RETENTION_DAYS = 30

/**
 * Deletes finished notices stored before `before`, in batches; pending and claimed ones stay
 * whatever their age. An incident's "Down notified" mark lives on the event, so a recovery still
 * finds it after its Down's row is gone. Returns how many rows went.
 */
export async function pruneWpcomOutbox(db: Db, before: Date, batch = 1_000): Promise<number> {
  let deleted = 0
  for (;;) {
    const [header] = await db.execute(
      sql`DELETE FROM ${o} WHERE ${o.status} IN ('sent', 'abandoned', 'suppressed') AND ${o.createdAt} < ${before} LIMIT ${batch}`,
    )
    const affected = (header as unknown as { affectedRows: number }).affectedRows
    deleted += affected
    if (affected < batch) return deleted
  }
}
