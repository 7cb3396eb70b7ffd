import { describe, expect, it } from 'vitest'
import { assignBuckets, type BucketAssignment, bucketMoves, bucketOwner, type LiveHost, rangesOf } from './buckets.js'

/** Every bucket's owners, to check coverage and overlap independently of the implementation. */
function ownersPerBucket(assignment: BucketAssignment): string[][] {
  const owners: string[][] = Array.from({ length: assignment.bucketTotal }, () => [])
  for (const host of assignment.hosts) {
    for (const range of host.ranges) for (let b = range.min; b <= range.max; b++) owners[b]!.push(host.hostId)
  }
  return owners
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const dynamic = (...ids: string[]): LiveHost[] => ids.map((hostId) => ({ hostId }))

describe('assignBuckets', () => {
  it('gives one host everything', () => {
    const assignment = assignBuckets({ hosts: dynamic('only'), bucketTotal: 1000 })
    expect(assignment.hosts).toEqual([{ hostId: 'only', pinned: false, ranges: [{ min: 0, max: 999 }], count: 1000 }])
    expect(assignment.unowned).toEqual([])
  })

  it('leaves reserved buckets (rollout locks) to nobody in the split, pinned or dynamic', () => {
    const assignment = assignBuckets({
      hosts: [...dynamic('a', 'b'), { hostId: 'pin', pinned: { min: 80, max: 99 } }],
      bucketTotal: 100,
      reserved: [
        { min: 10, max: 19 },
        { min: 90, max: 120 }, // partly outside the space: clipped
      ],
    })
    expect(assignment.hosts.map((h) => [h.hostId, h.ranges])).toEqual([
      [
        'a',
        [
          { min: 0, max: 9 },
          { min: 20, max: 44 },
        ],
      ],
      ['b', [{ min: 45, max: 79 }]],
      ['pin', [{ min: 80, max: 89 }]],
    ])
    const owners = ownersPerBucket(assignment)
    expect(owners.slice(10, 20).every((o) => o.length === 0)).toBe(true)
    expect(owners.slice(90).every((o) => o.length === 0)).toBe(true)
    // Without a dynamic host, the reserved buckets are not reported as unowned: the lock's host has them.
    expect(assignBuckets({ hosts: [], bucketTotal: 100, reserved: [{ min: 0, max: 49 }] }).unowned).toEqual([
      { min: 50, max: 99 },
    ])
  })

  it('splits contiguously in host-id order, sizes differing by at most 1', () => {
    const assignment = assignBuckets({ hosts: dynamic('c', 'a', 'b'), bucketTotal: 1000 })
    expect(assignment.hosts.map((h) => [h.hostId, h.ranges, h.count])).toEqual([
      ['a', [{ min: 0, max: 333 }], 334],
      ['b', [{ min: 334, max: 666 }], 333],
      ['c', [{ min: 667, max: 999 }], 333],
    ])
  })

  it('is deterministic regardless of input order', () => {
    const hosts: LiveHost[] = [
      ...dynamic('mon-07', 'mon-01', 'Mon-02', 'mon-10', 'mon-2', 'mon-ä'),
      { hostId: 'legacy-a', pinned: { min: 100, max: 199 } },
      { hostId: 'legacy-b', pinned: { min: 500, max: 549 } },
    ]
    const reference = assignBuckets({ hosts, bucketTotal: 1000 })
    for (let seed = 1; seed <= 20; seed++) {
      expect(assignBuckets({ hosts: shuffle(hosts, seed), bucketTotal: 1000 })).toEqual(reference)
    }
    // Code-unit order, not locale order: upper case sorts before lower case.
    expect(reference.hosts.map((h) => h.hostId)).toEqual([
      'Mon-02',
      'legacy-a',
      'legacy-b',
      'mon-01',
      'mon-07',
      'mon-10',
      'mon-2',
      'mon-ä',
    ])
  })

  it.each([
    [1, 1],
    [7, 1],
    [1000, 1],
    [1000, 3],
    [1000, 7],
    [1000, 999],
    [1000, 1000],
    [1000, 1001],
    [13, 5],
    [65_536, 10],
  ])('covers %i buckets among %i hosts fully, without overlap, balanced', (total, n) => {
    const ids = Array.from({ length: n }, (_, i) => `host-${String(i).padStart(4, '0')}`)
    const assignment = assignBuckets({ hosts: dynamic(...ids), bucketTotal: total })
    expect(ownersPerBucket(assignment).every((owners) => owners.length === 1)).toBe(true)
    const counts = assignment.hosts.map((h) => h.count)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total)
    for (const host of assignment.hosts) expect(host.ranges.length).toBeLessThanOrEqual(1)
  })

  describe('pinned hosts', () => {
    const hosts: LiveHost[] = [
      ...dynamic('dyn-a', 'dyn-b', 'dyn-c'),
      { hostId: 'old-1', pinned: { min: 0, max: 99 } },
      { hostId: 'old-2', pinned: { min: 400, max: 599 } },
    ]
    const assignment = assignBuckets({ hosts, bucketTotal: 1000 })

    it('keep their ranges; dynamic hosts split the rest and never get a pinned bucket', () => {
      expect(rangesOf(assignment, 'old-1')).toEqual([{ min: 0, max: 99 }])
      expect(rangesOf(assignment, 'old-2')).toEqual([{ min: 400, max: 599 }])
      // 700 free buckets: 234, 233, 233, laid over 100–399 and 600–999.
      expect(rangesOf(assignment, 'dyn-a')).toEqual([{ min: 100, max: 333 }])
      expect(rangesOf(assignment, 'dyn-b')).toEqual([
        { min: 334, max: 399 },
        { min: 600, max: 766 },
      ])
      expect(rangesOf(assignment, 'dyn-c')).toEqual([{ min: 767, max: 999 }])
      const owners = ownersPerBucket(assignment)
      expect(owners.every((o) => o.length === 1)).toBe(true)
      for (let b = 400; b <= 599; b++) expect(owners[b]).toEqual(['old-2'])
      expect(assignment.hosts.find((h) => h.hostId === 'old-1')).toMatchObject({ pinned: true, count: 100 })
    })

    it('leave their space unowned when no dynamic host is live, and say so', () => {
      const onlyPinned = assignBuckets({ hosts: hosts.filter((h) => h.pinned), bucketTotal: 1000 })
      expect(onlyPinned.unowned).toEqual([
        { min: 100, max: 399 },
        { min: 600, max: 999 },
      ])
      expect(bucketOwner(onlyPinned, 250)).toBeNull()
    })

    it('may cover everything, leaving dynamic hosts idle', () => {
      const all = assignBuckets({
        hosts: [...dynamic('dyn'), { hostId: 'pin', pinned: { min: 0, max: 9 } }],
        bucketTotal: 10,
      })
      expect(rangesOf(all, 'dyn')).toEqual([])
      expect(all.hosts.find((h) => h.hostId === 'dyn')?.count).toBe(0)
    })

    it('report overlapping pinned ranges instead of hiding them', () => {
      const clash = assignBuckets({
        hosts: [
          { hostId: 'p1', pinned: { min: 0, max: 49 } },
          { hostId: 'p2', pinned: { min: 40, max: 59 } },
          ...dynamic('d'),
        ],
        bucketTotal: 100,
      })
      expect(clash.pinnedOverlaps).toEqual([{ range: { min: 40, max: 49 }, hostIds: ['p1', 'p2'] }])
      expect(rangesOf(clash, 'd')).toEqual([{ min: 60, max: 99 }])
      expect(bucketOwner(clash, 45)).toBe('p1')
    })
  })

  describe('membership changes', () => {
    it('a leaving host: its buckets all go to live hosts, and only boundary shifts move the rest', () => {
      const before = assignBuckets({ hosts: dynamic('a', 'b', 'c', 'd'), bucketTotal: 12 })
      const after = assignBuckets({ hosts: dynamic('a', 'b', 'c'), bucketTotal: 12 })
      // before: a 0–2, b 3–5, c 6–8, d 9–11; after: a 0–3, b 4–7, c 8–11
      expect(bucketMoves(before, after)).toEqual([
        { range: { min: 3, max: 3 }, from: 'b', to: 'a' },
        { range: { min: 6, max: 7 }, from: 'c', to: 'b' },
        { range: { min: 9, max: 11 }, from: 'd', to: 'c' },
      ])
    })

    it('on 1000 buckets, 4 → 3 equal hosts moves 501 buckets (the leaving host’s 250 plus 251 from shifted boundaries)', () => {
      const before = assignBuckets({ hosts: dynamic('h1', 'h2', 'h3', 'h4'), bucketTotal: 1000 })
      const after = assignBuckets({ hosts: dynamic('h1', 'h2', 'h3'), bucketTotal: 1000 })
      const moved = bucketMoves(before, after).reduce((n, m) => n + m.range.max - m.range.min + 1, 0)
      expect(moved).toBe(501)
      expect(rangesOf(after, 'h1')[0]?.min).toBe(0)
      for (const move of bucketMoves(before, after)) expect(move.to).not.toBeNull()
    })

    it('the last host by id leaving moves nothing of a pinned host', () => {
      const pin: LiveHost = { hostId: 'pin', pinned: { min: 0, max: 99 } }
      const before = assignBuckets({ hosts: [pin, ...dynamic('x', 'y')], bucketTotal: 1000 })
      const after = assignBuckets({ hosts: [pin, ...dynamic('x')], bucketTotal: 1000 })
      const moves = bucketMoves(before, after)
      expect(moves.every((m) => m.from !== 'pin' && m.to !== 'pin')).toBe(true)
      expect(moves).toEqual([{ range: { min: 550, max: 999 }, from: 'y', to: 'x' }])
    })

    it('nothing moves when nothing changes', () => {
      const a = assignBuckets({ hosts: dynamic('a', 'b'), bucketTotal: 1000 })
      expect(bucketMoves(a, assignBuckets({ hosts: dynamic('b', 'a'), bucketTotal: 1000 }))).toEqual([])
    })
  })

  it('rejects impossible input', () => {
    expect(() => assignBuckets({ hosts: dynamic('a', 'a') })).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_HOST' }),
    )
    expect(() => assignBuckets({ hosts: [{ hostId: 'p', pinned: { min: 5, max: 4 } }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_BUCKET_RANGE' }),
    )
    expect(() => assignBuckets({ hosts: [{ hostId: 'p', pinned: { min: 0, max: 1000 } }], bucketTotal: 1000 })).toThrow(
      expect.objectContaining({ code: 'INVALID_BUCKET_RANGE' }),
    )
    expect(() => assignBuckets({ hosts: dynamic('a'), bucketTotal: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_BUCKET_TOTAL' }),
    )
  })

  it('defaults to 1000 buckets and handles no hosts at all', () => {
    expect(assignBuckets({ hosts: dynamic('a') }).hosts[0]?.ranges).toEqual([{ min: 0, max: 999 }])
    expect(assignBuckets({ hosts: [] })).toEqual({
      bucketTotal: 1000,
      hosts: [],
      unowned: [{ min: 0, max: 999 }],
      pinnedOverlaps: [],
    })
  })
})
