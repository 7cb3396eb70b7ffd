/**
 * The status of an objective at an instant, computed on read: its SLI over the window, the error
 * budget (total, consumed, remaining), the burn rates over the standard lookbacks, the alert rules
 * that fire, and when the budget runs out at the current pace.
 *
 * Availability uses the uptime statistics' own figures (`computeUptime` of @jetmon/read-models,
 * through `uptimeOver` for the window and every lookback): bad time is downtime, eligible time is
 * monitored time outside maintenance and Unknown time.
 * Latency counts checks (`latencyCounts` of @jetmon/history): good ones answered within the
 * threshold, eligible ones all successful and failed checks outside maintenance.
 */
import type { DbOrTx } from '@jetmon/db'
import { countLatency, type LatencySamples, loadLatencySamples } from '@jetmon/history'
import {
  loadMaintenancePeriodsOfBlogs,
  loadStatsScopes,
  loadUptimeInputs,
  type MaintenancePeriod,
  type StatsScope,
  type UptimeInput,
  uptimeOver,
} from '@jetmon/read-models'
import { InvalidInputError } from './errors.js'
import { type BurnRule, DEFAULT_ALERT_POLICY } from './objectives.js'
import {
  BURN_LOOKBACKS,
  type BurnLookback,
  LOOKBACK_MS,
  lookbackPeriod,
  type ObjectiveWindow,
  objectiveWindow,
  type Period,
} from './windows.js'

const HOUR_MS = 3_600_000

/** What the status needs of an objective. */
export interface ObjectiveInput {
  id: number | bigint
  blogId: bigint
  /** One endpoint, or null for the whole site (all its endpoints). */
  endpointId: bigint | null
  sli: 'availability' | 'latency'
  /** Required for `latency`: a successful check within this many ms is good. */
  latencyThresholdMs: number | null
  /** Percent, strictly between 0 and 100 (e.g. 99.9). */
  target: number
  window: ObjectiveWindow
  /** The objective's alert rules; null or absent: {@link DEFAULT_ALERT_POLICY}. */
  alertPolicy?: readonly BurnRule[] | null
}

export interface ObjectiveStatus {
  /** The window measured. */
  period: Period
  /** `seconds` of time (availability) or `checks` (latency): the unit of eligible, bad and budget figures. */
  unit: 'seconds' | 'checks'
  /** `100 × (1 − bad / eligible)`; null when nothing of the window was eligible. */
  sliPercent: number | null
  eligible: number
  /** Bad time (downtime) or bad checks in the window: the budget consumed. */
  budgetConsumed: number
  /** `(1 − target/100) × eligible`. */
  budgetTotal: number
  /** `100 × (1 − consumed / total)`: below zero once exhausted; 100 with no eligible time. */
  budgetRemainingPercent: number
  exhausted: boolean
  /** SLI below target. */
  isBreaching: boolean
  /** `(bad_w / eligible_w) / (1 − target/100)` per lookback; null when nothing of it was eligible. */
  burnRates: Record<BurnLookback, number | null>
  /** The rules of the objective's policy whose long and short burn rates both exceed their factor. */
  firing: BurnRule[]
  /** An event of the scope that reached Down is open now (availability only; false for latency). */
  hasOpenDowntime: boolean
  /**
   * When the remaining budget runs out at the current 1 h burn rate; `now` when already exhausted;
   * null when the 1 h burn rate is null or does not exhaust it (0, or at most 1 in a calendar window,
   * whose budget grows with the time elapsed; past the calendar window's end).
   */
  budgetExhaustedAt: Date | null
}

interface Measure {
  eligible: number
  bad: number
}

export interface ObjectiveStatusInput {
  ctx: { db: DbOrTx; clock?: () => Date }
  objective: ObjectiveInput
  /** Defaults to `ctx.clock()`, then the system clock. */
  now?: Date
}

/**
 * The status of an objective at `now` (see {@link ObjectiveStatus}). Reads the scope's events,
 * transitions, maintenance and endpoint activity once over the window and the longest lookback
 * (availability), or the rollups and the current hour's raw history per period (latency).
 * @throws InvalidInputError for a target outside (0, 100) or a latency objective without threshold.
 */
