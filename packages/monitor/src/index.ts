export { EventLoopDelay, type EventLoopDelayOptions } from './event-loop.js'
export {
  ASSUMED_LATENCY_MS,
  type AutoInFlightInput,
  autoMaxInFlight,
  DurationWindow,
  FD_RESERVE,
  HEADROOM,
  MIN_IN_FLIGHT,
  openFileLimit,
} from './in-flight.js'
export { MaintenanceCache } from './maintenance.js'
export {
  ConfirmationPipeline,
  checkRequestOf,
  type Decision,
  type DownNotice,
  isHardFailure,
  type MonitoredEndpoint,
  type PipelineDeps,
  type PipelineSettings,
  type Vote as PipelineVote,
} from './pipeline.js'
export {
  isPressureSensitive,
  judgedCheck,
  noVerdict,
  PRESSURE_SIGNALS,
  type PressureBounds,
  PressureJudge,
  type PressureJudgeOptions,
  type PressureReading,
  type PressureSignal,
  type PressureStatus,
  pressureSignals,
} from './pressure.js'
export { MonitorProbe, type MonitorProbeDeps, type ProbeAnswer } from './probe.js'
export { type FollowedTransition, TransitionFollower, type TransitionFollowerOptions } from './transition-follower.js'
export {
  type AskVerifliersOptions,
  askVerifliers,
  type ConfirmationOutcome,
  createVeriflierAgent,
  decide,
  isUntrustedCertificate,
  quorumOf,
  untrustedCertificateDetail,
  type VeriflierCheck,
  type VeriflierClientLogger,
  type VeriflierTarget,
  type VeriflierVote,
  type Vote,
  type VoteFailure,
  veriflierAgent,
  veriflierFetch,
} from './veriflier-client.js'
export { VERSION } from './version.js'
export {
  type BreakerState,
  type WpcomBreakerPolicy,
  WpcomNotifier,
  type WpcomNotifierOptions,
  type WpcomRetryPolicy,
  type WpcomStats,
} from './wpcom.js'
export {
  rfc3339,
  type WpcomAttempt,
  WpcomConfigError,
  type WpcomHttpOptions,
  WpcomHttpSender,
  type WpcomPayload,
  type WpcomSender,
  wpcomPayload,
} from './wpcom-http.js'
export {
  type ClaimedWpcomNotice,
  claimWpcomNotices,
  DEFAULT_WPCOM_LEASE_MS,
  enqueueWpcomNotice,
  finishWpcomNotice,
  hurryWpcomNotices,
  pruneWpcomOutbox,
  releaseWpcomNotices,
  trimWpcomOutbox,
  WPCOM_OUTBOX_RETENTION_DAYS,
  type WpcomOutboxEntry,
  type WpcomOutboxStatus,
  type WpcomOutcome,
  wpcomBacklog,
} from './wpcom-outbox.js'
