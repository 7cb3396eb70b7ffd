/**
 * The headless browser of the dashboard's tests and screenshot: Debian's `chromium` driven by
 * playwright-core (which downloads nothing). A missing browser fails loudly: the browser tests are
 * never skipped (`npm test` installs chromium through scripts/run.mjs).
 */
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The chromium binary: `CHROMIUM_PATH`, Debian's real binary, or `chromium` on the PATH. */
export function chromiumPath(): string {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/lib/chromium/chromium',
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .flatMap((dir) => (dir ? [join(dir, 'chromium'), join(dir, 'chromium-browser')] : [])),
  ]
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate
  throw new Error(
    'chromium is not installed: the dashboard tests drive a real headless browser. Install it with `apt-get install -y chromium` (npm test does this), or set CHROMIUM_PATH.',
  )
}
