/**
 * The README's first example, run as written against the test kit's database: delivery starts,
 * turns a site going Down into an alert to an email contact (the stub transport abandons it, with
 * the reason), and on SIGTERM it stops, prints its counters and closes what it opened.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { promoteEvent } from '@jetmon/eventstore'
import { useTestDatabase, waitFor } from '@jetmon/testkit'
import type { Registry } from 'prom-client'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { DeliveryStats } from '../src/index.js'
import {
  alertRows,
  createAlertContact,
  cursorsAtNewest,
  eventContext,
  openHttpEvent,
  resetDelivery,
} from './_helpers.js'

const database = useTestDatabase()
const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
let onSigterm: (() => unknown) | undefined

afterAll(async () => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
  if (onSigterm) {
    process.removeListener('SIGTERM', onSigterm)
    await onSigterm()
  }
})

describe('README example', () => {
  it('delivers until SIGTERM, then stops, prints its stats and closes', async () => {
    const { db } = database()
    await resetDelivery(db)
    await cursorsAtNewest(db)
    const contact = await createAlertContact(db, { transport: 'email', destination: { address: 'oncall@example.com' } })

    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('process.env.DATABASE_URL!')
    writeFileSync(
      file,
      `${code.replace('process.env.DATABASE_URL!', JSON.stringify(database().url))}\nexport { registry }\n`,
    )
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    const before = new Set(process.listeners('SIGTERM'))
    const { registry } = (await import(file.href)) as { registry: Registry }
    onSigterm = process.listeners('SIGTERM').find((listener) => !before.has(listener)) as () => unknown
    expect(onSigterm, 'the example waits for SIGTERM').toBeDefined()

    // jetmon_delivery_* metrics on the registry it was given
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toContain('jetmon_delivery_attempts_total')

    const clock = () => new Date()
    const site = await openHttpEvent(db, clock)
    await promoteEvent({
      ctx: eventContext(db, clock),
      input: { eventId: site.eventId, state: 'Down', reason: 'verifier_confirmed' },
    })
    const [alert] = await waitFor('the alert to be sent and settled', async () => {
      const rows = (await alertRows(db)).filter((row) => row.alertContactId === contact && row.status === 'abandoned')
      return rows.length > 0 ? rows : null
    })
    expect(alert?.status).toBe('abandoned')
    expect(alert?.lastResponse).toMatch(/EMAIL_TRANSPORT is stub/)

    // SIGTERM: the example's handler stops delivery, prints its stats and closes its pool.
    const handler = onSigterm as () => unknown
    process.removeListener('SIGTERM', handler)
    onSigterm = undefined
    await handler()
    await waitFor('the stats to be printed', () => printed.length > 0)
    const [stats] = printed[0] as [DeliveryStats]
    expect(stats.workers.map((w) => w.consumer).sort()).toEqual(['alerts', 'webhooks'])
    expect(stats.workers.find((w) => w.consumer === 'alerts')).toMatchObject({ abandoned: 1, inFlight: 0 })
    expect(stats.dispatchers).toHaveLength(2)
  })
})
