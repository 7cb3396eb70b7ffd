/**
 * The uptime figures of a site or endpoint (docs/statistics.md), computed from the event log,
 * the confirmation audit rows and the maintenance windows.
 *
 * Every instant of the period is classified once, by precedence:
 * 1. maintenance — a window covers the scope (for the site: every one of its endpoints at once);
 * 2. down — some event that reached Down covers it, from its first failure (`started_at`) to its
 *    close (or now), outside the windows covering that event's endpoint and outside that event's
 *    own unknown time. Several endpoints down at once count once: the site is down while any is;
 * 3. unknown — some event was waiting on a confirmation no quorum of verifliers could give: from an
 *    inconclusive `veriflier_request` round until the event's next transition, its next conclusive
 *    round or its close;
 * 4. degraded, 5. warning — some open event was in that state (from its transitions).
 * The rest of the period is up. Unknown is never downtime.
 *
 * Only monitored time counts: the period is first cut down to when the endpoint (for a site: any of
 * its endpoints) existed and was active ({@link monitoredTime}). Time before an endpoint was
 * created, or while it was paused or deleted, is neither up nor down and is not in `total`.
 */
import {
  auditLog,
  type DbOrTx,
  endpointState,
  events,
  eventTransitions,
  maintenanceWindows,
  monitorSites,
} from '@jetmon/db'
import { ENDPOINT_CHANGED_EVENT } from '@jetmon/scheduler'
import { and, asc, eq, gt, gte, inArray, isNull, lt, lte, or } from 'drizzle-orm'
import { clip, type Interval, type IntervalSet, intersect, measure, subtract, union } from './intervals.js'

/** The measured period `[from, to)`; `to` is never later than `now`. */
export interface StatsPeriod {
  from: Date
  to: Date
}

/** The site (or endpoint) a statistics request measures. */
export interface StatsScope {
  blogId: bigint
  /** The endpoint asked for, or null for the whole site. */
  endpointId: bigint | null
  /** Every endpoint of the site (active or not), ascending. */
  siteEndpointIds: bigint[]
  /** The endpoints measured: `[endpointId]` or every endpoint of the site. */
  endpointIds: bigint[]
  /**
   * Every endpoint's `monitor_active` flag and last check, as `loadStatsScopes` read them with the
   * endpoint ids; when present, `loadUptimeInputs` does not read them again.
   */
  endpointFlags?: ReadonlyMap<bigint, EndpointFlags>
}

/** An endpoint's `monitor_active` flag and last check (epoch ms). */
export interface EndpointFlags {
  activeNow: boolean
  lastCheckedAt: number | null
}

/** An event as the figures need it (times in epoch ms). */
export interface UptimeEvent {
  id: bigint
  endpointId: bigint | null
  /** The event's state now (a closed event keeps its last one). */
  state: string
  startedAt: number
  endedAt: number | null
}

/** A transition: the event's state from `changedAt` on (`Resolved` on the close). */
export interface StateChange {
  eventId: bigint
  stateAfter: string | null
  changedAt: number
}

/** A confirmation round recorded in the audit log (`veriflier_request`). */
export interface VerifierRound {
  eventId: bigint
  at: number
  /** `metadata.outcome === 'inconclusive'`: no quorum of verifliers answered. */
  inconclusive: boolean
}

export interface MaintenancePeriod {
  /** Null: every endpoint of the site. */
  endpointId: bigint | null
  startsAt: number
  endsAt: number
}

/** One recorded change of an endpoint (an `endpoint_changed` audit row), in epoch ms. */
export interface EndpointChange {
  at: number
  /** The endpoint came into being here (it did not exist before). */
  created: boolean
  /** `monitor_active` after the change; null when the row does not say (rows of older versions). */
  active: boolean | null
}

/** What is known of when an endpoint existed and was active. */
export interface EndpointActivity {
  endpointId: bigint
  /** Its recorded changes, oldest first. */
  changes: readonly EndpointChange[]
  /** `monitor_active` now. */
  activeNow: boolean
  /** Its last check, if any. */
  lastCheckedAt: number | null
}

