import { describe, expect, it } from 'vitest'
import { autoMaxInFlight, DurationWindow, FD_RESERVE, MIN_IN_FLIGHT, openFileLimit } from '../src/in-flight.js'

describe('autoMaxInFlight', () => {
  it('is rate × latency with headroom (Little’s law)', () => {
    // 1 000 checks/s at 150 ms: 150 in flight on average, 300 with headroom.
    expect(autoMaxInFlight({ checksPerSecond: 1_000, latencyP95Ms: 150, fdLimit: 65_536 })).toBe(300)
    // Slow answers raise it.
    expect(autoMaxInFlight({ checksPerSecond: 1_000, latencyP95Ms: 2_000, fdLimit: 65_536 })).toBe(4_000)
  })

  it('assumes one second before any check finished, and never goes below the floor', () => {
    expect(autoMaxInFlight({ checksPerSecond: 100, latencyP95Ms: null, fdLimit: 65_536 })).toBe(200)
    expect(autoMaxInFlight({ checksPerSecond: 0.1, latencyP95Ms: 50, fdLimit: 65_536 })).toBe(MIN_IN_FLIGHT)
    expect(autoMaxInFlight({ checksPerSecond: 0, latencyP95Ms: null, fdLimit: 65_536 })).toBe(MIN_IN_FLIGHT)
  })

  it('is capped by the file-descriptor budget', () => {
    expect(autoMaxInFlight({ checksPerSecond: 5_000, latencyP95Ms: 10_000, fdLimit: 1_024 })).toBe(1_024 - FD_RESERVE)
    expect(autoMaxInFlight({ checksPerSecond: 5_000, latencyP95Ms: 10_000, fdLimit: 100 })).toBe(MIN_IN_FLIGHT)
  })
})

describe('openFileLimit', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 1048576              files\n`
  it('reads the soft limit', () => {
    expect(openFileLimit(() => limits('4096'))).toBe(4_096)
    expect(openFileLimit(() => limits('unlimited'))).toBe(1_048_576)
  })
  it('falls back to 1 024', () => {
    expect(openFileLimit(() => 'nothing here')).toBe(1_024)
    expect(
      openFileLimit(() => {
        throw new Error('no /proc')
      }),
    ).toBe(1_024)
  })
  it('reads this process’s real limit', () => {
    expect(openFileLimit()).toBeGreaterThan(0)
  })
})

describe('DurationWindow', () => {
  it('is a nearest-rank p95 over the last N durations', () => {
    const window = new DurationWindow(100)
    expect(window.p95()).toBeNull()
    for (let i = 1; i <= 100; i++) window.add(i)
    expect(window.p95()).toBe(95)
    // The oldest values roll out.
    for (let i = 0; i < 100; i++) window.add(1_000)
    expect(window.p95()).toBe(1_000)
  })
})
