/**
 * Monitor-side pressure: whether this monitor is too overloaded for its own timeouts and connect
 * failures to say anything about the sites it checks. Three signals, each against a bound:
 *
 * - `dispatch_lag`: the p95 of the recent dispatch lags (a check started this long after it was due);
 * - `event_loop_delay`: how late the process's event loop ran lately (a blocked or starved loop
 *   fires every check's deadline before the answers that arrived meanwhile are read);
 * - `in_flight`: the checks in flight are at their cap.
 *
 * A failure that is a timeout, a connect failure or a resolver timeout is *suspect* when pressure
 * held at any time between the check's start and its judgement: it is given no verdict — it becomes
 * the monitor's own trouble (`monitor_error`), which opens no incident, and the endpoint's next
 * scheduled check decides (see docs/adr/0013-monitor-pressure-gives-no-verdict.md). The judge is
 * pure: readings come from the caller, time from its clock.
 */
import { type CheckRequest, type CheckResult, ERROR_CODES } from '@jetmon/checker'
import { LagWindow } from '@jetmon/scheduler'

/** One reason the monitor is under pressure. */
export type PressureSignal = 'dispatch_lag' | 'event_loop_delay' | 'in_flight'

/** The signals in the order they are reported. */
export const PRESSURE_SIGNALS: readonly PressureSignal[] = ['dispatch_lag', 'event_loop_delay', 'in_flight']

/** The configured bounds; a bound of 0 turns its signal off. */
export interface PressureBounds {
  /** `PRESSURE_LAG_MS`: dispatch lag p95 above this (ms) is pressure. */
  dispatchLagMs: number
  /** `PRESSURE_EVENT_LOOP_DELAY_MS`: an event-loop delay above this (ms) is pressure. */
  eventLoopDelayMs: number
  /** Checks in flight at their cap is pressure (default true). */
  inFlightAtCap?: boolean
}

/** What the monitor looks like at one moment. */
export interface PressureReading {
  /** Dispatch lag p95 over the recent window, in ms. */
  dispatchLagMs: number
  /** The worst event-loop delay since the previous reading, in ms. */
  eventLoopDelayMs: number
  inFlight: number
  maxInFlight: number
}

/** The signals `reading` raises against `bounds`, in {@link PRESSURE_SIGNALS} order. */
export function pressureSignals(reading: PressureReading, bounds: PressureBounds): PressureSignal[] {
  const signals: PressureSignal[] = []
  if (bounds.dispatchLagMs > 0 && reading.dispatchLagMs > bounds.dispatchLagMs) signals.push('dispatch_lag')
  if (bounds.eventLoopDelayMs > 0 && reading.eventLoopDelayMs > bounds.eventLoopDelayMs)
    signals.push('event_loop_delay')
  if ((bounds.inFlightAtCap ?? true) && reading.maxInFlight > 0 && reading.inFlight >= reading.maxInFlight)
    signals.push('in_flight')
  return signals
}

/**
 * Whether a failed check is of the kind the monitor's own pressure can cause: its deadline expired
 * (`timeout`), the connection could not be made (`connect`), or the resolver did not answer in time.
 * An HTTP status, a TLS verdict, a keyword or a refused name are answers from the site and stay
 * what they are under any load.
 */
export function isPressureSensitive(result: Pick<CheckResult, 'error' | 'dns'>): boolean {
  if (result.error === 'timeout' || result.error === 'connect') return true
  return result.error === 'dns' && result.dns?.failureClass === 'timeout'
}

/** The pressure as `/readyz`, the health row and the metrics show it. */
export interface PressureStatus {
  /** `amber`: under pressure (still ready, but failures it sees give no verdict); `green` otherwise. */
  state: 'green' | 'amber'
  /** The signals raised by the latest reading (empty when green). */
  signals: PressureSignal[]
  /** When the current pressure began (null when green). */
  since: Date | null
  /** When the latest pressure ended (null if never, or still under pressure). */
  lastEndedAt: Date | null
  reading: PressureReading
  bounds: Required<PressureBounds>
  /** Failures given no verdict since start. */
  suppressed: number
}

export interface PressureJudgeOptions {
  /** Read on every reading, so that a reload applies. */
  bounds: () => PressureBounds
  /** The parts of a reading only the caller knows: checks in flight, their cap, the event loop's delay. */
  read: () => Pick<PressureReading, 'inFlight' | 'maxInFlight' | 'eventLoopDelayMs'>
  /** Default: the system clock. */
  clock?: () => Date
  /** Dispatch lag percentiles cover the last one to two windows of this length (default 10 000 ms). */
  lagWindowMs?: number
  /** Called for every failure given no verdict (a metric counts it). */
  onSuppressed?: (signals: readonly PressureSignal[], result: CheckResult) => void
}

