import { describe, expect, it } from 'vitest'
import { murmur3_32 } from './_murmur3.js'

// Published MurmurHash3_x86_32 test vectors (SMHasher / reference implementation).
describe('murmur3_32', () => {
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['abc', 0, 0xb3dd93fa],
    ['test', 0, 0xba6bd213],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('(%j, seed %i) = %i', (input, seed, expected) => {
    expect(murmur3_32(input, seed)).toBe(expected)
  })

  it('hashes bytes and their string form alike', () => {
    expect(murmur3_32(new Uint8Array([0, 0, 0, 0]))).toBe(0x2362f9de)
    expect(murmur3_32(new TextEncoder().encode('12345'))).toBe(murmur3_32('12345'))
  })
})
