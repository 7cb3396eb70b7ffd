/** Parameter schemas the steps share: a bucket range, a check policy. */
import { DETECTION_PROFILES, REQUEST_METHODS } from '@jetmon/vocabulary'
import * as v from 'valibot'

/** Largest `bucket_no` (SMALLINT UNSIGNED). */
export const MAX_BUCKET = 65_535

export const Bucket = v.pipe(
  v.number('must be a bucket number'),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must be 0 or more'),
  v.maxValue(MAX_BUCKET, `must be at most ${MAX_BUCKET}`),
)

export const RangeEntries = { bucket_min: Bucket, bucket_max: Bucket }

/** A range upside down is reported on `bucket_max`. */
export function rangeChecked<
  T extends v.StrictObjectSchema<
    typeof RangeEntries & v.ObjectEntries,
    v.ErrorMessage<v.StrictObjectIssue> | undefined
  >,
>(schema: T) {
  return v.pipe(
    schema,
    v.forward(
      v.check<v.InferOutput<T>, string>(
        (input) => (input as { bucket_min: number }).bucket_min <= (input as { bucket_max: number }).bucket_max,
        'must not be below bucket_min',
      ),
      ['bucket_max'] as never,
    ),
  )
}

export const Policy = v.strictObject({
  method: v.picklist(REQUEST_METHODS, `must be one of ${REQUEST_METHODS.join(', ')}`),
  profile: v.picklist(DETECTION_PROFILES, `must be one of ${DETECTION_PROFILES.join(', ')}`),
})
export type Policy = v.InferOutput<typeof Policy>

/** Buckets `min`–`max` as text: `0–99`. */
export function rangeText(range: { bucket_min: number; bucket_max: number }): string {
  return `${range.bucket_min}–${range.bucket_max}`
}
