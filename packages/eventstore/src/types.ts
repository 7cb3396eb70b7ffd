import type { DbOrTx, Logger } from '@jetmon/db'
import type {
  ChangeReason,
  CheckType,
  ClosingReason,
  EventState,
  Resolved,
  Severity,
  TransitionReason,
} from './vocabulary.js'

/** JSON object stored in a `metadata` column. */
export type Metadata = Record<string, unknown>

/** What reads need: a database handle or an open transaction. */
export interface ReadContext {
  db: DbOrTx
}

/**
 * What every write needs. Pass a transaction as `db` to add your own statements (a delivery
 * enqueue, an audit row) to the same unit of work; otherwise each verb runs its own transaction.
 */
export interface EventStoreContext extends ReadContext {
  /** Who makes the change, stored on each transition: `monitor:<host>`, `api:<consumer>`, `system`. */
  source: string
  /** Time of the change (`changed_at`, `updated_at`, `ended_at`); defaults to the system clock. */
  clock?: () => Date
  logger?: Logger
  /**
   * Write the legacy `jetpack_monitor_sites.site_status` projection for http events
   * (`LEGACY_STATUS_PROJECTION_ENABLE`). Default true.
   */
  projection?: boolean
}

/** `(blog_id, endpoint_id, check_type, discriminator)`: at most one open event per identity. */
export interface EventIdentity {
  blogId: bigint
  /** The endpoint (`jetpack_monitor_site_id`); null for a site-level event. */
  endpointId?: bigint | null
  checkType: CheckType
  /** Tells apart parallel events of one check type on one endpoint; null when there is one. */
  discriminator?: string | null
}

/** A row of `jetmon_events`. A closed event keeps the state and severity it had when it closed. */
export interface Event {
  id: bigint
  blogId: bigint
  endpointId: bigint | null
  checkType: CheckType
  discriminator: string | null
  severity: Severity
  state: EventState
  startedAt: Date
  endedAt: Date | null
  resolutionReason: ClosingReason | null
  causeEventId: bigint | null
  metadata: Metadata | null
  updatedAt: Date
}

/** A row of `jetmon_event_transitions`; its `id` is the delivery cursor. */
export interface Transition {
  id: bigint
  eventId: bigint
  blogId: bigint
  endpointId: bigint | null
  /** Null on `opened`. */
  severityBefore: Severity | null
  /** Null on a close. */
  severityAfter: Severity | null
  stateBefore: EventState | null
  /** `Resolved` on a close. */
  stateAfter: EventState | Resolved | null
  reason: TransitionReason
  source: string
  metadata: Metadata | null
  changedAt: Date
}

// ── Inputs ──────────────────────────────────────────────────────────────────────────────────────

export interface OpenEventInput extends EventIdentity {
  state: EventState
  /** Defaults to the state's nominal severity (`Seems Down` ⇒ 3). */
  severity?: Severity
  /** When the incident began (the first failed check); defaults to now. Never changes afterwards. */
  startedAt?: Date
  /** The event's metadata (the evidence: the failing check, …). */
  eventMetadata?: Metadata
  /** Metadata of the `opened` transition. */
  transitionMetadata?: Metadata
  /**
   * The reason on the first transition: `opened` (default), or `adopted` for an incident taken over
   * from another monitor that already reported it (not delivered to webhooks or alert contacts).
   */
  reason?: OpeningReason
}

/** Reasons the first transition of an event can carry. */
export type OpeningReason = 'opened' | 'adopted'

/** Fields every mutation of an existing event takes. */
export interface MutationInput {
  eventId: bigint
  /** Stored on the transition row (e.g. the veriflier votes that confirmed a Down). */
  transitionMetadata?: Metadata
  /**
   * Merged into the event's metadata (top-level keys replace; others are kept). Written only when
   * the mutation changes something.
   */
  eventMetadata?: Metadata
}

export interface PromoteEventInput extends MutationInput {
  /** The new state; when `severity` is absent the severity follows it (`Down` ⇒ 4). */
  state?: EventState
  severity?: Severity
  /**
   * Defaults to `state_change` when the state changes, else `severity_escalation` or
   * `severity_deescalation`. Use `verifier_confirmed` for Seems Down → Down.
   */
  reason?: ChangeReason
}

export interface UpdateSeverityInput extends MutationInput {
  severity: Severity
  /** Defaults to `severity_escalation` or `severity_deescalation`. */
  reason?: ChangeReason
}

export interface UpdateStateInput extends MutationInput {
  /** The new state; the severity stays as it is. */
  state: EventState
  /** Defaults to `state_change`. */
  reason?: ChangeReason
}

export interface LinkCauseInput extends MutationInput {
  /** The event that caused this one; it must exist (open or closed) and not be this event. */
  causeEventId: bigint
}

export interface CloseEventInput extends MutationInput {
  reason: ClosingReason
}

// ── Results ─────────────────────────────────────────────────────────────────────────────────────

/** `opened: true` when this call inserted the event (and its `opened` transition). */
export type OpenEventResult =
  | { opened: true; event: Event; transition: Transition }
  | { opened: false; event: Event; transition?: undefined }

/** `changed: false` when the mutation was a no-op: nothing was written. */
export type MutationResult =
  | { changed: true; event: Event; transition: Transition }
  | { changed: false; event: Event; transition?: undefined }

/** One page of a list; pass `next` back as `cursor` for the following page (null = last page). */
export interface Page<T> {
  items: T[]
  next: string | null
}
