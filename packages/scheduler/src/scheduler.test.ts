import { describe, expect, it } from 'vitest'
import { flush, manualSchedulerClock } from '../test/_clock.js'
import { LagWindow } from './lag.js'
import { nextDueAt, phaseOffsetMs } from './phase.js'
import { type RunContext, Scheduler, type SchedulerOptions } from './scheduler.js'

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0) // a whole hour: a multiple of every interval used here

interface Call {
  endpointId: bigint
  at: number
  context: RunContext
  resolve(delay?: number): void
  reject(error: unknown): void
}

/** A scheduler whose runs settle only when the test says so. */
function setup(options: Partial<SchedulerOptions> = {}) {
  const clock = manualSchedulerClock(T0)
  const calls: Call[] = []
  let inFlight = 0
  let maxSeenInFlight = 0
  const logs: { level: string; obj: unknown; msg?: string }[] = []
  const log =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      logs.push({ level, obj, ...(msg === undefined ? {} : { msg }) })
    }
  const scheduler = new Scheduler({
    maxInFlight: 100,
    ...clock.options,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    run: (endpointId, context) => {
      inFlight++
      maxSeenInFlight = Math.max(maxSeenInFlight, inFlight)
      return new Promise<number | undefined>((resolve, reject) => {
        calls.push({
          endpointId,
          at: clock.now(),
          context,
          resolve: (delay) => {
            inFlight--
            resolve(delay)
          },
          reject: (error) => {
            inFlight--
            reject(error)
          },
        })
      })
    },
    ...options,
  })
  return { clock, calls, scheduler, logs, maxSeenInFlight: () => maxSeenInFlight }
}

/** Settles every open call (each with `delay`) and lets the scheduler react. */
async function settleAll(calls: Call[], delay?: number): Promise<void> {
  for (const call of calls.splice(0)) call.resolve(delay)
  await flush()
}

/** The first tick (ticks run every 100 ms from T0) at or after `t`. */
const tickAtOrAfter = (t: number) => T0 + Math.ceil((t - T0) / 100) * 100

