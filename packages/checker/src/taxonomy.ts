/**
 * The failure taxonomy. Codes 0–7 keep the numbering of the system Jetmon 2 replaces; the code is
 * what is stored, the name is what APIs and logs show.
 */
export const ERROR_CODES = {
  timeout: 1,
  connect: 2,
  tls: 3,
  redirect: 4,
  keyword: 5,
  tls_expired: 6,
  tls_deprecated: 7,
  partial_response: 8,
  dns: 9,
  http_status: 10,
  empty_body: 11,
  monitor_error: 99,
} as const

/** A failure's name, as APIs and logs show it (`timeout`, `dns`, …). */
export type ErrorName = keyof typeof ERROR_CODES
/** A failure's stored code; 0 is success. */
export type ErrorCode = 0 | (typeof ERROR_CODES)[ErrorName]

const NAMES = new Map<number, ErrorName>(Object.entries(ERROR_CODES).map(([name, code]) => [code, name as ErrorName]))

/** The name of a stored error code (`null` for 0, success); unknown codes give `'unknown'`. */
export function errorName(code: number): ErrorName | 'unknown' | null {
  if (code === 0) return null
  return NAMES.get(code) ?? 'unknown'
}

/** The status of WordPress.com's notification payload (`status_type`). */
export type StatusType = 'success' | 'intermittent' | 'https' | 'redirect' | 'blocked' | 'server' | 'client'

/** Codes that are not downtime: success, the deprecated-TLS advisory, and our own trouble (Unknown). */
const NOT_DOWNTIME = new Set<number>([0, ERROR_CODES.tls_deprecated, ERROR_CODES.monitor_error])

/** Whether a result (or a stored error code) counts as the site being down. */
export function isDowntime(result: { errorCode: number } | number): boolean {
  const code = typeof result === 'number' ? result : result.errorCode
  return !NOT_DOWNTIME.has(code)
}

/**
 * The WPCOM `status_type` of a result; `null` for `monitor_error`, which is never reported as the
 * site's state.
 */
export function statusType(result: { errorCode: number; httpStatus: number | null }): StatusType | null {
  switch (result.errorCode) {
    case 0:
    case ERROR_CODES.tls_deprecated:
      return 'success'
    case ERROR_CODES.tls:
    case ERROR_CODES.tls_expired:
      return 'https'
    case ERROR_CODES.redirect:
      return 'redirect'
    case ERROR_CODES.http_status: {
      const status = result.httpStatus ?? 0
      if (status === 403) return 'blocked'
      return status >= 500 ? 'server' : 'client'
    }
    case ERROR_CODES.monitor_error:
      return null
    default:
      return 'intermittent'
  }
}
