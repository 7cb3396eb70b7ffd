/**
 * Builds the browser files (`assets/app.js`, `assets/app.css`, `assets/favicon.svg`) from
 * `src/client/`: one esbuild bundle with uPlot inside, so the dashboard needs nothing from the
 * network. Deterministic for a given esbuild version (pinned in package.json), which is what lets
 * a test prove the committed files match the sources.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/** uPlot's copyright line and licence name, from the package itself. */
function uplotNotice(): string {
  const license = readFileSync(`${root}node_modules/uplot/LICENSE`, 'utf8')
  const copyright = license.split('\n').find((line) => line.startsWith('Copyright')) ?? 'Copyright Leon Sorokin'
  return `${copyright.trim()}, MIT License (https://github.com/leeoniya/uPlot)`
}

/** The built files by name, in memory. */
export async function bundleAssets(): Promise<Map<string, Buffer>> {
  const result = await build({
    entryPoints: { app: `${root}src/client/app.ts` },
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox113', 'safari16.4'],
    minify: true,
    legalComments: 'eof',
    // uPlot is MIT licensed: its notice travels with the bundle.
    banner: { js: `/*! Jetmon dashboard. Includes uPlot, ${uplotNotice()} */` },
    charset: 'utf8',
    write: false,
    outdir: `${root}assets`,
    logLevel: 'silent',
  })
  const files = new Map<string, Buffer>()
  for (const file of result.outputFiles) {
    files.set(file.path.slice(file.path.lastIndexOf('/') + 1), Buffer.from(file.contents))
  }
  files.set('favicon.svg', readFileSync(`${root}src/client/favicon.svg`))
  return files
}

/** Where the files are written and served from. */
export const ASSETS_DIR = `${root}assets/`
