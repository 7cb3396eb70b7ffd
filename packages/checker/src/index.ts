// The shared Logger (`logger` option); re-exported because this package's API has always offered the name.
export type { Logger } from '@jetmon/vocabulary'
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
  RedirectPolicy,
  TlsDetails,
  TlsFailureClass,
} from './types.js'
