import type { CheckResult } from '@jetmon/checker'
import { manualClock } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import {
  isPressureSensitive,
  judgedCheck,
  noVerdict,
  type PressureBounds,
  PressureJudge,
  type PressureReading,
  type PressureSignal,
  pressureSignals,
} from '../src/pressure.js'

const BOUNDS: PressureBounds = { dispatchLagMs: 5_000, eventLoopDelayMs: 500 }
const calm: PressureReading = { dispatchLagMs: 0, eventLoopDelayMs: 5, inFlight: 3, maxInFlight: 100 }

function result(fields: Partial<CheckResult> & { startedAt: string }): CheckResult {
  return {
    url: 'https://example.test/',
    finalUrl: 'https://example.test/',
    method: 'GET',
    ok: false,
    error: 'timeout',
    errorCode: 1,
    detail: 'no answer within 2000 ms',
    httpStatus: null,
    timings: { dnsMs: 1, connectMs: null, tlsMs: null, ttfbMs: null, transferMs: null, totalMs: 2_000 },
    redirects: [],
    advisories: [],
    ...fields,
  } as CheckResult
}

/** A judge on a manual clock, reading what `world` says. */
function setup(bounds: PressureBounds = BOUNDS) {
  const clock = manualClock(new Date('2030-03-01T12:00:00.000Z'))
  const world = { eventLoopDelayMs: 5, inFlight: 3, maxInFlight: 100 }
  const suppressed: PressureSignal[][] = []
  const judge = new PressureJudge({
    bounds: () => bounds,
    read: () => ({ ...world }),
    clock: clock.now,
    lagWindowMs: 1_000,
    onSuppressed: (signals) => suppressed.push([...signals]),
  })
  const timeoutStartedNow = () => result({ startedAt: clock.now().toISOString() })
  return { clock, world, judge, suppressed, timeoutStartedNow }
}

describe('pressureSignals', () => {
  it('raises each signal above its bound, in a fixed order', () => {
    expect(pressureSignals(calm, BOUNDS)).toEqual([])
    expect(pressureSignals({ ...calm, dispatchLagMs: 5_001 }, BOUNDS)).toEqual(['dispatch_lag'])
    expect(pressureSignals({ ...calm, dispatchLagMs: 5_000 }, BOUNDS)).toEqual([])
    expect(pressureSignals({ ...calm, eventLoopDelayMs: 501 }, BOUNDS)).toEqual(['event_loop_delay'])
    expect(pressureSignals({ ...calm, inFlight: 100 }, BOUNDS)).toEqual(['in_flight'])
    expect(
      pressureSignals({ dispatchLagMs: 9_000, eventLoopDelayMs: 900, inFlight: 100, maxInFlight: 100 }, BOUNDS),
    ).toEqual(['dispatch_lag', 'event_loop_delay', 'in_flight'])
  })

  it('a bound of 0 (or inFlightAtCap false) turns its signal off', () => {
    const off = { dispatchLagMs: 0, eventLoopDelayMs: 0, inFlightAtCap: false }
    expect(
      pressureSignals({ dispatchLagMs: 9_000, eventLoopDelayMs: 900, inFlight: 100, maxInFlight: 100 }, off),
    ).toEqual([])
  })
})

describe('isPressureSensitive', () => {
  it('is true for timeouts, connect failures and resolver timeouts only', () => {
    const at = '2030-03-01T12:00:00.000Z'
    expect(isPressureSensitive(result({ startedAt: at }))).toBe(true)
    expect(isPressureSensitive(result({ startedAt: at, error: 'connect', errorCode: 2 }))).toBe(true)
    expect(
      isPressureSensitive(
        result({
          startedAt: at,
          error: 'dns',
          errorCode: 9,
          dns: { addresses: [], servers: [], failureClass: 'timeout' },
        }),
      ),
    ).toBe(true)
    expect(
      isPressureSensitive(
        result({
          startedAt: at,
          error: 'dns',
          errorCode: 9,
          dns: { addresses: [], servers: [], failureClass: 'nxdomain' },
        }),
      ),
    ).toBe(false)
    expect(isPressureSensitive(result({ startedAt: at, error: 'http_status', errorCode: 10, httpStatus: 503 }))).toBe(
      false,
    )
    expect(isPressureSensitive(result({ startedAt: at, error: 'tls', errorCode: 3 }))).toBe(false)
    expect(isPressureSensitive(result({ startedAt: at, error: 'keyword', errorCode: 5 }))).toBe(false)
  })
})

