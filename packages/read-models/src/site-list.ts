/**
 * `GET /sites`: one page of sites with their derived state, computed and filtered in SQL, in one
 * statement per page whatever the filters (see {@link listSitePage}).
 *
 * Indexes used: `jetpack_monitor_sites (blog_id, monitor_url)` for the page order and per-site
 * lookups, `jetmon_events (blog_id, ended_at)` for the worst open event, the unique
 * `jetmon_events (dedup_key)` (non-NULL only while an event is open) to find the blogs with open
 * events, `jetmon_maintenance_windows (blog_id, ends_at)` for coverage, `jetmon_site_tenants`'s
 * primary key for a tenant's blogs, `jetmon_endpoint_state`'s primary key for last checks, and
 * `jetmon_url_trigrams (trigram, blog_id, endpoint_id)` and `jetmon_url_trigram_counts`'s primary
 * key for `q` (see {@link urlSearchOf}).
 */
import type { SiteSummary, State } from '@jetmon/api-client'
import {
  type DbOrTx,
  dateTimeIso,
  endpointConfig,
  endpointState,
  events,
  maintenanceWindows,
  monitorSites,
  rerunDeadlockVictim,
  siteTenants,
  urlTrigramCounts,
  urlTrigramPositions,
  urlTrigramQueue,
  urlTrigrams,
  withTransaction,
} from '@jetmon/db'
import { EVENT_STATES, jsonId } from '@jetmon/vocabulary'
import { type Column, getTableName, is, type SQL, sql } from 'drizzle-orm'
import { MySqlTransaction } from 'drizzle-orm/mysql-core'
import {
  type CheckPolicyDefaults,
  type CheckPolicyFilter,
  DEFAULT_CHECK_POLICY,
  hasPolicyFilter,
  needsExplicitValue,
  policyCondition,
} from './check-policy.js'
import { prebuilt } from './prebuilt.js'

export interface SiteListOptions {
  now: Date
  tenantId: string | null
  /** Exclusive cursor: the last blog id of the previous page. */
  after: bigint | null
  limit: number
  /** Derived states to keep; null = all. */
  states: ReadonlySet<State> | null
  minSeverity: number | null
  monitorActive: boolean | null
  /** Substring of any endpoint URL. */
  q: string | null
  /** Sites with at least one endpoint (active or not) whose effective method and profile match. */
  policy?: CheckPolicyFilter
  /** The fleet defaults a NULL method or profile stands for (default GET and full). */
  policyDefaults?: CheckPolicyDefaults
  /** Index entries under which a trigram of `q` is rare enough to drive the search (default {@link RARE_TRIGRAM_ENTRIES}). */
  rareTrigramEntries?: number
}

export interface SiteListRow {
  blogId: bigint
  item: SiteSummary
}

const EVENT_STATE_NAMES = new Set<State>(EVENT_STATES)

/** `LIKE` pattern matching `text` anywhere (its own `%`, `_` and `\` taken literally). */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** `table AS alias` and `alias.column`, for the hand-written statement below. */
const from = (
  table:
    | typeof monitorSites
    | typeof events
    | typeof maintenanceWindows
    | typeof endpointState
    | typeof endpointConfig
    | typeof urlTrigrams,
  name: string,
) => sql`${table} AS ${sql.identifier(name)}`

/** Trigrams of `q` whose index entries are compared to pick the rarest (evenly spread over `q`). */
const COUNTED_TRIGRAMS = 16
/**
 * The rarest trigram of a query drives the search when it has fewer index entries than this; when
 * every compared trigram has this many, matches are dense enough that reading sites in page order
 * finds a page quickly.
 */
export const RARE_TRIGRAM_ENTRIES = 2_000

/** Distinct three-character substrings of `text` (by code point), in order of first appearance. */
export function trigramsOf(text: string): string[] {
  const chars = Array.from(text.toLowerCase())
  const out = new Set<string>()
  for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(''))
  return [...out]
}

/** Queue entries a search brings up to date before it reads the index (more: see {@link urlSearchOf}). */
export const URL_TRIGRAMS_PER_SEARCH = 200

