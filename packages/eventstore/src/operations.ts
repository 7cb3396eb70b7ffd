import {
  events,
  eventTransitions,
  type Logger,
  noopLogger,
  rerunDeadlockVictim,
  type Tx,
  withTransaction,
} from '@jetmon/db'
import { eq, is, sql } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
import {
  dedupKeyOf,
  normalizeIdentity,
  requireChangeReason,
  requireClosingReason,
  requireEventSeverity,
  requireEventState,
  requireId,
  requireSource,
} from './_validate.js'
import {
  EventClosedError,
  EventNotFoundError,
  InvalidInputError,
  InvalidTransitionError,
  OpenConflictError,
} from './errors.js'
import { writeLegacyProjection } from './projection.js'
import { decodeRaw, eventColumns, toEvent } from './rows.js'
import type {
  CloseEventInput,
  Event,
  EventStoreContext,
  LinkCauseInput,
  Metadata,
  MutationInput,
  MutationResult,
  OpenEventInput,
  OpenEventResult,
  PromoteEventInput,
  Transition,
  UpdateSeverityInput,
  UpdateStateInput,
} from './types.js'
import {
  type ChangeReason,
  type ClosingReason,
  type EventState,
  nominalSeverity,
  RESOLVED,
  type Severity,
  type TransitionReason,
} from './vocabulary.js'

/** The context with its defaults applied and the time of the change fixed once. */
interface WriteScope {
  source: string
  now: Date
  logger: Logger
  projection: boolean
}

function scopeOf(ctx: EventStoreContext): WriteScope {
  const now = (ctx.clock ?? (() => new Date()))()
  return {
    source: requireSource(ctx.source),
    // DATETIME(3) keeps milliseconds: the returned objects equal what a later read returns.
    now: new Date(now.getTime()),
    logger: ctx.logger ?? noopLogger,
    projection: ctx.projection !== false,
  }
}

function hasDriverCode(error: unknown, code: 'ER_DUP_ENTRY'): boolean {
  // drizzle wraps the driver's error (DrizzleQueryError) and keeps it as `cause`.
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === code) return true
  }
  return false
}

async function insertTransition(tx: Tx, values: Omit<Transition, 'id'>): Promise<Transition> {
  const [header] = await tx.insert(eventTransitions).values(values)
  return { id: BigInt(header.insertId), ...values }
}

const OPEN_ATTEMPTS = 3

/**
 * Opens an event for an identity, or returns the one already open (`opened: false`, nothing
 * written). Idempotent and safe under concurrency: the unique `dedup_key` admits one open event
 * per identity, so of two processes opening the same identity at once exactly one inserts.
 *
 * On insert, writes the `opened` transition and, for http events, the legacy projection, all in
 * one transaction (the caller's, when `ctx.db` is one).
 *
 * @throws InvalidTransitionError when the state is not an event state (`Unknown`, `Up`, …) or the
 *   severity is out of range; InvalidInputError for a malformed identity or source.
 */
