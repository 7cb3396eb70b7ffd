/**
 * The fleet page shows a monitor under pressure amber, with the signals that hold it and the
 * failures given no verdict, from the process health row the monitor writes.
 */
import { processHealth } from '@jetmon/db'
import { useTestDatabase } from '@jetmon/testkit'
import { afterAll, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

const testDatabase = useTestDatabase()
let served: ServedDashboard | undefined
afterAll(() => served?.close())

it('shows a monitor under pressure amber, with its signals and the failures given no verdict', async () => {
  const now = Date.now()
  const row = (host: string, health: 'green' | 'amber', stats: Record<string, unknown>) => ({
    processId: `${host}:monitor`,
    hostId: host,
    role: 'monitor' as const,
    pid: 4242,
    version: '2.0.0',
    state: 'running' as const,
    health,
    stats: { endpoints: 10, in_flight: 16, max_in_flight: 16, lag_p95_ms: 40, rss: 1, ...stats },
    startedAt: new Date(now - 60_000),
    updatedAt: new Date(now - 1_000),
  })
  await testDatabase()
    .db.insert(processHealth)
    .values([
      row('mon-pressed', 'amber', { pressure: ['event_loop_delay', 'in_flight', '<b>'], pressure_suppressed: 1234 }),
      row('mon-calm', 'green', { pressure: [], pressure_suppressed: 0 }),
    ])
  served = await serveDashboard({ db: testDatabase().db, bind: '127.0.0.1' })
  const page = await (await fetch(`${served.url}/fleet`)).text()
  const cells = [
    ...page.matchAll(/<td class="mono">(mon-[a-z]+):monitor[\s\S]*?<\/td>\s*<td>monitor<\/td>\s*<td>([\s\S]*?)<\/td>/g),
  ]
  const health = Object.fromEntries(cells.map((match) => [match[1], match[2]]))
  expect(health['mon-pressed']).toBe(
    '<span class="dot amber"></span>running, under pressure<span class="sub">event-loop delay, in flight at cap: timeouts give no verdict (1,234 so far)</span>',
  )
  expect(health['mon-calm']).toBe('<span class="dot green"></span>running')
  expect(page).not.toContain('<b>')
})
