import { describe, expect, it } from 'vitest'
import { DEFAULT_ENDPOINT_DEFAULTS, type EndpointConfig, toEndpointConfig } from './endpoint-config.js'
import { EndpointTable, endpointKey } from './endpoint-table.js'

function config(endpointId: bigint, overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  const base = toEndpointConfig(
    {
      endpointId,
      blogId: 9_007_199_254_740_993n,
      bucketNo: 7,
      url: `https://e${endpointId}.example/`,
      active: 1,
      checkInterval: 5,
      checkIntervalSec: null,
      timeoutMs: null,
      requestMethod: null,
      detectionProfile: null,
      redirectPolicy: null,
      maxRedirects: null,
      checkKeyword: null,
      forbiddenKeywords: null,
      keywordCaseSensitive: null,
      customHeaders: null,
      latencyThresholdMs: null,
      tlsExpiryWarnDays: null,
      alertCooldownMinutes: null,
      tenantOwned: 0,
    },
    DEFAULT_ENDPOINT_DEFAULTS,
  )
  return Object.freeze({ ...base, ...overrides })
}

describe('EndpointTable', () => {
  it('gives back each configuration as it was set, ids beyond 2^53 exact', () => {
    const table = new EndpointTable()
    const big = 18_446_744_073_709_551_615n
    const entries = [
      config(1n),
      config(2n, { keyword: 'Welcome', forbiddenKeywords: ['error'], customHeaders: { 'x-a': '1' } }),
      config(big, { intervalMs: 30_000, tenantOwned: true }),
    ]
    for (const entry of entries) table.set(entry)
    expect(table.size).toBe(3)
    for (const entry of entries) {
      expect(table.get(endpointKey(entry.endpointId))).toEqual(entry)
      expect(table.holds(entry)).toBe(true)
    }
    expect(table.holds(config(1n, { timeoutMs: 5_000 }))).toBe(false)
    expect(table.holds(config(1n, { url: 'https://other.example/' }))).toBe(false)
    expect([...table.ids()].sort((a, b) => (a < b ? -1 : 1))).toEqual([1n, 2n, big])
    expect(table.checksPerSecond()).toBeCloseTo(2 / 300 + 1 / 30)
  })

  it('replaces, deletes and reuses slots; marks find what a full pass did not see', () => {
    const table = new EndpointTable()
    for (let id = 1n; id <= 2_000n; id++) table.set(config(id))
    table.set(config(5n, { timeoutMs: 3_000 }))
    expect(table.get(5)?.timeoutMs).toBe(3_000)
    expect(table.delete(6)).toBe(true)
    expect(table.delete(6)).toBe(false)
    expect(table.get(6)).toBeUndefined()
    table.set(config(3_000n))
    expect(table.get(3_000)?.endpointId).toBe(3_000n)
    expect(table.size).toBe(2_000)

    table.clearMarks()
    for (let id = 1; id <= 2_000; id++) if (id % 500 !== 0) table.mark(id)
    table.mark(3_000)
    expect(table.unmarked().sort((a, b) => (a < b ? -1 : 1))).toEqual([500n, 1_000n, 1_500n, 2_000n])
    const buckets = new Set([...table.buckets()].map(([, bucket]) => bucket))
    expect(buckets).toEqual(new Set([7]))
  })
})
