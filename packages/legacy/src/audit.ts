/**
 * The read-only audit of the v1 table (`jetpack_monitor_sites`) before a range moves to Jetmon 2:
 * what would make the switch unsafe (blocking) or is worth a look (warning). A handful of set-based
 * statements whatever the table's size; nothing is written.
 */
import { type DbOrTx, monitorSites } from '@jetmon/db'
import { type ProjectionDrift, projectionDrift } from '@jetmon/eventstore'
import { LEGACY_SITE_STATUS } from '@jetmon/vocabulary'
import { and, asc, between, eq, gt, inArray, type SQL, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/mysql-core'
import { InvalidInputError } from './errors.js'
import { type BucketRange, bucketRange, requireCount } from './range.js'

export type FindingSeverity = 'blocking' | 'warning'

/** Every finding the audit can report, in the order it reports them. */
export const FINDING_CODES = [
  'duplicate_active_url',
  'bucket_out_of_range',
  'invalid_monitor_url',
  'invalid_site_status',
  'check_interval_zero',
  'projection_drift',
  'awaiting_adoption',
] as const
export type FindingCode = (typeof FINDING_CODES)[number]

/** The severity of each finding. */
export const FINDING_SEVERITY: Record<FindingCode, FindingSeverity> = {
  duplicate_active_url: 'blocking',
  bucket_out_of_range: 'blocking',
  invalid_monitor_url: 'blocking',
  invalid_site_status: 'warning',
  check_interval_zero: 'warning',
  projection_drift: 'warning',
  awaiting_adoption: 'warning',
}

/** A row of the v1 table shown as an example of a finding. */
export interface LegacyRowExample {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  monitorUrl: string
  monitorActive: boolean
  siteStatus: number
  checkInterval: number
  /** What is wrong with this row, when the finding's message does not say it all. */
  note?: string
}

export interface AuditFinding {
  code: FindingCode
  severity: FindingSeverity
  /** Rows concerned; for duplicates, the groups of rows sharing a blog and URL. */
  count: number
  /** What the finding means and what to do about it. */
  message: string
  /** A few of the rows, lowest id first (for duplicates: every row of the first groups). */
  examples: LegacyRowExample[]
}

export interface LegacyAudit {
  /** The bucket range audited; null = the whole table. */
  range: BucketRange | null
  bucketTotal: number
  /** Active rows (`monitor_active = 1`) in the range: what the findings are about. */
  activeRows: number
  /** Only what was found (count > 0), blocking ones first, in {@link FINDING_CODES} order. */
  findings: AuditFinding[]
  /** Whether any finding blocks the cutover. */
  blocking: boolean
}

export interface AuditLegacySitesInput {
  ctx: { db: DbOrTx }
  bucketMin?: number
  bucketMax?: number
  /** `BUCKET_TOTAL`: buckets are numbered 0 to bucketTotal − 1. */
  bucketTotal: number
  /** Examples per finding (default 5, at most 100). */
  examples?: number
}

// A URL this matches is certainly an http(s) URL with a host, so only the rest is parsed here: a
// plain host name whose last label starts with a letter (never an IPv4 address), no port, user or
// punycode label, then nothing or a path, query or fragment.
const CERTAINLY_VALID_URL = '^https?://([A-Za-z0-9_-]+[.])*[A-Za-z][A-Za-z0-9_-]*[.]?([/?#].*)?$'

/**
 * Whether the checker can check `text`: an absolute http or https URL (it then has a host). The
 * same parse as the checker's, so what passes here is what the monitor will check.
 */
export function isMonitorUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

const DRIFT_PAGE = 1000
/** Rows of possibly malformed URLs read per statement. */
const URL_PAGE = 10_000

/**
 * Audits the v1 table for a cutover (all of it, or the buckets `bucketMin`–`bucketMax`), about the
 * active rows: duplicate `(blog_id, monitor_url)` rows, `bucket_no` ≥ `bucketTotal`, URLs the checker
 * cannot check, `site_status` outside 0/1/2, `check_interval` 0, projection drift, and rows v1
 * reports as down that have no open incident yet (what `adoptLegacyIncidents` takes over).
 * Read-only; one pass for the counts, an index join for duplicates, and a few short reads for
 * URLs and examples.
 *
 * @throws InvalidInputError for a range upside down, half a range or a bucket total below 1.
 */
export async function auditLegacySites(input: AuditLegacySitesInput): Promise<LegacyAudit> {
  const range = bucketRange(input.bucketMin, input.bucketMax)
  if (!Number.isInteger(input.bucketTotal) || input.bucketTotal < 1 || input.bucketTotal > 65_536) {
    throw new InvalidInputError('bucketTotal', `expected a whole number from 1 to 65536, got ${input.bucketTotal}`)
  }
  const exampleCount = requireCount('examples', input.examples ?? 5, 100)
  const { db } = input.ctx
  const s = monitorSites
  const inScope = and(eq(s.monitorActive, 1), range ? between(s.bucketNo, range.min, range.max) : undefined)

  const outOfRange = sql`${s.bucketNo} >= ${input.bucketTotal}`
  const badStatus = sql`${s.siteStatus} NOT IN (0, 1, 2)`
  const zeroInterval = sql`${s.checkInterval} = 0`
  const oddUrl = sql`NOT (${s.monitorUrl} REGEXP ${CERTAINLY_VALID_URL} AND ${s.monitorUrl} NOT LIKE '%xn--%')`
  const sum = (condition: SQL) => sql<number>`COALESCE(SUM(${condition}), 0)`.mapWith(Number)

  // One pass over the range: the counts of everything decided row by row.
  const [counts] = await db
    .select({
      active: sql<number>`COUNT(*)`.mapWith(Number),
      outOfRange: sum(outOfRange),
      badStatus: sum(badStatus),
      zeroInterval: sum(zeroInterval),
      oddUrl: sum(oddUrl),
    })
    .from(s)
    .where(inScope)
  const activeRows = counts?.active ?? 0

  const found = new Map<FindingCode, { count: number; ids: bigint[]; notes?: Map<bigint, string> }>()
  const note = (code: FindingCode, count: number, ids: bigint[], notes?: Map<bigint, string>) => {
    if (count > 0) found.set(code, { count, ids, ...(notes ? { notes } : {}) })
  }

  // Duplicates: each active row looks up the later rows of its blog and URL through the (blog_id,
  // monitor_url) index. Unlike a GROUP BY over the URLs, this needs no temporary table on disk.
  const later = alias(s, 'later')
  const pairs = await db
    .select({ first: s.endpointId, other: later.endpointId })
    .from(s)
    .innerJoin(
      later,
      and(eq(later.blogId, s.blogId), eq(later.monitorUrl, s.monitorUrl), gt(later.endpointId, s.endpointId)),
    )
    .where(and(inScope, eq(later.monitorActive, 1), range ? between(later.bucketNo, range.min, range.max) : undefined))
  if (pairs.length > 0) {
    // A group is named by its lowest id: the rows that are never the later one of a pair.
    const laterIds = new Set(pairs.map((pair) => pair.other))
    const members = new Map<bigint, Set<bigint>>()
    for (const { first, other } of pairs) {
      if (laterIds.has(first)) continue
      const group = members.get(first) ?? new Set([first])
      group.add(other)
      members.set(first, group)
    }
    const groups = [...members.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    note(
      'duplicate_active_url',
      groups.length,
      groups.slice(0, exampleCount).flatMap(([, group]) => [...group].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
    )
  }

  // Row-by-row conditions: a few examples of each, in one statement.
  const conditions: [FindingCode, SQL, number][] = [
    ['bucket_out_of_range', outOfRange, counts?.outOfRange ?? 0],
    ['invalid_site_status', badStatus, counts?.badStatus ?? 0],
    ['check_interval_zero', zeroInterval, counts?.zeroInterval ?? 0],
  ]
  const wanted = conditions.filter(([, , count]) => count > 0)
  if (wanted.length > 0) {
    const parts = wanted.map(
      ([code, condition]) =>
        sql`(SELECT ${code} AS code, ${s.endpointId} AS id FROM ${s} WHERE ${and(inScope, condition)} ORDER BY ${s.endpointId} LIMIT ${exampleCount})`,
    )
    const [rows] = (await db.execute(sql.join(parts, sql` UNION ALL `))) as unknown as [
      { code: FindingCode; id: number | string }[],
    ]
    for (const [code, , count] of wanted) {
      note(
        code,
        count,
        rows.filter((row) => row.code === code).map((row) => BigInt(row.id)),
      )
    }
  }

  // URLs: only those the pattern could not vouch for are parsed, page by page.
  if ((counts?.oddUrl ?? 0) > 0) {
    let invalid = 0
    const ids: bigint[] = []
    let after = 0n
    for (;;) {
      const page = await db
        .select({ id: s.endpointId, url: s.monitorUrl })
        .from(s)
        .where(and(inScope, oddUrl, sql`${s.endpointId} > ${after}`))
        .orderBy(asc(s.endpointId))
        .limit(URL_PAGE)
      for (const row of page) {
        if (isMonitorUrl(row.url)) continue
        invalid++
        if (ids.length < exampleCount) ids.push(row.id)
      }
      const last = page.at(-1)
      if (!last || page.length < URL_PAGE) break
      after = last.id
    }
    note('invalid_monitor_url', invalid, ids)
  }

  // Projection drift, from the event store's own report, split into what adoption takes over and the rest.
  const drift = { count: 0, ids: [] as bigint[], notes: new Map<bigint, string>() }
  const awaiting = { count: 0, ids: [] as bigint[] }
  let cursor: string | null = null
  do {
    const page: { items: ProjectionDrift[]; next: string | null } = await projectionDrift({
      ctx: { db },
      limit: DRIFT_PAGE,
      cursor,
      ...(range ? { buckets: range } : {}),
    })
    for (const item of page.items) {
      // Inactive rows are not checked; values outside 0/1/2 are their own finding.
      if (!item.monitorActive || item.siteStatus < 0 || item.siteStatus > 2) continue
      if (item.openHttpState === null && item.siteStatus !== LEGACY_SITE_STATUS.running) {
        awaiting.count++
        if (awaiting.ids.length < exampleCount) awaiting.ids.push(item.endpointId)
        continue
      }
      drift.count++
      if (drift.ids.length < exampleCount) {
        drift.ids.push(item.endpointId)
        drift.notes.set(
          item.endpointId,
          `site_status ${item.siteStatus}, expected ${item.expectedStatus} (open http event: ${item.openHttpState ?? 'none'})`,
        )
      }
    }
    cursor = page.next
  } while (cursor !== null)
  note('projection_drift', drift.count, drift.ids, drift.notes)
  note('awaiting_adoption', awaiting.count, awaiting.ids)

  // The example rows, in one read.
  const allIds = [...found.values()].flatMap((entry) => entry.ids)
  const rows = new Map<bigint, Omit<LegacyRowExample, 'note'>>()
  if (allIds.length > 0) {
    for (const row of await db
      .select({
        endpointId: s.endpointId,
        blogId: s.blogId,
        bucketNo: s.bucketNo,
        monitorUrl: s.monitorUrl,
        monitorActive: s.monitorActive,
        siteStatus: s.siteStatus,
        checkInterval: s.checkInterval,
      })
      .from(s)
      .where(inArray(s.endpointId, [...new Set(allIds)]))) {
      rows.set(row.endpointId, { ...row, monitorActive: row.monitorActive !== 0 })
    }
  }

  const findings: AuditFinding[] = []
  for (const severity of ['blocking', 'warning'] as const) {
    for (const code of FINDING_CODES) {
      const entry = found.get(code)
      if (!entry || FINDING_SEVERITY[code] !== severity) continue
      findings.push({
        code,
        severity,
        count: entry.count,
        message: messageOf(code, entry.count, input.bucketTotal),
        examples: entry.ids.flatMap((id) => {
          const row = rows.get(id)
          if (!row) return []
          const text = entry.notes?.get(id)
          return [text === undefined ? row : { ...row, note: text }]
        }),
      })
    }
  }
  return {
    range,
    bucketTotal: input.bucketTotal,
    activeRows,
    findings,
    blocking: findings.some((finding) => finding.severity === 'blocking'),
  }
}

function messageOf(code: FindingCode, count: number, bucketTotal: number): string {
  switch (code) {
    case 'duplicate_active_url':
      return `${count} blog/URL pair(s) have more than one active row: each row is checked and notified on its own, so WordPress.com would hear about one outage twice. Deactivate or delete the extra rows.`
    case 'bucket_out_of_range':
      return `${count} active row(s) have a bucket_no of ${bucketTotal} (BUCKET_TOTAL) or more: no host owns those buckets, so nothing would check them. Move them into 0–${bucketTotal - 1}.`
    case 'invalid_monitor_url':
      return `${count} active row(s) have a monitor_url that is not an http(s) URL with a host: every check of them fails. Fix or deactivate them.`
    case 'invalid_site_status':
      return `${count} active row(s) have a site_status outside 0/1/2: they are treated as running (nothing is adopted), and the next transition overwrites the value.`
    case 'check_interval_zero':
      return `${count} active row(s) have check_interval 0: Jetmon 2 checks them every minute.`
    case 'projection_drift':
      return `${count} active row(s) have a site_status that disagrees with their open events: the next transition of each rewrites it (jetmon2 projection-drift lists them all).`
    case 'awaiting_adoption':
      return `${count} active row(s) are down for v1 (site_status 0 or 2) with no open incident: jetmon2 legacy adopt takes them over.`
  }
}
