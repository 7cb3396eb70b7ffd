import { webcrypto } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signatureHeader, verifySignature } from './signature.js'

const body = '{"hello":"world"}'
const t = 1_700_000_000
const at = (seconds: number) => new Date(seconds * 1000)

// Computed with Python's hmac module, an implementation independent of ours:
// hmac.new(b'whsec_test', b'1700000000.{"hello":"world"}', hashlib.sha256).hexdigest()
const PYTHON_V1_NEW = 'f592bbf3951cfc94e560eecfb5d9dd4da6b0fff2e626235f8ab4b54860925d0b'
const PYTHON_V1_OLD = 'd30afec711349560803be4b024ef1aa59709bddff9b640379e8656024fe3b10c'

/** A second independent reference: WebCrypto's HMAC. */
async function referenceHex(secret: string, timestamp: number, payload: string): Promise<string> {
  const enc = new TextEncoder()
  const key = await webcrypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  const mac = await webcrypto.subtle.sign('HMAC', key, enc.encode(`${timestamp}.${payload}`))
  return Buffer.from(mac).toString('hex')
}

describe('signatureHeader', () => {
  it('matches a reference HMAC computed independently', async () => {
    expect(signatureHeader({ secrets: ['whsec_test'], body, timestamp: t })).toBe(`t=${t},v1=${PYTHON_V1_NEW}`)
    const payload = '{"name":"café ☕","n":1}'
    const header = signatureHeader({ secrets: ['whsec_ünï'], body: payload, timestamp: 42 })
    expect(header).toBe(`t=42,v1=${await referenceHex('whsec_ünï', 42, payload)}`)
  })

  it('signs the raw bytes the same whether given a string or a Buffer', () => {
    expect(signatureHeader({ secrets: ['s'], body: Buffer.from(body), timestamp: t })).toBe(
      signatureHeader({ secrets: ['s'], body, timestamp: t }),
    )
  })

  it('puts one v1 per secret, newest first, during a rotation', () => {
    expect(signatureHeader({ secrets: ['whsec_test', 'whsec_old'], body, timestamp: t })).toBe(
      `t=${t},v1=${PYTHON_V1_NEW},v1=${PYTHON_V1_OLD}`,
    )
  })

  it.each([
    [{ secrets: [], body, timestamp: t }, 'SIGNING_SECRET_MISSING'],
    [{ secrets: [''], body, timestamp: t }, 'SIGNING_SECRET_MISSING'],
    [{ secrets: ['s'], body, timestamp: 1.5 }, 'INVALID_SIGNATURE_INPUT'],
    [{ secrets: ['s'], body, timestamp: -1 }, 'INVALID_SIGNATURE_INPUT'],
    [{ secrets: ['s'], body: { a: 1 } as unknown as string, timestamp: t }, 'INVALID_SIGNATURE_INPUT'],
  ])('rejects unusable input %# with a typed error', (options, code) => {
    expect(() => signatureHeader(options)).toThrow(expect.objectContaining({ code }))
  })
})

