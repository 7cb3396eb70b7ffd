/**
 * The evaluator: every minute, once for the whole fleet, the status of every active objective is
 * turned into its alerts, which are events of the objective's site (and endpoint) with the
 * objective's id as discriminator:
 *
 * - `slo_burn`: Warning while only ticket rules of its alert policy fire, Degraded while a page
 *   rule fires, closed with `burn_rate_subsided` when none fires;
 * - `slo_budget`: Warning below `budget_warn_percent` of the error budget left, Degraded below
 *   `budget_critical_percent` or once exhausted, closed with `budget_recovered` at or above
 *   `budget_warn_percent` again.
 *
 * The alerts go through the event store like every other event, so webhooks and alert contacts
 * receive them from the transitions with nothing of their own. They are never Seems Down or Down,
 * so no uptime figure and no objective counts them as downtime.
 */
import type { DbOrTx } from '@jetmon/db'
import {
  closeEvent,
  type Event,
  type EventStoreContext,
  listOpenEventsOfTypes,
  type Metadata,
  openEvent,
  promoteEvent,
} from '@jetmon/eventstore'
import { type Logger, noopLogger } from '@jetmon/vocabulary'
import { claimLease, EVALUATOR_LEASE, evaluationMinute, releaseLease } from './lease.js'
import { ALERT_SEVERITY_STATE, type BurnRule, ruleFields } from './objectives.js'
import { type SnapshotReport, snapshotFinishedDays } from './snapshots.js'
import { type ObjectiveStatus, objectiveStatuses } from './status.js'
import { listObjectives, type Objective } from './store.js'

/** The check type of an objective's burn-rate alert. */
export const SLO_BURN = 'slo_burn'
/** The check type of an objective's error-budget alert. */
export const SLO_BUDGET = 'slo_budget'

/** Objectives read per page. */
const PAGE = 500

/** What the evaluator needs: the pool (it runs transactions of its own), who it writes as, a clock. */
export interface EvaluatorContext {
  db: DbOrTx
  /** The source of the alerts' transitions, e.g. `slo:<host>`. */
  source: string
  clock?: () => Date
  logger?: Logger
}

/** What one evaluation did. */
export interface EvaluationReport {
  /** The instant the statuses were computed at. */
  at: Date
  objectives: number
  sites: number
  opened: number
  changed: number
  closed: number
  /** Sites whose objectives could not be evaluated (logged; tried again the next minute). */
  failedSites: number
}

/** 0 (no alert), 1 (Warning) or 2 (Degraded). */
type Level = 0 | 1 | 2

const stateOf = (level: 1 | 2) => (level === 2 ? 'Degraded' : 'Warning')

/** The level of the burn-rate alert: the most severe firing rule's. */
export function burnLevel(firing: readonly BurnRule[]): Level {
  let level: Level = 0
  for (const rule of firing) {
    const state = ALERT_SEVERITY_STATE[rule.severity]
    level = Math.max(level, state === 'Degraded' ? 2 : 1) as Level
  }
  return level
}

/** The level of the budget alert from the budget left and the objective's thresholds. */
export function budgetLevel(
  status: Pick<ObjectiveStatus, 'budgetRemainingPercent' | 'exhausted'>,
  objective: Pick<Objective, 'budgetWarnPercent' | 'budgetCriticalPercent'>,
): Level {
  if (status.exhausted || status.budgetRemainingPercent < objective.budgetCriticalPercent) return 2
  if (status.budgetRemainingPercent < objective.budgetWarnPercent) return 1
  return 0
}

const round = (value: number | null, digits = 2) => (value === null ? null : Number(value.toFixed(digits)))

function describeObjective(objective: Objective): string {
  const scope = objective.endpointId === null ? '' : ` (endpoint ${objective.endpointId})`
  return `"${objective.name}"${scope}: ${objective.sli} ${objective.target} % over ${objective.window}`
}

/** Why the burn-rate alert is at its level, in words for the alert's reader. */
function burnDetail(objective: Objective, status: ObjectiveStatus): string {
  const rules = status.firing.map(
    (rule) =>
      `${rule.severity} rule ${rule.long}/${rule.short} above ${rule.burnRate}×: ${round(status.burnRates[rule.long], 1)}× over ${rule.long}, ${round(status.burnRates[rule.short], 1)}× over ${rule.short}`,
  )
  if (rules.length === 0) return `${describeObjective(objective)}: no alert rule fires`
  return `${describeObjective(objective)} spends its error budget too fast (${rules.join('; ')})`
}

