/** Stable codes callers match on (`err.code`). */
export type SloErrorCode = 'INVALID_OBJECTIVE' | 'NAME_TAKEN' | 'NOT_FOUND' | 'SITE_NOT_FOUND' | 'INVALID_INPUT'

/** Base class of every error this package throws on purpose; match on `code`. */
export class SloError extends Error {
  readonly code: SloErrorCode
  constructor(code: SloErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** One problem of an objective's fields: where (`target`, `alert_policy.0.burn_rate`) and what. */
export interface ObjectiveIssue {
  readonly path: string
  readonly message: string
}

/** An objective's fields do not hold (`INVALID_OBJECTIVE`); `issues` names each field and its problem. */
export class InvalidObjectiveError extends SloError {
  readonly issues: readonly ObjectiveIssue[]
  constructor(issues: readonly ObjectiveIssue[]) {
    super(
      'INVALID_OBJECTIVE',
      `invalid objective: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    )
    this.issues = issues
  }
}

/** The owner already has an objective of that name (`NAME_TAKEN`); names are unique per owner. */
export class ObjectiveNameTakenError extends SloError {
  readonly objectiveName: string
  constructor(name: string, options?: ErrorOptions) {
    super('NAME_TAKEN', `an objective named ${JSON.stringify(name)} already exists`, options)
    this.objectiveName = name
  }
}

/** No objective of that id visible to the caller (`NOT_FOUND`): absent, or another tenant's. */
export class ObjectiveNotFoundError extends SloError {
  readonly objectiveId: bigint
  constructor(id: bigint) {
    super('NOT_FOUND', `objective ${id} not found`)
    this.objectiveId = id
  }
}

/** The objective's site has no endpoint the caller may see (`SITE_NOT_FOUND`): absent, or another tenant's. */
export class SiteNotFoundError extends SloError {
  readonly blogId: bigint
  constructor(blogId: bigint) {
    super('SITE_NOT_FOUND', `site ${blogId} not found`)
    this.blogId = blogId
  }
}

/** An argument no correct caller passes: a negative id, a page size of zero (`INVALID_INPUT`). */
export class InvalidInputError extends SloError {
  /** The offending argument, e.g. `limit`. */
  readonly field: string
  constructor(field: string, message: string) {
    super('INVALID_INPUT', `${field}: ${message}`)
    this.field = field
  }
}
