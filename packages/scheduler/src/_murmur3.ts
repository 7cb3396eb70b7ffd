const encoder = new TextEncoder()

/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's reference `MurmurHash3_x86_32`), over the
 * UTF-8 bytes of `input`. Returns an unsigned 32-bit integer. Chosen because it is standard,
 * has published test vectors and mixes short sequential inputs (`"1"`, `"2"`, …) well.
 */
export function murmur3_32(input: string | Uint8Array, seed = 0): number {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input
  const length = bytes.length
  const tail = length & ~3
  let h = seed >>> 0
  for (let i = 0; i < tail; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    h ^= scramble(k)
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let k = 0
  const rest = length & 3
  if (rest >= 3) k ^= bytes[tail + 2]! << 16
  if (rest >= 2) k ^= bytes[tail + 1]! << 8
  if (rest >= 1) {
    k ^= bytes[tail]!
    h ^= scramble(k)
  }
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function scramble(k: number): number {
  let x = Math.imul(k, 0xcc9e2d51)
  x = (x << 15) | (x >>> 17)
  return Math.imul(x, 0x1b873593)
}
