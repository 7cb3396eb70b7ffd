/**
 * An endpoint's check policy: its request method and detection profile. Both are stored per
 * endpoint in `jetmon_endpoint_config`; NULL (or no configuration row) means the fleet default
 * (`DEFAULT_REQUEST_METHOD`, `DEFAULT_DETECTION_PROFILE`), which answers and filters resolve.
 */
import { type DbOrTx, endpointConfig, monitorSites } from '@jetmon/db'
import {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  type DetectionProfile,
  type RequestMethod,
} from '@jetmon/vocabulary'
import { and, type Column, eq, inArray, ne, type SQL, sql } from 'drizzle-orm'

/** The fleet defaults that NULL stands for. */
export interface CheckPolicyDefaults {
  /** `DEFAULT_REQUEST_METHOD`. */
  requestMethod: RequestMethod
  /** `DEFAULT_DETECTION_PROFILE`. */
  detectionProfile: DetectionProfile
}

/** The fleet defaults when the process configures none: `GET` with the `full` profile. */
export const DEFAULT_CHECK_POLICY: Readonly<CheckPolicyDefaults> = Object.freeze({
  requestMethod: DEFAULT_REQUEST_METHOD,
  detectionProfile: DEFAULT_DETECTION_PROFILE,
})

/** A filter on the effective policy; an absent field matches every value. */
export interface CheckPolicyFilter {
  requestMethod?: RequestMethod | null | undefined
  detectionProfile?: DetectionProfile | null | undefined
}

/** Whether the filter constrains anything. */
export function hasPolicyFilter(filter: CheckPolicyFilter | undefined): filter is CheckPolicyFilter {
  return Boolean(filter && (filter.requestMethod || filter.detectionProfile))
}

/**
 * The filter as a condition on configuration columns (of a LEFT JOINed `jetmon_endpoint_config`,
 * whose columns are NULL when the endpoint has no row): `COALESCE(column, default) = value`.
 */
export function policyCondition(
  filter: CheckPolicyFilter,
  defaults: CheckPolicyDefaults,
  columns: { requestMethod: Column | SQL; detectionProfile: Column | SQL } = endpointConfig,
): SQL | undefined {
  const parts: SQL[] = []
  if (filter.requestMethod) {
    parts.push(sql`COALESCE(${columns.requestMethod}, ${defaults.requestMethod}) = ${filter.requestMethod}`)
  }
  if (filter.detectionProfile) {
    parts.push(sql`COALESCE(${columns.detectionProfile}, ${defaults.detectionProfile}) = ${filter.detectionProfile}`)
  }
  return parts.length === 0 ? undefined : and(...parts)
}

/** Whether only endpoints with a configuration row that names a value can match (no default is asked for). */
export function needsExplicitValue(filter: CheckPolicyFilter, defaults: CheckPolicyDefaults): boolean {
  return (
    (Boolean(filter.requestMethod) && filter.requestMethod !== defaults.requestMethod) ||
    (Boolean(filter.detectionProfile) && filter.detectionProfile !== defaults.detectionProfile)
  )
}

/** One cohort of the fleet: the stored values (null = the fleet default) and how many active endpoints have them. */
export interface CheckPolicyCohort {
  requestMethod: RequestMethod | null
  detectionProfile: DetectionProfile | null
  endpoints: number
}

/**
 * Active endpoints counted by their stored method × profile (NULL kept apart: the caller resolves
 * it against the defaults it knows), most endpoints first. One grouped query over the fleet.
 */
export async function countCheckPolicyCohorts({ ctx }: { ctx: { db: DbOrTx } }): Promise<CheckPolicyCohort[]> {
  const rows = await ctx.db
    .select({
      requestMethod: endpointConfig.requestMethod,
      detectionProfile: endpointConfig.detectionProfile,
      endpoints: sql<number | string>`COUNT(*)`,
    })
    .from(monitorSites)
    .leftJoin(endpointConfig, eq(endpointConfig.endpointId, monitorSites.endpointId))
    .where(ne(monitorSites.monitorActive, 0))
    .groupBy(endpointConfig.requestMethod, endpointConfig.detectionProfile)
  return rows
    .map((row) => ({
      requestMethod: row.requestMethod,
      detectionProfile: row.detectionProfile,
      endpoints: Number(row.endpoints),
    }))
    .sort(
      (a, b) =>
        b.endpoints - a.endpoints ||
        String(a.requestMethod).localeCompare(String(b.requestMethod)) ||
        String(a.detectionProfile).localeCompare(String(b.detectionProfile)),
    )
}

/** The stored method and profile of each of these endpoints (null = the fleet default; absent without a configuration row). */
export async function loadStoredPolicies({
  ctx,
  endpointIds,
}: {
  ctx: { db: DbOrTx }
  endpointIds: readonly bigint[]
}): Promise<Map<bigint, { requestMethod: RequestMethod | null; detectionProfile: DetectionProfile | null }>> {
  if (endpointIds.length === 0) return new Map()
  const rows = await ctx.db
    .select({
      endpointId: endpointConfig.endpointId,
      requestMethod: endpointConfig.requestMethod,
      detectionProfile: endpointConfig.detectionProfile,
    })
    .from(endpointConfig)
    .where(inArray(endpointConfig.endpointId, [...endpointIds]))
  return new Map(
    rows.map((row) => [
      BigInt(row.endpointId),
      { requestMethod: row.requestMethod, detectionProfile: row.detectionProfile },
    ]),
  )
}
