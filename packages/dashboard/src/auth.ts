/**
 * Who may look. On a loopback bind nobody signs in (only this machine can connect). On any other
 * bind every page needs an API key of at least `read` scope, checked against `jetmon_api_keys`
 * with the API's own rules (hash, half-open expiry and revocation, scope order). Signing in starts
 * a server-side session (`jetmon_dashboard_sessions`): the browser holds only a random session id
 * in a same-site, http-only cookie, never the key. Every request re-checks the session and its key,
 * so a session ends when it expires, at sign-out, and as soon as its key is revoked or expires.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { hashToken, keyStatus, scopeCovers } from '@jetmon/api-keys'
import { apiKeys, type DbOrTx, dashboardSessions } from '@jetmon/db'
import { eq, lte } from 'drizzle-orm'

/** The session cookie on a plain-HTTP connection. */
export const SESSION_COOKIE = 'jetmon_session'
/**
 * The session cookie over TLS: the `__Host-` prefix makes browsers refuse it unless it is
 * `Secure`, has `Path=/` and no `Domain`, so no other host or plain-HTTP page can set or shadow it.
 */
export const SECURE_SESSION_COOKIE = '__Host-jetmon_session'
/** How long a sign-in lasts (never beyond the key's own expiry; revocation ends it at once). */
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

/**
 * Whether the browser reached us over TLS: the socket is TLS, or — only with `trustProxy`
 * (`DASHBOARD_TRUST_PROXY`, for a TLS-terminating proxy in front) — the first
 * `X-Forwarded-Proto` value is `https`. Without `trustProxy` the header is ignored: any client
 * could send it.
 */
export function requestIsSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true
  if (!trustProxy) return false
  const header = req.headers['x-forwarded-proto']
  const value = Array.isArray(header) ? header[0] : header
  return value?.split(',')[0]?.trim().toLowerCase() === 'https'
}

/** 32 random bytes, base64url: the only shape the dashboard issues. */
const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]{43}$/

/**
 * The session id from the request's cookie, or null. Over TLS (`secure`) only the `__Host-` cookie
 * counts: a plain-named one may have been planted by a plain-HTTP page or another host, and would
 * sign the browser in to someone else's session. Over plain HTTP the `__Host-` one is still read
 * first.
 */
export function sessionId(req: IncomingMessage, secure: boolean): string | null {
  const cookies = parseCookies(req.headers.cookie)
  for (const name of secure ? [SECURE_SESSION_COOKIE] : [SECURE_SESSION_COOKIE, SESSION_COOKIE]) {
    const value = cookies.get(name)
    if (value && SESSION_ID_SHAPE.test(value)) return value
  }
  return null
}

/** `jm_` and base64url: the only shape the API issues; anything else is refused without a query. */
const TOKEN_SHAPE = /^jm_[A-Za-z0-9_-]{16,128}$/

export type RefusalReason = 'invalid' | 'revoked' | 'expired' | 'scope'

export type KeyCheck =
  | { ok: true; keyId: bigint; consumer: string; scope: 'read' | 'write' | 'admin'; expiresAt: Date | null }
  | { ok: false; reason: RefusalReason }

type KeyRow = Pick<typeof apiKeys.$inferSelect, 'id' | 'consumerName' | 'scope' | 'expiresAt' | 'revokedAt'>

/** A key row against the API's rules at `now`. */
function checkKey(row: KeyRow | null | undefined, now: Date): KeyCheck {
  if (!row) return { ok: false, reason: 'invalid' }
  const status = keyStatus(row, now)
  if (status === 'revoked') return { ok: false, reason: 'revoked' }
  if (status === 'expired') return { ok: false, reason: 'expired' }
  if (!scopeCovers(row.scope, 'read')) return { ok: false, reason: 'scope' }
  return { ok: true, keyId: row.id, consumer: row.consumerName, scope: row.scope, expiresAt: row.expiresAt }
}

const keyColumns = {
  id: apiKeys.id,
  consumerName: apiKeys.consumerName,
  scope: apiKeys.scope,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
}

/** Checks the API key a person pasted into the sign-in form. */
export async function verifyKey(db: DbOrTx, token: string, now: Date): Promise<KeyCheck> {
  if (!TOKEN_SHAPE.test(token)) return { ok: false, reason: 'invalid' }
  const [row] = await db
    .select(keyColumns)
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, hashToken(token)))
  return checkKey(row, now)
}

/**
 * Server-side dashboard sessions. Only the sha256 of a session id is stored, so a copy of the table
 * opens nothing.
 */
export class DashboardSessions {
  constructor(
    private readonly db: DbOrTx,
    private readonly now: () => Date,
    private readonly maxAgeSec = SESSION_MAX_AGE_SEC,
  ) {}

  /**
   * Starts a session for a verified key: a new random id, valid for `maxAgeSec` or until the key
   * expires, whichever comes first. Sessions that have expired are swept on the way.
   */
  async start(key: Extract<KeyCheck, { ok: true }>): Promise<{ id: string; maxAgeSec: number }> {
    const now = this.now()
    const id = randomBytes(32).toString('base64url')
    let expiresMs = now.getTime() + this.maxAgeSec * 1000
    if (key.expiresAt !== null) expiresMs = Math.min(expiresMs, key.expiresAt.getTime())
    await this.db.delete(dashboardSessions).where(lte(dashboardSessions.expiresAt, now))
    await this.db
      .insert(dashboardSessions)
      .values({ sessionHash: hashToken(id), apiKeyId: key.keyId, createdAt: now, expiresAt: new Date(expiresMs) })
    return { id, maxAgeSec: Math.max(1, Math.floor((expiresMs - now.getTime()) / 1000)) }
  }

  /**
   * The session's key, re-checked now. A session that has expired, or whose key is gone, revoked,
   * expired or no longer of read scope, is deleted and refused.
   */
  async verify(id: string): Promise<KeyCheck> {
    if (!SESSION_ID_SHAPE.test(id)) return { ok: false, reason: 'invalid' }
    const now = this.now()
    const hash = hashToken(id)
    const [row] = await this.db
      .select({ sessionExpiresAt: dashboardSessions.expiresAt, key: keyColumns })
      .from(dashboardSessions)
      .leftJoin(apiKeys, eq(apiKeys.id, dashboardSessions.apiKeyId))
      .where(eq(dashboardSessions.sessionHash, hash))
    if (!row) return { ok: false, reason: 'invalid' }
    const check: KeyCheck =
      row.sessionExpiresAt.getTime() <= now.getTime()
        ? { ok: false, reason: 'expired' }
        : checkKey(row.key?.id == null ? null : (row.key as KeyRow), now)
    if (!check.ok) await this.db.delete(dashboardSessions).where(eq(dashboardSessions.sessionHash, hash))
    return check
  }

  /** Ends a session (sign-out). */
  async end(id: string): Promise<void> {
    if (!SESSION_ID_SHAPE.test(id)) return
    await this.db.delete(dashboardSessions).where(eq(dashboardSessions.sessionHash, hashToken(id)))
  }
}

/** The cookie that carries a session id: `__Host-`-prefixed and `Secure` over TLS. */
export function sessionCookie(id: string, secure: boolean, maxAgeSec = SESSION_MAX_AGE_SEC): string {
  return `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${
    secure ? '; Secure' : ''
  }`
}

/** The cookie that signs a browser out. */
export function clearedSessionCookie(secure: boolean): string {
  return `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
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
