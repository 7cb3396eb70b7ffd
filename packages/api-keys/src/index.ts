export { ApiKeyError, type ApiKeyErrorCode, isApiKeyError } from './errors.js'
export { type IssueKeyInput, issueApiKey } from './issue.js'
export {
  type ApiKeyRow,
  type CreateKeyInput,
  createApiKey,
  DEFAULT_RATE_LIMITS,
  generateToken,
  hashToken,
  type KeyContext,
  keyStatus,
  keyToJson,
  type RevokeKeyInput,
  type RevokeKeyResult,
  type RotateKeyInput,
  type RotateKeyResult,
  rateLimitOf,
  revokeApiKey,
  rotateApiKey,
  scopeCovers,
} from './keys.js'
export { listApiKeys } from './list.js'
