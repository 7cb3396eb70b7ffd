/** Thrown for programming errors only: a site's behaviour is always a result, never an exception. */
export class CheckerError extends Error {
  readonly code: 'INVALID_CHECKER_OPTIONS' | 'INVALID_CHECK_REQUEST'
  constructor(code: CheckerError['code'], message: string) {
    super(message)
    this.name = 'CheckerError'
    this.code = code
  }
}
