import { describe, expect, it } from 'vitest'
import { evidenceOf, redactText, redactUrl } from './_evidence.js'

describe('redaction', () => {
  it('removes credentials from URLs and free text', () => {
    expect(redactUrl('https://user:pw@site.example/path?a=1&api_key=s3cret&token=t')).toBe(
      'https://site.example/path?a=1&api_key=…&token=…',
    )
    expect(redactUrl('https://site.example/ok?page=2')).toBe('https://site.example/ok?page=2')
    expect(redactUrl('not a url')).toBe('not a url')
    expect(redactText('failed: Bearer abc.def-123 then jm_0123456789abcdefXYZ at https://u:p@h.example/x?sig=zz')).toBe(
      'failed: Bearer … then jm_… at https://h.example/x?sig=…',
    )
  })
})

describe('evidence', () => {
  const check = {
    url: 'https://site.example/',
    method: 'GET',
    http_code: 503,
    error_code: 10,
    error: 'http_status',
    detail: 'answered 503',
    timings: { dnsMs: 3, connectMs: 10, tlsMs: 20, ttfbMs: 40, totalMs: 75 },
    redirects: [{ url: 'https://u:p@site.example/a', status: 301 }],
    headers: { authorization: 'Bearer top-secret' },
  }

  it('summarises a confirmed Down with its votes and lists allowed facts only', () => {
    const evidence = evidenceOf('http', {
      check,
      confirmation: {
        confirmed_by: 'verifliers',
        quorum: 2,
        votes: [
          { veriflier: 'a', region: 'eu', success: false, http_code: 503, error_code: 10, rtt_ms: 100 },
          { veriflier: 'b', region: 'us', success: false, http_code: 503, error_code: 10, rtt_ms: 120 },
          { veriflier: 'c', region: 'ap', success: true, http_code: 200, error_code: 0, rtt_ms: 90 },
        ],
      },
    })
    expect(evidence.summary).toBe('HTTP 503 · confirmed by 2 of 3 verifliers')
    expect(evidence.votes.map((vote) => vote.vote)).toEqual(['down', 'down', 'up'])
    expect(evidence.quorum).toBe(2)
    expect(Object.fromEntries(evidence.facts)).toEqual({
      URL: 'GET https://site.example/',
      'HTTP status': '503',
      Error: 'http_status (10)',
      Detail: 'answered 503',
      Timings: 'DNS 3 ms · connect 10 ms · TLS 20 ms · TTFB 40 ms · total 75 ms',
      Redirects: '301 → https://site.example/a',
    })
    expect(JSON.stringify(evidence)).not.toContain('top-secret')
  })

  it('reads timeouts, advisories, false alarms and unknown shapes', () => {
    expect(
      evidenceOf('http', {
        check: { ...check, error: 'timeout', error_code: 1, timeout_phase: 'ttfb', timings: { totalMs: 10_000 } },
      }).summary,
    ).toBe('timeout in ttfb after 10.0 s')
    expect(evidenceOf('tls_expiry', { days_until_expiry: 5, valid_to: '2030-01-01' }).summary).toBe(
      'certificate expires in 5 d',
    )
    expect(evidenceOf('tls_deprecated', { tls_version: 'TLSv1.1' }).summary).toBe('TLSv1.1 negotiated')
    expect(evidenceOf('latency', { total_ms: 1480, threshold_ms: 1000 }).summary).toBe('1.48 s, slower than 1.00 s')
    expect(
      evidenceOf('http', {
        votes: [
          { veriflier: 'a', success: true },
          { veriflier: 'b', success: true },
        ],
        quorum: 2,
      }).summary,
    ).toBe('0 of 2 verifliers saw it down')
    expect(evidenceOf('dns', null).summary).toBe('')
  })

  it('summarises an objective’s burn-rate and budget alerts from the evaluator’s metadata', () => {
    const objective = {
      objective_id: '7',
      objective_name: 'shop checkout',
      sli: 'availability',
      target: 99.9,
      window: '30d',
      sli_percent: 99.93,
      budget_remaining_percent: -12.34,
      exhausted: true,
      burn_rates: { '5m': 1000, '30m': 1000, '1h': 500, '6h': 83.33, '24h': 20.83, '3d': 6.94 },
      firing: [
        { long: '1h', short: '5m', burn_rate: 14.4, severity: 'page' },
        { long: '3d', short: '6h', burn_rate: 1, severity: 'ticket' },
      ],
    }
    const burn = evidenceOf('slo_burn', objective)
    expect(burn.summary).toBe(
      '“shop checkout” burns its error budget too fast: page 1h/5m above 14.4× (500.0× over 1h), ticket 3d/6h above 1× (6.9× over 3d)',
    )
    expect(burn.facts).toEqual([
      ['Objective', 'availability 99.9 % over 30d'],
      ['SLI', '99.930 %'],
    ])
    expect(evidenceOf('slo_budget', objective).summary).toBe('“shop checkout”: error budget exhausted (-12.3 %)')
    expect(evidenceOf('slo_budget', { ...objective, exhausted: false, budget_remaining_percent: 18.25 }).summary).toBe(
      '“shop checkout”: 18.3 % of the error budget left',
    )
    expect(evidenceOf('http', 'garbage').facts).toEqual([])
  })
})
