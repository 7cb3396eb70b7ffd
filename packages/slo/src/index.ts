export { type AppliedChange, type AppliedDocument, type ApplyReport, applyOpenSlo } from './apply.js'
export {
  composeWeeklyDigest,
  type DigestContact,
  type DigestDeliver,
  type DigestReport,
  digestWeekStart,
  MAX_DIGEST_OBJECTIVES,
  sendWeeklyDigests,
  type WeeklyDigest,
} from './digest.js'
export {
  InvalidInputError,
  InvalidObjectiveError,
  type ObjectiveIssue,
  ObjectiveNameTakenError,
  ObjectiveNotFoundError,
  SiteNotFoundError,
  SloError,
  type SloErrorCode,
} from './errors.js'
export {
  budgetLevel,
  burnLevel,
  type EvaluationReport,
  type EvaluationRun,
  type EvaluatorContext,
  evaluateObjectives,
  runEvaluation,
  SLO_BUDGET,
  SLO_BURN,
} from './evaluator.js'
export {
  type DailySnapshot,
  listSnapshots,
  type ObjectiveStreak,
  objectiveStreaks,
} from './history.js'
export { claimLease, EVALUATOR_LEASE, evaluationMinute, releaseLease } from './lease.js'
export { ObjectiveEvaluator, type ObjectiveEvaluatorOptions } from './loop.js'
export {
  ALERT_LOOKBACKS,
  ALERT_SEVERITIES,
  ALERT_SEVERITY_STATE,
  type AlertLookback,
  type AlertRuleFields,
  type AlertSeverity,
  type BurnRule,
  DEFAULT_ALERT_POLICY,
  DEFAULT_BUDGET_CRITICAL_PERCENT,
  DEFAULT_BUDGET_WARN_PERCENT,
  MAX_OBJECTIVE_NAME_LENGTH,
  OBJECTIVE_WINDOWS,
  type ObjectiveFields,
  type ObjectiveFieldsInput,
  type ObjectiveWindow,
  parseObjectiveFields,
  ruleFields,
  ruleFromFields,
  SLI_KINDS,
  type SliKind,
} from './objectives.js'
export {
  BUDGET_CRITICAL_ANNOTATION,
  BUDGET_WARN_ANNOTATION,
  DEFAULT_POLICY_REF,
  OPENSLO_API_VERSION,
  OPENSLO_SOURCE_TYPE,
  type OpenSloDocument,
  type OpenSloObjective,
  objectivesFromOpenSlo,
  objectiveToOpenSlo,
  openSloDocuments,
  openSloYaml,
} from './openslo.js'
export {
  dayMet,
  MAX_CATCH_UP_DAYS,
  type SnapshotReport,
  snapshotFinishedDays,
  utcDay,
} from './snapshots.js'
export {
  budgetExhaustionAt,
  type ObjectiveInput,
  type ObjectiveStatus,
  type ObjectiveStatusesInput,
  type ObjectiveStatusInput,
  objectiveStatus,
  objectiveStatuses,
} from './status.js'
export {
  createObjective,
  DEFAULT_OBJECTIVE_PAGE,
  deactivateObjective,
  deactivateObjectivesOfSite,
  getActiveObjectives,
  getObjective,
  getObjectiveWithStreak,
  listObjectives,
  MAX_OBJECTIVE_PAGE,
  type Objective,
  type ObjectiveLookup,
  type ObjectivePage,
  type ObjectiveWithStreak,
  objectiveFields,
  type SloContext,
  updateObjective,
} from './store.js'
export {
  BURN_LOOKBACKS,
  type BurnLookback,
  isObjectiveWindow,
  LOOKBACK_MS,
  lookbackPeriod,
  objectiveWindow,
  type Period,
  windowLengthMs,
} from './windows.js'
