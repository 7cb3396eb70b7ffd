/**
 * Dashboard sign-in sessions on a non-loopback bind, against a real database and real HTTP and
 * HTTPS servers on loopback: the cookie carries an opaque server-side session id (never the API
 * key), is `Secure` and `__Host-`-prefixed when the browser came over TLS (directly, or through a
 * trusted proxy), and the session ends at sign-out, when its key is revoked or expires, and after
 * its maximum age.
 */
import { createHash } from 'node:crypto'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createApiKey } from '@jetmon/api-keys'
import { apiKeys, dashboardSessions } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { createTestPki } from '@jetmon/testkit/fixtures'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard } from '../src/index.js'
import { type ServedDashboard, serveDashboard } from './_server.js'

let database: TestDatabase
let plain: ServedDashboard
let proxied: ServedDashboard
/** The dashboards' clock: real time plus `skewMs`. */
let skewMs = 0
const clock = () => new Date(Date.now() + skewMs)

beforeAll(async () => {
  database = await createTestDatabase()
  plain = await serveDashboard({ db: database.db, bind: '0.0.0.0', now: clock })
  proxied = await serveDashboard({ db: database.db, bind: '0.0.0.0', now: clock, trustProxy: true })
})

afterAll(async () => {
  await plain?.close()
  await proxied?.close()
  await database?.drop()
})

async function newKey(consumer: string, expiresAt: Date | null = null) {
  return createApiKey({ ctx: { db: database.db }, input: { consumer, scope: 'read', createdBy: 'test', expiresAt } })
}

function signIn(base: string, key: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers },
    body: new URLSearchParams({ key, next: '/' }).toString(),
  })
}

/** The `name=value` pair of a Set-Cookie line. */
const pairOf = (setCookie: string) => setCookie.split(';')[0]!
const sessionIdOf = (setCookie: string) => pairOf(setCookie).slice(pairOf(setCookie).indexOf('=') + 1)
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

async function sessionRows(id: string) {
  return database.db
    .select()
    .from(dashboardSessions)
    .where(eq(dashboardSessions.sessionHash, sha256(id)))
}

async function status(base: string, cookie: string, path = '/', headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { redirect: 'manual', headers: { ...headers, cookie } })
  await response.arrayBuffer()
  return response.status
}

describe('the session cookie', () => {
  it('carries an opaque session id stored server-side (hashed), never the API key', async () => {
    const { token, row } = await newKey('opaque')
    const response = await signIn(plain.url, token)
    expect(response.status).toBe(303)
    const [cookie] = response.headers.getSetCookie()
    expect(cookie).toMatch(/^jetmon_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/)
    const id = sessionIdOf(cookie!)
    expect(cookie).not.toContain(token)
    expect(id).not.toContain(token.slice(3, 20))
    const rows = await sessionRows(id)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ apiKeyId: row.id })
    // The table holds the id's hash only.
    const all = JSON.stringify(await database.db.select().from(dashboardSessions), (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    )
    expect(all).not.toContain(id)
    expect(all).not.toContain(token)
    expect(await status(plain.url, pairOf(cookie!))).toBe(200)
    // The API key itself in the cookie opens nothing.
    expect(await status(plain.url, `jetmon_session=${token}`)).toBe(303)
    expect(await status(plain.url, `jetmon_dashboard_key=${token}`)).toBe(303)
  })

  it('is Secure and __Host- prefixed only when the request came over TLS', async () => {
    const { token } = await newKey('tls')
    // X-Forwarded-Proto is believed only with trustProxy.
    const spoofed = (await signIn(plain.url, token, { 'x-forwarded-proto': 'https' })).headers.getSetCookie()[0]!
    expect(spoofed).toMatch(/^jetmon_session=/)
    expect(spoofed).not.toContain('Secure')
    const viaProxy = (await signIn(proxied.url, token, { 'x-forwarded-proto': 'https' })).headers.getSetCookie()[0]!
    expect(viaProxy).toMatch(
      /^__Host-jetmon_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/,
    )
    expect(await status(proxied.url, pairOf(viaProxy))).toBe(200)
    expect(await status(proxied.url, pairOf(viaProxy), '/', { 'x-forwarded-proto': 'https' })).toBe(200)
    const plainBehindProxy = (
      await signIn(proxied.url, token, { 'x-forwarded-proto': 'http' })
    ).headers.getSetCookie()[0]!
    expect(plainBehindProxy).toMatch(/^jetmon_session=/)
    expect(plainBehindProxy).not.toContain('Secure')

    // A real TLS connection.
    const pki = await createTestPki()
    const leaf = await pki.issueLeaf({ hosts: ['127.0.0.1'], keyType: 'ecdsa-p256' })
    const dashboard = createDashboard({ db: database.db, bind: '0.0.0.0', now: clock })
    const server = createHttpsServer({ key: leaf.key, cert: leaf.chain }, (req, res) => {
      dashboard.handle(req, res).catch(() => res.destroy())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const body = new URLSearchParams({ key: token, next: '/' }).toString()
      const setCookie = await new Promise<string[]>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/signin',
            method: 'POST',
            ca: pki.rootCert,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
              'sec-fetch-site': 'same-origin',
            },
          },
          (res) => {
            res.resume()
            resolve(res.headers['set-cookie'] ?? [])
          },
        )
        req.on('error', reject)
        req.end(body)
      })
      expect(setCookie).toHaveLength(1)
      expect(setCookie[0]).toMatch(
        /^__Host-jetmon_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict;.*; Secure$/,
      )
    } finally {
      await dashboard.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('over TLS is read only from the __Host- cookie: a plain-named one, which a plain-HTTP page can plant, signs nobody in', async () => {
    const { token } = await newKey('planted')
    // A session someone else holds, as a plain-HTTP response (or another host) could set it.
    const planted = pairOf((await signIn(plain.url, token)).headers.getSetCookie()[0]!)
    expect(planted).toMatch(/^jetmon_session=/)
    expect(await status(proxied.url, planted)).toBe(200)
    expect(await status(proxied.url, planted, '/', { 'x-forwarded-proto': 'https' })).toBe(303)
  })
})