/**
 * Keeps the monitor's pressure over time: the caller records dispatch lags ({@link dispatched}),
 * takes a reading every few hundred milliseconds ({@link sample}), and asks about every failed
 * check ({@link suspect}), which takes a fresh reading first. A failure is suspect when the
 * pressure overlapped its check: pressure now, or pressure that ended after the check started.
 */
export class PressureJudge {
  readonly #options: PressureJudgeOptions
  readonly #clock: () => Date
  readonly #lag: LagWindow
  #signals: PressureSignal[] = []
  #since: number | null = null
  #lastEndedAt: number | null = null
  #lastSignals: PressureSignal[] = []
  #reading: PressureReading = { dispatchLagMs: 0, eventLoopDelayMs: 0, inFlight: 0, maxInFlight: 0 }
  #suppressed = 0

  constructor(options: PressureJudgeOptions) {
    this.#options = options
    this.#clock = options.clock ?? (() => new Date())
    this.#lag = new LagWindow(options.lagWindowMs ?? 10_000)
  }

  /** Records one dispatch: the check started `lagMs` after it was due. */
  dispatched(lagMs: number): void {
    this.#lag.record(lagMs, this.#clock().getTime())
  }

  /** Takes a reading now and moves the pressure on: it begins, goes on, or ends. */
  sample(): PressureStatus {
    const now = this.#clock().getTime()
    const read = this.#options.read()
    this.#reading = { dispatchLagMs: this.#lag.summary(now).p95, ...read }
    const signals = pressureSignals(this.#reading, this.#options.bounds())
    if (signals.length > 0) {
      if (this.#since === null) this.#since = now
      this.#signals = signals
      this.#lastSignals = signals
    } else if (this.#since !== null) {
      this.#since = null
      this.#signals = []
      this.#lastEndedAt = now
    }
    return this.status()
  }

  /**
   * Whether the monitor's own pressure makes this failed check suspect: the signals that did, or
   * null. A suspect failure is counted (and `onSuppressed` told); the caller gives it no verdict.
   */
  suspect(result: CheckResult): readonly PressureSignal[] | null {
    if (result.ok || !isPressureSensitive(result)) return null
    this.sample()
    const startedAt = Date.parse(result.startedAt)
    let signals: PressureSignal[] | null = null
    if (this.#since !== null) signals = this.#signals
    else if (this.#lastEndedAt !== null && this.#lastEndedAt > startedAt) signals = this.#lastSignals
    if (signals === null) return null
    this.#suppressed++
    this.#options.onSuppressed?.(signals, result)
    return signals
  }

  /** Under pressure now (as of the latest reading). */
  get pressured(): boolean {
    return this.#since !== null
  }

  /** Failures given no verdict since start. */
  get suppressed(): number {
    return this.#suppressed
  }

  /** The pressure as of the latest reading. */
  status(): PressureStatus {
    const bounds = this.#options.bounds()
    return {
      state: this.#since === null ? 'green' : 'amber',
      signals: [...this.#signals],
      since: this.#since === null ? null : new Date(this.#since),
      lastEndedAt: this.#lastEndedAt === null || this.#since !== null ? null : new Date(this.#lastEndedAt),
      reading: { ...this.#reading },
      bounds: { ...bounds, inFlightAtCap: bounds.inFlightAtCap ?? true },
      suppressed: this.#suppressed,
    }
  }
}

/**
 * A failure the monitor's pressure made suspect, as the pipeline is given it: `monitor_error` (our
 * own trouble, never an incident), with what the check saw kept in the detail and the timings.
 */
export function noVerdict(result: CheckResult, signals: readonly PressureSignal[]): CheckResult {
  const saw = `${result.error}${result.detail ? `: ${result.detail}` : ''}`
  return {
    ...result,
    ok: false,
    error: 'monitor_error',
    errorCode: ERROR_CODES.monitor_error,
    detail: `no verdict: this monitor was under pressure (${signals.join(', ')}) when the check failed (${saw})`.slice(
      0,
      512,
    ),
  }
}

/**
 * `check` with the judge's say on every failure: a suspect one comes back as {@link noVerdict}, so
 * that the confirmation pipeline (and trigger-now) open nothing on it.
 */
export function judgedCheck(
  check: (request: CheckRequest) => Promise<CheckResult>,
  judge: Pick<PressureJudge, 'suspect'>,
): (request: CheckRequest) => Promise<CheckResult> {
  return async (request) => {
    const result = await check(request)
    const signals = judge.suspect(result)
    return signals ? noVerdict(result, signals) : result
  }
}