/**
 * The time an endpoint was monitored, up to `now`, from what is recorded:
 * - it exists from its creation (the `endpoint <id> created` announcement of the API); an endpoint
 *   with no such record (added by an older version, or by v1) counts as existing all along;
 * - from each recorded change on it is active or not as that change says (pause, resume, delete,
 *   `monitor_active` in a PATCH, adding a deleted URL again); before the first change that says,
 *   it is taken as active;
 * - a flag changed without a record (by a writer other than the API) is caught by comparing the
 *   last recorded state with `monitor_active` now: an endpoint found inactive counts as paused
 *   since its last check after the last recorded change (checks stop with a pause), or since that
 *   change when it was not checked after it; one found active counts as active since the last
 *   recorded change.
 */
export function monitoredTime(activity: EndpointActivity, now: number): IntervalSet {
  const changes = [...activity.changes].sort((a, b) => a.at - b.at)
  let created = Number.NEGATIVE_INFINITY
  const creation = changes.find((change) => change.created)
  if (creation) created = creation.at
  const spans: Interval[] = []
  let active = true
  let since = Number.NEGATIVE_INFINITY
  for (const change of changes) {
    if (change.active === null || change.active === active) continue
    if (active) spans.push([since, change.at])
    active = change.active
    since = change.at
  }
  if (active && !activity.activeNow) {
    const pausedAt = activity.lastCheckedAt !== null && activity.lastCheckedAt > since ? activity.lastCheckedAt : since
    spans.push([since, pausedAt])
  } else if (active || activity.activeNow) {
    spans.push([since, now])
  }
  return clip(union(spans), created, now)
}

export interface UptimeInput {
  from: number
  to: number
  now: number
  /** The endpoint measured, or null for the site. */
  endpointId: bigint | null
  /** Every endpoint of the site: the site is under maintenance when all of them are. */
  siteEndpointIds: readonly bigint[]
  /** Events of the scope overlapping the period. */
  events: readonly UptimeEvent[]
  /** Their transitions, in id order. */
  changes: readonly StateChange[]
  /** Their confirmation rounds, oldest first. */
  rounds: readonly VerifierRound[]
  /** The site's maintenance windows overlapping the period. */
  windows: readonly MaintenancePeriod[]
  /**
   * When the scope was monitored (see {@link monitoredTime}; for a site, the union over its
   * endpoints). Leave out for "the whole period".
   */
  monitored?: IntervalSet
}

/** The figures in milliseconds (the route turns them into seconds). */
export interface UptimeFigures {
  totalMs: number
  downMs: number
  degradedMs: number
  warningMs: number
  maintenanceMs: number
  unknownMs: number
  /**
   * Monitored time outside maintenance and Unknown time (`total − maintenance − unknown`): the
   * denominator of `uptimePercent`, and the eligible time of an availability objective (whose bad
   * time is `downMs`).
   */
  eligibleMs: number
  uptimePercent: number | null
  incidentCount: number
  mttrMs: number | null
  mtbfMs: number | null
  longestIncidentMs: number | null
}

function groupBy<T>(items: readonly T[], key: (item: T) => bigint): Map<bigint, T[]> {
  const out = new Map<bigint, T[]>()
  for (const item of items) {
    const list = out.get(key(item))
    if (list) list.push(item)
    else out.set(key(item), [item])
  }
  return out
}

