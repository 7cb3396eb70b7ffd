import type { apiKeys } from '@jetmon/db'

type ApiKeyRow = typeof apiKeys.$inferSelect

/** Why `revokeApiKey` or `rotateApiKey` refused: a stable code for each caller to map to its own surface. */
export type ApiKeyErrorCode = 'KEY_NOT_FOUND' | 'KEY_REVOKED' | 'KEY_EXPIRED'

/**
 * A key change refused before anything was written (the transaction rolled back). `key` is the
 * row as it stood, except for `KEY_NOT_FOUND`, where there is none.
 */
export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError'
  readonly code: ApiKeyErrorCode
  readonly id: bigint
  readonly key: ApiKeyRow | null

  constructor(code: ApiKeyErrorCode, id: bigint, key: ApiKeyRow | null) {
    super(
      code === 'KEY_NOT_FOUND'
        ? `API key ${id} not found`
        : code === 'KEY_REVOKED'
          ? `API key ${id} is already revoked`
          : `API key ${id} has expired`,
    )
    this.code = code
    this.id = id
    this.key = key
  }
}

/** Whether `error` is an {@link ApiKeyError}, optionally with the given code. */
export function isApiKeyError(error: unknown, code?: ApiKeyErrorCode): error is ApiKeyError {
  return error instanceof ApiKeyError && (code === undefined || error.code === code)
}
