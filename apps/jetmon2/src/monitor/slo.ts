import { ObjectiveEvaluator } from '@jetmon/slo'
import type { MonitorPartDeps } from './checking.js'
import type { Running } from './running.js'

/**
 * The service level objective evaluator: every monitor host runs one, and the lease in the database
 * gives each minute to exactly one of them (see @jetmon/slo). Its alerts are events written as
 * `slo:<host>`; its daily snapshots and streaks follow each evaluation.
 */
export function startObjectiveEvaluator(deps: MonitorPartDeps): Running & { evaluator: ObjectiveEvaluator } {
  const host = deps.config().HOST_ID
  const evaluator = new ObjectiveEvaluator({
    ctx: { db: deps.db, source: `slo:${host}`, logger: deps.logger.child({ module: 'slo' }) },
    holder: host,
  })
  evaluator.start()
  return { name: 'objective evaluator', evaluator, stop: () => evaluator.stop() }
}
