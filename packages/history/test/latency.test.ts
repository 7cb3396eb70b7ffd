/** `countLatency` on hand-built samples: bucket edges, hours cut by the period and by maintenance. */
import { describe, expect, it } from 'vitest'
import { countLatency, type LatencySamples, RTT_BUCKET_EDGES_MS, RTT_BUCKETS } from '../src/index.js'

const HOUR = 3_600_000
const H0 = Date.parse('2026-05-20T00:00:00Z')

function hist(counts: Record<string, number>): number[] {
  const out = new Array<number>(RTT_BUCKETS).fill(0)
  for (const [edge, count] of Object.entries(counts)) {
    out[edge === 'overflow' ? RTT_BUCKETS - 1 : RTT_BUCKET_EDGES_MS.indexOf(Number(edge))] = count
  }
  return out
}

const samples = (): LatencySamples => ({
  rawFrom: H0 + 3 * HOUR,
  rollups: [
    // 40 checks: 10 ≤ 100 ms, 10 in (100, 120], 10 in (120, 150], 5 over 60 s; 5 failed (no RTT).
    { endpointId: 1n, hourStart: H0, checks: 40, rttHist: hist({ 100: 10, 120: 10, 150: 10, overflow: 5 }) },
    { endpointId: 2n, hourStart: H0 + HOUR, checks: 10, rttHist: hist({ 100: 10 }) },
  ],
  raw: [
    { endpointId: 1n, checkedAt: H0 + 3 * HOUR + 1_000, failed: false, rttMs: 120 },
    { endpointId: 1n, checkedAt: H0 + 3 * HOUR + 2_000, failed: false, rttMs: 121 },
    { endpointId: 2n, checkedAt: H0 + 3 * HOUR + 3_000, failed: true, rttMs: 5 },
  ],
})

describe('countLatency', () => {
  const whole = { from: H0, to: H0 + 4 * HOUR, excluded: [] }

  it('counts buckets whose upper edge is at most the threshold, and raw checks exactly', () => {
    // At 120 ms (an edge): rollups 20 + 10 good of 50; raw 1 good of 3 (a failure is never good).
    expect(countLatency(samples(), { ...whole, thresholdMs: 120 })).toEqual({ eligible: 53, good: 31 })
    // At 130 ms (between 120 and 150): the (120, 150] bucket stays bad; raw 121 ms is good.
    expect(countLatency(samples(), { ...whole, thresholdMs: 130 })).toEqual({ eligible: 53, good: 32 })
    // Above the last edge: everything but the overflow bucket and the failures.
    expect(countLatency(samples(), { ...whole, thresholdMs: 120_000 })).toEqual({ eligible: 53, good: 42 })
  })

  it('counts a rollup hour in proportion to its part inside the period and outside maintenance', () => {
    // From 00:30: half of the first hour (20 of 40, 10 good at 120 ms).
    expect(countLatency(samples(), { ...whole, from: H0 + HOUR / 2, thresholdMs: 120 })).toEqual({
      eligible: 20 + 10 + 3,
      good: 10 + 10 + 1,
    })
    // Overlapping windows over 00:00–00:45 (endpoint 1) leave a quarter; a site-wide one over the
    // raw hour drops those checks; endpoint 2's hour is untouched by endpoint 1's window.
    const excluded = [
      { endpointId: 1n, startsAt: H0, endsAt: H0 + HOUR / 2 },
      { endpointId: 1n, startsAt: H0 + HOUR / 4, endsAt: H0 + (3 * HOUR) / 4 },
      { endpointId: null, startsAt: H0 + 3 * HOUR, endsAt: H0 + 4 * HOUR },
    ]
    expect(countLatency(samples(), { ...whole, thresholdMs: 120, excluded })).toEqual({
      eligible: 10 + 10,
      good: 5 + 10,
    })
  })
})
