/**
 * `pnpm --filter @jetmon/dashboard run screenshot`: seeds a demo-like fleet into a scratch
 * database (the embedded MariaDB, or the server in DATABASE_URL), serves the dashboard on
 * loopback, and saves the overview as `docs/dashboard.png` with Debian's chromium.
 *
 * Options: `--out <file>` (default docs/dashboard.png at the repository root), `--pages <dir>` to
 * also save the site and fleet pages there, `--light` for the light theme, `--objectives <file>` to
 * give two sites service level objectives (created three weeks ago, evaluated and their days
 * counted) and save the site page's objective panel there (docs/dashboard-slo.png).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createScratchDatabase, startEmbeddedMariadb } from '@jetmon/db'
import { createObjective, evaluateObjectives, snapshotFinishedDays } from '@jetmon/slo'
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
    objectives: { type: 'string' },
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
  if (values.objectives) {
    const created = new Date(now.getTime() - 21 * 86_400_000)
    const objective = (name: string, blogId: bigint, fields: Record<string, unknown>) =>
      createObjective({
        ctx: { db: database.db, clock: () => created },
        tenantId: null,
        createdBy: 'screenshot',
        fields: { name, blog_id: blogId, window: '30d', ...fields },
      })
    await objective('checkout available', 1001n, { sli: 'availability', target: 99.9 })
    await objective('browsing available', 1001n, { sli: 'availability', target: 99, window: '7d' })
    await objective('pages answer within 500 ms', 1001n, {
      sli: 'latency',
      target: 95,
      latency_threshold_ms: 500,
      window: '28d',
    })
    await objective('status page available', 1011n, { sli: 'availability', target: 99.5 })
    await snapshotFinishedDays({ ctx: { db: database.db }, now })
    await evaluateObjectives({ ctx: { db: database.db, source: 'slo:screenshot' }, now })
  }
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
    if (values.objectives) {
      await page.goto(`${base}/sites/1001`)
      await page.waitForSelector('#chart[data-drawn]')
      await page.locator('section[aria-labelledby="objectives-h"]').screenshot({ path: values.objectives })
      process.stdout.write(`wrote ${values.objectives}\n`)
    }
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
