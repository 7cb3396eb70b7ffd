export {
  InvalidInputError,
  InvalidObjectiveError,
  type ObjectiveIssue,
  ObjectiveNameTakenError,
  ObjectiveNotFoundError,
  SloError,
  type SloErrorCode,
} from './errors.js'
