/**
 * Typed errors of the rollout control plane. Refusals of the two-phase rule carry the code the API
 * answers with, in lower case (`confirmation_required`, `plan_changed`, …); match on `code`.
 */

/** Stable codes callers match on (`err.code`). */
export type RolloutErrorCode =
  | 'INVALID_PARAMETERS'
  | 'CONFIRMATION_REQUIRED'
  | 'CONFIRMATION_MISMATCH'
  | 'CONFIRMATION_EXPIRED'
  | 'PLAN_BLOCKED'
  | 'PLAN_CHANGED'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_CLOSED'
  | 'STAGE_NOT_FOUND'

/** Base class of every error this package throws on purpose; match on `code`. */
export class RolloutError extends Error {
  readonly code: RolloutErrorCode
  constructor(code: RolloutErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** One problem of a step's parameters: where (`to.method`) and what. */
export interface ParameterIssue {
  readonly path: string
  readonly message: string
}

/** A step's parameters do not hold (`INVALID_PARAMETERS`); `issues` names each field and its problem. */
export class InvalidParametersError extends RolloutError {
  readonly issues: readonly ParameterIssue[]
  constructor(issues: readonly ParameterIssue[]) {
    super(
      'INVALID_PARAMETERS',
      `invalid parameters: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    )
    this.issues = issues
  }
}

/** The codes of the two-phase rule, as the API answers them. */
export type ConfirmationErrorCode =
  | 'CONFIRMATION_REQUIRED'
  | 'CONFIRMATION_MISMATCH'
  | 'CONFIRMATION_EXPIRED'
  | 'PLAN_BLOCKED'
  | 'PLAN_CHANGED'

/**
 * An execution the two-phase rule refuses: no token (`CONFIRMATION_REQUIRED`), a token of another
 * step, parameters or caller (`CONFIRMATION_MISMATCH`), one past its lifetime or already used
 * (`CONFIRMATION_EXPIRED`), the dry run had blockers (`PLAN_BLOCKED`), or the plan computed now
 * differs from the dry run's (`PLAN_CHANGED`). The refusal is recorded as a job (`jobId`).
 */
export class ConfirmationError extends RolloutError {
  declare readonly code: ConfirmationErrorCode
  /** The `refused` job recording this refusal. */
  readonly jobId: bigint
  /** Blockers of the dry run (`PLAN_BLOCKED`) or of the plan now (`PLAN_CHANGED`). */
  readonly blocked: readonly Problem[]
  constructor(code: ConfirmationErrorCode, message: string, jobId: bigint, blocked: readonly Problem[] = []) {
    super(code, message)
    this.jobId = jobId
    this.blocked = blocked
  }
}

/** No session with this id (`SESSION_NOT_FOUND`). */
export class SessionNotFoundError extends RolloutError {
  readonly sessionId: bigint
  constructor(id: bigint) {
    super('SESSION_NOT_FOUND', `rollout session ${id} not found`)
    this.sessionId = id
  }
}

/** The session is closed and takes no more steps or state changes (`SESSION_CLOSED`). */
export class SessionClosedError extends RolloutError {
  readonly sessionId: bigint
  constructor(id: bigint) {
    super('SESSION_CLOSED', `rollout session ${id} is closed`)
    this.sessionId = id
  }
}

/** No policy stage with this id (`STAGE_NOT_FOUND`). */
export class StageNotFoundError extends RolloutError {
  readonly stageId: bigint
  constructor(id: bigint) {
    super('STAGE_NOT_FOUND', `policy stage ${id} not found`)
    this.stageId = id
  }
}

/** A reason a step cannot run (`blocked`) or something the operator should know (`warnings`). */
export interface Problem {
  /** Stable code: `host_not_fresh`, `range_locked`, `adoption_not_run`, … */
  code: string
  /** What it means and what to do, for an operator. */
  message: string
}

/** Whether `error` is a {@link RolloutError}, optionally of one code. */
export function isRolloutError<C extends RolloutErrorCode>(
  error: unknown,
  code?: C,
): error is RolloutError & { code: C } {
  return error instanceof RolloutError && (code === undefined || error.code === code)
}
