import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest()

/**
 * Returns a function telling whether an `Authorization` header carries one of `tokens`.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, so neither the length nor the
 * content of a configured token leaks through response timing, and the presented token is compared
 * with every configured one (no early exit): the time taken does not tell which token of a rotation
 * pair matched, or how many are configured before the match.
 */
export function createTokenVerifier(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const accepted = tokens.map(digest)
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
    if (!match?.[1]) return false
    const presented = digest(match[1])
    let matched = 0
    for (const token of accepted) matched |= timingSafeEqual(presented, token) ? 1 : 0
    return matched === 1
  }
}
