import { openDestination } from '@jetmon/alerting'
import { type DigestDeliver, ObjectiveEvaluator } from '@jetmon/slo'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { MonitorPartDeps } from './checking.js'
import type { Alerting } from './delivery.js'
import type { Running } from './running.js'

/**
 * The service level objective evaluator: every monitor host runs one, and the lease in the database
 * gives each minute to exactly one of them (see @jetmon/slo). Its alerts are events written as
 * `slo:<host>`; its daily snapshots and streaks follow each evaluation. Its metrics say what this
 * host did: a fleet evaluates once a minute when the `evaluated` counters of all hosts add up to one
 * a minute. With `alerting`, the host that evaluates a minute also sends the weekly objective
 * digests due (each contact's once a week) through the contacts' transports.
 */
export function startObjectiveEvaluator(
  deps: MonitorPartDeps & { registry: Registry; clock?: () => Date; alerting?: Alerting },
): Running & { evaluator: ObjectiveEvaluator } {
  const host = deps.config().HOST_ID
  const registers = [deps.registry]
  const runs = new Counter({
    name: 'jetmon_slo_evaluations_total',
    help: 'Minutes of objective evaluation on this host: evaluated, skipped (another host had the minute) or failed',
    labelNames: ['outcome'] as const,
    registers,
  })
  const seconds = new Gauge({
    name: 'jetmon_slo_evaluation_seconds',
    help: 'How long the last objective evaluation of this host took, snapshots included',
    registers,
  })
  const objectives = new Gauge({
    name: 'jetmon_slo_objectives',
    help: 'Active objectives at the last evaluation of this host',
    registers,
  })
  const changes = new Counter({
    name: 'jetmon_slo_alert_changes_total',
    help: 'Objective alerts (slo_burn, slo_budget) this host opened, changed or closed',
    labelNames: ['change'] as const,
    registers,
  })
  const snapshots = new Counter({
    name: 'jetmon_slo_snapshots_total',
    help: 'Daily objective snapshots this host wrote',
    registers,
  })
  const failedSites = new Counter({
    name: 'jetmon_slo_failed_sites_total',
    help: 'Sites whose objectives could not be evaluated in a minute (tried again the next minute)',
    registers,
  })
  const evaluator = new ObjectiveEvaluator({
    ctx: {
      db: deps.db,
      source: `slo:${host}`,
      logger: deps.logger.child({ module: 'slo' }),
      ...(deps.clock ? { clock: deps.clock } : {}),
    },
    holder: host,
    onRun: (run, durationMs) => {
      if (!run.claimed) {
        runs.inc({ outcome: 'skipped' })
        return
      }
      runs.inc({ outcome: 'evaluated' })
      seconds.set(durationMs / 1000)
      objectives.set(run.evaluation.objectives)
      changes.inc({ change: 'opened' }, run.evaluation.opened)
      changes.inc({ change: 'changed' }, run.evaluation.changed)
      changes.inc({ change: 'closed' }, run.evaluation.closed)
      snapshots.inc(run.snapshots?.written ?? 0)
      failedSites.inc(run.evaluation.failedSites)
    },
    onFailure: () => runs.inc({ outcome: 'failed' }),
    ...(deps.alerting ? { deliverDigest: digestSender(deps.alerting) } : {}),
  })
  evaluator.start()
  return { name: 'objective evaluator', evaluator, stop: () => evaluator.stop() }
}

/** Sends a digest through the contact's transport, its destination opened with SECRETS_KEY. */
export function digestSender(alerting: Alerting): DigestDeliver {
  return async (contact, digest) => {
    let destination: unknown
    try {
      destination = openDestination(contact.destination, alerting.secretsKey)
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) }
    }
    return alerting.alertSender.send({ transport: contact.transport, destination, notification: digest })
  }
}
