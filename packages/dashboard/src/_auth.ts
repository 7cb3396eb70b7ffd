/**
 * Who may look. On a loopback bind nobody signs in (only this machine can connect). On any other
 * bind every page needs an API key of at least `read` scope, checked against `jetmon_api_keys`
 * with the API's own rules (hash, half-open expiry and revocation, scope order) and kept in a
 * same-site, http-only cookie, so that page scripts can never read it.
 */
import type { IncomingMessage } from 'node:http'
import { hashToken, keyStatus, scopeCovers } from '@jetmon/api-server/keys'
import { apiKeys, type DbOrTx } from '@jetmon/db'
import { eq } from 'drizzle-orm'

/** The cookie that carries the API key. */
export const SESSION_COOKIE = 'jetmon_dashboard_key'
/** How long a sign-in lasts in the browser (the key's own expiry and revocation still apply). */
export const SESSION_MAX_AGE_SEC = 12 * 3600

/**
 * Whether an address only this machine can reach: `127.0.0.0/8`, `::1`, `localhost` (and the
 * IPv4-mapped form of 127.x). `0.0.0.0` and `::` listen on every interface, so they are not.
 */
export function isLoopbackBind(bind: string): boolean {
  const host = bind
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}

/** Cookies of a request, by name (first occurrence wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim())
  }
  return cookies
}

/** The key from the request's session cookie, or null. */
export function sessionToken(req: IncomingMessage): string | null {
  const value = parseCookies(req.headers.cookie).get(SESSION_COOKIE)
  return value && TOKEN_SHAPE.test(value) ? value : null
}

/** `jm_` and base64url: the only shape the API issues; anything else is refused without a query. */
const TOKEN_SHAPE = /^jm_[A-Za-z0-9_-]{16,128}$/

export type KeyCheck =
  | { ok: true; consumer: string; scope: 'read' | 'write' | 'admin' }
  | { ok: false; reason: 'invalid' | 'revoked' | 'expired' | 'scope' }

type KeyRow = Pick<typeof apiKeys.$inferSelect, 'consumerName' | 'scope' | 'expiresAt' | 'revokedAt'>

/**
 * Verifies keys, keeping each answer for `ttlMs` (10 s) so that a page's requests do not each cost
 * a query; expiry and revocation times are re-evaluated on every call, so they apply on time.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, { at: number; row: KeyRow | null }>()

  constructor(
    private readonly db: DbOrTx,
    private readonly now: () => Date,
    private readonly ttlMs = 10_000,
  ) {}

  async verify(token: string): Promise<KeyCheck> {
    if (!TOKEN_SHAPE.test(token)) return { ok: false, reason: 'invalid' }
    const hash = hashToken(token)
    const now = this.now()
    let cached = this.cache.get(hash)
    if (!cached || now.getTime() - cached.at > this.ttlMs) {
      const [row] = await this.db
        .select({
          consumerName: apiKeys.consumerName,
          scope: apiKeys.scope,
          expiresAt: apiKeys.expiresAt,
          revokedAt: apiKeys.revokedAt,
        })
        .from(apiKeys)
        .where(eq(apiKeys.keyHash, hash))
      cached = { at: now.getTime(), row: row ?? null }
      if (this.cache.size >= 1000) this.cache.delete(this.cache.keys().next().value as string)
      this.cache.set(hash, cached)
    }
    const row = cached.row
    if (!row) return { ok: false, reason: 'invalid' }
    const status = keyStatus(row, now)
    if (status === 'revoked') return { ok: false, reason: 'revoked' }
    if (status === 'expired') return { ok: false, reason: 'expired' }
    if (!scopeCovers(row.scope, 'read')) return { ok: false, reason: 'scope' }
    return { ok: true, consumer: row.consumerName, scope: row.scope }
  }
}

/** The cookie that signs a browser in (`Secure` when the connection is TLS). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_SEC}${
    secure ? '; Secure' : ''
  }`
}

/** The cookie that signs a browser out. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}

/**
 * Whether a form post comes from the dashboard's own pages. Browsers say so in `Sec-Fetch-Site`
 * (`same-origin`, or `none` when a person acted directly); `Origin` cannot be relied on, because
 * under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for same-origin posts.
 * Without fetch metadata (curl, old clients), an `Origin` must name this host when present.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string') return site === 'same-origin' || site === 'none'
  const origin = req.headers.origin
  if (origin === undefined) return true
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}
