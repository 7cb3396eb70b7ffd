import type * as v from 'valibot'

/**
 * One problem with a configuration: where it is (`VERIFLIERS[0].url`, or the file for file-level
 * problems) and what is wrong, in words for the operator who has to fix it.
 */
export interface ConfigIssue {
  path: string
  message: string
}

/** `path: message`, or just the message when the issue has no path. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message
}

/** One `path: message` line per issue, ready to print or log. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n')
}

/** `VERIFLIERS[0].url` from a valibot issue path. */
export function pathToString(path: readonly v.IssuePathItem[] | undefined): string {
  let out = ''
  for (const item of path ?? []) {
    const key = item.key
    if (typeof key === 'number') out += `[${key}]`
    else out += out ? `.${String(key)}` : String(key)
  }
  return out
}

/**
 * Whether `path` (`VERIFLIERS[2].token`) is covered by one of the secret paths, written in pino's
 * `redact.paths` syntax (`VERIFLIERS[*].token`).
 */
export function isSecretPath(path: string, secrets: readonly string[]): boolean {
  const generic = path.replace(/\[\d+\]/g, '[*]')
  return secrets.some(
    (secret) => generic === secret || generic.startsWith(`${secret}.`) || generic.startsWith(`${secret}[`),
  )
}

/** A short, safe rendering of a value for a message (long strings are cut). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  Array: 'a list',
  Object: 'an object',
  null: 'null',
}

/** `"auto" | number` → `"auto" or a number`. */
function expectedInWords(expected: string | null): string {
  if (!expected) return 'a different value'
  // valibot groups alternatives in parentheses: `("all" | "failures")`
  if (expected.startsWith('(') && expected.endsWith(')')) return expectedInWords(expected.slice(1, -1))
  const words = [...new Set(expected.split(' | ').map((part) => TYPE_WORDS[part] ?? part))]
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? expected)
}

/** A quoted `"1000"` where a number is expected is a common slip in hand-written JSON. */
function quotedHint(issue: v.BaseIssue<unknown>): string {
  if (typeof issue.input !== 'string' || !issue.expected) return ''
  const input = issue.input.trim()
  if (issue.expected.includes('number') && input !== '' && Number.isFinite(Number(input))) {
    return ' (write numbers without quotes)'
  }
  if (issue.expected.includes('boolean') && (input === 'true' || input === 'false')) {
    return ' (write true and false without quotes)'
  }
  return ''
}

/**
 * The message for an issue raised by one of valibot's own schemas or actions (not a message the
 * schema author wrote), with the offending value unless the path holds a secret.
 */
export function builtInMessage(issue: v.BaseIssue<unknown>, showValue: boolean): string {
  const got = showValue ? `, got ${describeValue(issue.input)}` : ''
  if (issue.kind === 'schema') {
    if (issue.input === undefined) return 'is required'
    return `expected ${expectedInWords(issue.expected)}${got}${showValue ? quotedHint(issue) : ''}`
  }
  const requirement = issue.requirement as unknown
  const unit = Array.isArray(issue.input) ? 'entries' : 'characters'
  switch (issue.type) {
    case 'integer':
      return `must be a whole number${got}`
    case 'min_value':
      return `must be at least ${String(requirement)}${got}`
    case 'max_value':
      return `must be at most ${String(requirement)}${got}`
    case 'min_length':
      return Array.isArray(issue.input)
        ? `must have at least ${String(requirement)} ${unit}`
        : `must be at least ${String(requirement)} characters long`
    case 'max_length':
      return `must have at most ${String(requirement)} ${unit}`
    case 'non_empty':
      return 'must not be empty'
    case 'url':
      return `must be a URL such as https://example.com/${got}`
    case 'email':
      return `must be an email address${got}`
    default:
      return `is not valid${issue.expected ? ` (expected ${issue.expected})` : ''}${got}`
  }
}
