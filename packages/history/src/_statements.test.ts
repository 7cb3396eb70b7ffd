import { describe, expect, it } from 'vitest'
import { addToSparse, denseOf, historyInsertSql, rollupUpsertSql, stateUpsertSql } from './_statements.js'
import { histogramOf } from './histogram.js'

describe('sparse histograms', () => {
  it('hold one packed number per bucket hit and expand to the stored dense form', () => {
    const sparse: number[] = []
    const values = [1, 1, 7, 42, 42, 42, 70_000]
    for (const ms of values)
      addToSparse(
        sparse,
        histogramOf([ms]).findIndex((n) => n > 0),
      )
    expect(sparse).toHaveLength(4)
    expect(denseOf(sparse)).toEqual(histogramOf(values))
    addToSparse(sparse, 0, 1_000_000)
    expect(denseOf(sparse)[0]).toBe(1_000_002)
  })
})

describe('statement text', () => {
  const row = {
    endpointId: 18_446_744_073_709_551_615n,
    blogId: 9_007_199_254_740_993n,
    checkedAt: new Date('2030-01-01T10:00:00.123Z'),
    vantage: "x') ; DROP TABLE t; -- \\",
    method: 'GET',
    httpCode: null,
    errorCode: 2,
    rttMs: null,
    dnsMs: 3,
    tcpMs: null,
    tlsMs: null,
    ttfbMs: null,
  }

  it('writes ids exactly, times in UTC, and strings only as hex literals', () => {
    const text = historyInsertSql([row, row])
    expect(text).toContain("(18446744073709551615,9007199254740993,'2030-01-01 10:00:00.123',X'")
    expect(text).toContain(`X'${Buffer.from(row.vantage).toString('hex')}'`)
    expect(text).not.toContain('DROP')
    expect(text).not.toContain('?') // nothing for the driver to substitute
    expect(text.match(/\),\(/g)).toHaveLength(1)
  })

  it('upserts rollups as additive deltas and state newest-wins', () => {
    const rollup = rollupUpsertSql([
      {
        hourStart: Date.parse('2030-01-01T10:00:00Z'),
        delta: { endpointId: 1n, blogId: 2n, checks: 3, failures: 1, rttSumMs: 50, hist: [] },
      },
    ])
    expect(rollup).toContain("(1,'2030-01-01 10:00:00',2,3,1,50,'[0,0,")
    expect(rollup).toContain('checks = checks + VALUES(checks)')
    expect(rollup.match(/JSON_EXTRACT\(VALUES\(rtt_hist\)/g)).toHaveLength(47)
    const state = stateUpsertSql(
      [
        {
          endpointId: 1n,
          lastCheckedAt: 0,
          lastHttpCode: 200,
          lastErrorCode: 0,
          sslExpiresAt: Date.parse('2030-01-01T10:00:00.999Z'),
          tlsVersion: null,
        },
      ],
      new Date(0),
    )
    expect(state).toContain("'2030-01-01 10:00:00',NULL,") // seconds column: truncated, never rounded up
    expect(state).toContain('GREATEST(COALESCE(last_checked_at')
  })
})
