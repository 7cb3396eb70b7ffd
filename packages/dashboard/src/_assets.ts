/**
 * The browser files built into the package (`assets/`, made by `pnpm run build:assets` from
 * `src/client/`): read once, named by a hash of their content so that they can be cached for a
 * year, and served gzipped when the browser accepts it. Nothing is fetched from elsewhere.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gzipSync } from 'node:zlib'
import { SECURITY_HEADERS } from './headers.js'

/** The files a page links to, by logical name. */
export const ASSET_FILES = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const
export type AssetName = keyof typeof ASSET_FILES

interface Asset {
  body: Buffer
  gzip: Buffer | null
  type: string
  hash: string
  path: string
}

/** The default folder: `assets/` beside `src/` and `dist/`. */
export const DEFAULT_ASSETS_DIR = new URL('../assets/', import.meta.url)

/** The loaded assets and their URLs. */
export class Assets {
  private readonly byPath = new Map<string, Asset>()
  private readonly byName = new Map<AssetName, Asset>()

  /** Reads every asset from `dir`; throws, naming the fix, when one is missing. */
  constructor(dir: URL | string = DEFAULT_ASSETS_DIR) {
    const base = typeof dir === 'string' ? new URL(`file://${dir.endsWith('/') ? dir : `${dir}/`}`) : dir
    for (const [name, type] of Object.entries(ASSET_FILES) as [AssetName, string][]) {
      let body: Buffer
      try {
        body = readFileSync(new URL(name, base))
      } catch (error) {
        throw new Error(
          `the dashboard's browser file ${name} is missing from ${base.pathname}: run \`pnpm --filter @jetmon/dashboard run build:assets\``,
          { cause: error },
        )
      }
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 12)
      const dot = name.lastIndexOf('.')
      const path = `/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`
      const compressible = !type.startsWith('image/') || type.includes('svg')
      const gzip = compressible && body.length > 1024 ? gzipSync(body, { level: 9 }) : null
      const asset = { body, gzip, type, hash, path }
      this.byPath.set(path, asset)
      this.byName.set(name, asset)
    }
  }

  /** The URL of an asset: `/assets/app.3f2a1b9c04d1.js`. */
  url(name: AssetName): string {
    return this.byName.get(name)!.path
  }

  /**
   * Serves `/assets/<name>.<hash>.<ext>` (and `/favicon.ico` for browsers that ask anyway); false
   * when the path is none of these.
   */
  serve(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = path === '/favicon.ico' ? this.byName.get('favicon.svg') : this.byPath.get(path)
    if (!asset) return false
    const etag = `"${asset.hash}"`
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      'cache-control': path === '/favicon.ico' ? 'public, max-age=86400' : 'public, max-age=31536000, immutable',
      etag,
      vary: 'accept-encoding',
    }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      res.end()
      return true
    }
    const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? asset.gzip : null
    if (gzip) headers['content-encoding'] = 'gzip'
    const body = gzip ?? asset.body
    headers['content-length'] = String(body.length)
    res.writeHead(200, headers)
    res.end(body)
    return true
  }
}
