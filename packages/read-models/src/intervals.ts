/**
 * Half-open time intervals `[start, end)` in epoch milliseconds, and the set algebra the uptime
 * figures are built from. A set is kept normalised: sorted, disjoint, non-touching, non-empty.
 */

export type Interval = readonly [start: number, end: number]
export type IntervalSet = readonly Interval[]

/** The normalised union of any intervals (empty ones are dropped, touching ones merged). */
export function union(intervals: Iterable<Interval>): IntervalSet {
  const sorted = [...intervals].filter(([start, end]) => end > start).sort((a, b) => a[0] - b[0])
  const out: [number, number][] = []
  for (const [start, end] of sorted) {
    const last = out.at(-1)
    if (last && start <= last[1]) last[1] = Math.max(last[1], end)
    else out.push([start, end])
  }
  return out
}

/** Time in both sets. */
export function intersect(a: IntervalSet, b: IntervalSet): IntervalSet {
  const out: Interval[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const [aStart, aEnd] = a[i]!
    const [bStart, bEnd] = b[j]!
    const start = Math.max(aStart, bStart)
    const end = Math.min(aEnd, bEnd)
    if (end > start) out.push([start, end])
    if (aEnd < bEnd) i++
    else j++
  }
  return out
}

/** Time in `a` but not in `b`. */
export function subtract(a: IntervalSet, b: IntervalSet): IntervalSet {
  const out: Interval[] = []
  let j = 0
  for (const [aStart, aEnd] of a) {
    let start = aStart
    while (j < b.length && b[j]![1] <= start) j++
    for (let k = j; k < b.length && b[k]![0] < aEnd; k++) {
      const [bStart, bEnd] = b[k]!
      if (bStart > start) out.push([start, bStart])
      start = Math.max(start, bEnd)
      if (start >= aEnd) break
    }
    if (start < aEnd) out.push([start, aEnd])
  }
  return out
}

/** The set clipped to `[from, to)`. */
export function clip(set: IntervalSet, from: number, to: number): IntervalSet {
  return intersect(set, to > from ? [[from, to]] : [])
}

/** Total length in milliseconds. */
export function measure(set: IntervalSet): number {
  let total = 0
  for (const [start, end] of set) total += end - start
  return total
}
