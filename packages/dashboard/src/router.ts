/**
 * The dashboard's routes. It serves only its own paths and answers `false` for the rest, so it
 * plugs into the monitor's ops server (`/healthz`, `/readyz`, `/metrics`) as its fallback. Every
 * refusal and failure becomes an error page, or JSON for the browser script's requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '@jetmon/vocabulary'
import type { Assets } from './_assets.js'
import type { LiveHub } from './live.js'
import type { PageHandlers } from './page-handlers.js'
import { HttpError, type PageShell, redirect, sendError } from './respond.js'
import type { SignIn } from './sign-in.js'

/** Whether a path is the dashboard's. */
export function ownsPath(path: string): boolean {
  return (
    path === '/' ||
    path === '/fleet' ||
    path === '/live' ||
    path === '/signin' ||
    path === '/signout' ||
    path === '/favicon.ico' ||
    path === '/sites' ||
    path.startsWith('/sites/') ||
    path.startsWith('/events/') ||
    path.startsWith('/assets/')
  )
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  assets: Assets
  signIn: SignIn
  pages: PageHandlers
  live: Pick<LiveHub, 'connect'>
  shell: PageShell
  logger: Logger
}

/**
 * A request handler: serves the request when its path is the dashboard's and resolves true;
 * resolves false, having written nothing, for any other path.
 */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

/** Creates the router over the dashboard's pieces. */
export function createRouter(options: RouterOptions): DashboardHandler {
  const { assets, signIn, pages, live, shell, logger } = options

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    const method = req.method ?? 'GET'
    if (path.startsWith('/assets/') || path === '/favicon.ico') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method not allowed', 'Assets are read-only.')
      if (!assets.serve(path, req, res))
        throw new HttpError(404, 'No such file', 'This asset does not exist (any more).')
      return
    }
    if (path === '/signin') return signIn.signin(req, res, url)
    if (path === '/signout') return signIn.signout(req, res)
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, 'Method not allowed', 'The dashboard is read-only.')
    }
    const session = await signIn.requireSession(req, res, url, path)
    if (!session) return
    if (path === '/live') {
      const lastEventId = req.headers['last-event-id']
      live.connect(
        req,
        res,
        (typeof lastEventId === 'string' ? lastEventId : null) ?? url.searchParams.get('after'),
        signIn.sessionOf(req),
      )
      return
    }
    if (path === '/sites') {
      redirect(res, '/')
      return
    }
    // Alert messages link to /events/<id>: the event lives on its site's timeline.
    const eventPath = /^\/events\/(\d{1,20})$/.exec(path)
    if (eventPath) return pages.showEvent(res, eventPath[1]!)
    await pages.servePage(req, res, url, path, session.signedInAs)
  }

  return async (req, res) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid')
    } catch {
      return false
    }
    const path = url.pathname
    if (!ownsPath(path)) return false
    try {
      await route(req, res, url, path)
    } catch (error) {
      const asJson = path === '/live' || url.searchParams.get('fragment') === '1'
      if (res.headersSent) {
        res.destroy()
      } else if (error instanceof HttpError) {
        await sendError(req, res, error, asJson, shell)
      } else {
        logger.error({ err: error, path }, 'dashboard page failed')
        await sendError(
          req,
          res,
          new HttpError(
            500,
            'Something went wrong',
            'The page could not be built (details are in the jetmon2 log). Reload in a moment.',
          ),
          asJson,
          shell,
        )
      }
    }
    return true
  }
}
