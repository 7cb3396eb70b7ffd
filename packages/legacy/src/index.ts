export {
  type AdoptionExample,
  type AdoptionProgress,
  type AdoptionResult,
  type AdoptLegacyIncidentsInput,
  adoptLegacyIncidents,
} from './adopt.js'
export {
  type AuditFinding,
  type AuditLegacySitesInput,
  auditLegacySites,
  FINDING_CODES,
  FINDING_SEVERITY,
  type FindingCode,
  type FindingSeverity,
  isMonitorUrl,
  type LegacyAudit,
  type LegacyRowExample,
} from './audit.js'
export { InvalidInputError, LegacyError, type LegacyErrorCode } from './errors.js'
export type { BucketRange } from './range.js'
