/** Stable codes callers match on. */
export type HistoryErrorCode = 'INVALID_SAMPLE' | 'INVALID_OPTIONS'

/** Base class of every error this package throws on purpose; match on `code`. */
export class HistoryError extends Error {
  readonly code: HistoryErrorCode
  constructor(code: HistoryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * A check sample the database would reject (negative timing, over-long vantage …): a bug in the
 * caller. Refused at `record()` so that one bad row can never block a whole batch (`INVALID_SAMPLE`).
 */
export class InvalidSampleError extends HistoryError {
  readonly field: string
  constructor(field: string, message: string) {
    super('INVALID_SAMPLE', `invalid check sample: ${field} ${message}`)
    this.field = field
  }
}

/** Options out of range, e.g. a zero batch size or retention (`INVALID_OPTIONS`). */
export class InvalidOptionsError extends HistoryError {
  constructor(message: string) {
    super('INVALID_OPTIONS', message)
  }
}
