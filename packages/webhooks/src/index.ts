// Ids are written to JSON by @jetmon/vocabulary's `jsonId` (which throws its `InvalidIdError`);
// re-exported because this package's API has always offered these names.
export { InvalidIdError, type JsonId, jsonId } from '@jetmon/vocabulary'
export {
  SecretDecryptionError,
  SecretFormatError,
  SecretsKeyError,
  SecretsKeyMissingError,
  SignatureInputError,
  UnknownTransitionReasonError,
  WebhooksError,
  type WebhooksErrorCode,
} from './errors.js'
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
} from './event-types.js'
export { matchesWebhook, type TransitionForMatching, type WebhookFilters } from './filters.js'
export { type BuildWebhookPayloadInput, buildWebhookPayload, type WebhookPayload } from './payload.js'
export {
  decryptSecret,
  encryptSecret,
  generateWebhookSecret,
  isEncryptedSecret,
  openStoredSecret,
  SECRET_FORMAT_VERSION,
  type StoredWebhookSecrets,
  secretPreview,
  signingSecretsAt,
  WEBHOOK_SECRET_PREFIX,
} from './secrets.js'
export {
  buildPingPayload,
  createWebhookDispatcher,
  PING_EVENT_TYPE,
  RESPONSE_EXCERPT_BYTES,
  type SendWebhookInput,
  type SendWebhookResult,
  sendWebhook,
  WEBHOOK_TIMEOUT_MS,
  WEBHOOK_USER_AGENT,
  type WebhookDispatcherOptions,
} from './send.js'
export {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  type SignatureFailureReason,
  type SignatureHeaderOptions,
  signatureHeader,
  type VerifySignatureOptions,
  type VerifySignatureResult,
  verifySignature,
} from './signature.js'
export {
  type AddressResolver,
  checkTargetHost,
  classifyTargetAddress,
  type GuardedLookupOptions,
  guardedLookup,
  type RefusedAddressKind,
  TargetNotAllowedError,
  targetNotAllowedIn,
} from './target-guard.js'
