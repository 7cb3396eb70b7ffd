import { type CheckResult, ERROR_CODES } from '@jetmon/checker'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  answerSchema,
  MAX_CHECKS,
  parseCheckBatch,
  toWireCheck,
  toWireResult,
  type VeriflierCheck,
  type WireAnswer,
  type WireCheckBatch,
} from '../src/protocol.js'

// Both sides of POST /v1/check use these declarations: what the monitor writes, the veriflier reads
// back as the same check; what the veriflier answers, the monitor reads.

describe('the veriflier wire protocol', () => {
  it('a check the monitor writes is read back by the veriflier as the same check request', () => {
    const full: VeriflierCheck = {
      endpointId: 18_446_744_073_709_551_615n,
      blogId: 9_007_199_254_740_993n,
      url: 'https://example.com/health',
      method: 'HEAD',
      profile: 'legacy',
      timeoutMs: 5_000,
      headers: { 'X-Token': 'abc' },
      redirectPolicy: 'alert',
      maxRedirects: 3,
      keyword: 'ok',
      forbiddenKeywords: ['error'],
      keywordCaseSensitive: false,
      refusePrivateTargets: true,
    }
    const bare: VeriflierCheck = { endpointId: 7n, url: 'http://example.org/' }
    const body: WireCheckBatch = { request_id: 'r-1', checks: [toWireCheck(full), toWireCheck(bare)] }

    const parsed = parseCheckBatch(JSON.parse(JSON.stringify(body)))

    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.batch.requestId).toBe('r-1')
    const [first, second] = parsed.batch.checks
    expect(first?.endpointId.value).toBe(full.endpointId)
    expect(first?.blogId?.value).toBe(full.blogId)
    const { endpointId: _e, blogId: _b, ...request } = full
    expect(first?.request).toEqual(request)
    expect(second?.endpointId.value).toBe(7n)
    expect(second?.blogId).toBeNull()
    expect(second?.request).toEqual({ url: 'http://example.org/' })
  })

  it('an answer the veriflier writes is read by the monitor, ids in the form they were sent', () => {
    const answer: WireAnswer = {
      veriflier: { id: 'eu-1', region: 'eu-west', version: '2.0.0' },
      results: [
        toWireResult({ value: 18_446_744_073_709_551_615n, raw: '18446744073709551615' }, {
          url: 'https://example.com/',
          finalUrl: 'https://example.com/',
          method: 'GET',
          startedAt: '2026-01-01T00:00:00.000Z',
          ok: false,
          error: 'timeout',
          errorCode: ERROR_CODES.timeout,
          detail: 'no answer within 5000 ms',
          httpStatus: null,
          timings: { dnsMs: 1, connectMs: null, tlsMs: null, ttfbMs: null, transferMs: null, totalMs: 5_000 },
          redirects: [],
          advisories: [],
        } satisfies CheckResult),
      ],
    }

    const read = v.parse(answerSchema, JSON.parse(JSON.stringify(answer)))

    expect(read.results[0]).toMatchObject({
      endpoint_id: '18446744073709551615',
      ok: false,
      error: 'timeout',
      error_code: ERROR_CODES.timeout,
      http_status: null,
      timings: { total_ms: 5_000 },
      detail: 'no answer within 5000 ms',
    })
  })

  it('carries the detection profile; a check without one (an older monitor) is judged with the default, full', () => {
    const wire = toWireCheck({ endpointId: 1n, url: 'https://example.com/', profile: 'simple_http' })
    expect(wire.profile).toBe('simple_http')
    const { profile: _profile, ...older } = wire
    const parsed = parseCheckBatch({ request_id: 'r', checks: [wire, older, { ...older, profile: null }] })
    expect(parsed.ok && parsed.batch.checks.map((check) => check.request.profile)).toEqual([
      'simple_http',
      undefined,
      undefined,
    ])
    expect(parseCheckBatch({ request_id: 'r', checks: [{ ...older, profile: 'strict' }] })).toMatchObject({
      ok: false,
      issues: [{ path: 'checks[0].profile', message: 'must be "legacy", "simple_http" or "full"' }],
    })
  })

  it('a batch larger than MAX_CHECKS is refused', () => {
    const check = toWireCheck({ endpointId: 1n, url: 'https://example.com/' })
    const parsed = parseCheckBatch({ request_id: 'r', checks: Array.from({ length: MAX_CHECKS + 1 }, () => check) })
    expect(parsed).toMatchObject({ ok: false, issues: [{ path: 'checks' }] })
  })
})
