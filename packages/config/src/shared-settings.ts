import { isIP } from 'node:net'
import * as v from 'valibot'
import { integer, text } from './fields.js'

/** `127.0.0.1`, `127.0.0.1:5353`, `2001:db8::53` or `[2001:db8::53]:5353` — what c-ares accepts. */
export function isDnsServer(value: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value)
  const withPort = /^([^:]+):(\d{1,5})$/.exec(value)
  const [host, portText] = bracketed ? [bracketed[1], bracketed[2]] : withPort ? [withPort[1], withPort[2]] : [value]
  if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535)) return false
  return host !== undefined && isIP(host) !== 0
}

/**
 * The check settings the monitor and the veriflier share. One definition, so that a veriflier
 * runs a check with exactly the limits the monitor used and their verdicts agree.
 */
export const checkerSettings = {
  USER_AGENT: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^\r\n]+$/, 'must be one line of text (it is sent as the User-Agent header)'),
      v.description(
        "User-Agent header sent with every check (default: the checker's own, 'Jetmon/<version> (+site monitoring)').",
      ),
    ),
  ),
  DNS_SERVERS: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.check(isDnsServer, 'must be an IP address with an optional port, such as "127.0.0.1:5353"'),
        ),
      ),
      v.minLength(1, 'must list at least one server; leave the key out to use the system resolvers'),
      v.description(
        'DNS servers to resolve site names with, as IP[:port] (e.g. ["127.0.0.1:5353"]). Default: the system resolvers from /etc/resolv.conf.',
      ),
    ),
  ),
  CA_FILE: v.optional(
    text(
      'PEM file of extra trusted root certificates, added to the built-in ones (for private CAs and test fixtures).',
    ),
  ),
  BODY_READ_MAX_BYTES: v.optional(
    integer(1, 64 * 1024 * 1024, 'Most bytes of a response body read by a check without a keyword.'),
    262144,
  ),
  KEYWORD_READ_MAX_BYTES: v.optional(
    integer(1, 64 * 1024 * 1024, 'Most bytes of a response body searched for keywords.'),
    1048576,
  ),
  BODY_READ_MAX_MS: v.optional(
    integer(1, 120000, 'Most milliseconds spent reading a response body after its headers arrived.'),
    2000,
  ),
}

/** Logging settings of every Jetmon process. */
export const loggingSettings = {
  LOG_LEVEL: v.optional(
    v.pipe(
      v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      v.description('Lowest level of log lines written.'),
    ),
    'info',
  ),
  LOG_FORMAT: v.optional(
    v.pipe(
      v.picklist(['json', 'pretty']),
      v.description('Log line format. Default: pretty when writing to a terminal, json otherwise.'),
    ),
  ),
}
