import { InvalidIdError } from './errors.js'

/**
 * The largest id written to JSON as a number (2^53): every integer up to it survives a round trip
 * through IEEE doubles. Beyond it an id is written as its decimal string; see {@link jsonId}. For
 * code that applies the same rule elsewhere (in SQL, say).
 */
export const MAX_JSON_NUMBER_ID = 2n ** 53n

/** An id as it appears in JSON: a number when ≤ 2^53, else a decimal string (docs/api.md). */
export type JsonId = number | string

/**
 * An id for a JSON body: a JSON number when it is ≤ 2^53 (such numbers survive a round trip
 * through IEEE doubles), otherwise its decimal string, so no consumer loses precision. Every
 * package writes ids to JSON with this one function.
 *
 * @example jsonId(42n) // 42
 * @example jsonId(9007199254740993n) // '9007199254740993'
 * @throws {InvalidIdError} for a negative id.
 */
export function jsonId(id: bigint): JsonId {
  if (id < 0n) throw new InvalidIdError(`ids are unsigned, got ${id}`)
  return id <= MAX_JSON_NUMBER_ID ? Number(id) : id.toString()
}

/**
 * The canonical decimal form of an id given as a bigint, number or string (`"0042"` → `"42"`),
 * so filters written with strings match ids read as bigints. Values that are not integers are
 * returned as their string form and so match nothing numeric.
 */
export function canonicalId(id: bigint | number | string): string {
  if (typeof id === 'bigint') return id.toString()
  if (typeof id === 'number') return Number.isInteger(id) ? BigInt(id).toString() : String(id)
  const text = id.trim()
  return /^\d+$/.test(text) ? BigInt(text).toString() : text
}
