import { BlockList, isIP } from 'node:net'

/**
 * Why an address may not be reached by an outbound request that someone outside the operator's
 * network chose (a tenant's monitored URL, a webhook or alert URL): it reaches this host, the
 * operator's private network or a cloud metadata service rather than something on the internet.
 */
export type RefusedAddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'metadata'
  | 'multicast'
  | 'reserved'

const DESCRIPTIONS: Readonly<Record<RefusedAddressKind, string>> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  link_local: 'a link-local address',
  cgnat: 'a carrier-grade NAT address',
  metadata: 'a cloud metadata service address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
}

// Checked in this order, so the metadata addresses are named before the ranges that contain them.
const RANGES: readonly [RefusedAddressKind, readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]][] = [
  [
    'metadata',
    [
      ['169.254.169.254', 32, 'ipv4'],
      ['fd00:ec2::254', 128, 'ipv6'],
    ],
  ],
  [
    'unspecified',
    [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
      // Deprecated site-local unicast: still routed inside some networks.
      ['fec0::', 10, 'ipv6'],
    ],
  ],
  [
    'link_local',
    [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  ],
  ['cgnat', [['100.64.0.0', 10, 'ipv4']]],
  [
    'multicast',
    [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
  [
    'reserved',
    [
      // 240/4 (future use) includes the limited broadcast address 255.255.255.255.
      ['240.0.0.0', 4, 'ipv4'],
      // IPv4-compatible IPv6 (deprecated): `::127.0.0.1` must not slip through.
      ['::', 96, 'ipv6'],
    ],
  ],
]

const LISTS: readonly [RefusedAddressKind, BlockList][] = RANGES.map(([kind, subnets]) => {
  const list = new BlockList()
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family)
  return [kind, list]
})

/** What a refused kind of address is, in words: `'a private-network address'`. */
export function describeRefusedAddress(kind: RefusedAddressKind): string {
  return DESCRIPTIONS[kind]
}

/**
 * The reason an IP address may not be the target of a guarded request, or `null` when it may. IPv4-mapped
 * (`::ffff:127.0.0.1`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are judged by the
 * IPv4 address they carry. Anything that is not an IP address is `reserved` (refused).
 *
 * @example classifyTargetAddress('10.1.2.3') // 'private'
 * @example classifyTargetAddress('93.184.215.14') // null
 */
export function classifyTargetAddress(address: string): RefusedAddressKind | null {
  const family = isIP(address)
  if (family === 0) return 'reserved'
  if (family === 6) {
    const embedded = embeddedIPv4(address)
    if (embedded !== null) {
      const kind = classifyTargetAddress(embedded)
      if (kind !== null) return kind
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  for (const [kind, list] of LISTS) if (list.check(address, type)) return kind
  return null
}

/** The IPv4 address carried by an IPv4-mapped, NAT64 or 6to4 IPv6 address, else `null`. */
function embeddedIPv4(address: string): string | null {
  const groups = expandIPv6(address)
  if (groups === null) return null
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
  const zero = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0)
  // ::ffff:a.b.c.d
  if (zero(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!)
  // 64:ff9b::a.b.c.d (well-known NAT64 prefix)
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zero(2, 6)) return v4(groups[6]!, groups[7]!)
  // 2002:aabb:ccdd::/48 (6to4)
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!)
  return null
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or `null` if it is not one. */
function expandIPv6(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase()
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)))
  const head = parse(halves[0]!)
  const tail = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null
  const groups = [...head, ...Array<number>(missing).fill(0), ...tail]
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : null
}