/**
 * Brings the trigrams of the endpoints queued in `jetmon_url_trigram_queue` (by the triggers of
 * `jetpack_monitor_sites`: inserted, deleted, re-addressed) up to date, in one transaction: their
 * old trigrams deleted, those of their current URL inserted, `jetmon_url_trigram_counts` moved by
 * the entries deleted and inserted, the queue entries handled removed. A write that queues an
 * endpoint meanwhile stays queued for the next call. Calls run one at a time (each first locks the
 * oldest queue entry). Handles the oldest `limit` entries at most (default: all); returns how many
 * it handled and whether any are left.
 */
export async function refreshUrlTrigrams(
  db: DbOrTx,
  options: { limit?: number } = {},
): Promise<{ handled: number; left: boolean }> {
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER
  const work = () =>
    withTransaction(db, async (tx) => {
      // One refresh at a time: the next one waits here, then finds what this one left queued.
      await tx.execute(
        sql`SELECT ${urlTrigramQueue.seq} FROM ${urlTrigramQueue} ORDER BY ${urlTrigramQueue.seq} LIMIT 1 FOR UPDATE`,
      )
      const [rows] = (await tx.execute(
        sql`SELECT MAX(oldest.seq) AS upto, COUNT(*) AS entries
          FROM (SELECT ${urlTrigramQueue.seq} FROM ${urlTrigramQueue} ORDER BY ${urlTrigramQueue.seq} LIMIT ${limit}) AS oldest`,
      )) as unknown as [{ upto: string | number | null; entries: string | number }[]]
      const upto = rows[0]?.upto ?? null
      if (upto === null) return { handled: 0, left: false }
      // The queued endpoints, each once: every statement below starts from them and reaches their
      // entries through `idx_endpoint` (an IN subquery would have the DELETE scan the whole index).
      const queued = sql`(SELECT DISTINCT ${urlTrigramQueue.endpointId} AS endpoint_id FROM ${urlTrigramQueue}
        WHERE ${urlTrigramQueue.seq} <= ${upto}) AS q`
      const queuedEntries = sql`${queued} STRAIGHT_JOIN ${urlTrigrams} AS t FORCE INDEX (idx_endpoint)
        ON ${col('t', urlTrigrams.endpointId)} = q.endpoint_id`
      // Entries per trigram of the queued endpoints, as they stand (read under lock, like the writes).
      const entriesOfQueued = sql`SELECT ${col('t', urlTrigrams.trigram)} AS trigram, COUNT(*) AS n
        FROM ${queuedEntries} GROUP BY ${col('t', urlTrigrams.trigram)}`
      const counts = sql.identifier(getTableName(urlTrigramCounts))
      const entries = sql.identifier(urlTrigramCounts.entries.name)
      const trigram = sql.identifier(urlTrigramCounts.trigram.name)
      await tx.execute(
        sql`UPDATE ${counts} AS c JOIN (${entriesOfQueued}) AS d ON c.${trigram} = d.trigram SET c.${entries} = c.${entries} - d.n`,
      )
      await tx.execute(sql`DELETE t FROM ${queuedEntries}`)
      await tx.execute(
        sql`INSERT IGNORE INTO ${urlTrigrams} (${sql.identifier(urlTrigrams.trigram.name)}, ${sql.identifier(urlTrigrams.blogId.name)}, ${sql.identifier(urlTrigrams.endpointId.name)})
          SELECT SUBSTRING(${col('s', monitorSites.monitorUrl)}, ${col('p', urlTrigramPositions.position)}, 3),
            ${col('s', monitorSites.blogId)}, ${col('s', monitorSites.endpointId)}
          FROM ${queued}
          JOIN ${monitorSites} AS s ON ${col('s', monitorSites.endpointId)} = q.endpoint_id
          JOIN ${urlTrigramPositions} AS p
            ON ${col('p', urlTrigramPositions.position)} <= CHAR_LENGTH(${col('s', monitorSites.monitorUrl)}) - 2`,
      )
      await tx.execute(
        sql`INSERT INTO ${counts} (${trigram}, ${entries}) SELECT d.trigram, d.n FROM (${entriesOfQueued}) AS d
          ON DUPLICATE KEY UPDATE ${entries} = ${entries} + VALUES(${entries})`,
      )
      await tx.execute(sql`DELETE FROM ${urlTrigramQueue} WHERE ${urlTrigramQueue.seq} <= ${upto}`)
      const [after] = (await tx.execute(
        sql`SELECT EXISTS (SELECT 1 FROM ${urlTrigramQueue}) AS ${sql.identifier('left')}`,
      )) as unknown as [{ left: number | string }[]]
      return { handled: Number(rows[0]!.entries), left: Number(after[0]!.left) === 1 }
    })
  // Two searches may refresh at once: the one InnoDB picks as a deadlock victim runs again.
  return is(db, MySqlTransaction) ? work() : rerunDeadlockVictim(work)
}

