import {
  EventClosedError,
  EventNotFoundError,
  InvalidCursorError,
  InvalidTransitionError,
  isEventStoreError,
} from '@jetmon/eventstore'

/** One field problem of a 400 `invalid_request`. */
export interface FieldProblem {
  path: string
  message: string
}

/**
 * An answer other than success, with its envelope code (docs/api.md, Errors). Throw it from a handler;
 * the app turns it into `{"error":{code,message,request_id,details}}`.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly details: FieldProblem[] | undefined
  readonly headers: Record<string, string>

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: FieldProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.details = options.details
    this.headers = options.headers ?? {}
  }
}

/** 400 `invalid_request` with field problems. */
export function invalidRequest(details: FieldProblem[], message?: string): ApiError {
  const first = details[0]
  return new ApiError(
    400,
    'invalid_request',
    message ?? (first ? `${first.path || 'request'}: ${first.message}` : 'the request is not valid'),
    { details },
  )
}

/** 404 `<thing>_not_found`: `notFound('site', 42n)`. */
export function notFound(thing: string, id: bigint | string | number): ApiError {
  return new ApiError(404, `${thing}_not_found`, `${thing.replace(/_/g, ' ')} ${String(id)} not found`)
}

/** Maps the event store's typed errors to API answers; anything else is returned as is. */
export function fromEventStoreError(error: unknown): unknown {
  if (!isEventStoreError(error)) return error
  if (error instanceof EventNotFoundError) return new ApiError(404, 'event_not_found', error.message)
  if (error instanceof EventClosedError) return new ApiError(409, 'event_closed', error.message)
  if (error instanceof InvalidTransitionError) return new ApiError(422, 'invalid_transition', error.message)
  if (error instanceof InvalidCursorError) {
    return invalidRequest([{ path: 'query.cursor', message: 'is not a cursor this API issued for this list' }])
  }
  return new ApiError(400, 'invalid_request', error.message)
}
