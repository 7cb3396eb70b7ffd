/** Stable codes callers can match on (`err.code`). */
export type VocabularyErrorCode = 'INVALID_ID'

/** Base class of every error thrown by `@jetmon/vocabulary`. */
export class VocabularyError extends Error {
  readonly code: VocabularyErrorCode
  constructor(code: VocabularyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An id is negative (ids are `BIGINT UNSIGNED`): a bug or a corrupt row, never user input. */
export class InvalidIdError extends VocabularyError {
  constructor(message: string) {
    super('INVALID_ID', message)
  }
}
