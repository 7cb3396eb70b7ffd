import * as v from 'valibot'
import { type FieldProblem, invalidRequest } from './errors.js'

/**
 * Turns valibot issues into `details` entries: the dotted path of the field (`custom_headers.X-A`,
 * `forbidden_keywords.2`) prefixed with where it was (`query.`, `params.`; body fields bare).
 */
export function issuesToDetails(issues: readonly v.BaseIssue<unknown>[], prefix = ''): FieldProblem[] {
  const details: FieldProblem[] = []
  for (const issue of issues) {
    const path = (issue.path ?? [])
      .map((item) => String((item as { key?: unknown }).key))
      .filter((key) => key !== 'undefined')
      .join('.')
    const full = [prefix, path].filter(Boolean).join('.')
    details.push({ path: full, message: describeIssue(issue) })
  }
  return dedupe(details)
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (
    issue.kind === 'schema' &&
    issue.type === 'strict_object' &&
    issue.input !== undefined &&
    issue.expected === 'never'
  ) {
    return 'is not a known field'
  }
  if (issue.received === 'undefined' && issue.kind === 'schema') return 'is required'
  return issue.message.startsWith('Invalid ') ? `${issue.message.replace(/^Invalid /, 'invalid ')}` : issue.message
}

function dedupe(details: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>()
  return details.filter((detail) => {
    const key = `${detail.path}\u0000${detail.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Parses `input` with `schema` or throws 400 `invalid_request` naming every bad field. */
export function parseOrThrow<S extends v.GenericSchema>(schema: S, input: unknown, prefix = ''): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true })
  if (result.success) return result.output
  throw invalidRequest(issuesToDetails(result.issues, prefix))
}
