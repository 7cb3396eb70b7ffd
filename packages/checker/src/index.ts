// The shared Logger, request methods and redirect policies; re-exported because this package's API
// has always offered these names. The detection profiles join them, so that callers of `profile`
// need no second package, and so do the defaults of `method` and `profile`.
export {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  DETECTION_PROFILES,
  type DetectionProfile,
  type Logger,
  REQUEST_METHODS,
  type RedirectPolicy,
  type RequestMethod,
} from '@jetmon/vocabulary'
export { createChecker, DEFAULT_LIMITS } from './check.js'
export { CheckerError } from './errors.js'
export { classifyTargetAddress, describeRefusedAddress, type RefusedAddressKind } from './target-guard.js'
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorName,
  errorName,
  isDowntime,
  type StatusType,
  statusType,
} from './taxonomy.js'
export type {
  Advisory,
  BodyDetails,
  CheckerLimits,
  CheckerOptions,
  CheckPhase,
  CheckRequest,
  CheckResult,
  CheckTimings,
  ContentCoding,
  DnsDetails,
  DnsFailureClass,
  TlsDetails,
  TlsFailureClass,
} from './types.js'
