/**
 * The fleet page shows each monitor host's rollout mode: active hosts as they were, a standby host
 * as checking nothing, an api-controlled host with the ranges activated for it.
 */
import { hosts } from '@jetmon/db'
import { createTestDatabase, type TestDatabase } from '@jetmon/testkit'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ServedDashboard, serveDashboard } from './_server.js'

let database: TestDatabase
let served: ServedDashboard

beforeAll(async () => {
  database = await createTestDatabase()
  const lease = new Date(Date.now() + 30_000)
  const heartbeat = new Date()
  await database.db.insert(hosts).values([
    { hostId: 'mon-dynamic', bucketMin: 0, bucketMax: 99, leaseExpiresAt: lease, heartbeatAt: heartbeat },
    {
      hostId: 'mon-controlled',
      bucketMin: 100,
      bucketMax: 199,
      leaseExpiresAt: lease,
      heartbeatAt: heartbeat,
      rolloutMode: 'api-controlled',
    },
    { hostId: 'mon-spare', leaseExpiresAt: lease, heartbeatAt: heartbeat, rolloutMode: 'standby' },
  ])
  served = await serveDashboard({ db: database.db, bind: '127.0.0.1' })
})

afterAll(async () => {
  await served?.close()
  await database?.drop()
})

it('shows each host’s rollout mode in the hosts table', async () => {
  const response = await fetch(`${served.url}/fleet?fragment=1`)
  expect(response.status).toBe(200)
  const fleet = ((await response.json()) as { regions: Record<string, string> }).regions.fleet!
  expect(fleet).toContain('<th>Mode</th>')
  const row = (host: string) => new RegExp(`<td class="mono">${host}</td>[\\s\\S]*?</tr>`).exec(fleet)?.[0] ?? ''
  expect(row('mon-dynamic')).toMatch(/<td>active<\/td>\s*<td class="mono">0–99/)
  expect(row('mon-controlled')).toMatch(
    /<td>api-controlled<span class="sub">ranges activated through the rollout API<\/span><\/td>\s*<td class="mono">100–199/,
  )
  expect(row('mon-spare')).toMatch(/<td>standby<span class="sub">checks nothing<\/span><\/td>\s*<td class="mono">none/)
})
