import { InvalidInputError } from './errors.js'

/** Largest `bucket_no` (SMALLINT UNSIGNED). */
const MAX_BUCKET = 65_535

/** An inclusive range of `bucket_no`. */
export interface BucketRange {
  min: number
  max: number
}

function requireBucket(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_BUCKET) {
    throw new InvalidInputError(field, `expected a bucket number from 0 to ${MAX_BUCKET}, got ${value}`)
  }
  return value
}

/**
 * The range `bucketMin`–`bucketMax`, or null for the whole table when both are absent. One without
 * the other, or a range upside down, is refused.
 */
export function bucketRange(bucketMin: number | undefined, bucketMax: number | undefined): BucketRange | null {
  if (bucketMin === undefined && bucketMax === undefined) return null
  if (bucketMin === undefined || bucketMax === undefined) {
    throw new InvalidInputError(bucketMin === undefined ? 'bucketMin' : 'bucketMax', 'give both ends of the range')
  }
  const min = requireBucket('bucketMin', bucketMin)
  const max = requireBucket('bucketMax', bucketMax)
  if (min > max) throw new InvalidInputError('bucketMin', `${min} is above bucketMax ${max}`)
  return { min, max }
}

/** A whole number from 1 to `max` (a batch size, a number of examples). */
export function requireCount(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInputError(field, `expected a whole number from 1 to ${max}, got ${value}`)
  }
  return value
}
