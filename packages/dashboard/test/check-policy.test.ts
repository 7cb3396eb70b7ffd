/**
 * Check policy on the pages: the site page shows each endpoint's request method and detection
 * profile (marking what follows the fleet default), and the fleet page splits the active
 * endpoints into cohorts by method × profile, resolving the default when the dashboard knows it.
 */
import { endpointConfig, monitorSites } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import type { DetectionProfile, RequestMethod } from '@jetmon/vocabulary'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

let database: TestDatabase
let knowing: ServedDashboard
let unknowing: ServedDashboard

/** Endpoints: [blog, path, method, profile, active]; null = no value of its own (the fleet default). */
const ENDPOINTS: [bigint, string, RequestMethod | null, DetectionProfile | null, boolean][] = [
  [2001n, '/', 'HEAD', 'legacy', true],
  [2001n, '/shop', null, null, true],
  [2002n, '/', 'HEAD', 'legacy', true],
  [2003n, '/', 'GET', 'simple_http', true],
  [2004n, '/', null, 'full', true],
  [2005n, '/', 'HEAD', null, true],
  // Paused: not part of the split.
  [2006n, '/', 'GET', 'simple_http', false],
]

beforeAll(async () => {
  database = await createTestDatabase()
  for (const [blogId, path, requestMethod, detectionProfile, active] of ENDPOINTS) {
    const [row] = await database.db
      .insert(monitorSites)
      .values({ blogId, monitorUrl: `https://policy-${blogId}.example${path}`, monitorActive: active ? 1 : 0 })
      .$returningId()
    // One endpoint without any configuration row at all: also the fleet default.
    if (blogId === 2001n && path === '/shop') continue
    await database.db
      .insert(endpointConfig)
      .values({ endpointId: BigInt(row!.endpointId), requestMethod, detectionProfile })
  }
  knowing = await serveDashboard({
    db: database.db,
    bind: '127.0.0.1',
    checkPolicyDefaults: { requestMethod: 'HEAD', detectionProfile: 'legacy' },
  })
  unknowing = await serveDashboard({ db: database.db, bind: '127.0.0.1' })
})

afterAll(async () => {
  await knowing?.close()
  await unknowing?.close()
  await database?.drop()
})

async function fleetRegion(served: ServedDashboard): Promise<string> {
  const response = await fetch(`${served.url}/fleet?fragment=1`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { regions: Record<string, string> }).regions.fleet!
}

/** The rows of the check policy table: [method, profile, endpoints, share]. */
function cohortRows(region: string): string[][] {
  const table = /<table class="table cohorts">([\s\S]*?)<\/table>/.exec(region)?.[1] ?? ''
  return [
    ...table.matchAll(
      /<tr>\s*<td>(.*?)<\/td><td>(.*?)<\/td>\s*<td class="num">(.*?)<\/td><td class="num">(.*?)<\/td>/g,
    ),
  ].map((match) => match.slice(1, 5))
}

describe('fleet page: the cohort split by method × profile', () => {
  it('resolves endpoints without their own values to the configured defaults and merges equal cohorts', async () => {
    const region = await fleetRegion(knowing)
    expect(region).toContain('Check policy')
    expect(cohortRows(region)).toEqual([
      // 2001 /, 2001 /shop (no row), 2002, 2005 (HEAD, default profile).
      ['HEAD', 'legacy', '4', '66.66 %'],
      ['GET', 'simple_http', '1', '16.66 %'],
      ['HEAD', 'full', '1', '16.66 %'],
    ])
    expect(region).toContain('count as the fleet default: HEAD · legacy')
  })

  it('shows them as "default" when the dashboard does not know the defaults', async () => {
    const region = await fleetRegion(unknowing)
    expect(cohortRows(region)).toEqual([
      ['HEAD', 'legacy', '2', '33.33 %'],
      ['default', 'default', '1', '16.66 %'],
      ['default', 'full', '1', '16.66 %'],
      ['GET', 'simple_http', '1', '16.66 %'],
      ['HEAD', 'default', '1', '16.66 %'],
    ])
    expect(region).toContain('DEFAULT_DETECTION_PROFILE')
  })
})

describe('site page: method and profile of each endpoint', () => {
  it('shows the endpoint’s own values, and the fleet default’s marked as such', async () => {
    const { regions } = (await (await fetch(`${knowing.url}/sites/2001?fragment=1`)).json()) as {
      regions: Record<string, string>
    }
    const page = Object.values(regions).join('\n')
    expect(page).toContain('<span class="policy">HEAD · legacy profile</span>')
    expect(page).toMatch(
      /<span class="policy">HEAD · legacy profile<\/span><span class="sub">method and profile: fleet default<\/span>/,
    )
    const mixed = await (await fetch(`${knowing.url}/sites/2005`)).text()
    expect(mixed).toMatch(
      /<span class="policy">HEAD · legacy profile<\/span><span class="sub">profile: fleet default<\/span>/,
    )
  })

  it('says "default" rather than guess when the dashboard does not know the defaults', async () => {
    const page = await (await fetch(`${unknowing.url}/sites/2004`)).text()
    expect(page).toMatch(
      /<span class="policy">default method · full profile<\/span><span class="sub">method: fleet default<\/span>/,
    )
    const own = await (await fetch(`${unknowing.url}/sites/2003`)).text()
    expect(own).toContain('<span class="policy">GET · simple_http profile</span> · redirects follow')
  })
})