/**
 * How `q` is searched: by its rarest trigram (`driver`: candidate endpoints from the trigram
 * index, each then tested with the exact `LIKE`), or, for a query shorter than three characters
 * or whose trigrams all have {@link RARE_TRIGRAM_ENTRIES} index entries or more, by testing each
 * site in page order (`driver: null`). One statement reads the entries of up to 16 of the query's
 * trigrams from `jetmon_url_trigram_counts` (a primary-key read each) and sees whether URLs were
 * written since the last search; if so, {@link refreshUrlTrigrams} runs first.
 */
export async function urlSearchOf(
  db: DbOrTx,
  q: string,
  rare = RARE_TRIGRAM_ENTRIES,
): Promise<{ driver: string | null }> {
  const all = trigramsOf(q)
  if (all.length === 0) return { driver: null }
  const step = Math.max(1, all.length / COUNTED_TRIGRAMS)
  const counted = [
    ...new Set(Array.from({ length: Math.min(COUNTED_TRIGRAMS, all.length) }, (_, i) => all[Math.floor(i * step)]!)),
  ]
  const statement = countStatement(counted.length)
  const values = Object.fromEntries(counted.map((trigram, i) => [`t${i}`, trigram]))
  const count = async () =>
    ((await db.execute(statement(values))) as unknown as [Record<string, number | string | null>[]])[0]
  let rows = await count()
  // URLs written since the last search: their trigrams first, then count again. After a bulk
  // import that leaves more queued than one search brings up to date, this search tests sites in
  // page order (exact, if slower) and each search brings another batch up to date.
  if (Number(rows[0]!.queued) === 1) {
    const { left } = await refreshUrlTrigrams(db, { limit: URL_TRIGRAMS_PER_SEARCH })
    if (left) return { driver: null }
    rows = await count()
  }
  let driver: string | null = null
  let fewest = rare
  counted.forEach((trigram, i) => {
    const n = Number(rows[0]![`c${i}`] ?? 0)
    if (n < fewest) {
      fewest = n
      driver = trigram
    }
  })
  return { driver }
}

/** The statement reading whether URLs are queued and the entries of `n` trigrams (`t0`…), by `n`. */
const countStatements: ((values: Record<string, unknown>) => SQL)[] = []
function countStatement(n: number): (values: Record<string, unknown>) => SQL {
  let statement = countStatements[n]
  if (statement !== undefined) return statement
  statement = prebuilt(
    () =>
      sql`SELECT EXISTS (SELECT 1 FROM ${urlTrigramQueue}) AS ${sql.identifier('queued')}, ${sql.join(
        Array.from(
          { length: n },
          (_, i) =>
            sql`(SELECT ${urlTrigramCounts.entries} FROM ${urlTrigramCounts} WHERE ${urlTrigramCounts.trigram} = ${sql.placeholder(`t${i}`)}) AS ${sql.identifier(`c${i}`)}`,
        ),
        sql`, `,
      )}`,
  )
  countStatements[n] = statement
  return statement
}
const col = (name: string, column: Column) => sql`${sql.identifier(name)}.${sql.identifier(column.name)}`

/**
 * The derived-state building blocks, for a site whose blog id is the SQL expression `blog`:
 * `Paused` when no endpoint is active (checked by the caller from the aggregate), `Maintenance`
 * when current windows cover every active endpoint, else the worst open event's state, else `Up`.
 */
