/**
 * The monitor's own pressure (docs/adr/0013-monitor-pressure-gives-no-verdict.md): the event
 * loop's delay, the scheduler's dispatch lag and checks in flight, judged against
 * PRESSURE_LAG_MS, PRESSURE_EVENT_LOOP_DELAY_MS and PRESSURE_IN_FLIGHT_AT_CAP (read on every
 * reading, so that a reload applies), with its metrics, log lines and `/readyz` section.
 */
import type { Logger } from '@jetmon/logging'
import { EventLoopDelay, PRESSURE_SIGNALS, PressureJudge, type PressureStatus } from '@jetmon/monitor'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Jetmon2Config } from '../config.js'
import type { Running } from './running.js'

/** How often the event loop's heartbeat runs and the judge takes a reading. */
const BEAT_EVERY_MS = 100

/** The checking loop's in-flight limiter, once it runs. */
export interface InFlightSource {
  readonly inFlight: number
  readonly maxInFlight: number
}

export interface MonitorPressure extends Running {
  judge: PressureJudge
  /** Gives the judge the scheduler whose checks in flight it watches. */
  watch(scheduler: InFlightSource): void
  /** `/readyz`'s line: `none`, or the signals with their readings and bounds. */
  describe(): string
}

/** The bounds the configuration sets (0 turns a signal off). */
export function pressureBounds(config: Jetmon2Config) {
  return {
    dispatchLagMs: config.PRESSURE_LAG_MS,
    eventLoopDelayMs: config.PRESSURE_EVENT_LOOP_DELAY_MS,
    inFlightAtCap: config.PRESSURE_IN_FLIGHT_AT_CAP,
  }
}

/** `event_loop_delay 1200 ms > 500 ms, in_flight 64/64`, for a person. */
export function describePressure(status: PressureStatus): string {
  if (status.state === 'green') return 'none'
  const { reading, bounds } = status
  return status.signals
    .map((signal) => {
      if (signal === 'dispatch_lag') return `dispatch_lag p95 ${reading.dispatchLagMs} ms > ${bounds.dispatchLagMs} ms`
      if (signal === 'event_loop_delay')
        return `event_loop_delay ${reading.eventLoopDelayMs} ms > ${bounds.eventLoopDelayMs} ms`
      return `in_flight ${reading.inFlight}/${reading.maxInFlight}`
    })
    .join(', ')
}

/**
 * Starts measuring the event loop and judging the pressure every {@link BEAT_EVERY_MS}; registers
 * `jetmon_pressure_suppressed_total`, `jetmon_pressure{signal}` and
 * `jetmon_event_loop_delay_seconds`. Logs when pressure begins and ends.
 */
export function startPressure(deps: {
  config: () => Jetmon2Config
  registry: Registry
  logger: Pick<Logger, 'info' | 'warn'>
}): MonitorPressure {
  const log = deps.logger
  let scheduler: InFlightSource | undefined
  const suppressedTotal = new Counter({
    name: 'jetmon_pressure_suppressed_total',
    help: 'Timeouts and connect failures given no verdict because this monitor was under pressure when it saw them',
    registers: [deps.registry],
  })
  const eventLoop = new EventLoopDelay({ beatEveryMs: BEAT_EVERY_MS, onBeat: () => beat() })
  const judge = new PressureJudge({
    bounds: () => pressureBounds(deps.config()),
    read: () => ({
      eventLoopDelayMs: eventLoop.read(),
      inFlight: scheduler?.inFlight ?? 0,
      maxInFlight: scheduler?.maxInFlight ?? 0,
    }),
    onSuppressed: () => suppressedTotal.inc(),
  })
  new Gauge({
    name: 'jetmon_pressure',
    help: 'Whether this monitor is under pressure (1), by signal: its timeouts and connect failures give no verdict meanwhile',
    labelNames: ['signal'],
    registers: [deps.registry],
    collect() {
      const signals = judge.status().signals
      for (const signal of PRESSURE_SIGNALS) this.set({ signal }, signals.includes(signal) ? 1 : 0)
    },
  })
  new Gauge({
    name: 'jetmon_event_loop_delay_seconds',
    help: 'The worst event-loop delay of the latest pressure reading',
    registers: [deps.registry],
    collect() {
      this.set(judge.status().reading.eventLoopDelayMs / 1000)
    },
  })

  let wasPressured = false
  const beat = () => {
    const status = judge.sample()
    const pressured = status.state === 'amber'
    if (pressured && !wasPressured) {
      log.warn(
        { pressure: describePressure(status) },
        'this monitor is under pressure: timeouts and connect failures it sees give no verdict until it ends',
      )
    } else if (!pressured && wasPressured) {
      log.info({ suppressed: status.suppressed }, 'the monitor is no longer under pressure')
    }
    wasPressured = pressured
  }
  eventLoop.start()
  return {
    name: 'pressure',
    judge,
    watch(next) {
      scheduler = next
    },
    describe: () => describePressure(judge.status()),
    stop: async () => eventLoop.stop(),
  }
}
