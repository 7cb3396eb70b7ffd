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
import { auditLog, type DbOrTx, dateTimeMs, endpointState, monitorSites } from '@jetmon/db'
import { ENDPOINT_CHANGED_EVENT } from '@jetmon/scheduler'
import { and, asc, eq, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm'
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
  return uptimeOver(input)(input.from, input.to)
}

/**
 * {@link computeUptime} of `input` over any period `[from, to)` (`input.from` and `input.to` are not
 * used): the classification of the events' time does not depend on the period, so it is worked out
 * once, and each call only cuts it to its period. For the figures of several periods of the same
 * inputs (an objective's window and its burn-rate lookbacks).
 */
export function uptimeOver(input: Omit<UptimeInput, 'from' | 'to'>): (from: number, to: number) => UptimeFigures {
  const { now } = input
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

  const downAll = union(down)
  const unknownAll = union(unknown)
  const degradedAll = union(degraded)
  const warningAll = union(warning)
  const mttrMs = endedIncidents > 0 ? endedIncidentMs / endedIncidents : null

  return (from, to) => {
    // Everything below is counted inside monitored time only.
    const monitoredSet = input.monitored === undefined ? clip([[from, to]], from, to) : clip(input.monitored, from, to)
    const inPeriod = (set: IntervalSet) => intersect(clip(set, from, to), monitoredSet)
    const maintenanceSet = inPeriod(scopeMaintenance)
    const downSet = subtract(inPeriod(downAll), maintenanceSet)
    let taken = union([...maintenanceSet, ...downSet])
    const unknownSet = subtract(inPeriod(unknownAll), taken)
    taken = union([...taken, ...unknownSet])
    const degradedSet = subtract(inPeriod(degradedAll), taken)
    taken = union([...taken, ...degradedSet])
    const warningSet = subtract(inPeriod(warningAll), taken)

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
      mttrMs,
      mtbfMs: incidentCount > 0 ? (totalMs - downMs) / incidentCount : null,
      longestIncidentMs,
    }
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
  const endpointsOf = new Map<bigint, SiteEndpoint[]>()
  for (const chunk of chunks(unique(scopes.map((scope) => scope.blogId)), ID_CHUNK)) {
    const rows = await ctx.db
      .select({
        endpointId: monitorSites.endpointId,
        blogId: monitorSites.blogId,
        monitorActive: monitorSites.monitorActive,
        lastCheckedAt: endpointState.lastCheckedAt,
      })
      .from(monitorSites)
      .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
      .where(inArray(monitorSites.blogId, chunk))
      .orderBy(asc(monitorSites.endpointId))
    for (const row of rows) {
      pushTo(endpointsOf, row.blogId, {
        endpointId: row.endpointId,
        monitorActive: row.monitorActive !== 0,
        lastCheckedAt: row.lastCheckedAt?.getTime() ?? null,
      })
    }
  }
  return scopes.map(({ blogId, endpointId }) =>
    statsScopeOf({ blogId, endpointId, endpoints: endpointsOf.get(blogId) ?? [] }),
  )
}

/** An endpoint of a site as {@link statsScopeOf} needs it: its id, `monitor_active` flag and last check (epoch ms). */
export interface SiteEndpoint {
  endpointId: bigint
  monitorActive: boolean
  lastCheckedAt: number | null
}

/**
 * The scope of a site (`endpointId` null) or of one of its endpoints, from every endpoint row of the
 * site (active or not, ascending by id), as {@link loadStatsScopes} builds it: for a caller that read
 * those rows in a statement of its own. Null when `endpointId` is not one of them.
 */
