import type { CheckRecorder } from '@jetmon/history'
import type { ConfirmationPipeline, WpcomNotifier } from '@jetmon/monitor'
import type { Scheduler } from '@jetmon/scheduler'
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client'

/** What the gauges read when scraped: the parts that are running so far (none before start). */
export interface MetricSources {
  scheduler?: Scheduler | undefined
  pipeline?: ConfirmationPipeline | undefined
  notifier?: WpcomNotifier | undefined
  recorder?: CheckRecorder | undefined
}

/** The counters and histograms the check and confirmation paths feed. */
export interface MonitorMetrics {
  checks: Counter<'result' | 'method' | 'profile'>
  checkSeconds: Histogram
  veriflierSeconds: Histogram
  veriflierErrors: Counter<'veriflier'>
}

/**
 * Registers a monitor's metrics on `registry`: process metrics, gauges read from `sources()` at
 * scrape time (scheduler, confirmation outcomes, WordPress.com notices, history writes), and the
 * counters returned for the check path to feed.
 */
export function registerMonitorMetrics(registry: Registry, sources: () => MetricSources): MonitorMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'jetmon_process_' })
  new Gauge({
    name: 'jetmon_scheduler_endpoints',
    help: 'Endpoints scheduled on this host',
    registers: [registry],
    collect() {
      this.set(sources().scheduler?.stats().endpoints ?? 0)
    },
  })
  new Gauge({
    name: 'jetmon_scheduler_in_flight',
    help: 'Checks in flight',
    registers: [registry],
    collect() {
      this.set(sources().scheduler?.stats().inFlight ?? 0)
    },
  })
  new Gauge({
    name: 'jetmon_scheduler_max_in_flight',
    help: 'The in-flight bound (MAX_IN_FLIGHT, or its auto-sized value)',
    registers: [registry],
    collect() {
      this.set(sources().scheduler?.stats().maxInFlight ?? 0)
    },
  })
  new Gauge({
    name: 'jetmon_scheduler_due_backlog',
    help: 'Endpoints due but not started yet (queue depth)',
    registers: [registry],
    collect() {
      this.set(sources().scheduler?.stats().dueBacklog ?? 0)
    },
  })
  new Gauge({
    name: 'jetmon_scheduler_lag_seconds',
    help: 'Dispatch lag over the recent window',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const lag = sources().scheduler?.stats().lagMs
      if (!lag) return
      this.set({ quantile: '0.5' }, lag.p50 / 1000)
      this.set({ quantile: '0.95' }, lag.p95 / 1000)
      this.set({ quantile: '0.99' }, lag.p99 / 1000)
    },
  })
  new Gauge({
    name: 'jetmon_confirmation_outcomes',
    help: 'Confirmation outcomes since start',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = sources().pipeline?.stats
      if (!stats) return
      this.set({ outcome: 'opened' }, stats.opened)
      this.set({ outcome: 'confirmed' }, stats.confirmed)
      this.set({ outcome: 'false_alarm' }, stats.falseAlarms)
      this.set({ outcome: 'inconclusive' }, stats.inconclusive)
      this.set({ outcome: 'recovered' }, stats.recovered)
      this.set({ outcome: 'maintenance_swallowed' }, stats.swallowed)
    },
  })
  new Counter({
    name: 'jetmon_still_down_checks_total',
    help: 'Failed checks of endpoints already confirmed Down (no new confirmation round, no new notice)',
    registers: [registry],
    collect() {
      // The pipeline counts; the counter shows its total (reset first: a collect sets, never adds twice).
      const stillDown = sources().pipeline?.stats.stillDown ?? 0
      this.reset()
      if (stillDown > 0) this.inc(stillDown)
    },
  })
  new Gauge({
    name: 'jetmon_wpcom_notices',
    help: 'WordPress.com notices by outcome since start, the outbox backlog (queued, fleet-wide) and the breaker state (1 = open)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = sources().notifier?.stats()
      if (!stats) return
      this.set({ outcome: 'sent' }, stats.sent)
      this.set({ outcome: 'failed' }, stats.failed)
      this.set({ outcome: 'permanent' }, stats.permanent)
      this.set({ outcome: 'retried' }, stats.retries)
      this.set({ outcome: 'suppressed' }, stats.suppressed)
      this.set({ outcome: 'dropped' }, stats.dropped)
      this.set({ outcome: 'queued' }, stats.queued)
      this.set({ outcome: 'breaker_open' }, stats.breaker === 'open' ? 1 : 0)
    },
  })
  new Gauge({
    name: 'jetmon_db_write_statements',
    help: 'Statements written by the history writer since start',
    registers: [registry],
    collect() {
      this.set(sources().recorder?.stats().statements ?? 0)
    },
  })
  return {
    checks: new Counter({
      name: 'jetmon_checks_total',
      help: 'Checks by result, request method and detection profile',
      labelNames: ['result', 'method', 'profile'],
      registers: [registry],
    }),
    checkSeconds: new Histogram({
      name: 'jetmon_check_duration_seconds',
      help: 'Duration of a check',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    veriflierSeconds: new Histogram({
      name: 'jetmon_veriflier_round_seconds',
      help: 'Duration of a veriflier round',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
    veriflierErrors: new Counter({
      name: 'jetmon_veriflier_errors_total',
      help: 'Veriflier answers that were errors',
      labelNames: ['veriflier'],
      registers: [registry],
    }),
  }
}
