/**
 * Building blocks of the /api/v1 contract (docs/api.md): ids, timestamps, vocabulary, pagination
 * and the error envelope. The server validates requests with these schemas, shapes responses with
 * them and generates its OpenAPI document from them; this client is typed from them.
 */

import { CLOSING_REASONS, EVENT_STATES, STATES, TRANSITION_REASONS } from '@jetmon/vocabulary'
import * as v from 'valibot'

const MAX_ID = 2n ** 64n - 1n

/**
 * An id in a response: a JSON number when ≤ 2^53, a decimal string beyond (so no consumer ever
 * rounds a blog id through a double).
 */
export const Id = v.pipe(
  v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+$/))]),
  v.description('An id: a JSON number when ≤ 2^53, otherwise a decimal string.'),
)
export type Id = v.InferOutput<typeof Id>

// The wire form of an id (`jsonId(42n) === 42`, beyond 2^53 a decimal string) is
// @jetmon/vocabulary's; re-exported because this package's API has always offered it.
export { jsonId } from '@jetmon/vocabulary'

function toId(value: string | number): bigint {
  return BigInt(value)
}

/**
 * An id in a request body: a positive integer given as a JSON number (≤ 2^53) or a decimal
 * string (any size up to 2^64 − 1); read as a bigint.
 */
export const IdInput = v.pipe(
  v.union(
    [
      v.pipe(v.number('must be an integer or a decimal string'), v.safeInteger('must be an integer'), v.minValue(1)),
      v.pipe(v.string(), v.regex(/^[1-9]\d{0,19}$/, 'must be a positive decimal integer')),
    ],
    'must be a positive integer or a decimal string',
  ),
  v.transform(toId),
  v.check((id) => id <= MAX_ID, 'must be at most 2^64 − 1'),
  v.description('A positive id, as a JSON number (≤ 2^53) or a decimal string (any size).'),
)

/** An id in a path or query string: decimal digits, read as a bigint. */
export const IdParam = v.pipe(
  v.string(),
  v.regex(/^[1-9]\d{0,19}$/, 'must be a positive decimal integer'),
  v.transform((text) => BigInt(text)),
  v.check((id) => id <= MAX_ID, 'must be at most 2^64 − 1'),
)

/** A timestamp in a response: RFC 3339 UTC with milliseconds (`2026-05-01T10:00:00.000Z`). */
export const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('RFC 3339 UTC with milliseconds.'))
export type Timestamp = string

/** A timestamp in a request: any RFC 3339 date-time with an offset; read as a `Date`. */
export const TimestampInput = v.pipe(
  v.string(),
  v.regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i,
    'must be an RFC 3339 date-time with a time zone, e.g. 2026-05-01T10:00:00Z',
  ),
  v.transform((text) => new Date(text)),
  v.check((date) => !Number.isNaN(date.getTime()), 'is not a real date'),
)

/** A boolean in a query string: `true`/`false` (also `1`/`0`). */
export const BooleanParam = v.pipe(
  v.picklist(['true', 'false', '1', '0'], 'must be true or false'),
  v.transform((text) => text === 'true' || text === '1'),
)

/** A comma-separated list in a query string (`state__in=Down,Seems Down`). */
export function listParam<const T extends readonly [string, ...string[]]>(values: T) {
  return v.pipe(
    v.string(),
    v.transform((text) => text.split(',').map((part) => part.trim())),
    v.array(v.picklist(values, `each item must be one of ${values.join(', ')}`)),
    v.minLength(1, 'must name at least one value'),
  )
}

/** An integer in a query string within `[min, max]`. */
export function integerParam(min: number, max: number) {
  return v.pipe(
    v.string(),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  )
}

// The states and reasons are @jetmon/vocabulary's; the contract keeps offering them under the same names.
export { CLOSING_REASONS, EVENT_STATES, STATES, TRANSITION_REASONS }
export type State = (typeof STATES)[number]
export type EventState = (typeof EVENT_STATES)[number]
export const SCOPES = ['read', 'write', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

export const State = v.picklist(STATES)
export const EventState = v.picklist(EVENT_STATES)
export const Severity = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(4))

/** `limit` and `cursor` of every list route. */
export const PageQuery = {
  limit: v.optional(integerParam(1, 200)),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512, 'is not a cursor this API issued'))),
}

/** `{"data": [...], "page": {"next", "limit"}}`. */
export function listOf<T extends v.GenericSchema>(item: T) {
  return v.object({
    data: v.array(item),
    page: v.object({
      next: v.pipe(v.nullable(v.string()), v.description('Pass as `cursor` for the next page; null on the last.')),
      limit: v.number(),
    }),
  })
}

/** The error envelope of every non-2xx answer. */
export const ErrorEnvelope = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    request_id: v.string(),
    details: v.optional(v.array(v.object({ path: v.string(), message: v.string() }))),
  }),
})
export type ErrorEnvelope = v.InferOutput<typeof ErrorEnvelope>
