// The shared Logger, request methods and redirect policies; re-exported because this package's API
// has always offered these names.
export type { Logger, RedirectPolicy, RequestMethod } from '@jetmon/vocabulary'
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
export { DEFAULT_ENDPOINT_DEFAULTS, type EndpointConfig, type EndpointDefaults } from './endpoint-config.js'
export {
  ENDPOINT_CHANGED_EVENT,
  type EndpointChange,
  type EndpointChangeReason,
  EndpointSource,
  type EndpointSourceLoopOptions,
  type EndpointSourceOptions,
  type SyncSummary,
} from './endpoint-source.js'
export { SchedulerError, type SchedulerErrorCode } from './errors.js'
export { type LagSummary, LagWindow } from './lag.js'
export {
  BucketLeases,
  type BucketLeasesOptions,
  type HostRolloutLock,
  hostRolloutLocks,
  type LeaseChange,
  type LeaseChangeReason,
  type LeaseHolder,
  type LeaseState,
  type LockSync,
  ROLLOUT_MODES,
  type RolloutLock,
  type RolloutMode,
} from './leases.js'
export { type LoadedEndpoint, loadEndpointConfigs } from './load.js'
export {
  BUCKET_HASH_SEED,
  bucketForEndpoint,
  DEFAULT_BUCKET_TOTAL,
  type NextDueAtOptions,
  nextDueAt,
  PHASE_HASH_SEED,
  phaseOffsetMs,
} from './phase.js'
export {
  type RunCheck,
  type RunContext,
  type ScheduledEndpoint,
  Scheduler,
  type SchedulerOptions,
  type SchedulerStats,
  type StopOptions,
  type StopResult,
} from './scheduler.js'
