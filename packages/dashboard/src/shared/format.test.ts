import { describe, expect, it } from 'vitest'
import { formatAge, formatBytes, formatCount, formatDuration, formatMs, formatPercent, formatTime } from './format.js'

describe('format', () => {
  it('says durations the way an operator reads them', () => {
    expect(formatDuration(45_400)).toBe('45 s')
    expect(formatDuration(12 * 60_000 + 59_000)).toBe('12 min')
    expect(formatDuration(3 * 3_600_000)).toBe('3 h')
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min')
    expect(formatDuration(4 * 86_400_000 + 3 * 3_600_000)).toBe('4 d 3 h')
    expect(formatDuration(-5)).toBe('0 s')
    expect(formatAge(1_000, 61_000)).toBe('1 min ago')
    expect(formatAge(10_000, 8_000)).toBe('just now')
    expect(formatAge(2 * 86_400_000, 0)).toBe('in 2 d')
  })

  it('never rounds an outage up to 100 %', () => {
    expect(formatPercent(100)).toBe('100 %')
    expect(formatPercent(99.9996)).toBe('99.999 %')
    expect(formatPercent(99.95)).toBe('99.950 %')
    expect(formatPercent(98.267)).toBe('98.26 %')
    expect(formatPercent(null)).toBe('—')
  })

  it('formats times in UTC, and sizes and counts', () => {
    expect(formatTime(Date.UTC(2025, 10, 3, 4, 5, 6))).toBe('2025-11-03 04:05:06')
    expect(formatMs(87.4)).toBe('87 ms')
    expect(formatMs(1520)).toBe('1.52 s')
    expect(formatMs(null)).toBe('—')
    expect(formatBytes(142 * 1024 * 1024)).toBe('142 MiB')
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB')
    expect(formatCount(1234567)).toBe('1,234,567')
  })
})
