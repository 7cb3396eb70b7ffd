/**
 * Service level objectives on the dashboard, against a real database: the site page's panel (budget
 * left, burn rates, time to exhaustion at the 24 h burn rate, streak, open alerts) and the
 * overview's objectives at risk (found through the evaluator's open alerts, measured again, worst
 * first), behind the same sign-in rule as every other panel.
 */
import { createApiKey } from '@jetmon/api-keys'
import { monitorSites, sloStreaks } from '@jetmon/db'
import { openEvent, promoteEvent } from '@jetmon/eventstore'
import { createObjective, deactivateObjective, evaluateObjectives } from '@jetmon/slo'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

const MIN = 60_000
const NOW = new Date('2026-11-20T12:00:00.000Z')
const SHOP = 7001n
const BLOG = 7002n
const QUIET = 7003n

let database: TestDatabase
let served: ServedDashboard
let guarded: ServedDashboard
const ids: Record<'shop' | 'shopLoose' | 'blog' | 'blogStrict' | 'quiet', bigint> = {
  shop: 0n,
  shopLoose: 0n,
  blog: 0n,
  blogStrict: 0n,
  quiet: 0n,
}

beforeAll(async () => {
  database = await createTestDatabase()
  const db = database.db
  const endpoint = async (blogId: bigint, url: string) => {
    const [row] = await db.insert(monitorSites).values({ blogId, monitorUrl: url }).$returningId()
    return BigInt(row!.endpointId)
  }
  const shopEndpoint = await endpoint(SHOP, 'https://shop.slo.example/')
  const blogEndpoint = await endpoint(BLOG, 'https://blog.slo.example/')
  await endpoint(QUIET, 'https://quiet.slo.example/')
  // The shop has been down for the last 30 minutes; the blog was down for 10 minutes two days ago.
  let clock = new Date(NOW.getTime() - 30 * MIN)
  const ctx = { db, source: 'monitor:test', clock: () => clock, projection: false }
  const down = async (blogId: bigint, endpointId: bigint) => {
    const opened = await openEvent({
      ctx,
      input: { blogId, endpointId, checkType: 'http', state: 'Seems Down', startedAt: clock },
    })
    await promoteEvent({ ctx, input: { eventId: opened.event.id, state: 'Down', reason: 'verifier_confirmed' } })
    return opened.event.id
  }
  await down(SHOP, shopEndpoint)
  clock = new Date(NOW.getTime() - 2 * 24 * 60 * MIN)
  const old = await down(BLOG, blogEndpoint)
  clock = new Date(clock.getTime() + 10 * MIN)
  const { closeEvent } = await import('@jetmon/eventstore')
  await closeEvent({ ctx, input: { eventId: old, reason: 'verifier_cleared' } })

  const create = (name: string, blogId: bigint, target: number) =>
    createObjective({
      ctx: { db, clock: () => NOW },
      tenantId: null,
      createdBy: 'test',
      fields: { name, blog_id: blogId, sli: 'availability', target, window: '30d' },
    }).then((objective) => objective.id)
  ids.shop = await create('shop checkout', SHOP, 99.9)
  ids.shopLoose = await create('shop browsing', SHOP, 99)
  ids.blog = await create('blog reading', BLOG, 99.9)
  ids.blogStrict = await create('blog comments', BLOG, 99.99)
  ids.quiet = await create('quiet pages', QUIET, 99.5)
  await db.insert(sloStreaks).values({ objectiveId: ids.blog, currentDays: 1, bestDays: 17 })

  served = await serveDashboard({ db, bind: '127.0.0.1', now: () => NOW, live: { pollMs: 200 } })
  guarded = await serveDashboard({ db, bind: '0.0.0.0', now: () => NOW, live: { pollMs: 200 } })
})

afterAll(async () => {
  await served?.close()
  await guarded?.close()
  await database?.drop()
})

const page = async (path: string, base = served.url) => {
  const response = await fetch(`${base}${path}`, { redirect: 'manual' })
  return { response, body: await response.text() }
}

