import { createApiKey } from '@jetmon/api-keys'
import { apiKeys } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { KEY_CACHE_MS, RateLimiter } from '../src/index.js'
import { envelopeOf, useTestApi } from './_helpers.js'

const harness = useTestApi({ manualClock: true })

describe('rate limits', () => {
  it('a token bucket per key: limit, remaining, reset, 429 with Retry-After, refill over time', async () => {
    const h = harness()
    const { token } = await createApiKey({
      ctx: { db: h.database.db },
      input: {
        consumer: 'metered',
        scope: 'read',
        rateLimitPerMinute: 60,
        createdBy: 'test',
      },
    })
    const nowSeconds = () => Math.ceil(h.clock.monotonic() / 1000)
    for (let i = 0; i < 60; i++) {
      const response = await h.fetch('/me', { token })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-ratelimit-limit')).toBe('60')
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(59 - i))
    }
    const limited = await h.fetch('/me', { token })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBe(nowSeconds() + 1)
    expect((await envelopeOf(limited)).code).toBe('rate_limited')

    // One token per second at 60/min: half a second is not enough, a whole one is.
    h.clock.advance(500)
    expect((await h.fetch('/me', { token })).status).toBe(429)
    h.clock.advance(500)
    const refilled = await h.fetch('/me', { token })
    expect(refilled.status).toBe(200)
    expect(refilled.headers.get('x-ratelimit-remaining')).toBe('0')
    expect((await h.fetch('/me', { token })).status).toBe(429)

    // A full minute refills the bucket, and never beyond its capacity.
    h.clock.advance(120_000)
    const full = await h.fetch('/me', { token })
    expect(full.headers.get('x-ratelimit-remaining')).toBe('59')
  })

  it('uses the scope default when a key names no limit, and scope failures cost nothing', async () => {
    const h = harness()
    const { token, row } = await createApiKey({
      ctx: { db: h.database.db },
      input: { consumer: 'writer', scope: 'write', createdBy: 'test' },
    })
    expect(row.rateLimitPerMinute).toBeNull()
    const first = await h.fetch('/me', { token })
    expect(first.headers.get('x-ratelimit-limit')).toBe('120')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('119')
    for (let i = 0; i < 5; i++) expect((await h.fetch('/keys', { token })).status).toBe(403)
    const after = await h.fetch('/me', { token })
    expect(after.headers.get('x-ratelimit-remaining')).toBe('118')
    await h.database.db.update(apiKeys).set({ rateLimitPerMinute: 10 }).where(eq(apiKeys.id, row.id))
    // A change made outside this process is seen once the kept copy of the key has expired.
    h.clock.advance(KEY_CACHE_MS)
    const changed = await h.fetch('/me', { token })
    expect(changed.headers.get('x-ratelimit-limit')).toBe('10')
  })

  it('the bucket arithmetic, on its own', () => {
    let now = 0
    const limiter = new RateLimiter({ now: () => now })
    expect(limiter.take('k', 2)).toMatchObject({ allowed: true, remaining: 1 })
    expect(limiter.take('k', 2)).toMatchObject({ allowed: true, remaining: 0, retryAfter: 0 })
    expect(limiter.take('k', 2)).toMatchObject({ allowed: false, remaining: 0, retryAfter: 30, resetAt: 30 })
    now = 29_999
    expect(limiter.take('k', 2).allowed).toBe(false)
    now = 30_000
    expect(limiter.take('k', 2)).toMatchObject({ allowed: true, remaining: 0 })
    expect(limiter.take('other', 2)).toMatchObject({ allowed: true, remaining: 1 })
  })
})

describe('expiry and revocation are half-open', () => {
  it('a key is valid strictly before its cutoff and rejected at it', async () => {
    const h = harness()
    const at = h.clock.now()
    const expiresAt = new Date(Math.ceil(at.getTime() / 1000) * 1000 + 10_000)
    const { token, row } = await createApiKey({
      ctx: { db: h.database.db },
      input: {
        consumer: 'cutoff',
        scope: 'read',
        expiresAt,
        createdBy: 'test',
      },
    })
    h.clock.set(new Date(expiresAt.getTime() - 1))
    expect((await h.fetch('/me', { token })).status).toBe(200)
    h.clock.set(expiresAt)
    expect((await envelopeOf(await h.fetch('/me', { token }))).code).toBe('token_expired')

    const revokeAt = new Date(expiresAt.getTime() + 60_000)
    await h.database.db.update(apiKeys).set({ expiresAt: null, revokedAt: revokeAt }).where(eq(apiKeys.id, row.id))
    h.clock.set(new Date(revokeAt.getTime() - 1))
    const grace = await h.fetch('/me', { token })
    expect(grace.status).toBe(200)
    expect(((await grace.json()) as { revoked_at: string }).revoked_at).toBe(revokeAt.toISOString())
    h.clock.set(revokeAt)
    expect((await envelopeOf(await h.fetch('/me', { token }))).code).toBe('token_revoked')
  })
})

describe('verified keys are kept briefly', () => {
  it('a key changed in the database is read again once its kept copy is KEY_CACHE_MS old', async () => {
    const h = harness()
    const { token, row } = await createApiKey({
      ctx: { db: h.database.db },
      input: { consumer: 'kept', scope: 'read', createdBy: 'test' },
    })
    expect((await h.fetch('/me', { token })).status).toBe(200)
    // Revoked by another process (the CLI, another API host): this process keeps its copy a while.
    await h.database.db
      .update(apiKeys)
      .set({ revokedAt: new Date(h.clock.now().getTime() - 1_000) })
      .where(eq(apiKeys.id, row.id))
    h.clock.advance(KEY_CACHE_MS - 1)
    expect((await h.fetch('/me', { token })).status).toBe(200)
    h.clock.advance(1)
    expect((await envelopeOf(await h.fetch('/me', { token }))).code).toBe('token_revoked')
  })
})
