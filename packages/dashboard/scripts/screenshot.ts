/**
 * `pnpm --filter @jetmon/dashboard run screenshot`: seeds a demo-like fleet into a scratch
 * database (the embedded MariaDB, or the server in DATABASE_URL), serves the dashboard on
 * loopback, and saves the overview as `docs/dashboard.png` with Debian's chromium.
 *
 * Options: `--out <file>` (default docs/dashboard.png at the repository root), `--pages <dir>` to
 * also save the site and fleet pages there, `--light` for the light theme.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createScratchDatabase, startEmbeddedMariadb } from '@jetmon/db'
import { chromium } from 'playwright-core'
import { createDashboard } from '../src/index.js'
import { chromiumPath } from '../test/browser.js'
import { seedDemo } from '../test/seed.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const { values } = parseArgs({
  // pnpm passes its own `--` separator through.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    out: { type: 'string', default: join(root, 'docs', 'dashboard.png') },
    pages: { type: 'string' },
    light: { type: 'boolean', default: false },
  },
})

const embedded = process.env.DATABASE_URL
  ? null
  : await startEmbeddedMariadb({ dir: join(root, '.jetmon', 'dashboard-screenshot-db'), database: 'jetmon' })
const database = await createScratchDatabase(process.env.DATABASE_URL ?? embedded!.url, { prefix: 'jss_' })
const now = new Date()
const dashboard = createDashboard({
  db: database.db,
  bind: '127.0.0.1',
  version: '2.0.0',
  bucketTotal: 1000,
  fleetInfo: () => ({
    verifliers: [
      {
        id: 'vf-eu-west',
        region: 'eu-west',
        url: 'https://vf-eu.example.net/',
        reachable: true,
        latencyMs: 38,
        version: '2.0.0',
        inFlight: 0,
        checkedAt: new Date(),
      },
      {
        id: 'vf-us-east',
        region: 'us-east',
        url: 'https://vf-us.example.net/',
        reachable: true,
        latencyMs: 96,
        version: '2.0.0',
        inFlight: 1,
        checkedAt: new Date(),
      },
      {
        id: 'vf-ap-south',
        region: 'ap-south',
        url: 'https://vf-ap.example.net/',
        reachable: false,
        latencyMs: null,
        version: null,
        checkedAt: new Date(),
        error: 'no answer within 2000 ms',
      },
    ],
    wpcom: {
      enabled: true,
      breaker: 'closed',
      queued: 0,
      inFlight: 0,
      sent: 12,
      failed: 0,
      permanent: 1,
      suppressed: 3,
      dropped: 0,
    },
  }),
})
const server = createServer((req, res) => {
  void dashboard.handle(req, res).then((handled) => {
    if (!handled) {
      res.writeHead(404)
      res.end()
    }
  })
})
try {
  await seedDemo(database.db, { now, historyHours: 48, intervalMin: 2, rollupDays: 29 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] })
  try {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: values.light ? 'light' : 'dark',
    })
    const page = await context.newPage()
    await page.goto(`${base}/`)
    await page.waitForSelector('#live[data-state="live"]')
    await page.waitForSelector('canvas.spark[data-points]')
    await page.screenshot({ path: values.out! })
    process.stdout.write(`wrote ${values.out}\n`)
    if (values.pages) {
      await page.goto(`${base}/sites/1001`)
      await page.waitForSelector('#chart[data-drawn]')
      await page.screenshot({ path: join(values.pages, 'site.png'), fullPage: true })
      await page.goto(`${base}/sites/1007?window=7d`)
      await page.waitForSelector('#chart[data-drawn]')
      await page.screenshot({ path: join(values.pages, 'site-up.png'), fullPage: true })
      await page.goto(`${base}/fleet`)
      await page.screenshot({ path: join(values.pages, 'fleet.png'), fullPage: true })
      process.stdout.write(`wrote site.png, site-up.png and fleet.png to ${values.pages}\n`)
    }
  } finally {
    await browser.close()
  }
} finally {
  await dashboard.close()
  server.close()
  await database.drop()
  await embedded?.stop()
}
