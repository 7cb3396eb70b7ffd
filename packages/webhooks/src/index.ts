export {
  InvalidIdError,
  SecretDecryptionError,
  SecretFormatError,
  SecretsKeyError,
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
export { type JsonId, jsonId } from './ids.js'
export { type BuildWebhookPayloadInput, buildWebhookPayload, type WebhookPayload } from './payload.js'
export {
  decryptSecret,
  encryptSecret,
  generateWebhookSecret,
  isEncryptedSecret,
  SECRET_FORMAT_VERSION,
  secretPreview,
  WEBHOOK_SECRET_PREFIX,
} from './secrets.js'
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