/** The figures of one period; pure, so the rules above can be tested on hand-built timelines. */
export function computeUptime(input: UptimeInput): UptimeFigures {
  const { from, to, now } = input
  const changesOf = groupBy(input.changes, (change) => change.eventId)
  const roundsOf = groupBy(input.rounds, (round) => round.eventId)

  const siteWide = union(
    input.windows.filter((w) => w.endpointId === null).map((w): Interval => [w.startsAt, w.endsAt]),
  )
  const maintenanceCache = new Map<bigint, IntervalSet>()
  const maintenanceOf = (endpointId: bigint | null): IntervalSet => {
    if (endpointId === null) return siteWide
    let set = maintenanceCache.get(endpointId)
    if (!set) {
      set = union(
        input.windows
          .filter((w) => w.endpointId === null || w.endpointId === endpointId)
          .map((w): Interval => [w.startsAt, w.endsAt]),
      )
      maintenanceCache.set(endpointId, set)
    }
    return set
  }

  const down: Interval[] = []
  const unknown: Interval[] = []
  const degraded: Interval[] = []
  const warning: Interval[] = []
  let incidentCount = 0
  let endedIncidents = 0
  let endedIncidentMs = 0
  let longestIncidentMs: number | null = null

  for (const event of input.events) {
    const start = event.startedAt
    const end = Math.max(start, event.endedAt ?? now)
    const life: IntervalSet = end > start ? [[start, end]] : []
    const changes = changesOf.get(event.id) ?? []
    const excluded = maintenanceOf(event.endpointId)

    // State segments: the opening transition's state from started_at, then each change.
    const segments: { state: string; span: Interval }[] = []
    let state = changes[0]?.stateAfter ?? event.state
    let segmentStart = start
    for (const change of changes.slice(1)) {
      if (change.stateAfter === null || change.stateAfter === state) continue
      const at = Math.min(Math.max(change.changedAt, start), end)
      segments.push({ state, span: [segmentStart, at] })
      if (change.stateAfter === 'Resolved') {
        segmentStart = end
        break
      }
      state = change.stateAfter
      segmentStart = at
    }
    if (segmentStart < end) segments.push({ state, span: [segmentStart, end] })

    // Unknown: each inconclusive round until the next transition, conclusive round or the close.
    const rounds = (roundsOf.get(event.id) ?? []).sort((a, b) => a.at - b.at)
    const spans: Interval[] = []
    if (rounds.some((round) => round.inconclusive)) {
      const stops = [
        ...changes.map((change) => change.changedAt),
        ...rounds.filter((round) => !round.inconclusive).map((round) => round.at),
      ].sort((a, b) => a - b)
      let next = 0
      for (const round of rounds) {
        if (!round.inconclusive) continue
        while (next < stops.length && stops[next]! <= round.at) next++
        spans.push([round.at, Math.min(stops[next] ?? end, end)])
      }
    }
    const ownUnknown = subtract(intersect(union(spans), life), excluded)
    unknown.push(...ownUnknown)

    const reachedDown = event.state === 'Down' || changes.some((change) => change.stateAfter === 'Down')
    if (reachedDown) {
      down.push(...subtract(subtract(life, excluded), ownUnknown))
      incidentCount++
      longestIncidentMs = Math.max(longestIncidentMs ?? 0, end - start)
      if (event.endedAt !== null) {
        endedIncidents++
        endedIncidentMs += end - start
      }
    }
    for (const segment of segments) {
      if (segment.state === 'Degraded') degraded.push(...subtract([segment.span], excluded))
      else if (segment.state === 'Warning') warning.push(...subtract([segment.span], excluded))
    }
  }

  let scopeMaintenance: IntervalSet
  if (input.endpointId !== null) scopeMaintenance = maintenanceOf(input.endpointId)
  else if (input.siteEndpointIds.length === 0) scopeMaintenance = siteWide
  else {
    scopeMaintenance = maintenanceOf(input.siteEndpointIds[0]!)
    for (const endpointId of input.siteEndpointIds.slice(1)) {
      scopeMaintenance = intersect(scopeMaintenance, maintenanceOf(endpointId))
    }
  }

  // Everything below is counted inside monitored time only.
  const monitoredSet = input.monitored === undefined ? clip([[from, to]], from, to) : clip(input.monitored, from, to)
  const inPeriod = (set: IntervalSet) => intersect(clip(set, from, to), monitoredSet)
  const maintenanceSet = inPeriod(scopeMaintenance)
  const downSet = subtract(inPeriod(union(down)), maintenanceSet)
  let taken = union([...maintenanceSet, ...downSet])
  const unknownSet = subtract(inPeriod(union(unknown)), taken)
  taken = union([...taken, ...unknownSet])
  const degradedSet = subtract(inPeriod(union(degraded)), taken)
  taken = union([...taken, ...degradedSet])
  const warningSet = subtract(inPeriod(union(warning)), taken)

  const totalMs = measure(monitoredSet)
  const downMs = measure(downSet)
  const maintenanceMs = measure(maintenanceSet)
  const unknownMs = measure(unknownSet)
  const eligibleMs = totalMs - maintenanceMs - unknownMs
  return {
    totalMs,
    downMs,
    degradedMs: measure(degradedSet),
    warningMs: measure(warningSet),
    maintenanceMs,
    unknownMs,
    eligibleMs,
    uptimePercent: eligibleMs > 0 ? 100 * (1 - downMs / eligibleMs) : null,
    incidentCount,
    mttrMs: endedIncidents > 0 ? endedIncidentMs / endedIncidents : null,
    mtbfMs: incidentCount > 0 ? (totalMs - downMs) / incidentCount : null,
    longestIncidentMs,
  }
}

