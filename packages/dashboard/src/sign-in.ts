/**
 * Signing in and out, and the sign-in rule every page passes through. On a loopback bind nobody
 * signs in; on any other bind a page needs a live session (see auth.ts for keys, sessions and
 * cookies).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DbOrTx } from '@jetmon/db'
import type { Logger } from '@jetmon/vocabulary'
import {
  clearedSessionCookie,
  type DashboardSessions,
  type KeyCheck,
  requestIsSecure,
  sameOrigin,
  sessionCookie,
  sessionId,
  verifyKey,
} from './auth.js'
import { refusalText, signinBody } from './pages/signin.js'
import { HTML_TYPE, HttpError, JSON_TYPE, type PageShell, redirect, send } from './respond.js'

const MAX_FORM_BYTES = 8 * 1024

/** Options of {@link createSignIn}. */
export interface SignInOptions {
  db: DbOrTx
  logger: Logger
  /** The address the dashboard is served on, named on the sign-in page. */
  bind: string
  /** Whether pages ask for a key (the bind is not loopback). */
  authRequired: boolean
  /** Whether `X-Forwarded-Proto: https` is believed (`DASHBOARD_TRUST_PROXY`). */
  trustProxy: boolean
  sessions: DashboardSessions
  now: () => Date
  shell: PageShell
  /** Ends the live streams of a session that signed out. */
  endLiveSession: (id: string) => void
}

/** The sign-in pieces of the dashboard. */
export interface SignIn {
  /** `/signin`: the form (GET) and the key check that starts a session (POST). */
  signin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>
  /** `/signout` (POST only): ends the session and clears its cookie. */
  signout(req: IncomingMessage, res: ServerResponse): Promise<void>
  /**
   * The rule of every page: resolves who is signed in (null on a loopback bind), or `undefined`
   * having answered already: 401 for the browser script's requests, else a redirect to the form.
   */
  requireSession(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
  ): Promise<{ signedInAs: string | null } | undefined>
  /** The session id of a request, for the live stream to end with the session. */
  sessionOf(req: IncomingMessage): string | null
}

/** A local path to return to after signing in; anything else becomes `/`. */
export function safeNext(value: string | null | undefined): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\'))
    return '/'
  if (!/^[\x21-\x7e]*$/.test(value) || value.length > 2000) return '/'
  return value.startsWith('/signin') || value.startsWith('/signout') ? '/' : value
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'Unsupported form', 'The sign-in form posts application/x-www-form-urlencoded.')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'Form too large', 'The form is larger than 8 KiB.')
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/** Creates the sign-in handlers and the sign-in rule. */
export function createSignIn(options: SignInOptions): SignIn {
  const { db, logger, authRequired, sessions, now, shell } = options
  const isSecure = (req: IncomingMessage) => requestIsSecure(req, options.trustProxy)

  async function authenticate(req: IncomingMessage): Promise<KeyCheck | { ok: false; reason: 'missing' }> {
    const id = sessionId(req, isSecure(req))
    if (!id) return { ok: false, reason: 'missing' }
    return sessions.verify(id)
  }

  return {
    async signin(req, res, url) {
      const secure = isSecure(req)
      if (!authRequired) {
        redirect(res, '/')
        return
      }
      const render = (status: number, next: string, problem: string | null) =>
        send(
          req,
          res,
          status,
          shell(
            { title: 'Sign in · Jetmon', page: 'signin', body: signinBody({ bind: options.bind, next, problem }) },
            null,
          ),
          HTML_TYPE,
        )
      if (req.method !== 'POST') return render(200, safeNext(url.searchParams.get('next')), null)
      if (!sameOrigin(req)) {
        throw new HttpError(403, 'Refused', 'The sign-in form must be posted from this dashboard.')
      }
      const form = await readForm(req)
      const next = safeNext(form.get('next'))
      const key = (form.get('key') ?? '').trim()
      const check: KeyCheck | { ok: false; reason: 'missing' } = key
        ? await verifyKey(db, key, now())
        : { ok: false, reason: 'missing' }
      if (!check.ok) {
        logger.info({ reason: check.reason }, 'dashboard sign-in refused')
        return render(401, next, refusalText(check.reason))
      }
      const session = await sessions.start(check)
      logger.info({ consumer: check.consumer }, 'dashboard sign-in')
      redirect(res, next, { 'set-cookie': sessionCookie(session.id, secure, session.maxAgeSec) })
    },

    async signout(req, res) {
      if (req.method !== 'POST' || !sameOrigin(req)) {
        throw new HttpError(405, 'Use the sign-out button', 'Signing out takes a POST from the dashboard.')
      }
      const id = sessionId(req, isSecure(req))
      if (id) {
        await sessions.end(id)
        options.endLiveSession(id)
      }
      redirect(res, authRequired ? '/signin' : '/', { 'set-cookie': clearedSessionCookie(isSecure(req)) })
    },

    async requireSession(req, res, url, path) {
      if (!authRequired) return { signedInAs: null }
      const check = await authenticate(req)
      if (check.ok) return { signedInAs: check.consumer }
      const clear: Record<string, string> =
        check.reason === 'missing' ? {} : { 'set-cookie': clearedSessionCookie(isSecure(req)) }
      if (path === '/live' || url.searchParams.get('fragment') === '1') {
        await send(
          req,
          res,
          401,
          `${JSON.stringify({ error: 'sign_in_required', message: 'Sign in with an API key of read scope.' })}\n`,
          JSON_TYPE,
          clear,
        )
        return undefined
      }
      redirect(res, `/signin?next=${encodeURIComponent(url.pathname + url.search)}`, clear)
      return undefined
    },

    sessionOf(req) {
      return authRequired ? sessionId(req, isSecure(req)) : null
    },
  }
}
