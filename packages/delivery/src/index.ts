export {
  type AlertDeliveryPayload,
  type AlertTransitionFacts,
  alertDeliveryPayload,
  alertNotificationFromPayload,
} from './alert-payload.js'
export {
  type AttemptOutcome,
  type ClaimedDelivery,
  type ClaimInput,
  claimDeliveries,
  DEFAULT_LEASE_MS,
  type ExpiredLease,
  type RecordAttemptInput,
  type RecordedAttempt,
  recordAttempt,
  releaseDeliveries,
} from './claim.js'
export { DELIVERY_CONSUMERS, type DeliveryConsumer, type DeliveryContext } from './context.js'
export {
  DEFAULT_TAIL_IDS,
  DISPATCH_BATCH_SIZE,
  type DispatchInput,
  type DispatchResult,
  dispatchTransitions,
  TransitionDispatcher,
  type TransitionDispatcherOptions,
} from './dispatch.js'
export { DeliveryError, type DeliveryErrorCode, InvalidOptionError, InvalidPayloadError } from './errors.js'
export { type DeliveryMetrics, registerDeliveryMetrics } from './metrics.js'
export { SendPool } from './pool.js'
export { refreshQueueMetrics } from './queue-metrics.js'
export { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, RETRY_JITTER, retryDelayMs } from './retry.js'
export {
  type AlertContactSenderOptions,
  createAlertContactSender,
  createWebhookSender,
  type DeliverySender,
  type WebhookSenderOptions,
} from './senders.js'
export { type DeliveryStats, type RunningDelivery, type StartDeliveryOptions, startDelivery } from './start.js'
export {
  DEFAULT_PER_SUBSCRIBER_LIMIT,
  DeliveryWorker,
  type DeliveryWorkerOptions,
  type DeliveryWorkerStats,
} from './worker.js'