export function statsScopeOf({
  blogId,
  endpointId,
  endpoints,
}: {
  blogId: bigint
  endpointId: bigint | null
  endpoints: readonly SiteEndpoint[]
}): StatsScope | null {
  const siteEndpointIds = endpoints.map((endpoint) => endpoint.endpointId)
  if (endpointId !== null && !siteEndpointIds.includes(endpointId)) return null
  const endpointFlags = new Map<bigint, EndpointFlags>()
  for (const endpoint of endpoints) {
    endpointFlags.set(endpoint.endpointId, {
      activeNow: endpoint.monitorActive,
      lastCheckedAt: endpoint.lastCheckedAt,
    })
  }
  return {
    blogId,
    endpointId,
    siteEndpointIds,
    endpointIds: endpointId === null ? siteEndpointIds : [endpointId],
    endpointFlags,
  }
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
 * Reads what {@link computeUptime} needs in one statement, plus one for the endpoints' flags when
 * the scope does not carry them. The statement reads, as one union, the events through
 * `(blog_id, ended_at)` (open, or ended after `from`) with their transitions through
 * `(event_id, id)`, the maintenance windows through `(blog_id, ends_at)`, and the `endpoint_changed`
 * audit rows and the events' confirmation rounds through the audit log's `(blog_id, created_at)`.
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
 * statement over all of their blogs at once (one per thousand blogs; past a thousand blogs the
 * confirmation rounds are read apart, one query per thousand events): the reads of a page of sites
 * cost as many statements as those of one. Several scopes of one blog (the site and some of its
 * endpoints) share its rows.
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
  const endpointIds = unique(scopes.flatMap((scope) => scope.endpointIds))
  const known = scopes.every((scope) => scope.endpointFlags !== undefined)
    ? new Map(scopes.flatMap((scope) => [...(scope.endpointFlags ?? [])]))
    : null
  // One statement per thousand blogs reads the events with their transitions, the maintenance
  // windows and the `endpoint_changed` audit rows; the flags too unless the scopes carry them.
  // With one statement for all the blogs, it reads the confirmation rounds too.
  const blogChunks = chunks(blogIds, ID_CHUNK)
  const withRounds = blogChunks.length === 1
  const [read, flags] = await Promise.all([
    Promise.all(
      blogChunks.map((chunk) =>
        readUptimeRows(db, chunk, only === null ? null : only.endpointId, period, now, withRounds),
      ),
    ),
    known !== null || endpointIds.length === 0 ? null : readFlags(db, endpointIds),
  ])
  const eventRows: {
    id: bigint
    blogId: bigint
    endpointId: bigint | null
    state: string
    startedAt: number
    endedAt: number | null
  }[] = []
  const changes: StateChange[] = []
  const windows = new Map<bigint, MaintenancePeriod[]>()
  const audits: EndpointAudit[] = []
  const roundRows: { blogId: bigint; eventId: bigint; at: number; metadata: Record<string, unknown> | null }[] = []
  for (const rows of read) {
    for (const row of rows) {
      if (row.kind === 0) {
        const id = BigInt(row.id as number | string)
        if (eventRows.at(-1)?.id !== id) {
          eventRows.push({
            id,
            blogId: BigInt(row.blog_id),
            endpointId: row.endpoint_id === null ? null : BigInt(row.endpoint_id),
            state: row.text as string,
            startedAt: dateTimeMs(row.t1 as string),
            endedAt: row.t2 === null ? null : dateTimeMs(row.t2),
          })
        }
        if (row.change_state !== null && row.t3 !== null) {
          changes.push({ eventId: id, stateAfter: row.change_state, changedAt: dateTimeMs(row.t3) })
        }
      } else if (row.kind === 1) {
        pushTo(windows, BigInt(row.blog_id), {
          endpointId: row.endpoint_id === null ? null : BigInt(row.endpoint_id),
          startsAt: dateTimeMs(row.t1 as string),
          endsAt: dateTimeMs(row.t2 as string),
        })
      } else if (row.kind === 2) {
        audits.push({ createdAt: dateTimeMs(row.t1 as string), detail: row.text, metadata: jsonOf(row.meta) })
      } else {
        roundRows.push({
          blogId: BigInt(row.blog_id),
          eventId: BigInt(row.event_id as number | string),
          at: dateTimeMs(row.t1 as string),
          metadata: jsonOf(row.meta),
        })
      }
    }
  }
  const activity = new Map<bigint, EndpointActivity>()
  if (endpointIds.length > 0) {
    const flagRows =
      flags ??
      endpointIds.flatMap((endpointId) => {
        const flag = known?.get(endpointId)
        return flag === undefined ? [] : [{ endpointId, ...flag }]
      })
    activitiesOf(flagRows, audits, activity)
  }

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
      oldest = Math.min(oldest, row.startedAt)
      waitedBlogs.add(row.blogId)
    }
    const blogs = [...waitedBlogs]
    if (withRounds) {
      // Those of the rounds read that the query below would give, in its order: by time, then id.
      for (const row of roundRows) {
        if (!waited.has(row.eventId) || !waitedBlogs.has(row.blogId) || row.at < oldest) continue
        rounds.push({ eventId: row.eventId, at: row.at, inconclusive: row.metadata?.outcome === 'inconclusive' })
      }
      rounds.sort((a, b) => a.at - b.at)
    }
    for (const chunk of withRounds ? [] : chunks([...waited], ID_CHUNK)) {
      const rows = await db
        .select({ eventId: auditLog.eventId, createdAt: auditLog.createdAt, metadata: auditLog.metadata })
        .from(auditLog)
        .where(
          and(
            blogs.length === 1 ? eq(auditLog.blogId, blogs[0]!) : inArray(auditLog.blogId, blogs),
            gte(auditLog.createdAt, new Date(oldest)),
            lt(auditLog.createdAt, period.to),
            eq(auditLog.eventType, VERIFIER_ROUND_EVENT),
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
      startedAt: row.startedAt,
      endedAt: row.endedAt,
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

/** The audit rows of the confirmation rounds. */
const VERIFIER_ROUND_EVENT = 'veriflier_request'

/** A row of {@link readUptimeRows}; which columns are set depends on `kind`. */
interface UptimeRow {
  /**
   * 0: an event with one of its transitions (none: null transition columns); 1: a maintenance
   * window; 2: an `endpoint_changed` audit row; 3: a confirmation round.
   */
  kind: number
  blog_id: number | string
  /** The event's, the window's or the audit row's id. */
  id: number | string | null
  /** The event's or the window's endpoint. */
  endpoint_id: number | string | null
  /** The event's state, or the audit row's detail. */
  text: string | null
  /** `started_at`, `starts_at` or `created_at`. */
  t1: string | null
  /** `ended_at` or `ends_at`. */
  t2: string | null
  /** The transition's `state_after` and `changed_at`. */
  change_state: string | null
  t3: string | null
  /** The audit row's metadata (JSON text). */
  meta: unknown
  /** A confirmation round's event. */
  event_id: number | string | null
}

/**
 * The rows of a set of blogs that the uptime figures need, in one statement: the events overlapping
 * the period (of one endpoint when `endpointId` is given) each with its transitions in id order,
 * the maintenance windows overlapping the period, the `endpoint_changed` audit rows up to `now`
 * and, `withRounds`, the confirmation rounds (`veriflier_request` rows) of those events from the
 * first one's start to the period's end, each kind in id order. The text is fixed but for the number of blogs: nothing is built per request but the
 * parameters.
 */
async function readUptimeRows(
  db: DbOrTx,
  blogIds: readonly bigint[],
  endpointId: bigint | null,
  period: StatsPeriod,
  now: Date,
  withRounds: boolean,
): Promise<UptimeRow[]> {
  const blogs = blogIds.length === 1 ? sql`= ${blogIds[0]}` : sql`IN ${blogIds}`
  const endpoint = endpointId === null ? sql`` : sql` AND e.endpoint_id = ${endpointId}`
  const overlapping = sql`e.blog_id ${blogs}${endpoint} AND e.started_at < ${period.to} AND (e.ended_at IS NULL OR e.ended_at > ${period.from})`
  // The confirmation rounds of the events read, from the first of them on: a superset of those
  // loadUptimeInputs keeps (of the events that were Seems Down, from the first of those on).
  const rounds = withRounds
    ? sql`
UNION ALL
SELECT 3, a.blog_id, a.id, NULL, NULL, a.created_at, NULL, NULL, NULL, a.metadata, NULL, a.event_id
 FROM jetmon_audit_log a
 WHERE a.blog_id ${blogs} AND a.event_type = ${VERIFIER_ROUND_EVENT} AND a.created_at < ${period.to}
  AND a.created_at >= (SELECT MIN(e.started_at) FROM jetmon_events e WHERE ${overlapping})
  AND a.event_id IN (SELECT e.id FROM jetmon_events e WHERE ${overlapping})`
    : sql``
  const statement: SQL = sql`SELECT 0 AS kind, e.blog_id, e.id, e.endpoint_id, e.state AS text, e.started_at AS t1, e.ended_at AS t2, t.state_after AS change_state, t.changed_at AS t3, NULL AS meta, t.id AS ord, NULL AS event_id
 FROM jetmon_events e LEFT JOIN jetmon_event_transitions t ON t.event_id = e.id
 WHERE ${overlapping}
UNION ALL
SELECT 1, w.blog_id, w.id, w.endpoint_id, NULL, w.starts_at, w.ends_at, NULL, NULL, NULL, NULL, NULL
 FROM jetmon_maintenance_windows w
 WHERE w.blog_id ${blogs} AND w.ends_at > ${period.from} AND w.starts_at < ${period.to}
UNION ALL
SELECT 2, a.blog_id, a.id, NULL, a.detail, a.created_at, NULL, NULL, NULL, a.metadata, NULL, NULL
 FROM jetmon_audit_log a
 WHERE a.blog_id ${blogs} AND a.created_at <= ${now} AND a.event_type = ${ENDPOINT_CHANGED_EVENT}${rounds}
ORDER BY kind, id, ord`
  const [rows] = (await db.execute(statement)) as unknown as [UptimeRow[]]
  return rows
}

/** A JSON column's value, whichever way the engine returns it (MariaDB: its text). */
function jsonOf(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined) return null
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> | null
}

/** An `endpoint_changed` audit row, as {@link activitiesOf} needs it. */
interface EndpointAudit {
  createdAt: number
  detail: string | null
  metadata: Record<string, unknown> | null
}

/**
 * The activity of each endpoint in `flags` into `out`, from the audit rows of their blogs (in
 * `(created_at, id)` or in `id` order: each endpoint's changes are sorted by time, stably).
 */
function activitiesOf(
  flags: readonly ({ endpointId: bigint } & EndpointFlags)[],
  audits: readonly EndpointAudit[],
  out: Map<bigint, EndpointActivity>,
): void {
  const changesOf = new Map<string, EndpointChange[]>()
  for (const row of audits) {
    const id = row.metadata?.endpoint_id
    if (typeof id !== 'string') continue
    const active = row.metadata?.monitor_active
    pushTo(changesOf, id, {
      at: row.createdAt,
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
    // A fixed text (but for the number of blogs): nothing is built per request but the parameters.
    const [rows] = (await ctx.db.execute(
      sql`SELECT w.blog_id, w.endpoint_id, w.starts_at, w.ends_at FROM jetmon_maintenance_windows w WHERE w.blog_id ${chunk.length === 1 ? sql`= ${chunk[0]}` : sql`IN ${chunk}`} AND w.ends_at > ${period.from} AND w.starts_at < ${period.to}`,
    )) as unknown as [
      { blog_id: number | string; endpoint_id: number | string | null; starts_at: string; ends_at: string }[],
    ]
    for (const row of rows) {
      pushTo(out, BigInt(row.blog_id), {
        endpointId: row.endpoint_id === null ? null : BigInt(row.endpoint_id),
        startsAt: dateTimeMs(row.starts_at),
        endsAt: dateTimeMs(row.ends_at),
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
  activitiesOf(
    flags,
    audits.flat().map((row) => ({ createdAt: row.createdAt.getTime(), detail: row.detail, metadata: row.metadata })),
    out,
  )
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
