import { expect, test } from 'vitest'
import { percentileBars, responseTimeTable, timingBreakdownTable, uptimeTable } from './_tables.js'

const window = { from: '2026-05-01T00:00:00.000Z', to: '2026-05-02T00:00:00.000Z' }

test('response time: the figures as given, a sparkline p50→max and a bar per percentile', () => {
  const text = responseTimeTable({
    window,
    endpoint_id: null,
    samples: 1440,
    p50_ms: 100,
    p90_ms: 200,
    p95_ms: 250.5,
    p99_ms: 380,
    max_ms: 400,
    mean_ms: 123.45,
    source: 'raw',
  })
  expect(text).toMatch(/^p95_ms +250\.5$/m)
  expect(text).toMatch(/^mean_ms +123\.45$/m)
  expect(text).toMatch(/^p50→max {2}▃▅▅██$/m)
  expect(text).toContain(`max   ${'█'.repeat(30)}  400 ms`)
  expect(text).toContain(`p50   ${'█'.repeat(7)}▌${' '.repeat(22)}  100 ms`)
})

test('percentile bars show a dash for a missing value', () => {
  expect(percentileBars({ p50_ms: 10, p99_ms: null }, ['p50_ms', 'p99_ms'], 4).split('\n')).toEqual([
    'p50  ████  10 ms',
    'p99        -',
  ])
})

test('uptime: a bar for the percentage, or why there is none', () => {
  expect(uptimeTable({ window, uptime_percent: 50 })).toMatch(/^uptime {2}█{15} {15} {2}50%$/m)
  expect(uptimeTable({ window, uptime_percent: null })).toMatch(/uptime {2}n\/a/)
})

test('timing breakdown: a row per phase with a bar of its p95 against the slowest', () => {
  const phase = (p95: number | null) => ({ samples: 10, p50_ms: p95, p95_ms: p95, p99_ms: p95, max_ms: p95 })
  const text = timingBreakdownTable({
    window,
    endpoint_id: 9,
    samples: 10,
    truncated: false,
    raw_from: window.from,
    dns: phase(10),
    connect: phase(20),
    tls: phase(null),
    ttfb: phase(100),
    total: phase(200),
  })
  expect(text).toMatch(/^dns +10 +10 +10 +10 +10 +█$/m)
  expect(text).toMatch(/^tls +10 +- +- +- +- +-$/m)
  expect(text).toMatch(/^total +10 +200 +200 +200 +200 +█{20}$/m)
})
