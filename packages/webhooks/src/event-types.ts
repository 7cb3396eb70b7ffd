// The vocabulary is @jetmon/vocabulary's, which has no dependencies: a receiver that only verifies
// signatures installs neither the event store nor a database driver. Re-exported here because this
// package's API has always offered these names.
export {
  CLOSING_REASONS,
  type ClosingReason,
  eventTypeForReason,
  isClosingReason,
  isWebhookEventType,
  TRANSITION_REASONS,
  type TransitionReason,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '@jetmon/vocabulary'
