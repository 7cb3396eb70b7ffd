import type { BucketRange, Scheduler } from '@jetmon/scheduler'

/** What {@link loadWhileDispatching} starts. */
export interface StartupParts {
  scheduler: Pick<Scheduler, 'start'>
  /** Loads the endpoints of `ranges` page by page, handing each page to the scheduler as it arrives. */
  load: (ranges: readonly BucketRange[]) => Promise<unknown>
  /** Runs once every endpoint of the first load is known (the pipeline's snapshot of open events). */
  afterLoad: () => Promise<void>
}

/**
 * The start of the checking loop: dispatching starts first, then the endpoints of the owned buckets
 * are loaded. Each page joins the due queue at its endpoints' next phase slots and is checked from
 * then on while later pages are still read, so a large fleet is checked on time from its first page,
 * and nothing is due before it was loaded: no backlog of slots that passed during a long load, and
 * so no start-up burst of late checks. The checks of endpoints dispatched before the snapshot read
 * by `afterLoad` read their own events from the event store.
 */
export async function loadWhileDispatching(parts: StartupParts, ranges: readonly BucketRange[]): Promise<void> {
  parts.scheduler.start()
  await parts.load(ranges)
  await parts.afterLoad()
}
