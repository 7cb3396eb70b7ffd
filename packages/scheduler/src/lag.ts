/**
 * Dispatch lag percentiles over a recent window, in constant memory: a log-linear histogram (HDR
 * style — exact below 64 ms, then 32 sub-buckets per power of two, so at most ~3 % relative error)
 * for the current window and the previous one. Percentiles merge both, so they always cover
 * between one and two windows of samples.
 */
const SUB_BITS = 5
const SUB = 1 << SUB_BITS
const LINEAR = 2 * SUB
const MAX_VALUE = 2 ** 32 - 1
const BUCKETS = (32 - SUB_BITS) * SUB + LINEAR

function bucketOf(value: number): number {
  if (value < LINEAR) return value
  const exponent = 31 - Math.clz32(value) - SUB_BITS
  return exponent * SUB + Math.floor(value / 2 ** exponent)
}

/** The largest value a bucket holds. */
function upperEdge(bucket: number): number {
  if (bucket < LINEAR) return bucket
  const exponent = Math.floor(bucket / SUB) - 1
  const sub = bucket - exponent * SUB
  return (sub + 1) * 2 ** exponent - 1
}

/** Dispatch lag percentiles and maximum in ms, as {@link LagWindow.summary} computes them. */
export interface LagSummary {
  p50: number
  p95: number
  p99: number
  max: number
  /** Samples the percentiles are computed over. */
  count: number
}

/** The two-window histogram described above: record lags, read a {@link LagSummary}. */
export class LagWindow {
  readonly #windowMs: number
  #current = new Uint32Array(BUCKETS)
  #previous = new Uint32Array(BUCKETS)
  #currentCount = 0
  #previousCount = 0
  #currentMax = 0
  #previousMax = 0
  #windowStart = Number.NEGATIVE_INFINITY

  constructor(windowMs: number) {
    this.#windowMs = windowMs
  }

  record(lagMs: number, now: number): void {
    this.#rotate(now)
    const value = Math.min(MAX_VALUE, Math.max(0, Math.round(lagMs)))
    this.#current[bucketOf(value)]!++
    this.#currentCount++
    if (value > this.#currentMax) this.#currentMax = value
  }

  summary(now: number): LagSummary {
    this.#rotate(now)
    const count = this.#currentCount + this.#previousCount
    const max = Math.max(this.#currentMax, this.#previousMax)
    if (count === 0) return { p50: 0, p95: 0, p99: 0, max: 0, count: 0 }
    const at = (q: number) => {
      const rank = Math.ceil(q * count)
      let seen = 0
      for (let b = 0; b < BUCKETS; b++) {
        seen += this.#current[b]! + this.#previous[b]!
        if (seen >= rank) return Math.min(upperEdge(b), max)
      }
      return max
    }
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max, count }
  }

  #rotate(now: number): void {
    if (now < this.#windowStart + this.#windowMs) return
    const elapsedWindows = Math.floor((now - this.#windowStart) / this.#windowMs)
    if (elapsedWindows === 1) {
      const recycled = this.#previous
      this.#previous = this.#current
      this.#previousCount = this.#currentCount
      this.#previousMax = this.#currentMax
      this.#current = recycled.fill(0)
      this.#windowStart += this.#windowMs
    } else {
      this.#previous.fill(0)
      this.#current.fill(0)
      this.#previousCount = 0
      this.#previousMax = 0
      this.#windowStart = now
    }
    this.#currentCount = 0
    this.#currentMax = 0
  }
}
