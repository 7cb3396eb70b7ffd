/** Stable codes callers match on; only apps translate them into HTTP statuses or exit codes. */
export type EventStoreErrorCode =
  | 'EVENT_NOT_FOUND'
  | 'EVENT_CLOSED'
  | 'INVALID_TRANSITION'
  | 'INVALID_INPUT'
  | 'INVALID_CURSOR'
  | 'OPEN_CONFLICT'

/** Base class of every error this package throws on purpose; match on `code`. */
export class EventStoreError extends Error {
  readonly code: EventStoreErrorCode
  constructor(code: EventStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** No event has this id (`EVENT_NOT_FOUND`). */
export class EventNotFoundError extends EventStoreError {
  readonly eventId: bigint
  constructor(eventId: bigint, message = `event ${eventId} does not exist`, options?: ErrorOptions) {
    super('EVENT_NOT_FOUND', message, options)
    this.eventId = eventId
  }
}

/** The event is closed, and closed events never change (`EVENT_CLOSED`). */
export class EventClosedError extends EventStoreError {
  readonly eventId: bigint
  readonly endedAt: Date
  readonly resolutionReason: string | null
  constructor(eventId: bigint, endedAt: Date, resolutionReason: string | null, options?: ErrorOptions) {
    super(
      'EVENT_CLOSED',
      `event ${eventId} was closed at ${endedAt.toISOString()} (${resolutionReason ?? 'no reason'}) and cannot change; ` +
        'a new failure opens a new event',
      options,
    )
    this.eventId = eventId
    this.endedAt = endedAt
    this.resolutionReason = resolutionReason
  }
}

/** The change is not one an event can make: a site-level state, a wrong reason, a self-cause. */
export class InvalidTransitionError extends EventStoreError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_TRANSITION', message, options)
  }
}

/** An argument is malformed (empty source, bad limit, non-positive id, …). */
export class InvalidInputError extends EventStoreError {
  /** The offending field, e.g. `input.checkType`. */
  readonly field: string
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('INVALID_INPUT', `${field}: ${message}`, options)
    this.field = field
  }
}

/** A pagination cursor that this package did not produce for this list (`INVALID_CURSOR`). */
export class InvalidCursorError extends EventStoreError {
  constructor(message = 'the cursor is not valid for this list; start again without one', options?: ErrorOptions) {
    super('INVALID_CURSOR', message, options)
  }
}

/**
 * `openEvent` kept racing with closes of the same identity and gave up (`OPEN_CONFLICT`). Safe to
 * retry; it means the identity is opening and closing faster than once per statement.
 */
export class OpenConflictError extends EventStoreError {
  constructor(message: string, options?: ErrorOptions) {
    super('OPEN_CONFLICT', message, options)
  }
}

/** True when `error` is one of ours, optionally with the given code. */
export function isEventStoreError(error: unknown, code?: EventStoreErrorCode): error is EventStoreError {
  return error instanceof EventStoreError && (code === undefined || error.code === code)
}
