import { promises as dns } from 'node:dns'
import { readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import type { DnsFailureClass } from './types.js'

/**
 * The outcome of resolving a host name: the addresses (from the hosts file, DNS, or the URL's IP
 * literal), or why there are none. `ours` marks a failure of the monitor's own resolver rather than
 * of the site's DNS.
 */
export type Resolution =
  | { ok: true; addresses: string[]; source: 'hosts' | 'dns' | 'literal' }
  | { ok: false; failureClass: DnsFailureClass; code: string; ours: boolean }

/**
 * The unspecified address is no address a site can have: connecting to it reaches this host (Linux
 * treats it as loopback), so a name that resolves to it — parked domains, blocklists in hosts
 * files — would be judged by whatever listens here.
 */
export const isUnspecified = (address: string): boolean => address === '0.0.0.0' || address === '::'

/** The addresses worth connecting to (the same array when all of them are). */
function usable(addresses: string[]): string[] {
  return addresses.some(isUnspecified) ? addresses.filter((address) => !isUnspecified(address)) : addresses
}

/** c-ares codes that mean our resolver could not work at all: not the site's fault. */
const OUR_TROUBLE = new Set([
  'ECONNREFUSED',
  'ENOTINITIALIZED',
  'ELOADIPHLPAPI',
  'EADDRGETNETWORKPARAMS',
  'ENOMEM',
  'EDESTRUCTION',
  'ECANCELLED',
  'EFILE',
])

function classify(code: string): DnsFailureClass {
  switch (code) {
    case 'ENOTFOUND':
      return 'nxdomain'
    case 'ESERVFAIL':
      return 'servfail'
    case 'EREFUSED':
      return 'refused'
    case 'ETIMEOUT':
      return 'timeout'
    case 'ENODATA':
      return 'no_address'
    default:
      return 'other'
  }
}

/** `/etc/hosts`, re-read when it changes (checked at most once a second). */
class HostsFile {
  private entries = new Map<string, string[]>()
  private mtimeMs = -1
  private checkedAt = 0
  constructor(private readonly path: string) {}

  lookup(name: string): string[] | undefined {
    const now = Date.now()
    if (now - this.checkedAt > 1_000) {
      this.checkedAt = now
      this.reload()
    }
    return this.entries.get(name.toLowerCase())
  }

  private reload(): void {
    let mtimeMs: number
    try {
      mtimeMs = statSync(this.path).mtimeMs
    } catch {
      this.entries.clear()
      return
    }
    if (mtimeMs === this.mtimeMs) return
    this.mtimeMs = mtimeMs
    const entries = new Map<string, string[]>()
    for (const raw of readFileSync(this.path, 'utf8').split('\n')) {
      const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/)
      if (!address || !isIP(address)) continue
      for (const name of names) {
        const key = name.toLowerCase()
        const list = entries.get(key) ?? []
        // IPv4 first, as the system resolver would prefer for a dual-stack name here.
        if (isIP(address) === 4) list.unshift(address)
        else list.push(address)
        entries.set(key, list)
      }
    }
    this.entries = entries
  }
}

/** The hosts file, then DNS through c-ares, so that each failure has a precise class. */
export class HostResolver {
  private readonly resolver: dns.Resolver
  private readonly hosts: HostsFile
  readonly servers: string[]

  constructor(options: {
    servers?: string[] | undefined
    hostsFile?: string | undefined
    timeoutMs?: number | undefined
  }) {
    // Each try waits 2 s by default; the check's own deadline still bounds the whole lookup.
    this.resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 2_000, tries: 2 })
    if (options.servers?.length) this.resolver.setServers(options.servers)
    this.servers = this.resolver.getServers()
    this.hosts = new HostsFile(options.hostsFile ?? '/etc/hosts')
  }

  /** An IP literal or a hosts-file name, answered without waiting; null when DNS must be asked. */
  immediate(hostname: string): Resolution | null {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
    if (isIP(bare)) return { ok: true, addresses: [bare], source: 'literal' }
    const fromHosts = this.hosts.lookup(bare)
    if (!fromHosts?.length) return null
    // A hosts file that maps a name to 0.0.0.0 blocks it: the name has no address.
    const addresses = usable(fromHosts)
    return addresses.length > 0
      ? { ok: true, addresses, source: 'hosts' }
      : { ok: false, failureClass: 'no_address', code: 'ENODATA', ours: false }
  }

  async resolve(hostname: string): Promise<Resolution> {
    const known = this.immediate(hostname)
    if (known) return known
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
    try {
      const addresses = usable(await this.resolver.resolve4(bare))
      // An answer of only a CNAME (its target has no A record) succeeds with no address at all.
      if (addresses.length > 0) return { ok: true, addresses, source: 'dns' }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN'
      if (code !== 'ENODATA') return { ok: false, failureClass: classify(code), code, ours: OUR_TROUBLE.has(code) }
    }
    // No A record: an IPv6-only site is still up.
    try {
      const addresses = usable(await this.resolver.resolve6(bare))
      if (addresses.length > 0) return { ok: true, addresses, source: 'dns' }
      return { ok: false, failureClass: 'no_address', code: 'ENODATA', ours: false }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN'
      return { ok: false, failureClass: classify(code), code, ours: OUR_TROUBLE.has(code) }
    }
  }
}