function stateSql(now: unknown) {
  const coversNow = (name: string) =>
    sql`${col(name, maintenanceWindows.startsAt)} <= ${now} AND ${col(name, maintenanceWindows.endsAt)} > ${now}`
  return {
    maintenance: (blog: SQL) => sql`(EXISTS (SELECT 1 FROM ${from(maintenanceWindows, 'any_window')}
        WHERE ${col('any_window', maintenanceWindows.blogId)} = ${blog} AND ${coversNow('any_window')})
      AND NOT EXISTS (SELECT 1 FROM ${from(monitorSites, 'uncovered')}
        WHERE ${col('uncovered', monitorSites.blogId)} = ${blog} AND ${col('uncovered', monitorSites.monitorActive)} <> 0
        AND NOT EXISTS (SELECT 1 FROM ${from(maintenanceWindows, 'cover')}
          WHERE ${col('cover', maintenanceWindows.blogId)} = ${col('uncovered', monitorSites.blogId)} AND ${coversNow('cover')}
          AND (${col('cover', maintenanceWindows.endpointId)} IS NULL
            OR ${col('cover', maintenanceWindows.endpointId)} = ${col('uncovered', monitorSites.endpointId)}))))`,
    /** The worst open event's `column`: highest severity, then earliest start (then lowest id). */
    worst: (blog: SQL, column: Column) => sql`(SELECT ${col('worst', column)} FROM ${from(events, 'worst')}
        WHERE ${col('worst', events.blogId)} = ${blog} AND ${col('worst', events.endedAt)} IS NULL
        ORDER BY ${col('worst', events.severity)} DESC, ${col('worst', events.startedAt)} ASC, ${col('worst', events.id)} ASC
        LIMIT 1)`,
    /** The worst open event's severity (the highest). */
    worstSeverity: (blog: SQL) => sql`(SELECT MAX(${col('worst', events.severity)}) FROM ${from(events, 'worst')}
        WHERE ${col('worst', events.blogId)} = ${blog} AND ${col('worst', events.endedAt)} IS NULL)`,
  }
}

interface RawRow {
  blog_id: number | string
  endpoint_count: number | string
  active_count: number | string
  monitor_url: string | null
  /** The `DATETIME`'s UTC text (a raw statement through drizzle). */
  last_checked_at: string | Date | null
  in_maintenance: number | string
  worst_id: number | string | null
  worst_state: string | null
  worst_severity: number | null
}

/**
 * A page of sites (`limit + 1` rows when there is a next page), in `blog_id` order, in one
 * statement: the inner query picks the page (filters in `HAVING`), the outer one computes the
 * costlier columns for its rows only.
 *
 * The inner query is driven by the smallest ordered source available, so that it reads about
 * one page's worth of rows rather than the fleet:
 * - a tenant: its `jetmon_site_tenants` rows (primary key order is blog_id order);
 * - a filter that only blogs with an open event, a current window or a matching URL can pass:
 *   those blogs, collected first (one pass over the open events, the current windows or the URLs);
 * - otherwise `jetpack_monitor_sites` itself, in `(blog_id, monitor_url)` index order, stopping
 *   after `limit + 1` groups.
 */
export async function listSitePage({
  ctx,
  ...options
}: { ctx: { db: DbOrTx } } & SiteListOptions): Promise<SiteListRow[]> {
  const { db } = ctx
  const driver = options.q === null ? null : (await urlSearchOf(db, options.q, options.rareTrigramEntries)).driver
  const values: PageValues = {
    now: options.now,
    after: options.after,
    limit: options.limit + 1,
    tenantId: options.tenantId,
    pattern: options.q === null ? null : containsPattern(options.q),
    driver,
  }
  const plain =
    !hasPolicyFilter(options.policy) &&
    options.states === null &&
    !(options.minSeverity !== null && options.minSeverity > 0) &&
    options.monitorActive === null
  const statement = plain
    ? plainPage(
        options.tenantId !== null,
        options.after !== null,
        options.q === null ? 'none' : driver === null ? 'scan' : 'driver',
      )(values)
    : pageStatement(options, values)
  const [rows] = (await db.execute(statement)) as unknown as [RawRow[]]

  return rows.map((row) => {
    const blogId = BigInt(row.blog_id)
    const activeCount = Number(row.active_count)
    const covered = Number(row.in_maintenance) === 1
    const worstState = row.worst_state as State | null
    return {
      blogId,
      item: {
        blog_id: jsonId(blogId),
        monitor_url: row.monitor_url ?? '',
        endpoint_count: Number(row.endpoint_count),
        active_endpoint_count: activeCount,
        monitor_active: activeCount > 0,
        current_state: activeCount === 0 ? 'Paused' : covered ? 'Maintenance' : (worstState ?? 'Up'),
        current_severity: activeCount > 0 && !covered && worstState !== null ? Number(row.worst_severity) : 0,
        active_event_id: row.worst_id === null ? null : jsonId(BigInt(row.worst_id)),
        last_checked_at: row.last_checked_at === null ? null : dateTimeIso(row.last_checked_at),
      },
    }
  })
}

