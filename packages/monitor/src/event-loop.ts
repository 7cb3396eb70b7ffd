import { type ELDHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks'

export interface EventLoopDelayOptions {
  /** How often the heartbeat runs (default 100 ms); each beat may call `onBeat`. */
  beatEveryMs?: number
  /** Called on every beat (the pressure judge takes its reading there). */
  onBeat?: () => void
}

/**
 * How late this process's event loop has run: the worst delay since the previous {@link read}.
 * Two measures, the larger wins: `perf_hooks.monitorEventLoopDelay`'s histogram, and a heartbeat
 * that notices how long it was kept from running (the histogram only records a stall once its own
 * timer has run again, which may be after the callbacks that the stall made late).
 */
export class EventLoopDelay {
  readonly #beatEveryMs: number
  readonly #onBeat: (() => void) | undefined
  readonly #histogram: ELDHistogram
  /** The histogram's sampling period: what it records on an idle loop, so not delay. */
  readonly #resolutionMs: number
  #lastBeat = performance.now()
  #worstStallMs = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: EventLoopDelayOptions = {}) {
    this.#beatEveryMs = options.beatEveryMs ?? 100
    this.#onBeat = options.onBeat
    this.#resolutionMs = Math.max(10, Math.min(50, Math.round(this.#beatEveryMs / 2)))
    this.#histogram = monitorEventLoopDelay({ resolution: this.#resolutionMs })
  }

  start(): void {
    if (this.#timer) return
    this.#histogram.enable()
    this.#lastBeat = performance.now()
    this.#timer = setInterval(() => this.#beat(), this.#beatEveryMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#histogram.disable()
  }

  /** The worst event-loop delay (ms) since the previous read; starts a new period. */
  read(): number {
    const stall = this.#stallNow()
    const histogramMs = this.#histogram.count > 0 ? this.#histogram.max / 1e6 - this.#resolutionMs : 0
    const worst = Math.max(this.#worstStallMs, stall, histogramMs)
    this.#histogram.reset()
    this.#worstStallMs = 0
    return Math.round(worst)
  }

  #stallNow(): number {
    return this.#timer ? Math.max(0, performance.now() - this.#lastBeat - this.#beatEveryMs) : 0
  }

  #beat(): void {
    this.#worstStallMs = Math.max(this.#worstStallMs, this.#stallNow())
    this.#lastBeat = performance.now()
    this.#onBeat?.()
  }
}
