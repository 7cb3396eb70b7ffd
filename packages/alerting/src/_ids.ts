import { InvalidIdError } from './errors.js'

const TWO_POW_53 = 2n ** 53n

/** An id for JSON: a number when ≤ 2^53, else its decimal string (docs/api.md). */
export function jsonId(id: bigint): number | string {
  if (id < 0n) throw new InvalidIdError(`ids are unsigned, got ${id}`)
  return id <= TWO_POW_53 ? Number(id) : id.toString()
}

/** The canonical decimal form of an id given as a bigint, number or string. */
export function canonicalId(id: bigint | number | string): string {
  if (typeof id === 'bigint') return id.toString()
  if (typeof id === 'number') return Number.isInteger(id) ? BigInt(id).toString() : String(id)
  const text = id.trim()
  return /^\d+$/.test(text) ? BigInt(text).toString() : text
}
