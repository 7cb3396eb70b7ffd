export * from './errors.js'
export {
  bucketIndex,
  bucketUpperEdge,
  emptyHistogram,
  histogramOf,
  histogramTotal,
  mergeHistograms,
  nearestRank,
  percentileFromHistogram,
  percentileNearestRank,
  RTT_BUCKET_EDGES_MS,
  RTT_BUCKETS,
  type RttHistogram,
} from './histogram.js'
export {
  DEFAULT_HISTORY_RETENTION_DAYS,
  DEFAULT_ROLLUP_RETENTION_DAYS,
  type PruneContext,
  type PruneOptions,
  pruneHistory,
  pruneRollups,
} from './prune.js'
export { CheckRecorder, type CheckRecorderOptions } from './recorder.js'
export {
  countLatency,
  type ExcludedSpan,
  type LatencyCounts,
  type LatencyCountsInput,
  type LatencySamples,
  latencyCounts,
  loadLatencySamples,
  NOT_DOWNTIME_CODES,
  type UptimeAndLatency,
  type UptimeAndLatencyInput,
  uptimeAndLatency,
} from './statistics.js'
export * from './timing.js'
export {
  type CheckSample,
  type FlushOutcome,
  type HistoryMode,
  LOCAL_VANTAGE,
  type RecorderStats,
  type TableWrites,
} from './types.js'
export * from './vantages.js'
