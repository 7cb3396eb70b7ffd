import { Scheduler } from '@jetmon/scheduler'
import { manualClock, manualTimers } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { loadWhileDispatching } from './startup.js'

describe('loadWhileDispatching', () => {
  it('dispatches the pages already loaded at their phase slots while the rest of a slow load arrives', async () => {
    const timers = manualTimers(manualClock(Date.UTC(2026, 0, 1)))
    const now = () => timers.clock.now().getTime()
    const ran: { id: bigint; at: number; lag: number }[] = []
    const scheduler = new Scheduler({
      maxInFlight: 100,
      clock: () => timers.clock.now(),
      timers,
      run: async (id, context) => {
        ran.push({ id, at: now(), lag: context.startedAt - context.dueAt })
      },
    })
    const startedAt = now()
    let loadedAt = 0
    // Three pages of 200 endpoints at a 10 s interval, the database taking 10 s per page.
    const load = async () => {
      for (let page = 0; page < 3; page++) {
        for (let i = 0; i < 200; i++) scheduler.upsert(BigInt(1 + page * 200 + i), 10_000)
        await timers.advanceSettling(10_000)
      }
      loadedAt = now()
    }
    let snapshotAt: number | null = null
    const snapshot = async () => {
      expect(scheduler.running).toBe(false)
      snapshotAt = now()
    }
    await loadWhileDispatching({ scheduler, snapshot, load }, [{ min: 0, max: 999 }])
    expect(snapshotAt).toBe(startedAt)
    await timers.advanceSettling(10_000)
    await scheduler.stop({ drain: false })

    // The first page was checked during the load, on time.
    expect(new Set(ran.filter((r) => r.id <= 200n && r.at < loadedAt).map((r) => r.id)).size).toBe(200)
    expect(loadedAt - startedAt).toBe(30_000)
    expect(scheduler.stats().lagMs.max).toBeLessThanOrEqual(100)
    expect(Math.max(...ran.map((r) => r.lag))).toBeLessThanOrEqual(100)
  })
})