function budgetDetail(objective: Objective, status: ObjectiveStatus): string {
  const left = round(status.budgetRemainingPercent, 1)
  if (status.exhausted) return `${describeObjective(objective)}: the error budget is exhausted (${left} % left)`
  return `${describeObjective(objective)}: ${left} % of the error budget left (warning below ${objective.budgetWarnPercent} %, critical below ${objective.budgetCriticalPercent} %)`
}

/** What the alert event records of the objective and its status. */
function alertMetadata(objective: Objective, status: ObjectiveStatus): Metadata {
  return {
    objective_id: objective.id.toString(),
    objective_name: objective.name,
    sli: objective.sli,
    target: objective.target,
    window: objective.window,
    sli_percent: status.sliPercent,
    budget_remaining_percent: status.budgetRemainingPercent,
    exhausted: status.exhausted,
    burn_rates: status.burnRates,
    firing: status.firing.map(ruleFields),
  }
}

const keyOf = (checkType: string, discriminator: string | null) => `${checkType}:${discriminator ?? ''}`

function isGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'EVENT_CLOSED' || code === 'EVENT_NOT_FOUND'
}

/**
 * Evaluates every active objective at `now` (default: the clock) and opens, escalates,
 * de-escalates and closes their alerts to match; closes (`manual_override`) the open alerts of
 * objectives that are no longer active or have moved to another site or endpoint. A page of
 * objectives (500) is measured from one set of reads of all their sites' tables; a site that fails
 * is logged and counted, and the others go on. Call it through {@link runEvaluation} to do it once per fleet.
 */
export async function evaluateObjectives(input: { ctx: EvaluatorContext; now?: Date }): Promise<EvaluationReport> {
  const { ctx } = input
  const now = input.now ?? (ctx.clock ?? (() => new Date()))()
  const logger = ctx.logger ?? noopLogger
  const store: EventStoreContext = { db: ctx.db, source: ctx.source, clock: () => now, logger, projection: false }
  const report: EvaluationReport = {
    at: now,
    objectives: 0,
    sites: 0,
    opened: 0,
    changed: 0,
    closed: 0,
    failedSites: 0,
  }

  const open = new Map<string, Event>()
  for (const event of await listOpenEventsOfTypes({ ctx: { db: ctx.db }, checkTypes: [SLO_BURN, SLO_BUDGET] })) {
    open.set(keyOf(event.checkType, event.discriminator), event)
  }
  /** Keys of the open alerts whose objective is active where they are. */
  const kept = new Set<string>()
  /** Open alerts of objectives that moved. */
  const stale: Event[] = []

  /** Brings one alert to `level`; returns what it did. */
  const reconcile = async (
    objective: Objective,
    checkType: string,
    level: Level,
    closing: 'burn_rate_subsided' | 'budget_recovered',
    metadata: Metadata,
    detail: string,
  ) => {
    const key = keyOf(checkType, objective.id.toString())
    const current = open.get(key)
    const transitionMetadata = { error: checkType === SLO_BURN ? 'burn_rate' : 'error_budget', detail }
    try {
      if (level === 0) {
        if (current) {
          await closeEvent({ ctx: store, input: { eventId: current.id, reason: closing, transitionMetadata } })
          report.closed++
        }
        return
      }
      if (!current) {
        const result = await openEvent({
          ctx: store,
          input: {
            blogId: objective.blogId,
            endpointId: objective.endpointId,
            checkType,
            discriminator: objective.id.toString(),
            state: stateOf(level),
            severity: level,
            eventMetadata: metadata,
            transitionMetadata,
          },
        })
        if (result.opened) report.opened++
        else if (result.event.severity !== level) {
          await promoteEvent({
            ctx: store,
            input: { eventId: result.event.id, state: stateOf(level), severity: level, transitionMetadata },
          })
          report.changed++
        }
        return
      }
      if (current.severity !== level) {
        await promoteEvent({
          ctx: store,
          input: {
            eventId: current.id,
            state: stateOf(level),
            severity: level,
            eventMetadata: metadata,
            transitionMetadata,
          },
        })
        report.changed++
      }
    } catch (error) {
      // Closed by an operator meanwhile: the next minute opens it again if it still holds.
      if (!isGone(error)) throw error
    }
  }

  async function statusesOf(
    objectives: Objective[],
    bySite: Map<bigint, Objective[]>,
  ): Promise<{ objectives: Objective[]; statuses: ObjectiveStatus[] | null; error?: unknown }[]> {
    try {
      return [{ objectives, statuses: await objectiveStatuses({ ctx: { db: ctx.db }, objectives, now }) }]
    } catch {
      const out = []
      for (const site of bySite.values()) {
        try {
          out.push({
            objectives: site,
            statuses: await objectiveStatuses({ ctx: { db: ctx.db }, objectives: site, now }),
          })
        } catch (error) {
          out.push({ objectives: site, statuses: null, error })
        }
      }
      return out
    }
  }

  let after: bigint | null = null
  do {
    const page = await listObjectives({ ctx: { db: ctx.db }, tenantId: null, active: true, after, limit: PAGE })
    after = page.nextAfter
    const bySite = new Map<bigint, Objective[]>()
    for (const objective of page.objectives) {
      report.objectives++
      // Its alerts are this objective's as long as they are on its site and endpoint.
      for (const checkType of [SLO_BURN, SLO_BUDGET]) {
        const key = keyOf(checkType, objective.id.toString())
        const event = open.get(key)
        if (!event) continue
        if (event.blogId === objective.blogId && event.endpointId === objective.endpointId) kept.add(key)
        else {
          // The objective moved to another site or endpoint: this one is closed below, and its alert
          // opens afresh where the objective is now.
          open.delete(key)
          stale.push(event)
        }
      }
      const list = bySite.get(objective.blogId)
      if (list) list.push(objective)
      else bySite.set(objective.blogId, [objective])
    }
    report.sites += bySite.size
    // The whole page is measured from one set of reads; should that fail, each site alone, so one
    // site's trouble leaves the others evaluated.
    const groups = await statusesOf(page.objectives, bySite)
    for (const group of groups) {
      if (group.statuses === null) {
        report.failedSites++
        logger.warn(
          {
            err: group.error,
            blogId: group.objectives[0]?.blogId.toString(),
            objectives: group.objectives.map((o) => o.id.toString()),
          },
          'could not evaluate the objectives of a site; their alerts stay as they are and are evaluated again next minute',
        )
        continue
      }
      for (const [index, objective] of group.objectives.entries()) {
        const status = group.statuses[index] as ObjectiveStatus
        const metadata = alertMetadata(objective, status)
        await reconcile(
          objective,
          SLO_BURN,
          burnLevel(status.firing),
          'burn_rate_subsided',
          metadata,
          burnDetail(objective, status),
        )
        await reconcile(
          objective,
          SLO_BUDGET,
          budgetLevel(status, objective),
          'budget_recovered',
          metadata,
          budgetDetail(objective, status),
        )
      }
    }
  } while (after !== null)

  // Alerts of objectives that are no longer active (or that moved): nobody evaluates them any more.
  for (const [key, event] of open) if (!kept.has(key)) stale.push(event)
  for (const event of stale) {
    try {
      await closeEvent({
        ctx: store,
        input: {
          eventId: event.id,
          reason: 'manual_override',
          transitionMetadata: {
            detail: `objective ${event.discriminator} is no longer active on this site or endpoint`,
          },
        },
      })
      report.closed++
    } catch (error) {
      if (!isGone(error)) throw error
    }
  }
  return report
}

