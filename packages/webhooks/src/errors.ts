/** Stable codes callers can match on (`err.code`), never on messages or class names. */
export type WebhooksErrorCode =
  | 'SIGNING_SECRET_MISSING'
  | 'INVALID_SIGNATURE_INPUT'
  | 'SECRETS_KEY_INVALID'
  | 'SECRETS_KEY_MISSING'
  | 'SECRET_FORMAT_UNSUPPORTED'
  | 'SECRET_DECRYPTION_FAILED'
  | 'UNKNOWN_TRANSITION_REASON'
  | 'TARGET_NOT_ALLOWED'

/** Base class of every error thrown by `@jetmon/webhooks`. */
export class WebhooksError extends Error {
  readonly code: WebhooksErrorCode
  constructor(code: WebhooksErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * Signing or verification was called without a usable secret, or with arguments that cannot be
 * signed (a parsed object instead of the raw body, a fractional timestamp). A bug in the caller.
 */
export class SignatureInputError extends WebhooksError {
  constructor(code: 'SIGNING_SECRET_MISSING' | 'INVALID_SIGNATURE_INPUT', message: string) {
    super(code, message)
  }
}

/** The encryption key is not 32 bytes (AES-256 needs exactly 32). */
export class SecretsKeyError extends WebhooksError {
  constructor(message: string) {
    super('SECRETS_KEY_INVALID', message)
  }
}

/** A stored secret is encrypted but no key was configured to open it (`SECRETS_KEY` is unset). */
export class SecretsKeyMissingError extends WebhooksError {
  constructor(message: string) {
    super('SECRETS_KEY_MISSING', message)
  }
}

/** The stored bytes do not start with a format version this release can read. */
export class SecretFormatError extends WebhooksError {
  /** The first byte of the stored value, or `null` when it was empty. */
  readonly version: number | null
  constructor(version: number | null, message: string) {
    super('SECRET_FORMAT_UNSUPPORTED', message)
    this.version = version
  }
}

/**
 * The stored secret failed authentication: it was encrypted with a different key, or its bytes were
 * changed or cut short. AES-GCM cannot tell these apart, so neither can this error.
 */
export class SecretDecryptionError extends WebhooksError {
  constructor(message: string, options?: ErrorOptions) {
    super('SECRET_DECRYPTION_FAILED', message, options)
  }
}

/** A payload was requested for a transition reason that has no webhook event type. */
export class UnknownTransitionReasonError extends WebhooksError {
  readonly reason: string
  constructor(reason: string) {
    super('UNKNOWN_TRANSITION_REASON', `transition reason ${JSON.stringify(reason)} has no webhook event type`)
    this.reason = reason
  }
}
