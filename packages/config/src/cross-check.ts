import * as v from 'valibot'

/** Where and how a failed {@link crossCheck} is reported. */
export interface CrossCheckReport<TInput, TKey extends keyof TInput> {
  /** The key the issue is reported on: the one the operator should change. */
  path: keyof TInput & string
  message: string | ((input: Pick<TInput, TKey>) => string)
}

/**
 * A rule between several top-level keys, such as "SMTP_HOST is required when EMAIL_TRANSPORT is
 * smtp", for use in `v.pipe(v.object(…), crossCheck(…))`.
 *
 * Unlike valibot's `partialCheck`, the rule is skipped when any of `keys` already has an issue
 * (a bad value, not only a wrong type): `BUCKET_TOTAL: -5` is reported once, without a second,
 * misleading "PINNED_BUCKET_MAX must be below BUCKET_TOTAL".
 */
export function crossCheck<TInput extends Record<string, unknown>, const TKey extends keyof TInput & string>(
  keys: readonly TKey[],
  requirement: (input: Pick<TInput, TKey>) => boolean,
  report: CrossCheckReport<TInput, TKey>,
): v.RawCheckAction<TInput> {
  return v.rawCheck<TInput>(({ dataset, addIssue }) => {
    const input: unknown = dataset.value
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return
    const involved = new Set<unknown>(keys)
    if (dataset.issues?.some((issue) => involved.has(issue.path?.[0]?.key))) return
    const values = input as TInput
    if (requirement(values)) return
    const message = typeof report.message === 'function' ? report.message(values) : report.message
    addIssue({
      message,
      path: [{ type: 'object', origin: 'value', input: values, key: report.path, value: values[report.path] }],
    })
  })
}
