// The pending rollups of one UTC hour, kept compact: a Map from endpoint to a dense row number,
// and the row's counts in typed arrays. A million endpoints are a million rows an hour, held
// until the hour is written, so a row is about 80 bytes here where an object per row with a
// histogram array of its own took about 180.
import type { RollupDelta } from './_statements.js'
import { bucketIndex } from './histogram.js'

/** Histogram cells held in the row itself: an hour of one endpoint rarely spreads wider. */
const INLINE = 4
/** Sparse cells pack `bucket + count × PACK` (RTT_BUCKETS ≤ 64); an inline cell holds `bucket + 1` (0: empty). */
const PACK = 64
const MIN_CAPACITY = 1_024

function grown<T extends Uint32Array | Float64Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length)
  copy.set(array)
  return copy
}

export class HourRollups {
  /** Endpoint → row: also the rows still pending (a dropped row leaves its slot unused). */
  readonly rows = new Map<bigint, number>()
  #blogIds: bigint[] = []
  #checks: Uint32Array
  #failures: Uint32Array
  #rttSumMs: Float64Array
  #hist: Uint32Array
  /** Cells beyond the inline ones, by row (`bucket + count × PACK`). */
  #overflow: Map<number, number[]> | null = null
  #next = 0

  constructor(
    readonly hourStart: number,
    capacity: number,
  ) {
    const rows = Math.max(MIN_CAPACITY, capacity)
    this.#checks = new Uint32Array(rows)
    this.#failures = new Uint32Array(rows)
    this.#rttSumMs = new Float64Array(rows)
    this.#hist = new Uint32Array(rows * INLINE)
  }

  get size(): number {
    return this.rows.size
  }

  /** The endpoint's row, created when it has none (`created` tells). */
  #row(endpointId: bigint, blogId: bigint): { row: number; created: boolean } {
    const row = this.rows.get(endpointId)
    if (row !== undefined) return { row, created: false }
    const next = this.#next++
    if (next === this.#checks.length) {
      const length = Math.ceil(next * 1.5)
      this.#checks = grown(this.#checks, length)
      this.#failures = grown(this.#failures, length)
      this.#rttSumMs = grown(this.#rttSumMs, length)
      this.#hist = grown(this.#hist, length * INLINE)
    }
    this.#blogIds[next] = blogId
    this.rows.set(endpointId, next)
    return { row: next, created: true }
  }

  #addToHistogram(row: number, bucket: number, count: number): void {
    const hist = this.#hist
    const base = row * INLINE
    for (let i = base; i < base + INLINE; i++) {
      const cell = hist[i]!
      if (cell === 0) {
        hist[i] = bucket + 1 + count * PACK
        return
      }
      if (cell % PACK === bucket + 1) {
        hist[i] = cell + count * PACK
        return
      }
    }
    this.#overflow ??= new Map()
    let cells = this.#overflow.get(row)
    if (!cells) {
      cells = []
      this.#overflow.set(row, cells)
    }
    for (let i = 0; i < cells.length; i++) {
      if (cells[i]! % PACK === bucket) {
        cells[i]! += count * PACK
        return
      }
    }
    cells.push(bucket + count * PACK)
  }

  /**
   * One check: counted, and when it did not fail its response time joins the sum and the
   * histogram. Whether it created the endpoint's row for the hour.
   */
  add(endpointId: bigint, blogId: bigint, failed: boolean, rttMs: number | null): boolean {
    const { row, created } = this.#row(endpointId, blogId)
    this.#checks[row]!++
    if (failed) this.#failures[row]!++
    // Latency statistics describe successful responses: a timeout or a refused connection has no
    // meaningful response time (statistics.ts applies the same rule to raw history).
    else if (rttMs !== null) {
      this.#rttSumMs[row]! += rttMs
      this.#addToHistogram(row, bucketIndex(rttMs), 1)
    }
    return created
  }

  /** Adds a delta (one that could not be written) to the endpoint's row; whether it created the row. */
  merge(delta: RollupDelta): boolean {
    const { row, created } = this.#row(delta.endpointId, delta.blogId)
    this.#checks[row]! += delta.checks
    this.#failures[row]! += delta.failures
    this.#rttSumMs[row]! += delta.rttSumMs
    for (const packed of delta.hist) this.#addToHistogram(row, packed % PACK, Math.floor(packed / PACK))
    return created
  }

  /** The endpoint's pending delta, as the statements write it. */
  delta(endpointId: bigint, row: number): RollupDelta {
    const hist: number[] = []
    for (let i = row * INLINE; i < (row + 1) * INLINE; i++) {
      const cell = this.#hist[i]!
      if (cell === 0) break
      hist.push((cell % PACK) - 1 + Math.floor(cell / PACK) * PACK)
    }
    const more = this.#overflow?.get(row)
    if (more) hist.push(...more)
    return {
      endpointId,
      blogId: this.#blogIds[row]!,
      checks: this.#checks[row]!,
      failures: this.#failures[row]!,
      rttSumMs: this.#rttSumMs[row]!,
      hist,
    }
  }

  /** Drops the endpoint's row (the pending rollups are over their bound). */
  delete(endpointId: bigint): void {
    const row = this.rows.get(endpointId)
    if (row === undefined) return
    this.rows.delete(endpointId)
    this.#overflow?.delete(row)
  }
}