/**
 * The scope of a site (`endpointId` null) or of one of its endpoints: every endpoint of the blog
 * (active or not), ascending, from `monitor_sites`. Null when `endpointId` is not one of the blog's.
 */
export async function loadStatsScope({
  ctx,
  blogId,
  endpointId,
}: {
  ctx: { db: DbOrTx }
  blogId: bigint
  endpointId: bigint | null
}): Promise<StatsScope | null> {
  const [scope] = await loadStatsScopes({ ctx, scopes: [{ blogId, endpointId }] })
  return scope ?? null
}

/**
 * {@link loadStatsScope} for many scopes at once (one query per thousand blogs), in the order
 * given; null for an endpoint that is not one of its blog's.
 */
export async function loadStatsScopes({
  ctx,
  scopes,
}: {
  ctx: { db: DbOrTx }
  scopes: readonly { blogId: bigint; endpointId: bigint | null }[]
}): Promise<(StatsScope | null)[]> {
  const endpointsOf = new Map<bigint, bigint[]>()
  const flagsOf = new Map<bigint, Map<bigint, EndpointFlags>>()
  for (const chunk of chunks(unique(scopes.map((scope) => scope.blogId)), ID_CHUNK)) {
    const rows = await ctx.db
      .select({
        id: monitorSites.endpointId,
        blogId: monitorSites.blogId,
        monitorActive: monitorSites.monitorActive,
        lastCheckedAt: endpointState.lastCheckedAt,
      })
      .from(monitorSites)
      .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
      .where(inArray(monitorSites.blogId, chunk))
      .orderBy(asc(monitorSites.endpointId))
    for (const row of rows) {
      pushTo(endpointsOf, row.blogId, row.id)
      let flags = flagsOf.get(row.blogId)
      if (!flags) {
        flags = new Map()
        flagsOf.set(row.blogId, flags)
      }
      flags.set(row.id, { activeNow: row.monitorActive !== 0, lastCheckedAt: row.lastCheckedAt?.getTime() ?? null })
    }
  }
  return scopes.map(({ blogId, endpointId }) => {
    const siteEndpointIds = endpointsOf.get(blogId) ?? []
    if (endpointId !== null && !siteEndpointIds.includes(endpointId)) return null
    return {
      blogId,
      endpointId,
      siteEndpointIds,
      endpointIds: endpointId === null ? siteEndpointIds : [endpointId],
      endpointFlags: flagsOf.get(blogId) ?? new Map(),
    }
  })
}

/** Ids per `IN (…)` list: keeps statements small for a site with thousands of events in the period. */
const ID_CHUNK = 1_000

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)]

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/**
 * Reads what {@link computeUptime} needs: four indexed queries per request (plus one per thousand
 * blogs). Events are found through `(blog_id, ended_at)` (open, or ended after `from`) together
 * with their transitions through `(event_id, id)` in one statement, windows through
 * `(blog_id, ends_at)`, and confirmation rounds — only when some event was Seems Down — through the
 * audit log's `(blog_id, created_at)`.
 */