/**
 * The values a page statement binds: the request's time, the cursor, `limit + 1`, the tenant, the
 * `LIKE` pattern of `q` and its rarest trigram `driver` when there is one (see {@link urlSearchOf}).
 */
type PageValues = {
  now: unknown
  after: unknown
  limit: unknown
  tenantId: unknown
  pattern: unknown
  driver: unknown
}

/**
 * The statement of a page without filters but `q` (the common cases), by whether it has a tenant,
 * a cursor and how `q` is searched: rendered once each ({@link prebuilt}), then only bound per request.
 */
const plainPages = new Map<string, (values: Record<string, unknown>) => SQL>()
function plainPage(tenant: boolean, after: boolean, q: 'none' | 'scan' | 'driver'): (values: PageValues) => SQL {
  const key = `${tenant}:${after}:${q}`
  let page = plainPages.get(key)
  if (page === undefined) {
    const shape: SiteListOptions = {
      now: new Date(0),
      tenantId: tenant ? '' : null,
      after: after ? 0n : null,
      limit: 0,
      states: null,
      minSeverity: null,
      monitorActive: null,
      q: q === 'none' ? null : '',
    }
    page = prebuilt(() =>
      pageStatement(shape, {
        now: sql.placeholder('now'),
        after: sql.placeholder('after'),
        limit: sql.placeholder('limit'),
        tenantId: sql.placeholder('tenantId'),
        pattern: sql.placeholder('pattern'),
        driver: q === 'driver' ? sql.placeholder('driver') : null,
      }),
    )
    plainPages.set(key, page)
  }
  return page
}