/** What {@link runEvaluation} did: nothing (another process has this minute), or the evaluation. */
export type EvaluationRun =
  | { claimed: false; minute: Date }
  | { claimed: true; minute: Date; evaluation: EvaluationReport; snapshots: SnapshotReport | null }

/**
 * One minute's work for the whole fleet: claims the minute `now` falls in (`jetmon_slo_leases`;
 * another process that claimed it, or is still working on an earlier one, wins and this run does
 * nothing), evaluates every active objective, writes the daily snapshots of the days that ended
 * (catching up missed ones in order), and releases the claim. A holder that dies keeps the claim
 * until `leaseMs` passes (default 5 minutes).
 */
export async function runEvaluation(input: {
  ctx: EvaluatorContext
  /** Who claims, e.g. the host id. */
  holder: string
  leaseMs?: number
  now?: Date
  /**
   * Write the finished days' snapshots after evaluating (default true). A caller that knows every
   * objective is counted up to yesterday skips them until the next UTC day (`snapshots` is then null).
   */
  snapshots?: boolean
}): Promise<EvaluationRun> {
  const { ctx, holder } = input
  const clock = ctx.clock ?? (() => new Date())
  const now = input.now ?? clock()
  const minute = evaluationMinute(now)
  const claimed = await claimLease({
    ctx,
    name: EVALUATOR_LEASE,
    holder,
    period: minute,
    now,
    leaseMs: input.leaseMs ?? 5 * 60_000,
  })
  if (!claimed) return { claimed: false, minute }
  try {
    const evaluation = await evaluateObjectives({ ctx, now })
    const snapshots = input.snapshots === false ? null : await snapshotFinishedDays({ ctx, now })
    return { claimed: true, minute, evaluation, snapshots }
  } finally {
    await releaseLease({ ctx, name: EVALUATOR_LEASE, holder, period: minute, now: clock() })
  }
}