export async function loadUptimeInput({
  ctx,
  scope,
  period,
  now,
}: {
  ctx: { db: DbOrTx }
  scope: StatsScope
  period: StatsPeriod
  now: Date
}): Promise<UptimeInput> {
  const [input] = await loadUptimeInputs({ ctx, scopes: [scope], period, now })
  return input as UptimeInput
}

/**
 * {@link loadUptimeInput} for many scopes over one period, in the order given, with the same
 * queries over all of their blogs at once (each one per thousand blogs, events or endpoints): the
 * reads of a page of sites cost about as many statements as those of one. Several scopes of one
 * blog (the site and some of its endpoints) share its rows.
 */
export async function loadUptimeInputs({
  ctx,
  scopes,
  period,
  now,
}: {
  ctx: { db: DbOrTx }
  scopes: readonly StatsScope[]
  period: StatsPeriod
  now: Date
}): Promise<UptimeInput[]> {
  const { db } = ctx
  if (scopes.length === 0) return []
  const blogIds = unique(scopes.map((scope) => scope.blogId))
  // With a single scope the endpoint filter goes into the query, as the statistics of one endpoint read it.
  const only = scopes.length === 1 ? scopes[0]! : null
  // The events and their transitions in one statement (an event without transitions gives one row
  // with a null transition), ordered by event then transition.
  const joined = (
    await Promise.all(
      chunks(blogIds, ID_CHUNK).map((chunk) =>
        db
          .select({
            id: events.id,
            blogId: events.blogId,
            endpointId: events.endpointId,
            state: events.state,
            startedAt: events.startedAt,
            endedAt: events.endedAt,
            changeState: eventTransitions.stateAfter,
            changedAt: eventTransitions.changedAt,
          })
          .from(events)
          .leftJoin(eventTransitions, eq(eventTransitions.eventId, events.id))
          .where(
            and(
              chunk.length === 1 ? eq(events.blogId, chunk[0]!) : inArray(events.blogId, chunk),
              only === null || only.endpointId === null ? undefined : eq(events.endpointId, only.endpointId),
              lt(events.startedAt, period.to),
              or(isNull(events.endedAt), gt(events.endedAt, period.from)),
            ),
          )
          .orderBy(asc(events.id), asc(eventTransitions.id)),
      ),
    )
  ).flat()
  const eventRows: (typeof joined)[number][] = []
  const changes: StateChange[] = []
  for (const row of joined) {
    if (eventRows.at(-1)?.id !== row.id) eventRows.push(row)
    if (row.changeState !== null && row.changedAt !== null) {
      changes.push({ eventId: row.id, stateAfter: row.changeState, changedAt: row.changedAt.getTime() })
    }
  }
  const [windows, activity] = await Promise.all([
    loadMaintenancePeriodsOfBlogs({ ctx, blogIds, period }),
    loadEndpointActivities({
      ctx,
      blogIds,
      endpointIds: unique(scopes.flatMap((scope) => scope.endpointIds)),
      now,
      ...(scopes.every((scope) => scope.endpointFlags !== undefined)
        ? { flags: new Map(scopes.flatMap((scope) => [...(scope.endpointFlags ?? [])])) }
        : {}),
    }),
  ])

  // Only events that were Seems Down can have waited on verifliers; most periods have none.
  const waited = new Set<bigint>()
  for (const row of eventRows) if (row.state === 'Seems Down') waited.add(row.id)
  for (const change of changes) if (change.stateAfter === 'Seems Down') waited.add(change.eventId)
  const rounds: VerifierRound[] = []
  if (waited.size > 0) {
    let oldest = Number.POSITIVE_INFINITY
    const waitedBlogs = new Set<bigint>()
    for (const row of eventRows) {
      if (!waited.has(row.id)) continue
      oldest = Math.min(oldest, row.startedAt.getTime())
      waitedBlogs.add(row.blogId)
    }
    const blogs = [...waitedBlogs]
    for (const chunk of chunks([...waited], ID_CHUNK)) {
      const rows = await db
        .select({ eventId: auditLog.eventId, createdAt: auditLog.createdAt, metadata: auditLog.metadata })
        .from(auditLog)
        .where(
          and(
            blogs.length === 1 ? eq(auditLog.blogId, blogs[0]!) : inArray(auditLog.blogId, blogs),
            gte(auditLog.createdAt, new Date(oldest)),
            lt(auditLog.createdAt, period.to),
            eq(auditLog.eventType, 'veriflier_request'),
            inArray(auditLog.eventId, chunk),
          ),
        )
        .orderBy(asc(auditLog.createdAt), asc(auditLog.id))
      for (const row of rows) {
        rounds.push({
          eventId: row.eventId as bigint,
          at: row.createdAt.getTime(),
          inconclusive: row.metadata?.outcome === 'inconclusive',
        })
      }
    }
  }

  const eventsOf = new Map<bigint, UptimeEvent[]>()
  for (const row of eventRows) {
    pushTo(eventsOf, row.blogId, {
      id: row.id,
      endpointId: row.endpointId,
      state: row.state,
      startedAt: row.startedAt.getTime(),
      endedAt: row.endedAt?.getTime() ?? null,
    })
  }
  return scopes.map((scope) => {
    const scoped = (eventsOf.get(scope.blogId) ?? []).filter(
      (event) => scope.endpointId === null || event.endpointId === scope.endpointId,
    )
    const ids = new Set(scoped.map((event) => event.id))
    const measured = scope.endpointIds.flatMap((id) => activity.get(id) ?? [])
    return {
      from: period.from.getTime(),
      to: period.to.getTime(),
      now: now.getTime(),
      endpointId: scope.endpointId,
      siteEndpointIds: scope.siteEndpointIds,
      events: scoped,
      changes: scopes.length === 1 ? changes : changes.filter((change) => ids.has(change.eventId)),
      rounds: scopes.length === 1 ? rounds : rounds.filter((round) => ids.has(round.eventId)),
      windows: windows.get(scope.blogId) ?? [],
      // A blog with events but no endpoint rows any more: nothing says when it was monitored.
      ...(measured.length > 0
        ? { monitored: union(measured.flatMap((endpoint) => monitoredTime(endpoint, now.getTime()))) }
        : {}),
    }
  })
}