export async function openEvent({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: OpenEventInput
}): Promise<OpenEventResult> {
  const scope = scopeOf(ctx)
  const identity = normalizeIdentity(input)
  const state = requireEventState(input.state)
  const severity = input.severity === undefined ? nominalSeverity(state) : requireEventSeverity(input.severity)
  const startedAt = input.startedAt ? new Date(input.startedAt.getTime()) : scope.now
  const dedupKey = dedupKeyOf(identity)
  const eventMetadata = input.eventMetadata ?? null
  const reason = input.reason ?? 'opened'
  if (reason !== 'opened' && reason !== 'adopted') {
    throw new InvalidTransitionError(`an event opens with the reason opened or adopted, not ${JSON.stringify(reason)}`)
  }

  const open = () =>
    withTransaction(ctx.db, async (tx): Promise<OpenEventResult> => {
      for (let attempt = 1; attempt <= OPEN_ATTEMPTS; attempt++) {
        let id: bigint
        try {
          const [header] = await tx.insert(events).values({
            ...identity,
            severity,
            state,
            startedAt,
            metadata: eventMetadata,
            updatedAt: scope.now,
          })
          id = BigInt(header.insertId)
        } catch (error) {
          if (!hasDriverCode(error, 'ER_DUP_ENTRY')) throw error
          // A shared lock, not FOR UPDATE: several losers of one race all wait on the winner's row,
          // and upgrading their shared duplicate-key locks to exclusive ones would deadlock them.
          const existing = await selectOpenForShare(tx, dedupKey)
          if (existing) {
            scope.logger.debug({ eventId: existing.id.toString(), dedupKey }, 'event already open')
            return { opened: false, event: existing }
          }
          continue // it closed between our insert and our read: try again
        }
        const event: Event = {
          id,
          ...identity,
          severity,
          state,
          startedAt,
          endedAt: null,
          resolutionReason: null,
          causeEventId: null,
          metadata: eventMetadata,
          updatedAt: scope.now,
        }
        const transition = await insertTransition(tx, {
          eventId: id,
          blogId: event.blogId,
          endpointId: event.endpointId,
          severityBefore: null,
          severityAfter: severity,
          stateBefore: null,
          stateAfter: state,
          reason,
          source: scope.source,
          metadata: input.transitionMetadata ?? null,
          changedAt: scope.now,
        })
        if (scope.projection) await writeLegacyProjection(tx, event, scope.now)
        scope.logger.debug({ eventId: id.toString(), dedupKey, state, severity }, 'event opened')
        return { opened: true, event, transition }
      }
      throw new OpenConflictError(
        `could not open ${dedupKey}: it kept being opened and closed concurrently (${OPEN_ATTEMPTS} attempts); retry`,
      )
    })

  // Waiters on an opener that rolls back can deadlock one another (each holds a shared lock on the
  // key and wants an exclusive one); InnoDB picks a victim, and the victim runs again.
  return rerunOwnTransaction(ctx, scope, { dedupKey }, open)
}

/**
 * Runs `unit` (one whole transaction of a verb) again when InnoDB rolled it back as a deadlock
 * victim, up to three attempts: nothing was committed, so the rerun reads the rows and decides
 * again. In the caller's transaction a deadlock has already rolled back the caller's own work too:
 * the caller owns that unit of work and must retry it.
 */
function rerunOwnTransaction<T>(
  ctx: EventStoreContext,
  scope: WriteScope,
  what: Record<string, string>,
  unit: () => Promise<T>,
): Promise<T> {
  if (is(ctx.db, MySqlTransaction)) return unit()
  return rerunDeadlockVictim(unit, {
    attempts: 3,
    onRerun: (attempt) =>
      scope.logger.debug({ ...what, attempt }, 'chosen as a deadlock victim; running the transaction again'),
  })
}

async function selectOpenForShare(tx: Tx, dedupKey: string): Promise<Event | null> {
  // The query builder only knows FOR SHARE, which MariaDB lacks; LOCK IN SHARE MODE works on both.
  const query = tx.select(eventColumns).from(events).where(eq(events.dedupKey, dedupKey)).getSQL()
  const [rows] = (await tx.execute(sql`${query} LOCK IN SHARE MODE`)) as unknown as [Record<string, unknown>[]]
  const raw = rows[0]
  return raw ? toEvent(decodeRaw(eventColumns, raw)) : null
}

/** What a mutation turns the locked event into; null for a no-op. */
interface Change {
  reason: TransitionReason
  severity: Severity
  state: EventState
  causeEventId: bigint | null
  close?: ClosingReason
  /** Added to the transition's metadata before the caller's. */
  transitionMetadata?: Metadata
}

/**
 * The shared shape of every mutation: lock the event row, refuse unknown and closed events, ask
 * `plan` for the change, then write the event, exactly one transition and the projection. In its
 * own transaction a deadlock victim runs again, as an open does.
 */
