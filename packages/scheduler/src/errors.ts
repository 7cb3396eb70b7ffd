/** Stable codes callers can match on (`err.code`). */
export type SchedulerErrorCode =
  | 'INVALID_ID'
  | 'INVALID_INTERVAL'
  | 'INVALID_PHASE'
  | 'INVALID_TIME'
  | 'INVALID_BUCKET_TOTAL'
  | 'INVALID_BUCKET_RANGE'
  | 'DUPLICATE_HOST'
  | 'INVALID_OPTION'

/**
 * Thrown by `@jetmon/scheduler` for arguments no correct caller passes (a negative id, a zero
 * interval, a pinned range outside the bucket space, a host listed twice). Validate configuration
 * and rows before calling; these are bugs, not outcomes.
 */
export class SchedulerError extends Error {
  readonly code: SchedulerErrorCode
  constructor(code: SchedulerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}
