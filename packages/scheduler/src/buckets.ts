import { checkBucketTotal } from './_checks.js'
import { SchedulerError } from './errors.js'
import { DEFAULT_BUCKET_TOTAL } from './phase.js'

/** An inclusive range of bucket numbers, `min ≤ bucket_no ≤ max` (as in SQL `BETWEEN`). */
export interface BucketRange {
  min: number
  max: number
}

/** A host with an unexpired lease in `jetmon_hosts`. */
export interface LiveHost {
  hostId: string
  /** Set for a pinned host (`PINNED_BUCKET_MIN`/`MAX`): it owns exactly this range. */
  pinned?: BucketRange | null
}

/** The buckets one host owns. */
export interface HostBuckets {
  hostId: string
  pinned: boolean
  /** Ascending, non-adjacent ranges; empty when there is nothing left to own. */
  ranges: BucketRange[]
  /** How many buckets the ranges hold. */
  count: number
}

/** Two or more pinned hosts claiming the same buckets: an operator error to report. */
export interface PinnedOverlap {
  range: BucketRange
  hostIds: [string, string]
}

/** The split of the bucket space among the live hosts. */
export interface BucketAssignment {
  bucketTotal: number
  /** Every host, sorted by host id. */
  hosts: HostBuckets[]
  /**
   * Buckets nobody in the split checks (only when there is no live dynamic host for the space pinned
   * hosts leave). Reserved buckets are not listed: someone outside the split owns them.
   */
  unowned: BucketRange[]
  /** Ranges claimed by more than one pinned host. */
  pinnedOverlaps: PinnedOverlap[]
}

/** Input of {@link assignBuckets}: the live host set and the size of the bucket space. */
export interface AssignBucketsOptions {
  /** The live hosts (unexpired leases), in any order. */
  hosts: readonly LiveHost[]
  /** `BUCKET_TOTAL` (default 1000): buckets are `0 … bucketTotal − 1`. */
  bucketTotal?: number
  /**
   * Buckets no host of the split may own, pinned or dynamic: the ranges of rollout locks, which
   * belong to an `api-controlled` host outside the split. Parts outside the bucket space are ignored.
   */
  reserved?: readonly BucketRange[]
}

/**
 * The deterministic split of the bucket space that every host computes for itself from the same
 * live host set (docs/operations.md, "Scale-out across hosts"):
 *
 * - pinned hosts own exactly their pinned range;
 * - the buckets no pinned host owns are laid end to end in ascending order and cut into
 *   contiguous slices, one per dynamic host in host-id order (compared by UTF-16 code units, not
 *   locale), the first `free mod n` hosts taking one bucket more — so sizes differ by at most 1;
 * - a slice that crosses a pinned range becomes several ranges; dynamic hosts never own a pinned
 *   bucket;
 * - `reserved` buckets (rollout locks) belong to nobody in the split: a pinned range loses them,
 *   and the dynamic slices are cut from what neither pinned hosts nor reservations cover.
 *
 * The input order does not matter. What the contiguous split implies when membership changes:
 * every slice boundary after the joining or leaving host's position moves, so more than the
 * leaving host's share changes owner (from 4 to 3 equal hosts on 1 000 buckets, 501 buckets move,
 * not 250). Hosts before it in id order keep their first bucket, and each move is an ordinary
 * handover (at most one lease period of overlap). Use {@link bucketMoves} to see what moved.
 *
 * @throws {SchedulerError} `INVALID_BUCKET_TOTAL`, `INVALID_BUCKET_RANGE` (a pinned range outside
 *   the space or with min > max) or `DUPLICATE_HOST`.
 */
export function assignBuckets({
  hosts,
  bucketTotal = DEFAULT_BUCKET_TOTAL,
  reserved = [],
}: AssignBucketsOptions): BucketAssignment {
  checkBucketTotal(bucketTotal)
  const held = reserved
    .filter((range) => Number.isSafeInteger(range.min) && Number.isSafeInteger(range.max) && range.min <= range.max)
    .map((range) => ({ min: Math.max(0, range.min), max: Math.min(bucketTotal - 1, range.max) }))
    .filter((range) => range.min <= range.max)
  // What a pinned host may own: its range less the reservations.
  const open = complement(held, bucketTotal)
  const sorted = [...hosts].sort((a, b) => compareIds(a.hostId, b.hostId))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.hostId === sorted[i - 1]!.hostId) {
      throw new SchedulerError('DUPLICATE_HOST', `host ${JSON.stringify(sorted[i]!.hostId)} is listed twice`)
    }
  }

  const pinned = sorted.filter((host): host is LiveHost & { pinned: BucketRange } => Boolean(host.pinned))
  for (const host of pinned) checkRange(host.hostId, host.pinned, bucketTotal)
  const dynamic = sorted.filter((host) => !host.pinned)

  const free = complement([...pinned.map((host) => host.pinned), ...held], bucketTotal)
  const freeCount = free.reduce((sum, range) => sum + size(range), 0)
  const slices = new Map<string, BucketRange[]>()
  if (dynamic.length > 0) {
    const base = Math.floor(freeCount / dynamic.length)
    const extra = freeCount % dynamic.length
    let start = 0
    dynamic.forEach((host, index) => {
      const count = base + (index < extra ? 1 : 0)
      slices.set(host.hostId, slice(free, start, count))
      start += count
    })
  }

  return {
    bucketTotal,
    hosts: sorted.map((host) => {
      const ranges = host.pinned ? intersect(host.pinned, open) : (slices.get(host.hostId) ?? [])
      return {
        hostId: host.hostId,
        pinned: Boolean(host.pinned),
        ranges,
        count: ranges.reduce((n, r) => n + size(r), 0),
      }
    }),
    unowned: dynamic.length === 0 ? free : [],
    pinnedOverlaps: overlaps(pinned),
  }
}