describe('verifySignature', () => {
  const header = `t=${t},v1=${PYTHON_V1_NEW}`

  it('accepts a correct signature', () => {
    expect(verifySignature({ secret: 'whsec_test', header, body, now: at(t) })).toEqual({ ok: true, timestamp: t })
    expect(verifySignature({ secret: 'whsec_test', header, body: Buffer.from(body), now: t * 1000 }).ok).toBe(true)
  })

  it('round-trips with signatureHeader', () => {
    const signed = signatureHeader({ secrets: ['whsec_a'], body, timestamp: t })
    expect(verifySignature({ secret: 'whsec_a', header: signed, body, now: at(t + 10) }).ok).toBe(true)
  })

  it('rejects a changed body, a wrong secret and a changed timestamp', () => {
    expect(verifySignature({ secret: 'whsec_test', header, body: `${body} `, now: at(t) })).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    })
    expect(verifySignature({ secret: 'whsec_other', header, body, now: at(t) })).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    })
    const moved = `t=${t + 1},v1=${PYTHON_V1_NEW}`
    expect(verifySignature({ secret: 'whsec_test', header: moved, body, now: at(t) })).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    })
  })

  describe('timestamp tolerance', () => {
    it.each([
      ['exactly at the tolerance in the past', t + 300, true],
      ['1 s beyond the tolerance in the past', t + 301, false],
      ['exactly at the tolerance in the future', t - 300, true],
      ['1 s beyond the tolerance in the future', t - 301, false],
      ['sub-second clock skew just past the boundary (same whole second)', t + 300.999, true],
    ])('%s', (_name, nowSeconds, ok) => {
      const result = verifySignature({ secret: 'whsec_test', header, body, now: nowSeconds * 1000 })
      expect(result).toEqual(ok ? { ok: true, timestamp: t } : { ok: false, reason: 'timestamp_out_of_tolerance' })
    })

    it('honours a custom tolerance, including zero', () => {
      expect(verifySignature({ secret: 'whsec_test', header, body, now: at(t + 30), toleranceSeconds: 30 }).ok).toBe(
        true,
      )
      expect(verifySignature({ secret: 'whsec_test', header, body, now: at(t + 31), toleranceSeconds: 30 }).ok).toBe(
        false,
      )
      expect(verifySignature({ secret: 'whsec_test', header, body, now: at(t), toleranceSeconds: 0 }).ok).toBe(true)
      expect(verifySignature({ secret: 'whsec_test', header, body, now: at(t + 1), toleranceSeconds: 0 }).ok).toBe(
        false,
      )
    })

    it('uses the real clock by default', () => {
      const now = Math.floor(Date.now() / 1000)
      const fresh = signatureHeader({ secrets: ['s'], body, timestamp: now })
      expect(verifySignature({ secret: 's', header: fresh, body }).ok).toBe(true)
      expect(verifySignature({ secret: 's', header, body }).ok).toBe(false)
    })
  })

  describe('rotation', () => {
    const rotated = `t=${t},v1=${PYTHON_V1_NEW},v1=${PYTHON_V1_OLD}`

    it('accepts a header with two v1 entries under either secret', () => {
      expect(verifySignature({ secret: 'whsec_test', header: rotated, body, now: at(t) }).ok).toBe(true)
      expect(verifySignature({ secret: 'whsec_old', header: rotated, body, now: at(t) }).ok).toBe(true)
      expect(verifySignature({ secret: 'whsec_neither', header: rotated, body, now: at(t) }).ok).toBe(false)
    })

    it('accepts any of several receiver secrets, given as secret + secrets or secrets alone', () => {
      const oldOnly = `t=${t},v1=${PYTHON_V1_OLD}`
      expect(verifySignature({ secrets: ['whsec_test', 'whsec_old'], header: oldOnly, body, now: at(t) }).ok).toBe(true)
      expect(verifySignature({ secret: 'whsec_x', secrets: ['whsec_old'], header: oldOnly, body, now: at(t) }).ok).toBe(
        true,
      )
    })

    it('ignores entries with other labels and order of parts', () => {
      const mixed = ` v0=abc , v1=${PYTHON_V1_NEW} ,t=${t}, v2=zz`
      expect(verifySignature({ secret: 'whsec_test', header: mixed, body, now: at(t) }).ok).toBe(true)
    })
  })

  describe('malformed headers', () => {
    const v1 = PYTHON_V1_NEW
    it.each([
      ['missing', undefined],
      ['null', null],
      ['empty', ''],
      ['no timestamp', `v1=${v1}`],
      ['no signature', `t=${t}`],
      ['only a v2 signature', `t=${t},v2=${v1}`],
      ['two timestamps', `t=${t},t=${t},v1=${v1}`],
      ['non-numeric timestamp', `t=abc,v1=${v1}`],
      ['negative timestamp', `t=-5,v1=${v1}`],
      ['fractional timestamp', `t=${t}.5,v1=${v1}`],
      ['absurdly long timestamp', `t=${'9'.repeat(20)},v1=${v1}`],
      ['short signature', `t=${t},v1=${v1.slice(2)}`],
      ['non-hex signature', `t=${t},v1=${'z'.repeat(64)}`],
      ['part without =', `t=${t},v1=${v1},junk`],
      ['part with empty key', `t=${t},=${v1}`],
      ['huge header', `t=${t},v1=${v1},${'x=1,'.repeat(2000)}`],
    ])('%s', (_name, value) => {
      expect(verifySignature({ secret: 'whsec_test', header: value, body, now: at(t) })).toEqual({
        ok: false,
        reason: 'malformed_header',
      })
    })

    it('treats a header list (repeated header) as one comma-joined value', () => {
      expect(verifySignature({ secret: 'whsec_test', header: [`t=${t}`, `v1=${v1}`], body, now: at(t) }).ok).toBe(true)
      expect(
        verifySignature({ secret: 'whsec_test', header: [`t=${t},v1=${v1}`, `t=${t},v1=${v1}`], body, now: at(t) }),
      ).toEqual({ ok: false, reason: 'malformed_header' })
    })

    it('reports a malformed header before looking at the clock', () => {
      expect(verifySignature({ secret: 'whsec_test', header: 't=1,v1=zz', body, now: at(t) })).toEqual({
        ok: false,
        reason: 'malformed_header',
      })
    })

    it('accepts upper-case hex', () => {
      expect(
        verifySignature({ secret: 'whsec_test', header: `t=${t},v1=${v1.toUpperCase()}`, body, now: at(t) }).ok,
      ).toBe(true)
    })
  })

  it('throws when no usable secret is configured rather than rejecting every request', () => {
    expect(() => verifySignature({ header, body })).toThrow(expect.objectContaining({ code: 'SIGNING_SECRET_MISSING' }))
    expect(() => verifySignature({ secret: '', header, body })).toThrow(
      expect.objectContaining({ code: 'SIGNING_SECRET_MISSING' }),
    )
    expect(() => verifySignature({ secret: 's', header, body, toleranceSeconds: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SIGNATURE_INPUT' }),
    )
    expect(() => verifySignature({ secret: 's', header, body: JSON.parse(body) })).toThrow(/raw request body/)
    expect(() => verifySignature({ secret: 'whsec_test', header, body, now: new Date(Number.NaN) })).toThrow(
      expect.objectContaining({ code: 'INVALID_SIGNATURE_INPUT' }),
    )
  })
})
