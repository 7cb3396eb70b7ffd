/**
 * What became of one send. `ok` means the receiver accepted it (HTTP 2xx, SMTP 250). A failure of
 * the receiver (non-2xx, refused connection, time limit) is data here, never an exception.
 */
export interface AlertSendResult {
  ok: boolean
  /** The HTTP status, or the SMTP reply code; `null` when no answer came. */
  statusCode: number | null
  /** The first 2 KiB of the answer, secrets redacted; `null` when no answer came. */
  response: string | null
  /** `<transport>: what went wrong`, for the delivery row and the operator; set when `ok` is false. */
  error?: string
  /**
   * Whether sending the same message again later may succeed: true for time limits, refused
   * connections, 5xx, 408, 429 and SMTP 4xx; false for other 4xx, SMTP 5xx, an invalid destination
   * or the stub transport. Meaningless when `ok`.
   */
  retryable: boolean
}
