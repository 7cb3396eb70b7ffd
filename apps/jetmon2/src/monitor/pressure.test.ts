import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CheckResult } from '@jetmon/checker'
import { recordingLogger, waitFor } from '@jetmon/testkit'
import { Registry } from 'prom-client'
import { afterAll, expect, it } from 'vitest'
import { type Jetmon2Config, loadJetmon2Config } from '../config.js'
import { describePressure, type MonitorPressure, startPressure } from './pressure.js'

const dir = mkdtempSync(join(tmpdir(), 'jetmon2-pressure-'))
const running: MonitorPressure[] = []
afterAll(async () => {
  for (const pressure of running) await pressure.stop(() => 1_000)
  rmSync(dir, { recursive: true, force: true })
})

function config(env: Record<string, string>): Jetmon2Config {
  const file = join(dir, 'config.json')
  writeFileSync(file, '{}')
  const loaded = loadJetmon2Config({ file, env })
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues))
  return loaded.config
}

function busyWait(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // blocking the event loop on purpose
  }
}

it('a blocked event loop puts the monitor under pressure: a timeout gives no verdict, is counted, logged and described', async () => {
  const registry = new Registry()
  const logger = recordingLogger()
  const pressure = startPressure({
    config: () => config({ PRESSURE_EVENT_LOOP_DELAY_MS: '100', PRESSURE_LAG_MS: '0' }),
    registry,
    logger,
  })
  running.push(pressure)
  pressure.watch({ inFlight: 1, maxInFlight: 10 })
  const startedAt = new Date().toISOString()
  busyWait(400)
  const timeout = {
    url: 'http://example.test/',
    ok: false,
    error: 'timeout',
    errorCode: 1,
    startedAt,
    detail: 'no answer within 300 ms',
  } as CheckResult
  expect(pressure.judge.suspect(timeout)).toEqual(['event_loop_delay'])
  expect(pressure.describe()).toMatch(/^event_loop_delay \d+ ms > 100 ms$/)
  const metrics = await registry.metrics()
  expect(metrics).toMatch(/^jetmon_pressure_suppressed_total 1$/m)
  expect(metrics).toMatch(/^jetmon_pressure\{signal="event_loop_delay"\} 1$/m)
  expect(metrics).toMatch(/^jetmon_pressure\{signal="in_flight"\} 0$/m)
  // The next beats find the loop calm again: the pressure ends, and the log says both.
  await waitFor('the end of the pressure', () =>
    logger.messages('info').includes('the monitor is no longer under pressure'),
  )
  expect(logger.messages('warn')).toEqual([
    'this monitor is under pressure: timeouts and connect failures it sees give no verdict until it ends',
  ])
  expect(pressure.describe()).toBe('none')
  expect(pressure.judge.status()).toMatchObject({ state: 'green', suppressed: 1 })
})

it('describes each signal with its reading and bound', () => {
  const bounds = { dispatchLagMs: 1_000, eventLoopDelayMs: 200, inFlightAtCap: true }
  const reading = { dispatchLagMs: 4_000, eventLoopDelayMs: 900, inFlight: 8, maxInFlight: 8 }
  const status = {
    state: 'amber' as const,
    signals: ['dispatch_lag' as const, 'event_loop_delay' as const, 'in_flight' as const],
    since: new Date(),
    lastEndedAt: null,
    reading,
    bounds,
    suppressed: 0,
  }
  expect(describePressure(status)).toBe(
    'dispatch_lag p95 4000 ms > 1000 ms, event_loop_delay 900 ms > 200 ms, in_flight 8/8',
  )
  expect(describePressure({ ...status, state: 'green', signals: [] })).toBe('none')
})