export async function objectiveStatus(input: ObjectiveStatusInput): Promise<ObjectiveStatus> {
  const [status] = await objectiveStatuses({
    ctx: input.ctx,
    objectives: [input.objective],
    ...(input.now ? { now: input.now } : {}),
  })
  return status as ObjectiveStatus
}

export interface ObjectiveStatusesInput {
  ctx: { db: DbOrTx; clock?: () => Date }
  /** Objectives of one site or of many; each site's tables are read once for all of its objectives. */
  objectives: readonly ObjectiveInput[]
  /**
   * The objectives' scopes, in the same order, when the caller has read them (`getObjectiveWithStreak`
   * gives one with its objective; null for an endpoint that is no longer the site's); read otherwise.
   */
  scopes?: readonly (StatsScope | null)[]
  /** Defaults to `ctx.clock()`, then the system clock. */
  now?: Date
}

/**
 * The statuses of several objectives at one instant, in the order given. The objectives of one site
 * share its reads: its events and their transitions, its maintenance windows, its endpoints'
 * activity and its latency samples are each read once, over the longest period any of them needs,
 * and each objective is measured from them in memory.
 * @throws InvalidInputError for a target outside (0, 100) or a latency objective without threshold.
 */
export async function objectiveStatuses(input: ObjectiveStatusesInput): Promise<ObjectiveStatus[]> {
  const { ctx, objectives } = input
  const now = input.now ?? (ctx.clock ?? (() => new Date()))()
  for (const objective of objectives) checkObjective(objective)
  const measurers = await measurersOf(ctx.db, objectives, now, input.scopes)
  const out: ObjectiveStatus[] = []
  for (const [index, objective] of objectives.entries()) {
    out.push(statusOf(objective, measurers[index] as Measurer, now))
  }
  return out
}

function checkObjective(objective: ObjectiveInput): void {
  if (!(objective.target > 0 && objective.target < 100)) {
    throw new InvalidInputError('target', `must be between 0 and 100 (exclusive), got ${objective.target}`)
  }
  if (objective.sli === 'latency' && !(objective.latencyThresholdMs !== null && objective.latencyThresholdMs >= 0)) {
    throw new InvalidInputError('latencyThresholdMs', 'is required for a latency objective')
  }
}

function statusOf(objective: ObjectiveInput, measurer: Measurer, now: Date): ObjectiveStatus {
  const period = objectiveWindow(objective.window, now)
  const whole = measurer.measure(period)
  const allowed = 1 - objective.target / 100
  const burnRates = {} as Record<BurnLookback, number | null>
  for (const lookback of BURN_LOOKBACKS) {
    const m = measurer.measure(lookbackPeriod(lookback, now))
    burnRates[lookback] = m.eligible > 0 ? m.bad / m.eligible / allowed : null
  }
  const policy = objective.alertPolicy ?? DEFAULT_ALERT_POLICY
  const above = (lookback: BurnLookback, factor: number) => (burnRates[lookback] ?? 0) > factor
  const firing = policy.filter((rule) => above(rule.long, rule.burnRate) && above(rule.short, rule.burnRate))

  const budgetTotal = allowed * whole.eligible
  const remaining = budgetTotal - whole.bad
  const budgetRemainingPercent = budgetTotal > 0 ? 100 * (1 - whole.bad / budgetTotal) : 100
  const exhausted = whole.eligible > 0 && remaining <= 0 && whole.bad > 0
  const sliPercent = whole.eligible > 0 ? 100 * (1 - whole.bad / whole.eligible) : null

  return {
    period,
    unit: measurer.unit,
    sliPercent,
    eligible: whole.eligible,
    budgetConsumed: whole.bad,
    budgetTotal,
    budgetRemainingPercent,
    exhausted,
    isBreaching: sliPercent !== null && sliPercent < objective.target,
    burnRates,
    firing: firing.map((rule) => ({ ...rule })),
    hasOpenDowntime: measurer.hasOpenDowntime,
    budgetExhaustedAt: exhaustionTime({
      window: objective.window,
      now,
      remaining,
      exhausted,
      allowed,
      burnRate: burnRates['1h'],
      eligiblePerMs: measurer.unit === 'seconds' ? 1 / 1000 : whole.eligible / Math.max(1, elapsedMs(period)),
    }),
  }
}

