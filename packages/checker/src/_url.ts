/** The parts of an http(s) URL a check reads: a subset of URL's, which a URL object also has. */
export interface TargetUrl {
  readonly href: string
  readonly protocol: string
  readonly hostname: string
  readonly host: string
  readonly port: string
  readonly pathname: string
  readonly search: string
  readonly origin: string
}

/** Characters a path or a query keeps as they are (never percent-encoded, never rewritten): 1 in a path, 2 in a query, 3 in both. */
const KEPT = new Uint8Array(128)
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/%')
  KEPT[c.charCodeAt(0)] = 3
KEPT[0x3f /* ? */] = 2

const isDigit = (code: number) => code >= 0x30 && code <= 0x39
const isLowerAlnum = (code: number) => (code >= 0x61 && code <= 0x7a) || isDigit(code)

/** A host URL keeps as it is: `a.b.c` IPv4 in its one canonical spelling (no leading zeros, each part up to 255). */
function isDottedQuad(text: string, from: number, to: number): boolean {
  let parts = 0
  let i = from
  while (i < to) {
    const start = i
    let value = 0
    while (i < to && isDigit(text.charCodeAt(i))) value = value * 10 + text.charCodeAt(i++) - 0x30
    const digits = i - start
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && text.charCodeAt(start) === 0x30)) return false
    parts++
    if (i < to && (text.charCodeAt(i++) !== 0x2e || i === to)) return false
  }
  return parts === 4
}

/**
 * The fields of an http(s) URL already in the form URL would give it back in, or null for any other
 * (then URL parses it): lower-case host labels of letters, digits and inner hyphens, none of them a
 * punycode label (URL validates those), an IPv4 host only in its canonical spelling (URL rewrites
 * others), a port only if it is not the scheme's default (URL drops it), and a path and a query of
 * characters URL never encodes, without dot segments (URL resolves them) or a fragment.
 */
function canonicalTarget(input: string): TargetUrl | null {
  let i: number
  let protocol: string
  if (input.startsWith('http://')) {
    i = 7
    protocol = 'http:'
  } else if (input.startsWith('https://')) {
    i = 8
    protocol = 'https:'
  } else return null
  const length = input.length
  const hostStart = i
  let label = i
  for (; i < length; i++) {
    const code = input.charCodeAt(i)
    if (isLowerAlnum(code)) continue
    if (code === 0x2d /* - */) {
      if (i === label) return null
      continue
    }
    if (code !== 0x2e /* . */) break
    if (i === label || input.charCodeAt(i - 1) === 0x2d) return null
    if (input.startsWith('xn--', label)) return null
    label = i + 1
  }
  const hostEnd = i
  if (hostEnd === label || input.charCodeAt(hostEnd - 1) === 0x2d || input.startsWith('xn--', label)) return null
  // A last label that starts with a digit may make the host an IPv4 address: only the canonical spelling passes.
  if (isDigit(input.charCodeAt(label)) && !isDottedQuad(input, hostStart, hostEnd)) return null
  let port = ''
  if (input.charCodeAt(i) === 0x3a /* : */) {
    const portStart = ++i
    let value = 0
    while (i < length && isDigit(input.charCodeAt(i))) value = value * 10 + input.charCodeAt(i++) - 0x30
    const digits = i - portStart
    if (digits === 0 || digits > 5 || value > 65535 || input.charCodeAt(portStart) === 0x30) return null
    if (value === (protocol === 'http:' ? 80 : 443)) return null
    port = input.slice(portStart, i)
  }
  if (input.charCodeAt(i) !== 0x2f /* / */) return null
  const pathStart = i
  for (; i < length; i++) {
    const code = input.charCodeAt(i)
    if (code === 0x3f /* ? */) break
    if (code >= 128 || ((KEPT[code] as number) & 1) === 0) return null
    // Dot segments ('/.', '/..', '%2e' in any case) are resolved by URL.
    if (code === 0x2e && input.charCodeAt(i - 1) === 0x2f) return null
    if (code === 0x25 && input.charCodeAt(i + 1) === 0x32 && (input.charCodeAt(i + 2) | 0x20) === 0x65) return null
  }
  const pathEnd = i
  for (; i < length; i++) {
    const code = input.charCodeAt(i)
    if (code >= 128 || ((KEPT[code] as number) & 2) === 0) return null
  }
  const hostname = input.slice(hostStart, hostEnd)
  const host = port === '' ? hostname : `${hostname}:${port}`
  return {
    href: input,
    protocol,
    hostname,
    host,
    port,
    pathname: input.slice(pathStart, pathEnd),
    // An empty query ('?') is in href but not in search, as URL has it.
    search: length - pathEnd > 1 ? input.slice(pathEnd) : '',
    origin: `${protocol}//${host}`,
  }
}

/**
 * Parses a check's URL, as `new URL(input)` would (throwing the same TypeError for an invalid one):
 * a URL already in its canonical form, as a monitored site's usually is, is read without the
 * full parser; any other goes through URL.
 */
export function parseTargetUrl(input: string): TargetUrl {
  return (typeof input === 'string' ? canonicalTarget(input) : null) ?? new URL(input)
}
