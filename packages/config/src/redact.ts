/** What secrets are replaced with in {@link redactSecrets}. */
export const REDACTED = '[redacted]'

// `VERIFLIERS[*].token` → ['VERIFLIERS', '*', 'token']
function parsePath(path: string): string[] {
  const out: string[] = []
  for (const part of path.split('.')) {
    const [key = '', ...stars] = part.split('[*]')
    if (key) out.push(key)
    for (const _ of stars) out.push('*')
  }
  return out
}

function redactAt(node: unknown, path: readonly string[]): unknown {
  const [head, ...rest] = path
  if (head === undefined || node === undefined || node === null) return node
  if (head === '*') {
    if (!Array.isArray(node)) return node
    return node.map((item) => (rest.length === 0 ? (item === undefined ? item : REDACTED) : redactAt(item, rest)))
  }
  if (typeof node !== 'object' || Array.isArray(node) || !(head in node)) return node
  const record = node as Record<string, unknown>
  const value = record[head]
  if (value === undefined) return node
  return { ...record, [head]: rest.length === 0 ? REDACTED : redactAt(value, rest) }
}

/**
 * A copy of `value` with every secret replaced by `[redacted]`. Paths use pino's `redact.paths`
 * syntax (`AUTH_TOKEN`, `VERIFLIERS[*].token`), so one list serves the logger and this function.
 * Unset secrets stay unset, which shows whether a secret is configured without showing it.
 */
export function redactSecrets<T>(value: T, paths: readonly string[]): T {
  let out: unknown = value
  for (const path of paths) out = redactAt(out, parsePath(path))
  return out as T
}

/** `mysql://jetmon:***@db:3306/jetmon` — the URL without its password (all of it if unparsable). */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return REDACTED
  }
}