describe('the session ends', () => {
  it('at sign-out: the row is deleted and the old cookie opens nothing', async () => {
    const { token } = await newKey('leaver')
    const cookie = (await signIn(plain.url, token)).headers.getSetCookie()[0]!
    const id = sessionIdOf(cookie)
    expect(await status(plain.url, pairOf(cookie))).toBe(200)
    const out = await fetch(`${plain.url}/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: pairOf(cookie), origin: plain.url },
    })
    expect(out.status).toBe(303)
    expect(out.headers.getSetCookie()[0]).toMatch(/^jetmon_session=; .*Max-Age=0/)
    expect(await sessionRows(id)).toHaveLength(0)
    // A copy of the cookie kept by anyone is worthless now.
    expect(await status(plain.url, pairOf(cookie))).toBe(303)
    expect(await status(plain.url, pairOf(cookie), '/?fragment=1')).toBe(401)
  })

  it('when its key is revoked', async () => {
    const { token, row } = await newKey('revoked-later')
    const cookie = (await signIn(plain.url, token)).headers.getSetCookie()[0]!
    expect(await status(plain.url, pairOf(cookie))).toBe(200)
    await database.db
      .update(apiKeys)
      .set({ revokedAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, row.id))
    expect(await status(plain.url, pairOf(cookie))).toBe(303)
    expect(await sessionRows(sessionIdOf(cookie))).toHaveLength(0)
  })

  it('when its key expires, and never outlives it', async () => {
    const expiresAt = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000)
    const { token } = await newKey('short-lived', expiresAt)
    const cookie = (await signIn(plain.url, token)).headers.getSetCookie()[0]!
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1])
    expect(maxAge).toBeGreaterThan(3_500)
    expect(maxAge).toBeLessThanOrEqual(3_600)
    expect(await status(plain.url, pairOf(cookie))).toBe(200)
    skewMs = 3_600_000 + 1_000
    try {
      expect(await status(plain.url, pairOf(cookie))).toBe(303)
    } finally {
      skewMs = 0
    }
    expect(await sessionRows(sessionIdOf(cookie))).toHaveLength(0)
  })

  it('after 12 hours', async () => {
    const { token } = await newKey('long-day')
    const cookie = (await signIn(plain.url, token)).headers.getSetCookie()[0]!
    skewMs = 12 * 3_600_000 - 5_000
    try {
      expect(await status(plain.url, pairOf(cookie))).toBe(200)
      skewMs = 12 * 3_600_000 + 1_000
      expect(await status(plain.url, pairOf(cookie))).toBe(303)
    } finally {
      skewMs = 0
    }
    expect(await sessionRows(sessionIdOf(cookie))).toHaveLength(0)
  })

  it('for open live streams too: at sign-out at once, and at the next heartbeat once the key is revoked', async () => {
    const live = await serveDashboard({ db: database.db, bind: '0.0.0.0', now: clock, live: { heartbeatMs: 100 } })
    try {
      const { token, row } = await newKey('watcher')
      const open = async () => {
        const cookie = pairOf((await signIn(live.url, token)).headers.getSetCookie()[0]!)
        const response = await fetch(`${live.url}/live`, { headers: { cookie } })
        expect(response.status).toBe(200)
        const reader = response.body!.getReader()
        await reader.read() // the stream is up
        return { cookie, reader }
      }
      /** Resolves when the server ends the stream; a stream that stays open fails the test at 5 s. */
      const ended = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
        const deadline = Date.now() + 5_000
        while (Date.now() < deadline) {
          const chunk = await Promise.race([
            reader.read(),
            new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), deadline - Date.now()).unref()),
          ])
          if (chunk !== 'open' && chunk.done) return true
        }
        await reader.cancel()
        return false
      }

      const first = await open()
      const out = await fetch(`${live.url}/signout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: first.cookie, origin: live.url },
      })
      expect(out.status).toBe(303)
      expect(await ended(first.reader)).toBe(true)

      const second = await open()
      await database.db
        .update(apiKeys)
        .set({ revokedAt: new Date(Date.now() - 1000) })
        .where(eq(apiKeys.id, row.id))
      expect(await ended(second.reader)).toBe(true)
    } finally {
      await live.close()
    }
  })
})
