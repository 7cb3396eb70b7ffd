/**
 * The verifliers as preflight sees them: one request per veriflier through the monitor's own client
 * (the request a confirmation round makes, with its token, TLS trust and answer parsing), and the
 * vantages they stand for.
 */
import { askVerifliers, type VeriflierTarget, type VeriflierVote } from '@jetmon/monitor'

/** What one veriflier's answer to a probe says. */
export interface VeriflierProbe {
  id: string
  region: string
  /** It answered (anything, even a refusal): the network path and TLS work. */
  reachable: boolean
  /** It answered a check in the protocol this monitor speaks, with its token accepted. */
  compatible: boolean
  /** Why not, for a person; null when it answered in protocol. */
  problem: string | null
  rttMs: number
}

const TRANSPORT_FAILURES = new Set(['unreachable', 'untrusted_certificate', 'timeout'])

/**
 * Asks each veriflier, through `askVerifliers`, to check its own `v1/health` with `HEAD` and the
 * `legacy` profile: a request that reaches no site of ours, carries the token, and is answered in the
 * check protocol by a veriflier that speaks it. Whether the veriflier can reach itself does not
 * matter (a `down` vote is an answer too).
 */
export async function probeVerifliers(
  verifliers: readonly VeriflierTarget[],
  options: { timeoutMs: number; ca?: readonly string[] | undefined },
): Promise<VeriflierProbe[]> {
  return Promise.all(
    verifliers.map(async (target) => {
      const url = new URL('v1/health', target.url.endsWith('/') ? target.url : `${target.url}/`).toString()
      const votes = await askVerifliers({
        verifliers: [target],
        checks: [{ endpointId: 0n, url, method: 'HEAD', profile: 'legacy', timeoutMs: options.timeoutMs }],
        timeoutMs: options.timeoutMs,
        ca: options.ca,
      })
      const vote = votes.get(0n)?.[0] as VeriflierVote
      const answered = vote.errorCode !== null
      const reachable = answered || !TRANSPORT_FAILURES.has(vote.error ?? '')
      return {
        id: target.id,
        region: target.region,
        reachable,
        compatible: answered,
        problem: answered ? null : (vote.detail ?? vote.error),
        rttMs: vote.rttMs,
      }
    }),
  )
}

/**
 * The vantages behind a list of verifliers: entries that share an id or a region are one vantage
 * (two of them never count twice toward a quorum). Each group lists its members' ids.
 */
export function vantagesOf(verifliers: readonly { id: string; region: string }[]): string[][] {
  const parent = verifliers.map((_, index) => index)
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!
    return i
  }
  const firstBy = new Map<string, number>()
  for (const [index, entry] of verifliers.entries()) {
    for (const key of [`id:${entry.id}`, `region:${entry.region}`]) {
      const seen = firstBy.get(key)
      if (seen === undefined) firstBy.set(key, index)
      else parent[root(index)] = root(seen)
    }
  }
  const groups = new Map<number, string[]>()
  for (const [index, entry] of verifliers.entries()) {
    const group = groups.get(root(index)) ?? []
    group.push(entry.id)
    groups.set(root(index), group)
  }
  return [...groups.values()]
}
