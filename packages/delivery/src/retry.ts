/** The waits after the 1st … 5th failed attempt: 1 m, 5 m, 30 m, 1 h, 6 h. */
export const RETRY_DELAYS_SECONDS = [60, 300, 1_800, 3_600, 21_600] as const

/** Attempts in all: the 6th failure abandons the delivery. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1

/** Each wait is stretched or shrunk by up to this fraction, so a burst of failures does not retry in lockstep. */
export const RETRY_JITTER = 0.1

/**
 * How long to wait after the `failedAttempts`-th failed attempt before the next one, with ±10 %
 * jitter; `null` when that failure was the last allowed ({@link MAX_ATTEMPTS}) and the delivery is
 * abandoned.
 *
 * @param random A uniform source in [0, 1) (default `Math.random`); tests pass a fixed one.
 * @example retryDelayMs(1, () => 0.5) // 60 000 (1 minute, no jitter)
 */
export function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError(`failedAttempts must be an integer ≥ 1, got ${failedAttempts}`)
  }
  const base = RETRY_DELAYS_SECONDS[failedAttempts - 1]
  if (base === undefined) return null
  const factor = 1 + RETRY_JITTER * (2 * random() - 1)
  return Math.round(base * 1_000 * factor)
}
