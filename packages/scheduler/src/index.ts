export {
  type AssignBucketsOptions,
  assignBuckets,
  type BucketAssignment,
  type BucketMove,
  type BucketRange,
  bucketMoves,
  bucketOwner,
  type HostBuckets,
  type LiveHost,
  type PinnedOverlap,
  rangesOf,
} from './buckets.js'
export { SchedulerError, type SchedulerErrorCode } from './errors.js'
export {
  BUCKET_HASH_SEED,
  bucketForEndpoint,
  DEFAULT_BUCKET_TOTAL,
  type NextDueAtOptions,
  nextDueAt,
  PHASE_HASH_SEED,
  phaseOffsetMs,
} from './phase.js'