/** The ranges a host owns in an assignment (empty for a host that is not in it). */
export function rangesOf(assignment: BucketAssignment, hostId: string): BucketRange[] {
  return assignment.hosts.find((host) => host.hostId === hostId)?.ranges ?? []
}

/**
 * Who checks a bucket, or `null` when nobody does. Where pinned hosts overlap, the first by host id.
 */
export function bucketOwner(assignment: BucketAssignment, bucket: number): string | null {
  for (const host of assignment.hosts) {
    if (host.ranges.some((range) => range.min <= bucket && bucket <= range.max)) return host.hostId
  }
  return null
}

/** A run of buckets that changes owner between two assignments (`null` = unowned). */
export interface BucketMove {
  range: BucketRange
  from: string | null
  to: string | null
}

/**
 * The buckets whose owner differs between two assignments of the same bucket space, as maximal
 * ranges — what a handover has to move, for logs and for tests.
 */
export function bucketMoves(before: BucketAssignment, after: BucketAssignment): BucketMove[] {
  const total = Math.max(before.bucketTotal, after.bucketTotal)
  const from = owners(before, total)
  const to = owners(after, total)
  const moves: BucketMove[] = []
  for (let bucket = 0; bucket < total; bucket++) {
    const a = from[bucket] ?? null
    const b = to[bucket] ?? null
    if (a === b) continue
    const last = moves.at(-1)
    if (last && last.range.max === bucket - 1 && last.from === a && last.to === b) last.range.max = bucket
    else moves.push({ range: { min: bucket, max: bucket }, from: a, to: b })
  }
  return moves
}

function owners(assignment: BucketAssignment, total: number): (string | null)[] {
  const result: (string | null)[] = new Array(total).fill(null)
  // Reverse order so that, where pinned ranges overlap, the first host by id wins (as bucketOwner).
  for (const host of [...assignment.hosts].reverse()) {
    for (const range of host.ranges) result.fill(host.hostId, range.min, range.max + 1)
  }
  return result
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function size(range: BucketRange): number {
  return range.max - range.min + 1
}

function checkRange(hostId: string, range: BucketRange, bucketTotal: number): void {
  const ok =
    Number.isSafeInteger(range.min) &&
    Number.isSafeInteger(range.max) &&
    range.min >= 0 &&
    range.min <= range.max &&
    range.max < bucketTotal
  if (!ok) {
    throw new SchedulerError(
      'INVALID_BUCKET_RANGE',
      `host ${JSON.stringify(hostId)} is pinned to ${range.min}–${range.max}, which is not a range inside 0–${bucketTotal - 1}`,
    )
  }
}

/** The parts of `range` that lie in the ascending, disjoint `ranges`. */
function intersect(range: BucketRange, ranges: readonly BucketRange[]): BucketRange[] {
  const out: BucketRange[] = []
  for (const other of ranges) {
    const min = Math.max(range.min, other.min)
    const max = Math.min(range.max, other.max)
    if (min <= max) out.push({ min, max })
  }
  return out
}

/** The buckets in [0, total) that none of the ranges covers, as ascending ranges. */
function complement(ranges: readonly BucketRange[], total: number): BucketRange[] {
  const sorted = [...ranges].sort((a, b) => a.min - b.min)
  const free: BucketRange[] = []
  let next = 0
  for (const range of sorted) {
    if (range.min > next) free.push({ min: next, max: range.min - 1 })
    next = Math.max(next, range.max + 1)
  }
  if (next < total) free.push({ min: next, max: total - 1 })
  return free
}

/** `count` free buckets starting at position `start` of the free space laid end to end. */
function slice(free: readonly BucketRange[], start: number, count: number): BucketRange[] {
  const out: BucketRange[] = []
  let skip = start
  let want = count
  for (const range of free) {
    if (want === 0) break
    const length = size(range)
    if (skip >= length) {
      skip -= length
      continue
    }
    const min = range.min + skip
    const max = Math.min(range.max, min + want - 1)
    out.push({ min, max })
    want -= max - min + 1
    skip = 0
  }
  return out
}

function overlaps(pinned: readonly (LiveHost & { pinned: BucketRange })[]): PinnedOverlap[] {
  const found: PinnedOverlap[] = []
  for (let i = 0; i < pinned.length; i++) {
    for (let j = i + 1; j < pinned.length; j++) {
      const a = pinned[i]!
      const b = pinned[j]!
      const min = Math.max(a.pinned.min, b.pinned.min)
      const max = Math.min(a.pinned.max, b.pinned.max)
      if (min <= max) found.push({ range: { min, max }, hostIds: [a.hostId, b.hostId] })
    }
  }
  return found
}