/** The text of each cell of an objective's row. */
function objectiveRow(html: string, id: bigint): string[] {
  const row = new RegExp(`<tr class="slo-row[^"]*" id="objective-${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[1]
  expect(row, `row of objective ${id}`).toBeDefined()
  return [...row!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
    cell[1]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

const atRiskIds = (html: string) => {
  const region = /<div data-region="at-risk">([\s\S]*?)<\/div>\s*<\/aside>/.exec(html)?.[1] ?? ''
  return [...region.matchAll(/<li class="at-risk[^"]*" data-objective="(\d+)"/g)].map((m) => BigInt(m[1]!))
}

describe('the site page', () => {
  it('shows each objective with its budget, burn rates, time to exhaustion and streak', async () => {
    const { response, body } = await page(`/sites/${SHOP}`)
    expect(response.status).toBe(200)
    // 99.9 % over 30 days: a budget of 2 592 s, 1 800 s of it spent (30 min down) → 30.6 % left.
    // Burn rates: 5 min and 30 min all down → 1000×; 1 h → 500×; 6 h → 83.3×; 24 h → 20.8×; 3 d → 6.94×.
    // At the 24 h rate the 792 s left last 792 / (20.83 × 0.001) s = 10 h 33 min.
    const [name, sli, budget, burn, exhaustion, streak, alerts] = objectiveRow(body, ids.shop)
    expect(name).toBe('shop checkout availability 99.9 % over 30d · all endpoints')
    expect(sli).toBe('99.930 %')
    expect(budget).toBe('30.6 %')
    expect(burn).toBe(
      '5m 1000.0× 30m 1000.0× 1h 500.0× 6h 83.3× 24h 20.8× 3d 6.94× firing: page 1h/5m above 14.4×, page 6h/30m above 6×, ticket 3d/6h above 1×',
    )
    expect(exhaustion).toBe('10 h 33 min at the 24 h burn rate')
    expect(streak).toBe('0 d best 0 d')
    expect(alerts).toBe('none')
    // 6 of 20 segments lit; below the 25 % warning? no: 30.6 % left, but page rules fire → critical.
    expect(body).toMatch(new RegExp(`id="objective-${ids.shop}"[^>]*>[\\s\\S]*?aria-valuenow="30.6"`))
    expect(body).toMatch(new RegExp(`class="slo-row slo-crit" id="objective-${ids.shop}"`))

    // The looser objective: 99 % → a budget of 25 920 s, 1 800 s spent → 93.1 % left; the same
    // half hour is 100× over 5 min and 50× over 1 h: it pages too, with plenty of budget left.
    const loose = objectiveRow(body, ids.shopLoose)
    expect(loose[2]).toBe('93.1 %')
    expect(loose[3]).toContain('5m 100.0× 30m 100.0× 1h 50.0×')
    expect(loose[3]).toContain('24h 2.08×')
  })

  it('shows a budget gone negative, no exhaustion date without a 24 h burn, and the streak', async () => {
    const { body } = await page(`/sites/${BLOG}`)
    // 10 min down two days ago against 99.9 % over 30 days: 600 s of 2 592 s spent → 76.9 % left.
    const [, , budget, burn, exhaustion, streak] = objectiveRow(body, ids.blog)
    expect(budget).toBe('76.9 %')
    expect(burn).toContain('24h 0.00×')
    expect(exhaustion).toBe('— at the 24 h burn rate')
    expect(streak).toBe('1 d best 17 d')
    // 99.99 %: a budget of 259.2 s, 600 s spent → 1 − 600 / 259.2 = −131.5 %: exhausted.
    const strict = objectiveRow(body, ids.blogStrict)
    expect(strict[2]).toBe('-131.5 % exhausted')
    expect(strict[4]).toBe('exhausted at the 24 h burn rate')
    const shop = await page(`/sites/${SHOP}?window=1h`)
    expect(shop.body).toContain('id="objective-')
    // A site without objectives has no panel at all.
    const { body: none } = await page('/sites/7999')
    expect(none).not.toContain('data-region="objectives"')
  })

  it('lists the objective’s open alerts once the evaluator opened them, and refreshes them live', async () => {
    const report = await evaluateObjectives({ ctx: { db: database.db, source: 'slo:test' }, now: NOW })
    expect(report.opened).toBeGreaterThanOrEqual(1)
    const { body } = await page(`/sites/${SHOP}`)
    const alerts = objectiveRow(body, ids.shop)[6]
    expect(objectiveRow((await page(`/sites/${BLOG}`)).body, ids.blog)[6]).toBe('none')
    expect(alerts).toContain('Degraded slo_burn')
    const fragment = (await (await fetch(`${served.url}/sites/${SHOP}?fragment=1`)).json()) as {
      regions: Record<string, string>
    }
    expect(fragment.regions.objectives).toContain('slo_burn')
  })
})

describe('the overview', () => {
  it('lists the objectives at risk, worst first, linking to their site', async () => {
    const { body } = await page('/')
    // All critical, the least budget first: the blog's 99.99 % objective is exhausted (−131.5 %),
    // the shop's 99.9 % one pages with 30.6 % left, its 99 % one pages with 93.1 % left. The blog's
    // 99.9 % one keeps 76.9 % and fires no rule; the quiet site's is on track.
    expect(atRiskIds(body)).toEqual([ids.blogStrict, ids.shop, ids.shopLoose])
    expect(body).toContain(`href="/sites/${SHOP}#objective-${ids.shop}"`)
    expect(body).toMatch(/data-region="at-risk-count">3</)
  })

  it('drops an objective that is no longer at risk without waiting for the evaluator', async () => {
    await deactivateObjective({ ctx: { db: database.db }, tenantId: null, id: ids.shop })
    const { body } = await page('/')
    expect(atRiskIds(body)).toEqual([ids.blogStrict, ids.shopLoose])
  })
})

describe('access', () => {
  it('asks for a read key on a non-loopback bind before showing any objective', async () => {
    for (const path of ['/', `/sites/${BLOG}`]) {
      const { response, body } = await page(path, guarded.url)
      expect(response.status, path).not.toBe(200)
      expect(body).not.toContain('blog reading')
    }
    const { token } = await createApiKey({
      ctx: { db: database.db },
      input: { consumer: 'slo-reader', scope: 'read', createdBy: 'test', expiresAt: null },
    })
    const signIn = await fetch(`${guarded.url}/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: guarded.url },
      body: new URLSearchParams({ key: token, next: `/sites/${BLOG}` }),
    })
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect(cookie).not.toBe('')
    const signed = await fetch(`${guarded.url}/sites/${BLOG}`, { headers: { cookie } })
    expect(signed.status).toBe(200)
    expect(await signed.text()).toContain('blog reading')
  })
})
