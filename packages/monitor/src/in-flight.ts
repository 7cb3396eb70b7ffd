import { readFileSync } from 'node:fs'

/** File descriptors kept for everything that is not a check: the database pool, servers, logs, DNS. */
export const FD_RESERVE = 256
/** Never fewer checks in flight than this, whatever the arithmetic says. */
export const MIN_IN_FLIGHT = 16
/** Room above the steady-state need, for bursts of slow answers and for catching up after a stall. */
export const HEADROOM = 2
/** Before any check has finished, assume this latency (a slow site, not a timeout). */
export const ASSUMED_LATENCY_MS = 1_000

export interface AutoInFlightInput {
  /** Checks per second the endpoints held require (Σ 1 / interval). */
  checksPerSecond: number
  /** Observed p95 duration of a check in ms (null before any finished). */
  latencyP95Ms: number | null
  /** The process's open-file limit. */
  fdLimit: number
}

/**
 * `MAX_IN_FLIGHT=auto` (see docs/configuration.md): Little's law — in flight = rate × latency —
 * with headroom, at least {@link MIN_IN_FLIGHT}, and capped by the file-descriptor budget (one
 * socket per check) so the process never runs out of descriptors. When the cap binds, checks
 * start late and the lag metric shows it; nothing is dropped.
 */
export function autoMaxInFlight({ checksPerSecond, latencyP95Ms, fdLimit }: AutoInFlightInput): number {
  const latency = latencyP95Ms ?? ASSUMED_LATENCY_MS
  const needed = Math.ceil(Math.max(0, checksPerSecond) * (Math.max(1, latency) / 1000) * HEADROOM)
  const budget = Math.max(MIN_IN_FLIGHT, fdLimit - FD_RESERVE)
  return Math.min(budget, Math.max(MIN_IN_FLIGHT, needed))
}

/** The soft open-file limit of this process (`/proc/self/limits`), or 1 024 when unreadable. */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    const line = read()
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = line?.replace('Max open files', '').trim().split(/\s+/)[0]
    if (soft === 'unlimited') return 1_048_576
    const value = Number(soft)
    return Number.isFinite(value) && value > 0 ? value : 1_024
  } catch {
    return 1_024
  }
}

/** The last `size` check durations, for a cheap rolling p95. */
export class DurationWindow {
  readonly #values: Float64Array
  #count = 0
  #next = 0

  constructor(size = 2_048) {
    this.#values = new Float64Array(size)
  }

  add(ms: number): void {
    this.#values[this.#next] = ms
    this.#next = (this.#next + 1) % this.#values.length
    if (this.#count < this.#values.length) this.#count++
  }

  /** Nearest-rank p95 of the window, or null when empty. */
  p95(): number | null {
    if (this.#count === 0) return null
    const sorted = this.#values.slice(0, this.#count).sort()
    return sorted[Math.max(0, Math.ceil(0.95 * this.#count) - 1)]!
  }
}
