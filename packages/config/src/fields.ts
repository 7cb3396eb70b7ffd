import { isIP } from 'node:net'
import * as v from 'valibot'

/** A whole number in `[min, max]`, described for editors. Bounds catch unit slips (seconds vs ms). */
export function integer(min: number, max: number, description: string) {
  return v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max), v.description(description))
}

/** A TCP port; 0 is accepted (it means "off" or "any free port", as the description says). */
export function port(description: string) {
  return integer(0, 65535, description)
}

/** true or false. */
export function flag(description: string) {
  return v.pipe(v.boolean(), v.description(description))
}

/** A string with at least one non-blank character. */
export function text(description: string) {
  return v.pipe(v.string(), v.regex(/\S/, 'must not be empty'), v.description(description))
}

// Checks later in a pipe still run after \`v.url()\` failed; that failure is already reported.
const isHttpUrl = (value: string) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol)

/** An absolute http:// or https:// URL. */
export function httpUrl(description: string) {
  return v.pipe(
    v.string(),
    v.url(),
    v.check(isHttpUrl, 'must be an http:// or https:// URL'),
    v.description(description),
  )
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** An address to listen on: an IP address or a host name, without a port. */
export function bindAddress(description: string) {
  return v.pipe(
    v.string(),
    v.check(
      (value) => isIP(value) !== 0 || HOSTNAME.test(value),
      'must be an IP address or host name without a port, such as 127.0.0.1 (this host only) or 0.0.0.0 (all interfaces)',
    ),
    v.description(description),
  )
}

/** Whether two listen addresses can collide on the same port. */
export function bindAddressesOverlap(a: string, b: string): boolean {
  const wildcard = (address: string) => address === '0.0.0.0' || address === '::'
  return a === b || wildcard(a) || wildcard(b)
}
