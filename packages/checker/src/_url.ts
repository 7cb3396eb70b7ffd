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

/**
 * An http(s) URL already in the form URL would give it back in: lower-case host labels of letters,
 * digits and inner hyphens, an explicit port, a path and a query of characters that are never
 * encoded. Anything else (and the cases below) is left to URL.
 */
const CANONICAL =
  /^(https?):\/\/([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::([1-9][0-9]{0,4}))?(\/[A-Za-z0-9\-._~!$&()*+,;=:@/%]*)(\?[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*)?$/
/** A host URL reads as an IPv4 address: its last label is a number (decimal, or 0x hex). */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/
/** The one IPv4 spelling URL keeps as it is. */
const DOTTED_QUAD =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/

/**
 * Parses a check's URL, as `new URL(input)` would (throwing the same TypeError for an invalid one):
 * a URL already in its canonical form, as a monitored site's usually is, is read without the
 * full parser; any other goes through URL.
 */
export function parseTargetUrl(input: string): TargetUrl {
  const match = typeof input === 'string' ? CANONICAL.exec(input) : null
  if (match !== null) {
    const [, scheme, hostname, port, pathname, query] = match as unknown as [
      string,
      string,
      string,
      string?,
      string?,
      string?,
    ]
    if (
      // Punycode labels are validated, numeric hosts read as IPv4, default ports dropped, dot segments resolved.
      !hostname.startsWith('xn--') &&
      !hostname.includes('.xn--') &&
      (!NUMERIC_LAST_LABEL.test(hostname) || DOTTED_QUAD.test(hostname)) &&
      (port === undefined || (Number(port) <= 65535 && port !== (scheme === 'http' ? '80' : '443'))) &&
      !(pathname as string).includes('/.') &&
      !/%2e/i.test(pathname as string)
    ) {
      const protocol = scheme === 'http' ? 'http:' : 'https:'
      const host = port === undefined ? hostname : `${hostname}:${port}`
      return {
        href: input,
        protocol,
        hostname,
        host,
        port: port ?? '',
        pathname: pathname as string,
        // An empty query ('?') is in href but not in search, as URL has it.
        search: query !== undefined && query.length > 1 ? query : '',
        origin: `${protocol}//${host}`,
      }
    }
  }
  return new URL(input)
}
