/** What this control plane offers, for clients to adapt to: modes, limits and the steps. */
import { DEFAULT_SAMPLE, MAX_SAMPLE } from './_checks-common.js'
import { RECONCILE_OFFENDER_LIMIT, RELEASE_WAIT } from './handoff.js'
import type { RolloutContext } from './jobs.js'
import { DEFAULT_BUCKET_TOTAL, FRESHNESS_WINDOW_MS } from './ownership.js'
import { DEFAULT_TOKEN_TTL_SEC } from './two-phase.js'

/** Endpoints a smoke test or comparison samples by default, and at most. */
export const SAMPLE_LIMITS = { default: DEFAULT_SAMPLE, max: MAX_SAMPLE } as const

/** The steps that change something, each two-phase (dry run, then execution with its token). */
export const TWO_PHASE_STEPS = [
  'adopt',
  'activate',
  'release',
  'policy-stage',
  'stage-rollback',
  'stage-rollback-all',
] as const

export interface RolloutCapabilities {
  apiVersion: 'v1'
  modes: readonly ['active', 'standby', 'api-controlled']
  tokenTtlSec: number
  bucketTotal: number
  sampleLimits: { default: number; max: number }
  releaseWaitSec: { default: number; max: number }
  reconcileOffenderLimit: number
  freshnessWindowSec: number
  twoPhaseSteps: readonly string[]
}

/** The control plane's modes, limits and settings as this process runs them. */
export function rolloutCapabilities(ctx: Pick<RolloutContext, 'tokenTtlSec' | 'bucketTotal'>): RolloutCapabilities {
  return {
    apiVersion: 'v1',
    modes: ['active', 'standby', 'api-controlled'],
    tokenTtlSec: ctx.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC,
    bucketTotal: ctx.bucketTotal ?? DEFAULT_BUCKET_TOTAL,
    sampleLimits: { ...SAMPLE_LIMITS },
    releaseWaitSec: { default: RELEASE_WAIT.defaultSec, max: RELEASE_WAIT.maxSec },
    reconcileOffenderLimit: RECONCILE_OFFENDER_LIMIT,
    freshnessWindowSec: FRESHNESS_WINDOW_MS / 1000,
    twoPhaseSteps: TWO_PHASE_STEPS,
  }
}