describe('PressureJudge', () => {
  it('without pressure, no failure is suspect', () => {
    const { judge, clock, timeoutStartedNow } = setup()
    const check = timeoutStartedNow()
    clock.advance(2_000)
    expect(judge.suspect(check)).toBeNull()
    expect(judge.status()).toMatchObject({ state: 'green', signals: [], since: null, suppressed: 0 })
  })

  it('a timeout while the event loop is late is suspect; an HTTP error at the same moment is not', () => {
    const { judge, clock, world, suppressed, timeoutStartedNow } = setup()
    const check = timeoutStartedNow()
    clock.advance(2_000)
    world.eventLoopDelayMs = 1_500
    expect(judge.suspect(check)).toEqual(['event_loop_delay'])
    expect(
      judge.suspect(result({ startedAt: check.startedAt, error: 'http_status', errorCode: 10, httpStatus: 500 })),
    ).toBeNull()
    expect(judge.suspect(result({ startedAt: check.startedAt, ok: true, error: null, errorCode: 0 }))).toBeNull()
    expect(suppressed).toEqual([['event_loop_delay']])
    expect(judge.status()).toMatchObject({
      state: 'amber',
      signals: ['event_loop_delay'],
      since: clock.now(),
      suppressed: 1,
      bounds: { dispatchLagMs: 5_000, eventLoopDelayMs: 500, inFlightAtCap: true },
    })
  })

  it('pressure that ended after a check started still makes it suspect; a check started after the end is judged', () => {
    const { judge, clock, world, timeoutStartedNow } = setup()
    const during = timeoutStartedNow()
    clock.advance(500)
    world.inFlight = 100
    judge.sample()
    expect(judge.pressured).toBe(true)
    const pressureBegan = clock.now()
    clock.advance(1_000)
    world.inFlight = 40
    judge.sample()
    expect(judge.status()).toMatchObject({ state: 'green', since: null, lastEndedAt: clock.now() })
    const endedAt = clock.now()
    clock.advance(1_000)
    // Started before the end, judged after it: the pressure overlapped the check.
    expect(judge.suspect(during)).toEqual(['in_flight'])
    // Started after the end: a real answer.
    const after = result({ startedAt: new Date(endedAt.getTime() + 1).toISOString() })
    clock.advance(2_000)
    expect(judge.suspect(after)).toBeNull()
    expect(pressureBegan.getTime()).toBeLessThan(endedAt.getTime())
    expect(judge.suppressed).toBe(1)
  })

  it('dispatch lag is the p95 of the recent window, and pressure from it ends once the window has moved on', () => {
    const { judge, clock } = setup({ dispatchLagMs: 1_000, eventLoopDelayMs: 0 })
    for (let i = 0; i < 20; i++) judge.dispatched(3_000)
    expect(judge.sample()).toMatchObject({
      state: 'amber',
      signals: ['dispatch_lag'],
      reading: { dispatchLagMs: 3_000 },
    })
    // One late check among many on time is not pressure.
    clock.advance(2_000)
    for (let i = 0; i < 99; i++) judge.dispatched(10)
    judge.dispatched(3_000)
    expect(judge.sample()).toMatchObject({ state: 'green', signals: [] })
  })

  it('a reading of the event loop counts once: the next calm one ends the pressure', () => {
    const { judge, clock, world, timeoutStartedNow } = setup()
    world.eventLoopDelayMs = 2_000
    expect(judge.sample().state).toBe('amber')
    world.eventLoopDelayMs = 4
    clock.advance(100)
    expect(judge.sample().state).toBe('green')
    const later = timeoutStartedNow()
    clock.advance(2_000)
    expect(judge.suspect(later)).toBeNull()
  })

  it('reads its bounds on every reading, so that a reload applies', () => {
    let bounds: PressureBounds = { dispatchLagMs: 0, eventLoopDelayMs: 500 }
    const judge = new PressureJudge({
      bounds: () => bounds,
      read: () => ({ eventLoopDelayMs: 800, inFlight: 0, maxInFlight: 10 }),
    })
    expect(judge.sample().state).toBe('amber')
    bounds = { dispatchLagMs: 0, eventLoopDelayMs: 1_000 }
    expect(judge.sample().state).toBe('green')
  })
})

describe('judgedCheck', () => {
  it('hands a suspect failure on as monitor_error with what the check saw, and the rest unchanged', async () => {
    const { judge, clock, world } = setup()
    const startedAt = clock.now().toISOString()
    const answers: CheckResult[] = [
      result({ startedAt }),
      result({
        startedAt,
        error: 'http_status',
        errorCode: 10,
        httpStatus: 502,
        detail: 'the server answered HTTP 502',
      }),
    ]
    const check = judgedCheck(async () => answers.shift()!, judge)
    clock.advance(2_000)
    world.eventLoopDelayMs = 3_000
    const judged = await check({ url: 'https://example.test/' })
    expect(judged).toMatchObject({
      ok: false,
      error: 'monitor_error',
      errorCode: 99,
      timings: { totalMs: 2_000 },
      detail:
        'no verdict: this monitor was under pressure (event_loop_delay) when the check failed (timeout: no answer within 2000 ms)',
    })
    expect(await check({ url: 'https://example.test/' })).toMatchObject({ error: 'http_status', httpStatus: 502 })
    expect(noVerdict(result({ startedAt, detail: 'x'.repeat(600) }), ['in_flight']).detail).toHaveLength(512)
  })
})
