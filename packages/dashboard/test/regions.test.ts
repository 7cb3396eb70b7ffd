/**
 * The site page's Regions panel: every vantage that checked the site over the last 24 h — this
 * monitor (`local`) and each veriflier, from the check history — with its checks, failures, last
 * check and p50/p95 response time.
 */
import { checkHistory, monitorSites } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

let database: TestDatabase
let served: ServedDashboard

beforeAll(async () => {
  database = await createTestDatabase()
  served = await serveDashboard({ db: database.db, bind: '127.0.0.1' })
})

afterAll(async () => {
  await served?.close()
  await database?.drop()
})

/** The Regions panel's rows: vantage → its cells' text. */
function regionRows(html: string): Map<string, string[]> {
  const panel = /<div data-region="regions">([\s\S]*?)<\/div><\/section>/.exec(html)?.[1] ?? ''
  const rows = new Map<string, string[]>()
  for (const match of panel.matchAll(/<tr data-vantage="([^"]*)">([\s\S]*?)<\/tr>/g)) {
    const cells = [...match[2]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      cell[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    rows.set(match[1]!, cells)
  }
  return rows
}

it('lists this monitor and each veriflier that checked the site in the last 24 h', async () => {
  const blogId = 4242n
  const [row] = await database.db
    .insert(monitorSites)
    .values({ blogId, monitorUrl: 'https://regions.example.com/' })
    .$returningId()
  const endpointId = BigInt(row!.endpointId)
  const now = Date.now()
  const check = (vantage: string, agoMs: number, rttMs: number | null) => ({
    endpointId,
    blogId,
    checkedAt: new Date(now - agoMs),
    vantage,
    method: 'GET',
    httpCode: rttMs === null ? null : 200,
    errorCode: rttMs === null ? 4 : 0,
    rttMs,
  })
  await database.db.insert(checkHistory).values([
    // The monitor: four checks, one failed; response times 100, 120, 400.
    check('local', 40 * MIN, 100),
    check('local', 30 * MIN, 120),
    check('local', 20 * MIN, null),
    check('local', 10 * MIN, 400),
    // v-eu answered a confirmation round with 250 ms; v-us timed out in it.
    check('v-eu', 20 * MIN, 250),
    check('v-us', 20 * MIN, null),
    // Older than the panel's 24 h: not counted, and v-old is not listed at all.
    check('v-eu', DAY + HOUR, 9_000),
    check('v-old', 2 * DAY, 300),
  ])

  const response = await fetch(`${served.url}/sites/${blogId}`)
  expect(response.status).toBe(200)
  const page = await response.text()
  expect(page).toMatch(/<h2 id="regions-h">Regions/)
  const rows = regionRows(page)
  expect([...rows.keys()]).toEqual(['local', 'v-eu', 'v-us'])
  // Vantage, checks, failures, last check, p50, p95.
  expect(rows.get('local')).toEqual([
    'local this monitor’s scheduled checks',
    '4',
    '1',
    expect.stringMatching(/ago$/),
    '120 ms',
    '400 ms',
  ])
  expect(rows.get('v-eu')?.slice(0, 3)).toEqual(['v-eu veriflier, in confirmation rounds', '1', '0'])
  expect(rows.get('v-eu')?.slice(4)).toEqual(['250 ms', '250 ms'])
  expect(rows.get('v-us')?.slice(1, 3)).toEqual(['1', '1'])
  expect(rows.get('v-us')?.slice(4)).toEqual(['—', '—'])
  // The last check of each is its newest inside the window (v-eu's older check does not count).
  const lastCheck = (vantage: string) =>
    new RegExp(`<tr data-vantage="${vantage}">(?:(?!</tr>)[\\s\\S])*?<time datetime="([^"]+)"`).exec(page)?.[1]
  expect(lastCheck('local')).toBe(new Date(now - 10 * MIN).toISOString())
  expect(lastCheck('v-eu')).toBe(new Date(now - 20 * MIN).toISOString())

  // The live refresh carries the panel too.
  const fragment = (await (await fetch(`${served.url}/sites/${blogId}?fragment=1`)).json()) as {
    regions: Record<string, string>
  }
  expect(fragment.regions.regions).toContain('data-vantage="v-eu"')

  // A site nobody checked says so.
  await database.db.insert(monitorSites).values({ blogId: 4243n, monitorUrl: 'https://quiet.example.com/' })
  const quiet = await (await fetch(`${served.url}/sites/4243`)).text()
  expect(quiet).toMatch(/No checks recorded in the last 24 hours/)
})
