import { performance } from 'node:perf_hooks'
import { type Logger, noopLogger, systemTimers, type Timers } from '@jetmon/vocabulary'
import { type DigestDeliver, sendWeeklyDigests } from './digest.js'
import { type EvaluationRun, type EvaluatorContext, runEvaluation } from './evaluator.js'
import { utcDay } from './snapshots.js'

const MINUTE_MS = 60_000

/** Options of {@link ObjectiveEvaluator}. */
export interface ObjectiveEvaluatorOptions {
  ctx: EvaluatorContext
  /** Who claims each minute (the host id). */
  holder: string
  /** How long a claimed minute stays with a holder that does not finish (default 5 minutes). */
  leaseMs?: number
  /** Delay after each minute's start before claiming it (default 5 s: lets checks of that instant land). */
  offsetMs?: number
  timers?: Timers
  /** Called after each run, claimed or not, with how long it took (metrics, tests). */
  onRun?: (run: EvaluationRun, durationMs: number) => void
  /** Called when a run fails (it is logged, and the next minute tries again). */
  onFailure?: (error: unknown) => void
  /**
   * Sends the weekly objective digests (see `sendWeeklyDigests`) after each minute this process
   * claimed; without it no digest is sent.
   */
  deliverDigest?: DigestDeliver
}

/**
 * Runs {@link runEvaluation} once a minute, a few seconds into each UTC minute. Every process of
 * the fleet may run one: the lease gives each minute to one of them. A run that fails is logged and
 * the next minute tries again.
 */
export class ObjectiveEvaluator {
  private readonly options: ObjectiveEvaluatorOptions
  private readonly timers: Timers
  private readonly logger: Logger
  private handle: unknown = null
  private running: Promise<void> | null = null
  private stopped = true
  private failures = 0
  /** The UTC day up to whose eve this process saw every objective counted: no snapshot pass needed until the next day. */
  private countedOn: string | null = null

  constructor(options: ObjectiveEvaluatorOptions) {
    this.options = options
    this.timers = options.timers ?? systemTimers
    this.logger = options.ctx.logger ?? noopLogger
  }

  /** Starts the loop (idempotent): the first run is at the next minute's offset. */
  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule()
  }

  /** Stops the loop after the run in progress, if any, has finished. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.handle !== null) this.timers.clearTimeout(this.handle)
    this.handle = null
    await this.running
  }

  /** Runs once now (the loop does this every minute). */
  async runOnce(): Promise<EvaluationRun | null> {
    const { ctx, holder } = this.options
    const started = performance.now()
    try {
      const today = utcDay((ctx.clock ?? (() => new Date()))())
      const run = await runEvaluation({
        ctx,
        holder,
        ...(this.options.leaseMs !== undefined ? { leaseMs: this.options.leaseMs } : {}),
        // Once a day is counted for every objective (by this process), the next pass is due tomorrow.
        snapshots: this.countedOn !== today,
      })
      if (run.claimed && run.snapshots?.complete) this.countedOn = utcDay(run.minute)
      if (this.failures > 0) this.logger.info({ failures: this.failures }, 'objective evaluation works again')
      this.failures = 0
      if (run.claimed) {
        const { evaluation: e, snapshots: s } = run
        const written = s?.written ?? 0
        const level =
          e.opened + e.changed + e.closed + written + e.failedSites + (s?.failed ?? 0) > 0 ? 'info' : 'debug'
        this.logger[level](
          {
            minute: run.minute.toISOString(),
            objectives: e.objectives,
            opened: e.opened,
            changed: e.changed,
            closed: e.closed,
            failedSites: e.failedSites,
            snapshots: written,
          },
          'objectives evaluated',
        )
      }
      this.options.onRun?.(run, performance.now() - started)
      if (run.claimed && this.options.deliverDigest) await this.sendDigests(this.options.deliverDigest)
      return run
    } catch (error) {
      this.options.onFailure?.(error)
      if (this.failures++ === 0) {
        this.logger.warn({ err: error }, 'objective evaluation failed; it is tried again every minute')
      }
      return null
    }
  }

  private async sendDigests(deliver: DigestDeliver): Promise<void> {
    try {
      const report = await sendWeeklyDigests({ ctx: this.options.ctx, deliver })
      if (report.claimed > 0) this.logger.info(report, 'weekly objective digests sent')
    } catch (error) {
      this.logger.warn({ err: error }, 'weekly objective digests failed; they are tried again next minute')
    }
  }

  private schedule(): void {
    if (this.stopped) return
    const clock = this.options.ctx.clock ?? (() => new Date())
    const now = clock().getTime()
    const offset = this.options.offsetMs ?? 5_000
    let next = Math.floor(now / MINUTE_MS) * MINUTE_MS + offset
    if (next <= now) next += MINUTE_MS
    this.handle = this.timers.setTimeout(() => {
      this.handle = null
      this.running = this.runOnce().then(() => {
        this.running = null
        this.schedule()
      })
    }, next - now)
  }
}
