import { SchedulerError } from './errors.js'

/** `bucket_no` is a SMALLINT UNSIGNED, so the space holds at most 65 536 buckets. */
export function checkBucketTotal(bucketTotal: number): void {
  if (!Number.isSafeInteger(bucketTotal) || bucketTotal < 1 || bucketTotal > 65_536) {
    throw new SchedulerError(
      'INVALID_BUCKET_TOTAL',
      `bucket total must be a whole number between 1 and 65536 (bucket_no is a SMALLINT UNSIGNED), got ${String(bucketTotal)}`,
    )
  }
}