/** The page's statement for `options` (its filters' shape), binding `values`. */
function pageStatement(options: SiteListOptions, values: PageValues): SQL {
  const { now } = values
  const state = stateSql(now)
  const blog = col('s', monitorSites.blogId)
  const active = sql`SUM(${col('s', monitorSites.monitorActive)} <> 0)`

  // Sets of blog ids that the filters restrict the page to (each a SELECT of distinct blog_id).
  const candidateSets: SQL[] = []
  // Blogs with an open event (of these states, or at least this severity): the unique
  // `dedup_key` index holds open events only.
  const openEventBlogs = (filter: { minSeverity: number } | { states: readonly string[] }) =>
    sql`SELECT DISTINCT ${col('candidate', events.blogId)} AS blog_id FROM ${from(events, 'candidate')}
      WHERE ${col('candidate', events.dedupKey)} IS NOT NULL AND ${
        'states' in filter
          ? sql`${col('candidate', events.state)} IN (${sql.join(
              filter.states.map((name) => sql`${name}`),
              sql`, `,
            )})`
          : sql`${col('candidate', events.severity)} >= ${filter.minSeverity}`
      }`
  const windowBlogs = sql`SELECT DISTINCT ${col('candidate_window', maintenanceWindows.blogId)} AS blog_id
      FROM ${from(maintenanceWindows, 'candidate_window')}
      WHERE ${col('candidate_window', maintenanceWindows.startsAt)} <= ${now} AND ${col('candidate_window', maintenanceWindows.endsAt)} > ${now}`
  // Conditions on the grouped blog id (the driving source's column, once it is chosen below).
  const having: ((grouped: SQL) => SQL)[] = []
  if (options.q !== null) {
    const { pattern, driver } = values
    if (driver !== null) {
      // The rarest trigram's index entries (after the cursor) name the candidate endpoints; the
      // exact, case-insensitive LIKE on each keeps those that contain the whole query. When `q` is
      // the only filter, the page is the first `limit + 1` of them in blog order: read in index
      // order, and no further.
      const onlyFilter =
        options.tenantId === null &&
        !hasPolicyFilter(options.policy) &&
        options.states === null &&
        !(options.minSeverity !== null && options.minSeverity > 0) &&
        options.monitorActive === null
      candidateSets.push(
        sql`SELECT ${col('tri', urlTrigrams.blogId)} AS blog_id FROM ${from(urlTrigrams, 'tri')}
          STRAIGHT_JOIN ${from(monitorSites, 'matching')}
            ON ${col('matching', monitorSites.endpointId)} = ${col('tri', urlTrigrams.endpointId)}
            AND ${col('matching', monitorSites.blogId)} = ${col('tri', urlTrigrams.blogId)}
          WHERE ${col('tri', urlTrigrams.trigram)} = ${driver}
            AND ${col('tri', urlTrigrams.blogId)} ${options.after === null ? sql`>= 0` : sql`> ${values.after}`}
            AND ${col('matching', monitorSites.monitorUrl)} LIKE ${pattern}
          GROUP BY ${col('tri', urlTrigrams.blogId)}
          ${onlyFilter ? sql`ORDER BY ${col('tri', urlTrigrams.blogId)} LIMIT ${values.limit}` : sql``}`,
      )
    } else {
      // Short or common: each site in page order is tested until the page is full.
      having.push(
        (grouped) => sql`EXISTS (SELECT 1 FROM ${from(monitorSites, 'matching')}
          WHERE ${col('matching', monitorSites.blogId)} = ${grouped}
            AND ${col('matching', monitorSites.monitorUrl)} LIKE ${pattern})`,
      )
    }
  }
  if (hasPolicyFilter(options.policy)) {
    const defaults = options.policyDefaults ?? DEFAULT_CHECK_POLICY
    const matches = policyCondition(options.policy, defaults, {
      requestMethod: col('policy', endpointConfig.requestMethod),
      detectionProfile: col('policy', endpointConfig.detectionProfile),
    })!
    const joined = sql`${col('policy', endpointConfig.endpointId)} = ${col('policy_site', monitorSites.endpointId)}`
    if (needsExplicitValue(options.policy, defaults)) {
      // Only configuration rows naming a non-default value can match: one pass over them.
      candidateSets.push(
        sql`SELECT DISTINCT ${col('policy_site', monitorSites.blogId)} AS blog_id FROM ${from(endpointConfig, 'policy')}
          JOIN ${from(monitorSites, 'policy_site')} ON ${joined} WHERE ${matches}`,
      )
    } else {
      // The default matches most of the fleet: test each grouped blog, in page order.
      having.push(
        (grouped) => sql`EXISTS (SELECT 1 FROM ${from(monitorSites, 'policy_site')}
          LEFT JOIN ${from(endpointConfig, 'policy')} ON ${joined}
          WHERE ${col('policy_site', monitorSites.blogId)} = ${grouped} AND ${matches})`,
      )
    }
  }
  if (options.monitorActive !== null)
    having.push(() => (options.monitorActive ? sql`${active} > 0` : sql`${active} = 0`))
  const states = options.states
  if (states !== null) {
    const stateFilter = (grouped: SQL) => {
      const worstState = state.worst(grouped, events.state)
      const maintenance = state.maintenance(grouped)
      const alternatives: SQL[] = []
      if (states.has('Paused')) alternatives.push(sql`${active} = 0`)
      const notPaused: SQL[] = []
      if (states.has('Maintenance')) notPaused.push(maintenance)
      const eventStates = [...states].filter((name) => EVENT_STATE_NAMES.has(name))
      const byEvent: SQL[] = []
      if (eventStates.length > 0) {
        byEvent.push(
          sql`${worstState} IN (${sql.join(
            eventStates.map((name) => sql`${name}`),
            sql`, `,
          )})`,
        )
      }
      if (states.has('Up')) byEvent.push(sql`${worstState} IS NULL`)
      if (byEvent.length > 0) notPaused.push(sql`(NOT ${maintenance} AND (${sql.join(byEvent, sql` OR `)}))`)
      if (notPaused.length > 0) alternatives.push(sql`(${active} > 0 AND (${sql.join(notPaused, sql` OR `)}))`)
      return alternatives.length > 0 ? sql`(${sql.join(alternatives, sql` OR `)})` : sql`FALSE`
    }
    having.push(stateFilter)
    const eventStates = [...states].filter((name) => EVENT_STATE_NAMES.has(name))
    // Only blogs with an open event in one of those states or a current window can qualify.
    if (!states.has('Up') && !states.has('Paused')) {
      const sets: SQL[] = []
      if (eventStates.length > 0) sets.push(openEventBlogs({ states: eventStates }))
      if (states.has('Maintenance')) sets.push(windowBlogs)
      candidateSets.push(
        sets.length > 0 ? sql.join(sets, sql` UNION `) : sql`SELECT NULL AS blog_id FROM DUAL WHERE FALSE`,
      )
    }
  }
  if (options.minSeverity !== null && options.minSeverity > 0) {
    // Up, Paused and Maintenance report severity 0: only blogs with an open event that bad qualify.
    const minSeverity = options.minSeverity
    having.push(
      (grouped) =>
        sql`(${active} > 0 AND NOT ${state.maintenance(grouped)} AND ${state.worstSeverity(grouped)} >= ${minSeverity})`,
    )
    candidateSets.push(openEventBlogs({ minSeverity: options.minSeverity }))
  }

  const sites = sql`${monitorSites} AS s FORCE INDEX (idx_blog_url)`
  const where: SQL[] = []
  let source: SQL
  let driverBlog: SQL
  if (options.tenantId !== null) {
    driverBlog = col('t', siteTenants.blogId)
    source = sql`${siteTenants} AS t STRAIGHT_JOIN ${sites} ON ${blog} = ${driverBlog}`
    where.push(sql`${col('t', siteTenants.tenantId)} = ${values.tenantId}`)
    for (const set of candidateSets) where.push(sql`${driverBlog} IN (${set})`)
  } else if (candidateSets.length > 0) {
    driverBlog = sql`${sql.identifier('c')}.${sql.identifier('blog_id')}`
    source = sql`(${candidateSets[0]}) AS c STRAIGHT_JOIN ${sites} ON ${blog} = ${driverBlog}`
    for (const set of candidateSets.slice(1)) where.push(sql`${driverBlog} IN (${set})`)
  } else {
    driverBlog = blog
    source = sites
  }
  // Always a range on blog_id, even for the first page: with it (and the index hint) the optimizer
  // walks the index in order instead of grouping the whole table in a temporary table.
  where.push(options.after === null ? sql`${driverBlog} >= 0` : sql`${driverBlog} > ${values.after}`)

  const pageBlog = sql`${sql.identifier('page')}.${sql.identifier('blog_id')}`
  const statement = sql`SELECT ${pageBlog} AS blog_id, page.endpoint_count, page.active_count,
      (SELECT ${col('p', monitorSites.monitorUrl)} FROM ${from(monitorSites, 'p')}
        WHERE ${col('p', monitorSites.endpointId)} = page.primary_id) AS monitor_url,
      page.last_checked_at,
      ${state.maintenance(pageBlog)} AS in_maintenance,
      ${col('we', events.id)} AS worst_id, ${col('we', events.state)} AS worst_state, ${col('we', events.severity)} AS worst_severity
    FROM (
      SELECT ${driverBlog} AS blog_id, COUNT(*) AS endpoint_count, ${active} AS active_count,
        MIN(${col('s', monitorSites.endpointId)}) AS primary_id,
        MAX(${col('st', endpointState.lastCheckedAt)}) AS last_checked_at
      FROM ${source}
      LEFT JOIN ${from(endpointState, 'st')} ON ${col('st', endpointState.endpointId)} = ${col('s', monitorSites.endpointId)}
      WHERE ${sql.join(where, sql` AND `)}
      GROUP BY ${driverBlog}
      ${
        having.length > 0
          ? sql`HAVING ${sql.join(
              having.map((condition) => condition(driverBlog)),
              sql` AND `,
            )}`
          : sql``
      }
      ORDER BY ${driverBlog}
      LIMIT ${values.limit}
    ) AS page
    LEFT JOIN ${from(events, 'we')} ON ${col('we', events.id)} = ${state.worst(pageBlog, events.id)}
    ORDER BY ${pageBlog}`
  return statement
}
