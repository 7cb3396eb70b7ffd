/**
 * Edit distance with adjacent transpositions (optimal string alignment), so that both
 * `NUM_OF_CHEKS` and `NUM_OF_CHEKCS` are one edit away from `NUM_OF_CHECKS`.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}

// Keys are SCREAMING_SNAKE_CASE, but people type `num_of_checks` or `num-of-checks` too.
const normalize = (key: string) => key.toUpperCase().replace(/[-\s.]/g, '_')

/**
 * The known key closest to `key`, if it is close enough to be a plausible typo: at most a third of
 * the key's length in edits (so short keys need a near match), ignoring case and `-`/`_`.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = normalize(key)
  const limit = Math.max(1, Math.floor(wanted.length / 3))
  let best: { key: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate))
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: candidate, distance }
  }
  return best?.key
}
