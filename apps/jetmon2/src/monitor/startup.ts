import type { BucketRange, Scheduler } from '@jetmon/scheduler'

/** What {@link loadWhileDispatching} starts. */
export interface StartupParts {
  scheduler: Pick<Scheduler, 'start'>
  /** The pipeline's snapshot of open events, serving every endpoint first checked after it. */
  snapshot: () => Promise<void>
  /** Loads the endpoints of `ranges` page by page, handing each page to the scheduler as it arrives. */
  load: (ranges: readonly BucketRange[]) => Promise<unknown>
}

/**
 * The start of the checking loop: the pipeline's snapshot is read, dispatching starts, then the
 * endpoints of the owned buckets are loaded. Each page joins the due queue at its endpoints' next
 * phase slots and is checked from then on while later pages are still read, so a large fleet is
 * checked on time from its first page, and nothing is due before it was loaded: no backlog of slots
 * that passed during a long load, and so no start-up burst of late checks. The snapshot comes first
 * so that those early checks do not each ask the event store about their endpoint.
 */
export async function loadWhileDispatching(parts: StartupParts, ranges: readonly BucketRange[]): Promise<void> {
  await parts.snapshot()
  parts.scheduler.start()
  await parts.load(ranges)
}