describe('Scheduler', () => {
  it('runs endpoints at their phase slots, in due order, every interval', async () => {
    const { clock, calls, scheduler } = setup()
    const ids = [1n, 2n, 42n, 1000n, 123_456_789n]
    for (const id of ids) scheduler.upsert(id, 60_000)
    const phase = new Map(ids.map((id) => [id, phaseOffsetMs(id, 60_000)]))
    const byPhase = [...ids].sort((a, b) => phase.get(a)! - phase.get(b)!)
    expect(scheduler.get(42n)).toEqual({
      endpointId: 42n,
      intervalMs: 60_000,
      phaseMs: phase.get(42n),
      dueAt: T0 + phase.get(42n)!,
      inFlight: false,
      retry: false,
    })

    scheduler.start()
    const seen: Call[] = []
    for (let round = 0; round < 3; round++) {
      for (let step = 0; step < 600; step++) {
        await clock.advance(100)
        seen.push(...calls)
        await settleAll(calls)
      }
    }
    expect(seen.map((c) => c.endpointId)).toEqual([...byPhase, ...byPhase, ...byPhase])
    for (const [n, call] of seen.entries()) {
      const round = Math.floor(n / ids.length)
      const due = T0 + round * 60_000 + phase.get(call.endpointId)!
      expect(call.context.dueAt).toBe(due)
      expect(call.at).toBe(tickAtOrAfter(due))
      expect(call.context.startedAt).toBe(call.at)
    }
    const stats = scheduler.stats()
    expect(stats).toMatchObject({ endpoints: 5, started: 15, completed: 15, overruns: 0, missed: 0, inFlight: 0 })
    expect(stats.lagMs.max).toBeLessThan(100)
  })

  it('gives an endpoint added later its next phase slot, the same on every host', async () => {
    const { clock, scheduler } = setup()
    const now = T0 + 45_678
    await clock.advanceTo(now)
    scheduler.upsert(77n, 300_000)
    const phaseMs = phaseOffsetMs(77n, 300_000)
    const due = scheduler.get(77n)!.dueAt
    expect(due).toBe(nextDueAt({ now, intervalMs: 300_000, phaseMs }))
    expect(due).toBeGreaterThanOrEqual(now)
    expect((due - phaseMs) % 300_000).toBe(0)
  })

  it('never runs an endpoint twice at once: slots that pass while it is in flight are overruns', async () => {
    const { clock, calls, scheduler } = setup()
    const id = 7n
    const phase = phaseOffsetMs(id, 1_000)
    scheduler.upsert(id, 1_000)
    scheduler.start()
    const due = T0 + phase
    await clock.advanceTo(due + 150)
    expect(calls).toHaveLength(1)
    const startedAt = calls[0]!.at

    await clock.advance(3_000) // three more slots come and go
    expect(calls).toHaveLength(1)
    expect(scheduler.stats()).toMatchObject({ inFlight: 1, started: 1, overruns: 0 })
    expect(scheduler.get(id)).toMatchObject({ inFlight: true, dueAt: due })

    const now = clock.now()
    await settleAll(calls)
    // Slots in (startedAt, now): due + 1000, + 2000, + 3000 (and + 4000 if it came before now).
    const expected = Math.floor((now - 1 - phase) / 1000) - Math.floor((startedAt - phase) / 1000)
    expect(expected).toBeGreaterThanOrEqual(3)
    expect(scheduler.stats().overruns).toBe(expected)
    expect(scheduler.get(id)!.dueAt).toBe(nextDueAt({ lastDueAt: due, now, intervalMs: 1_000, phaseMs: phase }))
    await clock.advance(1_000)
    expect(calls).toHaveLength(1) // back on its slots, one run at a time
    expect(scheduler.stats().missed).toBe(0)
  })

  it('bounds concurrency; late starts are measured as lag, in due order, and nothing is dropped', async () => {
    const { clock, calls, scheduler, maxSeenInFlight } = setup({ maxInFlight: 2 })
    const ids = Array.from({ length: 10 }, (_, i) => BigInt(i + 100))
    for (const id of ids) scheduler.upsert(id, 10_000)
    scheduler.start()
    await clock.advance(10_000)
    expect(calls).toHaveLength(2)
    expect(scheduler.stats()).toMatchObject({ inFlight: 2, dueBacklog: 8, started: 2 })

    const started: Call[] = []
    while (calls.length > 0) {
      await clock.advance(50)
      const call = calls.shift()!
      started.push(call)
      call.resolve()
      await flush()
      expect(scheduler.stats().inFlight).toBeLessThanOrEqual(2)
    }
    expect(maxSeenInFlight()).toBe(2)
    expect(started).toHaveLength(10)
    expect(new Set(started.map((c) => c.endpointId))).toEqual(new Set(ids))
    // Due order among the late ones (the first two started at their ticks).
    const dues = started.map((c) => c.context.dueAt)
    expect(dues.slice(2)).toEqual([...dues.slice(2)].sort((a, b) => a - b))
    const lags = started.map((c) => c.context.startedAt - c.context.dueAt)
    const stats = scheduler.stats()
    expect(stats).toMatchObject({ started: 10, completed: 10, dueBacklog: 0, missed: 0 })
    expect(stats.lagMs.max).toBe(Math.max(...lags))
    expect(stats.lagMs.max).toBeGreaterThan(100)
    expect(stats.lagMs.count).toBe(10)
  })

  it('when the backlog outlasts an interval, the late run stands in for the missed slots', async () => {
    const { clock, calls, scheduler } = setup({ maxInFlight: 1 })
    for (const id of [1n, 2n, 3n]) scheduler.upsert(id, 1_000)
    scheduler.start()
    let runs = 0
    for (let step = 0; step < 60; step++) {
      await clock.advance(100)
      // Each run takes 1.5 s: three endpoints at 1 s intervals need 4.5 s per second.
      if (calls[0] && clock.now() - calls[0].at >= 1_500) {
        runs++
        await settleAll(calls)
      }
    }
    const stats = scheduler.stats()
    expect(runs).toBeGreaterThanOrEqual(3)
    expect(stats.missed).toBeGreaterThan(0)
    expect(stats.lagMs.max).toBeGreaterThan(1_000)
    expect(scheduler.size).toBe(3)
  })

  it('raising maxInFlight starts waiting endpoints at once', async () => {
    const { clock, calls, scheduler } = setup({ maxInFlight: 1 })
    for (const id of [11n, 12n, 13n, 14n]) scheduler.upsert(id, 5_000)
    scheduler.start()
    await clock.advance(5_000)
    expect(calls).toHaveLength(1)
    expect(scheduler.inFlight).toBe(1)
    scheduler.setMaxInFlight(3)
    expect(calls).toHaveLength(3)
    expect(scheduler.stats().maxInFlight).toBe(3)
    expect(scheduler.inFlight).toBe(3)
    expect(() => scheduler.setMaxInFlight(0)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })

  it('follows the retry delay a run asks for, then returns to the phase slots', async () => {
    const { clock, calls, scheduler } = setup()
    const id = 5n
    const phase = phaseOffsetMs(id, 60_000)
    scheduler.upsert(id, 60_000)
    scheduler.start()
    await clock.advanceTo(T0 + phase + 100)
    const first = calls.shift()!
    const failedAt = clock.now()
    first.resolve(20_000) // failed: re-check in 20 s
    await flush()
    expect(scheduler.get(id)).toMatchObject({ dueAt: failedAt + 20_000, retry: true })

    await clock.advanceTo(tickAtOrAfter(failedAt + 20_000))
    expect(calls).toHaveLength(1)
    expect(calls[0]!.context.dueAt).toBe(failedAt + 20_000)
    const retriedAt = clock.now()
    await settleAll(calls, 60_000) // Down: every 60 s, not phase-aligned
    expect(scheduler.get(id)).toMatchObject({ dueAt: retriedAt + 60_000, retry: true })

    await clock.advanceTo(tickAtOrAfter(retriedAt + 60_000))
    expect(calls).toHaveLength(1)
    const recoveredAt = clock.now()
    await settleAll(calls) // recovered: back to the interval's phase slots
    const next = scheduler.get(id)!
    expect(next.retry).toBe(false)
    expect(next.dueAt).toBe(nextDueAt({ now: recoveredAt + 1, intervalMs: 60_000, phaseMs: phase }))
    expect(scheduler.stats()).toMatchObject({ retries: 2, overruns: 0, missed: 0 })
  })

  it('ignores an invalid retry delay (logged) and uses the phase slot', async () => {
    const { clock, calls, scheduler, logs } = setup()
    scheduler.upsert(9n, 60_000)
    scheduler.start()
    await clock.advance(60_000)
    calls.shift()!.resolve(-5)
    await flush()
    expect(scheduler.get(9n)!.retry).toBe(false)
    expect(logs.some((l) => l.level === 'warn' && /invalid retry delay/.test(l.msg ?? ''))).toBe(true)
  })

  it('logs a run that throws or rejects, and the endpoint keeps its schedule', async () => {
    const clock = manualSchedulerClock(T0)
    const errors: unknown[] = []
    let n = 0
    const scheduler = new Scheduler({
      maxInFlight: 10,
      ...clock.options,
      logger: { debug() {}, info() {}, warn() {}, error: (obj: unknown) => errors.push(obj) },
      run: (id) => {
        n++
        if (id === 1n) throw new Error('sync bug')
        return Promise.reject(new Error('async bug'))
      },
    })
    scheduler.upsert(1n, 10_000)
    scheduler.upsert(2n, 10_000)
    scheduler.start()
    await clock.advance(10_000)
    expect(n).toBe(2)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatchObject({ endpointId: expect.stringMatching(/^[12]$/), err: expect.any(Error) })
    for (const id of [1n, 2n]) {
      const phaseMs = phaseOffsetMs(id, 10_000)
      expect(scheduler.get(id)).toMatchObject({ retry: false, dueAt: T0 + 10_000 + phaseMs, inFlight: false })
    }
    await clock.advance(10_000)
    expect(n).toBe(4)
    expect(scheduler.stats()).toMatchObject({ failed: 4, completed: 4 })
  })

  describe('changes while an endpoint is queued or in flight', () => {
    it('remove: a queued endpoint never runs; one in flight finishes and is not rescheduled', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(1n, 10_000)
      scheduler.upsert(2n, 10_000)
      expect(scheduler.remove(1n)).toBe(true)
      expect(scheduler.remove(1n)).toBe(false)
      scheduler.start()
      await clock.advance(10_000)
      expect(calls.map((c) => c.endpointId)).toEqual([2n])
      expect(scheduler.remove(2n)).toBe(true)
      expect(scheduler.has(2n)).toBe(false)
      expect(scheduler.size).toBe(0)
      await settleAll(calls)
      await clock.advance(30_000)
      expect(calls).toHaveLength(0)
      expect(scheduler.stats()).toMatchObject({ endpoints: 0, started: 1, inFlight: 0 })
    })

    it('removedRunsSettled resolves once the runs of removed endpoints have settled, not before', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(5n, 10_000)
      scheduler.upsert(6n, 10_000)
      scheduler.upsert(7n, 10_000)
      await expect(scheduler.removedRunsSettled()).resolves.toBeUndefined() // nothing removed in flight
      scheduler.start()
      await clock.advance(10_000)
      expect(calls).toHaveLength(3)
      scheduler.remove(5n)
      scheduler.remove(6n)
      let settled = false
      void scheduler.removedRunsSettled().then(() => {
        settled = true
      })
      const [five, six, seven] = [5n, 6n, 7n].map((id) => calls.find((c) => c.endpointId === id)!)
      seven!.resolve() // a run of an endpoint still held does not count
      five!.resolve()
      await flush()
      expect(settled).toBe(false)
      six!.resolve()
      await flush()
      expect(settled).toBe(true)
      // A removal undone by an upsert while in flight is not waited for.
      await clock.advance(10_000)
      const again = calls.find((c) => c.endpointId === 7n && c !== seven)!
      scheduler.remove(7n)
      scheduler.upsert(7n, 10_000)
      await expect(scheduler.removedRunsSettled()).resolves.toBeUndefined()
      again.resolve()
    })

    it('remove then upsert while in flight keeps one schedule and one run', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(3n, 10_000)
      scheduler.start()
      await clock.advance(10_000)
      expect(calls).toHaveLength(1)
      scheduler.remove(3n)
      scheduler.upsert(3n, 10_000)
      expect(scheduler.size).toBe(1)
      expect(calls).toHaveLength(1)
      await settleAll(calls)
      expect(scheduler.get(3n)).toMatchObject({ inFlight: false, dueAt: T0 + 10_000 + phaseOffsetMs(3n, 10_000) })
      await clock.advance(10_000)
      expect(calls).toHaveLength(1)
    })

    it('an interval change in flight applies when the run settles', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(4n, 10_000)
      scheduler.start()
      await clock.advance(10_000)
      scheduler.upsert(4n, 60_000)
      expect(scheduler.get(4n)).toMatchObject({ intervalMs: 60_000, inFlight: true })
      const now = clock.now()
      await settleAll(calls)
      const phaseMs = phaseOffsetMs(4n, 60_000)
      expect(scheduler.get(4n)).toMatchObject({
        phaseMs,
        dueAt: nextDueAt({ now: now + 1, intervalMs: 60_000, phaseMs }),
      })
    })

    it('an interval change of a queued endpoint moves it to the new phase slot; the same interval is a no-op', async () => {
      const { clock, scheduler } = setup()
      scheduler.upsert(6n, 60_000)
      const before = scheduler.get(6n)!.dueAt
      await clock.advance(1_234)
      scheduler.upsert(6n, 60_000)
      expect(scheduler.get(6n)!.dueAt).toBe(before)
      scheduler.upsert(6n, 300_000)
      const phaseMs = phaseOffsetMs(6n, 300_000)
      expect(scheduler.get(6n)).toMatchObject({
        intervalMs: 300_000,
        phaseMs,
        dueAt: nextDueAt({ now: clock.now(), intervalMs: 300_000, phaseMs }),
      })
    })

    it('an interval change keeps a pending retry that comes sooner', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(8n, 60_000)
      scheduler.start()
      await clock.advance(60_000)
      const failedAt = clock.now()
      await settleAll(calls, 20_000)
      scheduler.upsert(8n, 300_000)
      expect(scheduler.get(8n)).toMatchObject({ dueAt: failedAt + 20_000, retry: true, intervalMs: 300_000 })
    })
  })

  describe('stop', () => {
    it('stops dispatching and, draining, resolves when the runs in flight settle', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(1n, 10_000)
      scheduler.upsert(2n, 10_000)
      scheduler.start()
      await clock.advance(10_000)
      expect(calls).toHaveLength(2)
      let result: unknown
      const stopping = scheduler.stop({ drain: true }).then((r) => {
        result = r
      })
      await flush()
      expect(result).toBeUndefined()
      expect(scheduler.running).toBe(false)
      calls.shift()!.resolve()
      await flush()
      expect(result).toBeUndefined()
      calls.shift()!.resolve()
      await stopping
      expect(result).toEqual({ drained: true, inFlight: 0 })
      await clock.advance(60_000)
      expect(calls).toHaveLength(0)
      expect(clock.pendingTimers).toBe(0)

      scheduler.start() // resumes: everything was rescheduled
      await clock.advance(10_000)
      expect(calls.length).toBeGreaterThan(0)
    })

    it('gives up waiting after the timeout', async () => {
      const { clock, calls, scheduler } = setup()
      scheduler.upsert(1n, 10_000)
      scheduler.start()
      await clock.advance(10_000)
      let result: unknown
      void scheduler.stop({ timeoutMs: 5_000 }).then((r) => {
        result = r
      })
      await clock.advance(4_999)
      expect(result).toBeUndefined()
      await clock.advance(1)
      expect(result).toEqual({ drained: false, inFlight: 1 })
      await settleAll(calls)
      expect(scheduler.stats().inFlight).toBe(0)
    })

    it('without drain resolves at once', async () => {
      const { clock, scheduler } = setup()
      scheduler.upsert(1n, 10_000)
      scheduler.start()
      await clock.advance(10_000)
      await expect(scheduler.stop({ drain: false })).resolves.toEqual({ drained: false, inFlight: 1 })
    })
  })

  it('keeps ids beyond 2^53 exact', async () => {
    const { clock, calls, scheduler } = setup()
    const huge = [2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 53n]
    for (const id of huge) scheduler.upsert(id, 1_000)
    scheduler.upsert(2n ** 53n - 1n, 1_000)
    expect(scheduler.size).toBe(4)
    expect(scheduler.has(2n ** 53n + 1n)).toBe(true)
    expect(scheduler.has(2n ** 53n + 2n)).toBe(false)
    scheduler.start()
    await clock.advance(1_000)
    expect(new Set(calls.map((c) => c.endpointId))).toEqual(new Set([...huge, 2n ** 53n - 1n]))
    await settleAll(calls)
    expect(scheduler.remove(2n ** 64n - 1n)).toBe(true)
    expect(scheduler.size).toBe(3)
  })

  it('holds many endpoints in heap order and reuses freed slots', async () => {
    const { clock, calls, scheduler } = setup({ maxInFlight: 100_000, initialCapacity: 16 })
    for (let id = 1n; id <= 5_000n; id++) scheduler.upsert(id, 60_000)
    for (let id = 1n; id <= 5_000n; id += 2n) scheduler.remove(id)
    for (let id = 10_001n; id <= 11_000n; id++) scheduler.upsert(id, 60_000)
    expect(scheduler.size).toBe(3_500)
    scheduler.start()
    const dues: number[] = []
    for (let step = 0; step < 600; step++) {
      await clock.advance(100)
      dues.push(...calls.map((c) => c.context.dueAt))
      await settleAll(calls)
    }
    expect(dues).toHaveLength(3_500)
    expect(dues).toEqual([...dues].sort((a, b) => a - b))
  })

  it('rejects bad arguments', () => {
    const { scheduler } = setup()
    expect(() => scheduler.upsert(-1n, 1000)).toThrow(expect.objectContaining({ code: 'INVALID_ID' }))
    expect(() => scheduler.upsert(1n, 0)).toThrow(expect.objectContaining({ code: 'INVALID_INTERVAL' }))
    expect(() => scheduler.upsert(1 as unknown as bigint, 1000)).toThrow(
      expect.objectContaining({ code: 'INVALID_ID' }),
    )
    expect(() => new Scheduler({ maxInFlight: 0, run: async () => {} })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    )
    expect(scheduler.size).toBe(0)
  })
})

