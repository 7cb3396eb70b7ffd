export { type AuditLogFilter, type AuditLogPosition, type AuditLogRow, listAuditLog } from './audit-log.js'
export {
  type CheckPolicyCohort,
  type CheckPolicyDefaults,
  type CheckPolicyFilter,
  countCheckPolicyCohorts,
  DEFAULT_CHECK_POLICY,
  loadStoredPolicies,
  policyCondition,
} from './check-policy.js'
export {
  clip,
  type Interval,
  type IntervalSet,
  intersect,
  measure,
  subtract,
  union,
} from './intervals.js'
export { listSitePage, type SiteListOptions, type SiteListRow } from './site-list.js'
export {
  currentWindows,
  type EndpointFacts,
  type EndpointRow,
  endpointColumns,
  endpointStateOf,
  endpointToJson,
  loadSiteDetail,
  type OpenEvent,
  openEventsOfEndpoints,
  selectEndpoints,
  siteVisible,
  tenantCondition,
  type WindowRow,
  windowCovers,
  windowToJson,
} from './sites.js'
export {
  computeUptime,
  type EndpointActivity,
  type EndpointChange,
  loadEndpointActivity,
  loadUptimeInput,
  type MaintenancePeriod,
  monitoredTime,
  type StateChange,
  type StatsPeriod,
  type StatsScope,
  type UptimeEvent,
  type UptimeFigures,
  type UptimeInput,
  type VerifierRound,
} from './uptime.js'
