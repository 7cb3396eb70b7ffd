/** Stable codes callers match on. */
export type LegacyErrorCode = 'INVALID_INPUT'

/** Base class of every error this package throws on purpose; match on `code`. */
export class LegacyError extends Error {
  readonly code: LegacyErrorCode
  constructor(code: LegacyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An option out of range: a bucket range upside down, a zero batch size (`INVALID_INPUT`). */
export class InvalidInputError extends LegacyError {
  /** The offending option, e.g. `bucketMax`. */
  readonly field: string
  constructor(field: string, message: string) {
    super('INVALID_INPUT', `${field}: ${message}`)
    this.field = field
  }
}
