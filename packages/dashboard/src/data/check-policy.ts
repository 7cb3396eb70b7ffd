/**
 * Check policy (request method × detection profile) for the pages: the fleet's cohorts and one
 * endpoint's labels. A stored NULL is the fleet default; when the dashboard was not told the
 * defaults, it says "default" instead of guessing.
 */
import type { CheckPolicyCohort, CheckPolicyDefaults } from '@jetmon/read-models'
import { DEFAULT_CHECK_POLICY } from '@jetmon/read-models'

/** What a NULL shows as when the defaults are unknown. */
export const FLEET_DEFAULT_LABEL = 'default'

/** The defaults as the process gave them (a missing one is the built-in), or null when it gave none. */
export function completePolicyDefaults(given: Partial<CheckPolicyDefaults> | undefined): CheckPolicyDefaults | null {
  if (given === undefined) return null
  return {
    requestMethod: given.requestMethod ?? DEFAULT_CHECK_POLICY.requestMethod,
    detectionProfile: given.detectionProfile ?? DEFAULT_CHECK_POLICY.detectionProfile,
  }
}

/** One cohort of the fleet page: method and profile as shown (a known default resolved), and its share. */
export interface PolicyCohortRow {
  requestMethod: string
  detectionProfile: string
  endpoints: number
  /** Of all active endpoints, 0 – 1. */
  share: number
}

/** Cohorts with NULL resolved to the known defaults (cohorts that become equal are merged), most endpoints first. */
export function resolveCohorts(
  cohorts: readonly CheckPolicyCohort[],
  defaults: CheckPolicyDefaults | null,
): PolicyCohortRow[] {
  const merged = new Map<string, { requestMethod: string; detectionProfile: string; endpoints: number }>()
  for (const cohort of cohorts) {
    const requestMethod = cohort.requestMethod ?? defaults?.requestMethod ?? FLEET_DEFAULT_LABEL
    const detectionProfile = cohort.detectionProfile ?? defaults?.detectionProfile ?? FLEET_DEFAULT_LABEL
    const key = `${requestMethod}\u0000${detectionProfile}`
    const row = merged.get(key) ?? { requestMethod, detectionProfile, endpoints: 0 }
    row.endpoints += cohort.endpoints
    merged.set(key, row)
  }
  const total = cohorts.reduce((sum, cohort) => sum + cohort.endpoints, 0)
  return [...merged.values()]
    .sort(
      (a, b) =>
        b.endpoints - a.endpoints ||
        a.requestMethod.localeCompare(b.requestMethod) ||
        a.detectionProfile.localeCompare(b.detectionProfile),
    )
    .map((row) => ({ ...row, share: total === 0 ? 0 : row.endpoints / total }))
}

/** How an endpoint's method or profile reads on its site page. */
export interface PolicyLabel {
  value: string
  /** Not set on the endpoint: the fleet default applies. */
  inherited: boolean
}

/** The label of one policy field: the stored value, else the known default, else "default". */
export function policyLabel(stored: string | null | undefined, fallback: string | undefined): PolicyLabel {
  if (stored !== null && stored !== undefined) return { value: stored, inherited: false }
  return { value: fallback ?? FLEET_DEFAULT_LABEL, inherited: true }
}
