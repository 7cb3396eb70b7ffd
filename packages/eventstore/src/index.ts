export {
  EventClosedError,
  EventNotFoundError,
  EventStoreError,
  type EventStoreErrorCode,
  InvalidCursorError,
  InvalidInputError,
  InvalidTransitionError,
  isEventStoreError,
  OpenConflictError,
} from './errors.js'
export { downNotifiedAt, markDownNotified } from './notified.js'
export {
  closeEvent,
  linkEventCause,
  openEvent,
  promoteEvent,
  unlinkEventCause,
  updateEventSeverity,
  updateEventState,
} from './operations.js'
export { legacySiteStatus, type ProjectionDrift, projectionDrift } from './projection.js'
export {
  type EventFilter,
  findOpenEvent,
  getEvent,
  getEventDetail,
  getEvents,
  listEvents,
  listEventTransitions,
  listOpenEvents,
  listOpenEventsOfTypes,
  listTransitionsAfter,
  worstOpenEventPerSite,
} from './queries.js'
export { type ReplayedEvent, replayTransitions } from './replay.js'
export { eventColumns, toEvent } from './rows.js'
export type {
  CloseEventInput,
  Event,
  EventIdentity,
  EventStoreContext,
  LinkCauseInput,
  Metadata,
  MutationInput,
  MutationResult,
  OpenEventInput,
  OpenEventResult,
  OpeningReason,
  Page,
  PromoteEventInput,
  ReadContext,
  Transition,
  UpdateSeverityInput,
  UpdateStateInput,
} from './types.js'
export * from './vocabulary.js'
