/**
 * `adopt`: the two-phase wrapper of v1 adoption (@jetmon/legacy): the dry run shows what
 * `adoptLegacyIncidents` would open, the execution opens it. Activating a range warns until an
 * adoption was executed for it.
 */
import type { Db } from '@jetmon/db'
import { type AdoptionExample, adoptLegacyIncidents } from '@jetmon/legacy'
import * as v from 'valibot'
import { RangeEntries, rangeChecked, rangeText } from './_params.js'
import type { Problem } from './errors.js'
import type { RolloutContext } from './jobs.js'
import { defineStep, runStep, type StepOutcome, type StepRequest } from './two-phase.js'

export const AdoptParameters = rangeChecked(v.strictObject({ ...RangeEntries }))
export type AdoptParameters = v.InferOutput<typeof AdoptParameters>

/** Examples an adoption plan shows. */
const EXAMPLES = 10

export interface AdoptionPlanExample {
  endpoint_id: bigint
  blog_id: bigint
  bucket_no: number
  monitor_url: string
  site_status: number
  state: 'Seems Down' | 'Down'
  /** v1's `last_status_change`, or null when v1 has none (the adoption starts the event then). */
  started_at: Date | null
  event_id?: bigint
}

export interface AdoptPlan {
  bucket_min: number
  bucket_max: number
  /** Events that would be opened: `seems_down` from site_status 0, `down` from 2. */
  adopt: { seems_down: number; down: number }
  /** Rows down for v1 that already have an open http event: left alone. */
  already_open: number
  examples: AdoptionPlanExample[]
}

export interface AdoptResult {
  adopted: { seems_down: number; down: number }
  already_open: number
  /** Candidates that got an open http event from someone else while the adoption ran. */
  skipped: number
  examples: AdoptionPlanExample[]
}

function exampleOf(example: AdoptionExample, now: Date): AdoptionPlanExample {
  return {
    endpoint_id: example.endpointId,
    blog_id: example.blogId,
    bucket_no: example.bucketNo,
    monitor_url: example.monitorUrl,
    site_status: example.siteStatus,
    state: example.state,
    // The library starts an event "now" when v1 left last_status_change NULL: keep the plan free of times.
    started_at: example.startedAt.getTime() === now.getTime() ? null : example.startedAt,
    ...(example.eventId === undefined ? {} : { event_id: example.eventId }),
  }
}

/**
 * `adopt {bucket_min, bucket_max}`: opens Jetmon 2 events for the incidents v1 reports in the range
 * (site_status 0 → Seems Down, 2 → Down, already notified), nothing twice. A range with nothing to
 * adopt can still be executed: it records that adoption ran for the range.
 */
export const adoptStep = defineStep({
  name: 'adopt',
  parameters: AdoptParameters,
  transaction: false,
  async plan(ctx, params) {
    const now = (ctx.clock ?? (() => new Date()))()
    const dry = await adoptLegacyIncidents({
      // Not a transactional step: `db` is the pool, and adoption commits batch by batch.
      ctx: { db: ctx.db as Db, clock: () => now, source: ctx.actor },
      bucketMin: params.bucket_min,
      bucketMax: params.bucket_max,
      examples: EXAMPLES,
    })
    const warnings: Problem[] = []
    if (dry.adopted.seemsDown + dry.adopted.down === 0) {
      warnings.push({
        code: 'nothing_to_adopt',
        message: `v1 reports no incident without a Jetmon 2 event in ${rangeText(params)}; executing records that adoption ran`,
      })
    }
    const plan: AdoptPlan = {
      bucket_min: params.bucket_min,
      bucket_max: params.bucket_max,
      adopt: { seems_down: dry.adopted.seemsDown, down: dry.adopted.down },
      already_open: dry.alreadyOpen,
      examples: dry.examples.map((example) => exampleOf(example, now)),
    }
    return { plan, blocked: [], warnings }
  },
  async execute(ctx, params): Promise<AdoptResult> {
    const clock = ctx.clock ?? (() => new Date())
    const done = await adoptLegacyIncidents({
      ctx: {
        db: ctx.db as Db,
        clock,
        source: ctx.actor,
        ...(ctx.logger ? { logger: ctx.logger } : {}),
        projection: ctx.projection !== false,
      },
      bucketMin: params.bucket_min,
      bucketMax: params.bucket_max,
      execute: true,
      examples: EXAMPLES,
    })
    return {
      adopted: { seems_down: done.adopted.seemsDown, down: done.adopted.down },
      already_open: done.alreadyOpen,
      skipped: done.skipped,
      examples: done.examples.map((example) => exampleOf(example, new Date(Number.NaN))),
    }
  },
})

/** `adopt`, dry run or execution (see {@link adoptStep}). */
export function adoptRange(ctx: RolloutContext, request: StepRequest): Promise<StepOutcome<AdoptPlan, AdoptResult>> {
  return runStep(ctx, adoptStep, request)
}