const elapsedMs = (period: Period) => period.to.getTime() - period.from.getTime()

/**
 * When the budget left in `status` runs out at `burnRate` (for instance the 24 h one rather than the
 * 1 h one of `budgetExhaustedAt`), by the same rule: `now` when already exhausted; null when the rate
 * is null or does not exhaust it.
 */
export function budgetExhaustionAt({
  objective,
  status,
  burnRate,
  now,
}: {
  objective: Pick<ObjectiveInput, 'target' | 'window'>
  status: ObjectiveStatus
  burnRate: number | null
  now: Date
}): Date | null {
  return exhaustionTime({
    window: objective.window,
    now,
    remaining: status.budgetTotal - status.budgetConsumed,
    exhausted: status.exhausted,
    allowed: 1 - objective.target / 100,
    burnRate,
    eligiblePerMs: status.unit === 'seconds' ? 1 / 1000 : status.eligible / Math.max(1, elapsedMs(status.period)),
  })
}

/**
 * When `remaining` runs out. At burn rate `r` the budget is consumed at `r × allowed` per eligible
 * unit. A rolling window's total stays about constant (eligible time enters as old time leaves);
 * a calendar window's total grows by `allowed` per eligible unit, so it runs out only above 1 and
 * only counts before the window's end.
 */
function exhaustionTime(args: {
  window: ObjectiveWindow
  now: Date
  remaining: number
  exhausted: boolean
  allowed: number
  burnRate: number | null
  eligiblePerMs: number
}): Date | null {
  const { window, now, remaining, exhausted, allowed, burnRate, eligiblePerMs } = args
  if (exhausted) return now
  if (burnRate === null || !(burnRate > 0) || !(eligiblePerMs > 0)) return null
  const calendar = window === 'month' || window === 'quarter'
  const netPerUnit = calendar ? (burnRate - 1) * allowed : burnRate * allowed
  if (!(netPerUnit > 0)) return null
  const at = now.getTime() + remaining / netPerUnit / eligiblePerMs
  if (calendar) {
    const from = objectiveWindow(window, now).from
    const months = window === 'month' ? 1 : 3
    if (at >= Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + months, 1)) return null
  }
  return new Date(Math.ceil(at))
}

interface Measurer {
  unit: 'seconds' | 'checks'
  hasOpenDowntime: boolean
  measure(period: Period): Measure
}

const EMPTY: Measurer = { unit: 'seconds', hasOpenDowntime: false, measure: () => ({ eligible: 0, bad: 0 }) }
const LONGEST_LOOKBACK_MS = Math.max(...Object.values(LOOKBACK_MS))

/**
 * The measurers of objectives at one instant, from reads shared by all of them, over the longest
 * period any of them needs: the scopes in one query (unless given), the uptime inputs of the availability
 * objectives' distinct scopes in one set of queries (`loadUptimeInputs`: a site and its endpoints
 * share the site's rows), and the maintenance windows and latency samples of the latency
 * objectives' endpoints once, each objective counting its own.
 */
