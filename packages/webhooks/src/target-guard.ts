import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { classifyTargetAddress, describeRefusedAddress, type RefusedAddressKind } from '@jetmon/checker'
import { WebhooksError } from './errors.js'

// The address ranges live in @jetmon/checker, whose guarded checks refuse the same addresses.
export { classifyTargetAddress, type RefusedAddressKind }

/** A target (webhook or alert URL) that the SSRF guard refused; `code` is `TARGET_NOT_ALLOWED`. */
export class TargetNotAllowedError extends WebhooksError {
  /** The host name of the URL (or the IP literal). */
  readonly hostname: string
  /** The refused address it resolved to. */
  readonly address: string
  readonly kind: RefusedAddressKind

  constructor(hostname: string, address: string, kind: RefusedAddressKind) {
    const where = hostname === address ? `${address} is` : `${hostname} resolves to ${address}, which is`
    super(
      'TARGET_NOT_ALLOWED',
      `${where} ${describeRefusedAddress(kind)}: webhooks and alert URLs may only reach public addresses (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true for internal receivers)`,
    )
    this.hostname = hostname
    this.address = address
    this.kind = kind
  }
}

/** Whether `error` (or one of its causes) is a {@link TargetNotAllowedError}. */
export function targetNotAllowedIn(error: unknown): TargetNotAllowedError | null {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof TargetNotAllowedError) return current
    current = current.cause
  }
  return null
}

/**
 * Checks a URL's host when it is an IP literal (no lookup happens for those, so the guarded
 * lookup never sees them). Host names return `null`: they are judged when they resolve.
 */
export function checkTargetHost(
  hostname: string,
  options: { allowPrivateTargets?: boolean } = {},
): TargetNotAllowedError | null {
  if (options.allowPrivateTargets === true) return null
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  if (isIP(bare) === 0) return null
  const kind = classifyTargetAddress(bare)
  return kind === null ? null : new TargetNotAllowedError(bare, bare, kind)
}

/** The resolver {@link guardedLookup} wraps (node:dns `lookup`'s shape, always asked for every address). */
export type AddressResolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

export interface GuardedLookupOptions {
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`: skip the guard (tests, demos, internal receivers). */
  allowPrivateTargets?: boolean
  /** Default `dns.lookup` (the system resolver, as every other connection of the process uses). */
  resolve?: AddressResolver
}

/**
 * A `lookup` for `net.connect`/`tls.connect` (and so for an undici `connect` option) that applies
 * the SSRF guard at connection time: it resolves the host and fails the connection with a
 * {@link TargetNotAllowedError} when any address it would connect to is refused. Judging the
 * resolved addresses rather than the host name defeats names that point at private addresses and
 * DNS rebinding between a check and the connection.
 */
export function guardedLookup(options: GuardedLookupOptions = {}): LookupFunction {
  const resolve: AddressResolver =
    options.resolve ?? ((hostname, opts, callback) => dnsLookup(hostname, opts, callback))
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0)
        return
      }
      if (options.allowPrivateTargets !== true) {
        for (const { address } of addresses) {
          const kind = classifyTargetAddress(address)
          if (kind !== null) {
            callback(new TargetNotAllowedError(hostname, address, kind), '', 0)
            return
          }
        }
      }
      const first = addresses[0]
      if (lookupOptions.all === true) callback(null, addresses)
      else if (first) callback(null, first.address, first.family)
      else callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '', 0)
    })
  }
}