/** The maintenance windows of a blog overlapping the period (through `(blog_id, ends_at)`). */
export async function loadMaintenancePeriods({
  ctx,
  blogId,
  period,
}: {
  ctx: { db: DbOrTx }
  blogId: bigint
  period: StatsPeriod
}): Promise<MaintenancePeriod[]> {
  return (await loadMaintenancePeriodsOfBlogs({ ctx, blogIds: [blogId], period })).get(blogId) ?? []
}

/** {@link loadMaintenancePeriods} of many blogs, by blog (one query per thousand blogs). */
export async function loadMaintenancePeriodsOfBlogs({
  ctx,
  blogIds,
  period,
}: {
  ctx: { db: DbOrTx }
  blogIds: readonly bigint[]
  period: StatsPeriod
}): Promise<Map<bigint, MaintenancePeriod[]>> {
  const out = new Map<bigint, MaintenancePeriod[]>()
  for (const chunk of chunks(unique(blogIds), ID_CHUNK)) {
    const rows = await ctx.db
      .select({
        blogId: maintenanceWindows.blogId,
        endpointId: maintenanceWindows.endpointId,
        startsAt: maintenanceWindows.startsAt,
        endsAt: maintenanceWindows.endsAt,
      })
      .from(maintenanceWindows)
      .where(
        and(
          chunk.length === 1 ? eq(maintenanceWindows.blogId, chunk[0]!) : inArray(maintenanceWindows.blogId, chunk),
          gt(maintenanceWindows.endsAt, period.from),
          lt(maintenanceWindows.startsAt, period.to),
        ),
      )
    for (const row of rows) {
      pushTo(out, row.blogId, {
        endpointId: row.endpointId,
        startsAt: row.startsAt.getTime(),
        endsAt: row.endsAt.getTime(),
      })
    }
  }
  return out
}