async function measurersOf(
  db: DbOrTx,
  objectives: readonly ObjectiveInput[],
  now: Date,
  known: readonly (StatsScope | null)[] | undefined,
): Promise<Measurer[]> {
  if (objectives.length === 0) return []
  if (known !== undefined && known.length !== objectives.length) {
    throw new InvalidInputError(
      'scopes',
      `must give one scope per objective, got ${known.length} for ${objectives.length}`,
    )
  }
  let fromMs = now.getTime() - LONGEST_LOOKBACK_MS
  for (const objective of objectives) fromMs = Math.min(fromMs, objectiveWindow(objective.window, now).from.getTime())
  const period = { from: new Date(fromMs), to: now }
  const scopes = known ?? (await loadStatsScopes({ ctx: { db }, scopes: objectives }))
  const keyOf = (scope: StatsScope) => `${scope.blogId}:${scope.endpointId ?? ''}`

  const availability = new Map<string, StatsScope>()
  const latencyBlogs = new Set<bigint>()
  const latencyEndpoints = new Set<bigint>()
  objectives.forEach((objective, index) => {
    const scope = scopes[index]
    if (!scope) return
    if (objective.sli === 'availability') availability.set(keyOf(scope), scope)
    else {
      latencyBlogs.add(scope.blogId)
      for (const id of scope.endpointIds) latencyEndpoints.add(id)
    }
  })
  const availabilityScopes = [...availability.values()]
  const [inputs, windows, samples] = await Promise.all([
    loadUptimeInputs({ ctx: { db }, scopes: availabilityScopes, period, now }),
    latencyBlogs.size === 0
      ? new Map<bigint, MaintenancePeriod[]>()
      : loadMaintenancePeriodsOfBlogs({ ctx: { db }, blogIds: [...latencyBlogs], period }),
    latencyEndpoints.size === 0
      ? null
      : loadLatencySamples({
          ctx: { db },
          endpointIds: [...latencyEndpoints],
          from: period.from,
          to: now,
          rawFrom: new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS),
        }),
  ])
  const inputOf = new Map(availabilityScopes.map((scope, index) => [keyOf(scope), inputs[index] as UptimeInput]))
  return objectives.map((objective, index) => {
    const scope = scopes[index]
    if (!scope) return { ...EMPTY, unit: objective.sli === 'availability' ? 'seconds' : 'checks' }
    if (objective.sli === 'availability') {
      return availabilityMeasurer(inputOf.get(keyOf(scope)) ?? null, now)
    }
    return latencyMeasurer(
      samples === null ? null : samplesOf(samples, scope),
      windows.get(scope.blogId) ?? [],
      objective.latencyThresholdMs ?? 0,
    )
  })
}

function latencyMeasurer(
  samples: LatencySamples | null,
  windows: readonly MaintenancePeriod[],
  thresholdMs: number,
): Measurer {
  return {
    unit: 'checks',
    hasOpenDowntime: false,
    measure(period) {
      if (samples === null) return { eligible: 0, bad: 0 }
      const counts = countLatency(samples, {
        from: period.from.getTime(),
        to: period.to.getTime(),
        thresholdMs,
        excluded: windows,
      })
      return { eligible: counts.eligible, bad: counts.eligible - counts.good }
    },
  }
}

/** The samples of a scope's endpoints, out of all those read. */
function samplesOf(all: LatencySamples, scope: StatsScope): LatencySamples {
  const ids = new Set(scope.endpointIds)
  return {
    rawFrom: all.rawFrom,
    rollups: all.rollups.filter((row) => ids.has(row.endpointId)),
    raw: all.raw.filter((row) => ids.has(row.endpointId)),
  }
}

/**
 * Availability from an uptime input. An event is open downtime at `now` when it had started, had
 * not ended and had reached Down by then (an instant in the past sees the events as they were).
 */
function availabilityMeasurer(input: UptimeInput | null, now: Date): Measurer {
  if (input === null) return EMPTY
  const at = now.getTime()
  const downAt = new Map<bigint, number>()
  for (const change of input.changes) {
    if (change.stateAfter === 'Down' && !downAt.has(change.eventId)) downAt.set(change.eventId, change.changedAt)
  }
  const withChanges = new Set(input.changes.map((change) => change.eventId))
  const hasOpenDowntime = input.events.some((event) => {
    if (event.startedAt > at || (event.endedAt !== null && event.endedAt <= at)) return false
    const down = downAt.get(event.id)
    return down !== undefined ? down <= at : !withChanges.has(event.id) && event.state === 'Down'
  })
  // The window and every lookback measure the same inputs: their timelines are classified once.
  const over = uptimeOver(input)
  return {
    unit: 'seconds',
    hasOpenDowntime,
    measure(period) {
      const figures = over(period.from.getTime(), period.to.getTime())
      return { eligible: Math.max(0, figures.eligibleMs) / 1000, bad: figures.downMs / 1000 }
    },
  }
}