async function mutate(
  ctx: EventStoreContext,
  input: MutationInput,
  plan: (current: Event, tx: Tx) => Change | null | Promise<Change | null>,
): Promise<MutationResult> {
  const scope = scopeOf(ctx)
  const eventId = requireId('eventId', input.eventId)
  const unit = () =>
    withTransaction(ctx.db, async (tx): Promise<MutationResult> => {
      const [row] = await tx.select(eventColumns).from(events).where(eq(events.id, eventId)).for('update')
      if (!row) throw new EventNotFoundError(eventId)
      const current = toEvent(row)
      if (current.endedAt !== null) throw new EventClosedError(eventId, current.endedAt, current.resolutionReason)

      const change = await plan(current, tx)
      if (!change) return { changed: false, event: current }

      const endedAt = change.close ? scope.now : null
      const metadata = input.eventMetadata ? { ...current.metadata, ...input.eventMetadata } : current.metadata
      const event: Event = {
        ...current,
        severity: change.severity,
        state: change.state,
        causeEventId: change.causeEventId,
        endedAt,
        resolutionReason: change.close ?? null,
        metadata,
        updatedAt: scope.now,
      }
      await tx
        .update(events)
        .set({
          severity: event.severity,
          state: event.state,
          causeEventId: event.causeEventId,
          endedAt: event.endedAt,
          resolutionReason: event.resolutionReason,
          updatedAt: event.updatedAt,
          ...(input.eventMetadata ? { metadata } : {}),
        })
        .where(eq(events.id, eventId))
      const transitionMetadata =
        change.transitionMetadata || input.transitionMetadata
          ? { ...change.transitionMetadata, ...input.transitionMetadata }
          : null
      const transition = await insertTransition(tx, {
        eventId,
        blogId: event.blogId,
        endpointId: event.endpointId,
        severityBefore: current.severity,
        severityAfter: change.close ? null : event.severity,
        stateBefore: current.state,
        stateAfter: change.close ? RESOLVED : event.state,
        reason: change.reason,
        source: scope.source,
        metadata: transitionMetadata,
        changedAt: scope.now,
      })
      if (scope.projection) await writeLegacyProjection(tx, event, scope.now)
      scope.logger.debug(
        { eventId: eventId.toString(), reason: change.reason, state: transition.stateAfter },
        'event changed',
      )
      return { changed: true, event, transition }
    })
  return rerunOwnTransaction(ctx, scope, { eventId: eventId.toString() }, unit)
}

function changeReason(current: Event, state: EventState, severity: Severity, given?: ChangeReason): ChangeReason {
  if (given !== undefined) return requireChangeReason(given)
  if (state !== current.state) return 'state_change'
  return severity > current.severity ? 'severity_escalation' : 'severity_deescalation'
}

/**
 * Changes an open event's state and/or severity in one transition (Seems Down → Down:
 * `{ state: 'Down', reason: 'verifier_confirmed' }`). When only `state` is given the severity
 * follows it. `started_at` never changes. Same state and severity ⇒ `changed: false`, nothing written.
 *
 * @throws EventNotFoundError, EventClosedError, InvalidTransitionError
 */
export async function promoteEvent({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: PromoteEventInput
}): Promise<MutationResult> {
  if (input.state === undefined && input.severity === undefined) {
    throw new InvalidInputError('input', 'promoteEvent needs a state, a severity or both')
  }
  const state = input.state === undefined ? undefined : requireEventState(input.state)
  const severity = input.severity === undefined ? undefined : requireEventSeverity(input.severity)
  if (input.reason !== undefined) requireChangeReason(input.reason)
  return mutate(ctx, input, (current) => {
    const nextState = state ?? current.state
    const nextSeverity = severity ?? (state !== undefined ? nominalSeverity(state) : current.severity)
    if (nextState === current.state && nextSeverity === current.severity) return null
    return {
      reason: changeReason(current, nextState, nextSeverity, input.reason),
      severity: nextSeverity,
      state: nextState,
      causeEventId: current.causeEventId,
    }
  })
}

/**
 * Changes an open event's severity only; its state stays (a certificate at 30 days, then 7:
 * still an advisory, now worse). Same severity ⇒ `changed: false`.
 *
 * @throws EventNotFoundError, EventClosedError, InvalidTransitionError
 */
export async function updateEventSeverity({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: UpdateSeverityInput
}): Promise<MutationResult> {
  const severity = requireEventSeverity(input.severity)
  if (input.reason !== undefined) requireChangeReason(input.reason)
  return mutate(ctx, input, (current) => {
    if (severity === current.severity) return null
    return {
      reason: changeReason(current, current.state, severity, input.reason),
      severity,
      state: current.state,
      causeEventId: current.causeEventId,
    }
  })
}