describe('LagWindow', () => {
  it('gives percentiles within 3 % and the exact maximum', () => {
    const lag = new LagWindow(60_000)
    for (let v = 1; v <= 10_000; v++) lag.record(v, T0)
    const s = lag.summary(T0)
    expect(s.count).toBe(10_000)
    expect(s.max).toBe(10_000)
    expect(Math.abs(s.p50 - 5_000) / 5_000).toBeLessThan(0.03)
    expect(Math.abs(s.p95 - 9_500) / 9_500).toBeLessThan(0.03)
    expect(Math.abs(s.p99 - 9_900) / 9_900).toBeLessThan(0.03)
    const small = new LagWindow(60_000)
    for (const v of [0, 3, 7, 12, 40]) small.record(v, T0)
    expect(small.summary(T0)).toEqual({ p50: 7, p95: 40, p99: 40, max: 40, count: 5 })
  })

  it('covers the last one to two windows', () => {
    const lag = new LagWindow(1_000)
    lag.record(500, T0)
    lag.record(9, T0 + 1_200)
    expect(lag.summary(T0 + 1_500)).toMatchObject({ max: 500, count: 2 })
    expect(lag.summary(T0 + 2_100)).toMatchObject({ max: 9, count: 1 })
    expect(lag.summary(T0 + 5_000)).toEqual({ p50: 0, p95: 0, p99: 0, max: 0, count: 0 })
  })
})
