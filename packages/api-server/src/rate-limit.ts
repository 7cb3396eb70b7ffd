/** Where a key stands after a request was counted (or refused). */
export interface RateDecision {
  allowed: boolean
  limit: number
  /** Whole requests left now. */
  remaining: number
  /** Unix seconds when the next request will be allowed (now, when one is left). */
  resetAt: number
  /** Whole seconds until a token is available (0 when allowed). */
  retryAfter: number
}

interface Bucket {
  tokens: number
  updatedMs: number
  limit: number
}

/**
 * Token buckets per API key (docs/api.md, Rate limits): capacity `limit`, refilled continuously at
 * `limit` per minute. Kept in memory per process; a fleet of N API processes behind a balancer
 * allows up to N× the limit, which the operator sizes for.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>()
  readonly #now: () => number

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now
  }

  /** Counts one request of `key` against `limitPerMinute`. */
  take(key: string, limitPerMinute: number): RateDecision {
    const now = this.#now()
    const perMs = limitPerMinute / 60_000
    let bucket = this.#buckets.get(key)
    if (!bucket || bucket.limit !== limitPerMinute) {
      bucket = { tokens: limitPerMinute, updatedMs: now, limit: limitPerMinute }
      this.#buckets.set(key, bucket)
    }
    bucket.tokens = Math.min(limitPerMinute, bucket.tokens + Math.max(0, now - bucket.updatedMs) * perMs)
    bucket.updatedMs = now
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    const waitMs = bucket.tokens >= 1 ? 0 : (1 - bucket.tokens) / perMs
    if (this.#buckets.size > 100_000) this.#evictFull(now)
    return {
      allowed,
      limit: limitPerMinute,
      remaining: Math.floor(bucket.tokens),
      resetAt: Math.ceil((now + waitMs) / 1000),
      retryAfter: allowed ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
    }
  }

  /** Drops buckets that have refilled completely (they carry no state). */
  #evictFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updatedMs) * (bucket.limit / 60_000) >= bucket.limit) this.#buckets.delete(key)
    }
  }
}
