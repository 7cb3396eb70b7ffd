import { type Db, type Logger, maintenanceWindows, noopLogger } from '@jetmon/db'
import { gt } from 'drizzle-orm'

interface Window {
  endpointId: bigint | null
  startsAt: number
  endsAt: number
}

/**
 * The maintenance windows that have not ended yet, held in memory and refreshed on an interval,
 * so that asking "is this endpoint in maintenance?" costs no statement per check.
 */
export class MaintenanceCache {
  private byBlog = new Map<bigint, Window[]>()
  private timer: NodeJS.Timeout | null = null
  loadedAt = 0

  constructor(
    private readonly db: Db,
    private readonly options: { refreshMs: number; logger?: Logger; clock?: () => Date } = { refreshMs: 30_000 },
  ) {}

  async refresh(): Promise<void> {
    const now = (this.options.clock ?? (() => new Date()))()
    const rows = await this.db
      .select({
        blogId: maintenanceWindows.blogId,
        endpointId: maintenanceWindows.endpointId,
        startsAt: maintenanceWindows.startsAt,
        endsAt: maintenanceWindows.endsAt,
      })
      .from(maintenanceWindows)
      .where(gt(maintenanceWindows.endsAt, now))
    const byBlog = new Map<bigint, Window[]>()
    for (const row of rows) {
      const list = byBlog.get(row.blogId) ?? []
      list.push({ endpointId: row.endpointId, startsAt: row.startsAt.getTime(), endsAt: row.endsAt.getTime() })
      byBlog.set(row.blogId, list)
    }
    this.byBlog = byBlog
    this.loadedAt = now.getTime()
  }

  /** A window covers a check when `starts_at <= t < ends_at` and it names the endpoint or the whole site. */
  covers(blogId: bigint, endpointId: bigint, at: Date): boolean {
    const t = at.getTime()
    for (const w of this.byBlog.get(blogId) ?? []) {
      if ((w.endpointId === null || w.endpointId === endpointId) && w.startsAt <= t && t < w.endsAt) return true
    }
    return false
  }

  start(): void {
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        (this.options.logger ?? noopLogger).warn({ err: error }, 'could not refresh maintenance windows'),
      )
    }, this.options.refreshMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}
