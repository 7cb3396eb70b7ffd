/**
 * `jetmon2 projection-drift`: endpoints whose legacy `jetpack_monitor_sites.site_status` disagrees
 * with their open http events (a read-only report; see `projectionDrift` in @jetmon/eventstore).
 */
import { type ProjectionDrift, projectionDrift } from '@jetmon/eventstore'
import { defineCommand } from 'citty'
import { withAdminDatabase } from '../_admin-database.js'
import { parseInteger } from '../_args.js'
import { formatTable, formatTime, jsonId, outputArg, outputFormat, print, printJson } from '../_output.js'
import { configArg } from '../command-config.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 100_000
/** The largest page `projectionDrift` returns at once. */
const PAGE = 1000

/** v1's names for the legacy status values (docs/events.md). */
const LEGACY_NAMES: Record<number, string> = { 0: 'seems down', 1: 'running', 2: 'down' }
const legacyName = (status: number) => `${status} (${LEGACY_NAMES[status] ?? 'not a v1 value'})`

/** Up to `limit` drifting endpoints, page by page, and whether more exist beyond them. */
async function collectDrift(
  ctx: Parameters<typeof projectionDrift>[0]['ctx'],
  limit: number,
): Promise<{ items: ProjectionDrift[]; more: boolean }> {
  const items: ProjectionDrift[] = []
  let cursor: string | null = null
  for (;;) {
    const page = await projectionDrift({ ctx, limit: Math.min(PAGE, limit - items.length), cursor })
    items.push(...page.items)
    cursor = page.next
    if (cursor === null) return { items, more: false }
    if (items.length >= limit) return { items, more: true }
  }
}

export default defineCommand({
  meta: {
    name: 'projection-drift',
    description: 'List endpoints whose legacy site_status disagrees with their open events (changes nothing)',
  },
  args: {
    limit: {
      type: 'string',
      valueHint: 'N',
      description: `At most this many endpoints, in endpoint id order (1–${MAX_LIMIT}; default ${DEFAULT_LIMIT})`,
    },
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const limit =
      args.limit === undefined ? DEFAULT_LIMIT : parseInteger('--limit', args.limit, { min: 1, max: MAX_LIMIT })
    const { items, more } = await withAdminDatabase(args, (db) => collectDrift({ db }, limit))
    if (format === 'json') {
      printJson(
        items.map((drift) => ({
          endpoint_id: jsonId(drift.endpointId),
          blog_id: jsonId(drift.blogId),
          monitor_active: drift.monitorActive,
          site_status: drift.siteStatus,
          expected_status: drift.expectedStatus,
          open_http_state: drift.openHttpState,
          last_status_change: drift.lastStatusChange?.toISOString() ?? null,
        })),
      )
      return
    }
    if (items.length === 0) {
      print("No drift: every endpoint's site_status agrees with its open http events.")
      return
    }
    print(
      formatTable(
        ['endpoint', 'blog', 'active', 'site_status', 'expected', 'open event', 'last change'],
        items.map((drift) => [
          drift.endpointId.toString(),
          drift.blogId.toString(),
          drift.monitorActive ? 'yes' : 'no',
          legacyName(drift.siteStatus),
          legacyName(drift.expectedStatus),
          drift.openHttpState ?? 'none',
          formatTime(drift.lastStatusChange),
        ]),
      ),
    )
    print(
      `\n${items.length}${more ? '+' : ''} endpoint(s) drift${more ? ` (the first ${limit} shown; raise --limit for more)` : ''}. ` +
        'Nothing was changed: the next http transition of an endpoint rewrites its site_status. ' +
        'v1 readers see the stored value until then.',
    )
  },
})
