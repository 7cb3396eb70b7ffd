/**
 * How the dashboard answers: every response carries the security headers and `no-store`, large
 * bodies are gzipped when the browser accepts it, and a refusal is an {@link HttpError} that
 * becomes a page (or a JSON body for the browser script's requests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import type { Assets } from './_assets.js'
import type { SafeHtml } from './_html.js'
import { SECURITY_HEADERS } from './headers.js'
import { layout, type PageName } from './pages/_layout.js'
import { errorBody } from './pages/signin.js'

const gzip = promisify(gzipCallback)

export const JSON_TYPE = 'application/json; charset=utf-8'
export const HTML_TYPE = 'text/html; charset=utf-8'

/** A request the dashboard refuses: its status, and the title and text of the error page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message)
  }
}

/** Writes a whole response; bodies over 4 KiB are gzipped when the browser accepts it. */
export async function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': type,
    'cache-control': 'no-store',
    'x-robots-tag': 'noindex, nofollow',
    vary: 'accept-encoding, cookie',
    ...extra,
  }
  let payload: Buffer = Buffer.from(body, 'utf8')
  if (payload.length > 4096 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    payload = await gzip(payload, { level: 6 })
    headers['content-encoding'] = 'gzip'
  }
  headers['content-length'] = String(payload.length)
  res.writeHead(status, headers)
  res.end(payload)
}

/** A `303 See Other` to `location` (after a form post, or to where a page lives). */
export function redirect(res: ServerResponse, location: string, extra: Record<string, string> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, ...extra, location, 'cache-control': 'no-store' })
  res.end()
}

/** What a page puts into the shell. */
export interface PageInput {
  title: string
  page: PageName
  body: SafeHtml
  /** Where the page's live stream resumes from; absent: no live updates. */
  livePosition?: string
  /** Extra `data-*` for the browser script (validated values only). */
  data?: Record<string, string>
}

/** Builds a full HTML document around a page; `signedInAs` shows on the sign-out button. */
export type PageShell = (input: PageInput, signedInAs: string | null) => string

/**
 * The shell of every page: the layout with the asset URLs and the version in the footer. The
 * sign-out button shows only when the dashboard asks for keys.
 */
export function pageShell(options: { assets: Assets; authRequired: boolean; version?: string | undefined }): PageShell {
  return (input, signedInAs) =>
    layout({
      ...input,
      assets: options.assets,
      signedInAs: options.authRequired ? signedInAs : null,
      version: options.version,
    }).value
}

/** Answers a refusal: an error page, or `{"error", "message"}` for the browser script. */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: HttpError,
  asJson: boolean,
  shell: PageShell,
): Promise<void> {
  if (asJson) {
    return send(
      req,
      res,
      error.status,
      `${JSON.stringify({ error: error.title, message: error.message })}\n`,
      JSON_TYPE,
    )
  }
  return send(
    req,
    res,
    error.status,
    shell({ title: `${error.title} · Jetmon`, page: 'error', body: errorBody(error.title, error.message) }, null),
    HTML_TYPE,
  )
}