/**
 * Changes an open event's state only; its severity stays. Same state ⇒ `changed: false`.
 *
 * @throws EventNotFoundError, EventClosedError, InvalidTransitionError
 */
export async function updateEventState({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: UpdateStateInput
}): Promise<MutationResult> {
  const state = requireEventState(input.state)
  if (input.reason !== undefined) requireChangeReason(input.reason)
  return mutate(ctx, input, (current) => {
    if (state === current.state) return null
    return {
      reason: changeReason(current, state, current.severity, input.reason),
      severity: current.severity,
      state,
      causeEventId: current.causeEventId,
    }
  })
}

/** How far `linkEventCause` follows a cause chain looking for a cycle. */
const MAX_CAUSE_DEPTH = 32

/**
 * Records that another event caused this one (`cause_linked`; the transition's metadata holds
 * `cause_event_id_before` / `_after` as decimal strings). Linking the cause already linked ⇒
 * `changed: false`.
 *
 * @throws EventNotFoundError (for the event or the cause), EventClosedError, InvalidTransitionError
 *   when the link would make the event its own cause, directly or through a chain.
 */
export async function linkEventCause({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: LinkCauseInput
}): Promise<MutationResult> {
  const causeEventId = requireId('causeEventId', input.causeEventId)
  if (causeEventId === input.eventId) throw new InvalidTransitionError(`event ${causeEventId} cannot cause itself`)
  return mutate(ctx, input, async (current, tx) => {
    if (current.causeEventId === causeEventId) return null
    // Walk up the cause's own causes: linking must not close a loop.
    let next: bigint | null = causeEventId
    for (let depth = 0; next !== null && depth < MAX_CAUSE_DEPTH; depth++) {
      const [row] = await tx.select({ causeEventId: events.causeEventId }).from(events).where(eq(events.id, next))
      if (!row) {
        if (next === causeEventId)
          throw new EventNotFoundError(causeEventId, `cause event ${causeEventId} does not exist`)
        break
      }
      if (row.causeEventId === current.id) {
        throw new InvalidTransitionError(`linking event ${current.id} to cause ${causeEventId} would form a cycle`)
      }
      next = row.causeEventId
    }
    return {
      reason: 'cause_linked',
      severity: current.severity,
      state: current.state,
      causeEventId,
      transitionMetadata: {
        cause_event_id_before: current.causeEventId?.toString() ?? null,
        cause_event_id_after: causeEventId.toString(),
      },
    }
  })
}

/**
 * Removes an open event's cause link (`cause_unlinked`). No cause linked ⇒ `changed: false`.
 *
 * @throws EventNotFoundError, EventClosedError
 */
export async function unlinkEventCause({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: MutationInput
}): Promise<MutationResult> {
  return mutate(ctx, input, (current) => {
    if (current.causeEventId === null) return null
    return {
      reason: 'cause_unlinked',
      severity: current.severity,
      state: current.state,
      causeEventId: null,
      transitionMetadata: { cause_event_id_before: current.causeEventId.toString(), cause_event_id_after: null },
    }
  })
}

/**
 * Closes an open event: sets `ended_at` and `resolution_reason`, keeps its last state and severity,
 * and writes the closing transition (`state_after = 'Resolved'`, `severity_after = NULL`). The
 * identity can open a new event right after. Closing a closed event fails with `EVENT_CLOSED`
 * (the API maps that to "return it unchanged").
 *
 * @throws EventNotFoundError, EventClosedError, InvalidTransitionError for a non-closing reason
 */
export async function closeEvent({
  ctx,
  input,
}: {
  ctx: EventStoreContext
  input: CloseEventInput
}): Promise<MutationResult & { changed: true }> {
  const reason = requireClosingReason(input.reason)
  const result = await mutate(ctx, input, (current) => ({
    reason,
    close: reason,
    severity: current.severity,
    state: current.state,
    causeEventId: current.causeEventId,
  }))
  return result as MutationResult & { changed: true }
}
