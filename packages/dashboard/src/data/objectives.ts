/**
 * Service level objectives on the dashboard: a site's objectives with their status (one batched
 * status read for all of them, `objectiveStatuses` of @jetmon/slo), streaks and open alerts; and
 * the fleet's objectives at risk, found through the evaluator's open alerts (so the overview never
 * computes the status of every objective of the fleet) and measured again now, worst first.
 */
import { type DbOrTx, events } from '@jetmon/db'
import type { Event } from '@jetmon/eventstore'
import {
  budgetExhaustionAt,
  budgetLevel,
  burnLevel,
  getActiveObjectives,
  listObjectives,
  type Objective,
  type ObjectiveStatus,
  type ObjectiveStreak,
  objectiveStatuses,
  objectiveStreaks,
  SLO_BUDGET,
  SLO_BURN,
} from '@jetmon/slo'
import { and, asc, desc, inArray, isNotNull } from 'drizzle-orm'

const DAY_MS = 86_400_000
/** Objectives shown on a site page at most. */
const SITE_OBJECTIVES = 50
/** Open alerts the overview measures again at most (the worst first); it lists fewer. */
const AT_RISK_CANDIDATES = 100
const AT_RISK_SHOWN = 10

/** 0: on track, 1: warning, 2: critical (a page rule fires, or little or no budget left). */
export type RiskLevel = 0 | 1 | 2

/** An objective as the site page shows it. */
export interface ObjectiveView {
  objective: Objective
  status: ObjectiveStatus
  /** Days until the budget left runs out at the current 24 h burn rate; 0 when exhausted; null: not at this rate. */
  daysToExhaustion: number | null
  streak: ObjectiveStreak
  /** The objective's open `slo_burn` and `slo_budget` alerts. */
  alerts: Event[]
  level: RiskLevel
}

/** An objective on the overview's list of objectives at risk. */
export interface AtRiskObjective {
  objective: Objective
  status: ObjectiveStatus
  daysToExhaustion: number | null
  level: RiskLevel
}

export interface ObjectivesAtRisk {
  objectives: AtRiskObjective[]
  /** How many objectives are at risk in all (the list shows the worst). */
  total: number
}

/** The worse of the burn-rate and budget levels. */
export function riskLevel(objective: Objective, status: ObjectiveStatus): RiskLevel {
  return Math.max(burnLevel(status.firing), budgetLevel(status, objective)) as RiskLevel
}

function daysToExhaustion(objective: Objective, status: ObjectiveStatus, now: Date): number | null {
  const at = budgetExhaustionAt({ objective, status, burnRate: status.burnRates['24h'], now })
  return at === null ? null : Math.max(0, at.getTime() - now.getTime()) / DAY_MS
}

/** Worst first: level, then the least budget left, then id. */
function worstFirst(a: { level: RiskLevel; status: ObjectiveStatus; objective: Objective }, b: typeof a): number {
  return (
    b.level - a.level ||
    a.status.budgetRemainingPercent - b.status.budgetRemainingPercent ||
    (a.objective.id < b.objective.id ? -1 : 1)
  )
}

/**
 * The active objectives of a site (as the operator sees them: every owner's), with their status,
 * streak and open alerts; `openEvents` are the site's open events, read for the page anyway.
 */
export async function loadSiteObjectives(
  deps: { db: DbOrTx; now: Date },
  blogId: bigint,
  openEvents: Promise<readonly Event[]>,
): Promise<ObjectiveView[]> {
  const { db, now } = deps
  const { objectives } = await listObjectives({
    ctx: { db },
    tenantId: null,
    blogId,
    active: true,
    limit: SITE_OBJECTIVES,
  })
  if (objectives.length === 0) return []
  const [statuses, streaks, open] = await Promise.all([
    objectiveStatuses({ ctx: { db }, objectives, now }),
    objectiveStreaks({ ctx: { db }, objectiveIds: objectives.map((objective) => objective.id) }),
    openEvents,
  ])
  return objectives.map((objective, index) => {
    const status = statuses[index] as ObjectiveStatus
    const id = objective.id.toString()
    return {
      objective,
      status,
      daysToExhaustion: daysToExhaustion(objective, status, now),
      streak: streaks.get(objective.id) ?? { currentDays: 0, bestDays: 0, brokenAt: null, lastDay: null },
      alerts: open.filter(
        (event) => (event.checkType === SLO_BURN || event.checkType === SLO_BUDGET) && event.discriminator === id,
      ),
      level: riskLevel(objective, status),
    }
  })
}

/**
 * The objectives at risk: budget left below the warning threshold, exhausted, or an alert rule
 * firing. Candidates are the objectives with an open alert (read through the open events' index,
 * the worst at most {@link AT_RISK_CANDIDATES}), measured again in one batched status read, so
 * one whose trouble has just ended drops out before the evaluator's next minute closes its alert.
 */
export async function loadObjectivesAtRisk(deps: { db: DbOrTx; now: Date }): Promise<ObjectivesAtRisk> {
  const { db, now } = deps
  // dedup_key is non-NULL exactly while an event is open, and its unique index holds only those.
  const open = await db
    .select({ discriminator: events.discriminator })
    .from(events)
    .where(and(isNotNull(events.dedupKey), inArray(events.checkType, [SLO_BURN, SLO_BUDGET])))
    .orderBy(desc(events.severity), asc(events.startedAt), asc(events.id))
    .limit(2 * AT_RISK_CANDIDATES)
  const ids: bigint[] = []
  for (const row of open) {
    if (row.discriminator === null || !/^\d{1,20}$/.test(row.discriminator)) continue
    const id = BigInt(row.discriminator)
    if (!ids.includes(id)) ids.push(id)
    if (ids.length >= AT_RISK_CANDIDATES) break
  }
  if (ids.length === 0) return { objectives: [], total: 0 }
  const objectives = await getActiveObjectives({ ctx: { db }, tenantId: null, ids })
  const statuses = await objectiveStatuses({ ctx: { db }, objectives, now })
  const atRisk = objectives
    .map((objective, index) => {
      const status = statuses[index] as ObjectiveStatus
      return { objective, status, level: riskLevel(objective, status) }
    })
    .filter((item) => item.level > 0)
    .sort(worstFirst)
  return {
    total: atRisk.length,
    objectives: atRisk.slice(0, AT_RISK_SHOWN).map((item) => ({
      ...item,
      daysToExhaustion: daysToExhaustion(item.objective, item.status, now),
    })),
  }
}