/**
 * What {@link monitoredTime} needs for these endpoints of a blog: their `endpoint_changed` audit
 * rows (through `(blog_id, created_at)`), their `monitor_active` flag and last check.
 */
export async function loadEndpointActivity({
  ctx,
  blogId,
  endpointIds,
  now,
}: {
  ctx: { db: DbOrTx }
  blogId: bigint
  endpointIds: readonly bigint[]
  now: Date
}): Promise<EndpointActivity[]> {
  const activity = await loadEndpointActivities({ ctx, blogIds: [blogId], endpointIds, now })
  return [...activity.values()]
}

/**
 * {@link loadEndpointActivity} for endpoints of many blogs, by endpoint id (each query once per
 * thousand blogs or endpoints). An endpoint absent from `monitor_sites` is absent from the map.
 * With `flags` (every endpoint's flags, as {@link loadStatsScopes} read them), only the audit rows
 * are read, and an endpoint absent from `flags` is absent from the map.
 */
export async function loadEndpointActivities({
  ctx,
  blogIds,
  endpointIds,
  now,
  flags: known,
}: {
  ctx: { db: DbOrTx }
  blogIds: readonly bigint[]
  endpointIds: readonly bigint[]
  now: Date
  flags?: ReadonlyMap<bigint, EndpointFlags>
}): Promise<Map<bigint, EndpointActivity>> {
  const { db } = ctx
  const out = new Map<bigint, EndpointActivity>()
  if (endpointIds.length === 0) return out
  const [flags, audits] = await Promise.all([
    known !== undefined
      ? unique(endpointIds).flatMap((endpointId) => {
          const flag = known.get(endpointId)
          return flag === undefined ? [] : [{ endpointId, ...flag }]
        })
      : readFlags(db, endpointIds),
    Promise.all(
      chunks(unique(blogIds), ID_CHUNK).map((chunk) =>
        db
          .select({ createdAt: auditLog.createdAt, detail: auditLog.detail, metadata: auditLog.metadata })
          .from(auditLog)
          .where(
            and(
              chunk.length === 1 ? eq(auditLog.blogId, chunk[0]!) : inArray(auditLog.blogId, chunk),
              lte(auditLog.createdAt, now),
              eq(auditLog.eventType, ENDPOINT_CHANGED_EVENT),
            ),
          )
          .orderBy(asc(auditLog.createdAt), asc(auditLog.id)),
      ),
    ),
  ])
  const changesOf = new Map<string, EndpointChange[]>()
  for (const row of audits.flat()) {
    const id = row.metadata?.endpoint_id
    if (typeof id !== 'string') continue
    const active = row.metadata?.monitor_active
    pushTo(changesOf, id, {
      at: row.createdAt.getTime(),
      created: row.detail === `endpoint ${id} created`,
      active: typeof active === 'boolean' ? active : null,
    })
  }
  for (const row of flags) {
    out.set(row.endpointId, {
      endpointId: row.endpointId,
      changes: (changesOf.get(row.endpointId.toString()) ?? []).sort((a, b) => a.at - b.at),
      activeNow: row.activeNow,
      lastCheckedAt: row.lastCheckedAt,
    })
  }
  return out
}

/** The `monitor_active` flag and last check of endpoints (one query per thousand endpoints). */
async function readFlags(
  db: DbOrTx,
  endpointIds: readonly bigint[],
): Promise<({ endpointId: bigint } & EndpointFlags)[]> {
  const rows = await Promise.all(
    chunks(unique(endpointIds), ID_CHUNK).map((chunk) =>
      db
        .select({
          endpointId: monitorSites.endpointId,
          monitorActive: monitorSites.monitorActive,
          lastCheckedAt: endpointState.lastCheckedAt,
        })
        .from(monitorSites)
        .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
        .where(inArray(monitorSites.endpointId, chunk)),
    ),
  )
  return rows.flat().map((row) => ({
    endpointId: row.endpointId,
    activeNow: row.monitorActive !== 0,
    lastCheckedAt: row.lastCheckedAt?.getTime() ?? null,
  }))
}
