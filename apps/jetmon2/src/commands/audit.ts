/**
 * `jetmon2 audit`: the operational record (`jetmon_audit_log`, who did what), newest first,
 * straight from the database.
 */
import { type AuditLogFilter, listAuditLog } from '@jetmon/read-models'
import { defineCommand } from 'citty'
import { withAdminDatabase } from '../_admin-database.js'
import { parseId, parseInteger, parseTimeBound, usageError } from '../_args.js'
import { formatTable, formatTime, jsonId, outputArg, outputFormat, print, printJson } from '../_output.js'
import { configArg } from '../command-config.js'

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 10_000
const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/

export default defineCommand({
  meta: { name: 'audit', description: 'Show the audit log (who did what), newest first' },
  args: {
    'blog-id': { type: 'string', valueHint: 'id', description: 'Only entries about this blog' },
    'event-type': {
      type: 'string',
      valueHint: 'type[,type…]',
      description: 'Only these event types, e.g. key_created,key_revoked or api_access',
    },
    since: {
      type: 'string',
      valueHint: '24h|timestamp',
      description: 'From this long ago (30s, 15m, 24h, 90d) or this UTC time (2025-01-31T12:00:00Z), inclusive',
    },
    until: {
      type: 'string',
      valueHint: '1h|timestamp',
      description: 'Up to this long ago or this UTC time, exclusive (default: now)',
    },
    limit: {
      type: 'string',
      valueHint: 'N',
      description: `At most this many entries (1–${MAX_LIMIT}; default ${DEFAULT_LIMIT})`,
    },
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const now = new Date()
    const filter: AuditLogFilter = {}
    if (args['blog-id'] !== undefined) filter.blogId = parseId('--blog-id', args['blog-id'])
    if (args['event-type'] !== undefined) {
      const types = args['event-type'].split(',').map((type) => type.trim())
      const bad = types.find((type) => !EVENT_TYPE.test(type))
      if (bad !== undefined) {
        throw usageError(
          '--event-type',
          `expected event types such as key_created or api_access, got ${JSON.stringify(bad)}`,
        )
      }
      filter.eventTypes = types
    }
    const since = args.since === undefined ? null : parseTimeBound('--since', args.since, now)
    const until = args.until === undefined ? null : parseTimeBound('--until', args.until, now)
    if (since && until && since >= until) {
      throw usageError('--since', `${since.toISOString()} is not before --until ${until.toISOString()}`)
    }
    if (since) filter.since = since
    if (until) filter.until = until
    const limit =
      args.limit === undefined ? DEFAULT_LIMIT : parseInteger('--limit', args.limit, { min: 1, max: MAX_LIMIT })

    const rows = await withAdminDatabase(args, (db) => listAuditLog({ ctx: { db }, filter, limit }))
    if (format === 'json') {
      printJson(
        rows.map((row) => ({
          id: jsonId(row.id),
          blog_id: row.blogId === null ? null : jsonId(row.blogId),
          event_id: row.eventId === null ? null : jsonId(row.eventId),
          event_type: row.eventType,
          source: row.source,
          detail: row.detail,
          metadata: row.metadata ?? null,
          created_at: row.createdAt.toISOString(),
        })),
      )
      return
    }
    if (rows.length === 0) {
      print('No audit entries match.')
      return
    }
    print(
      formatTable(
        ['time', 'event type', 'blog', 'source', 'detail'],
        rows.map((row) => [
          formatTime(row.createdAt),
          row.eventType,
          row.blogId?.toString() ?? '',
          row.source,
          // One entry per line, whatever the detail holds.
          (row.detail ?? '').replace(/\s+/g, ' '),
        ]),
      ),
    )
    if (rows.length === limit) print(`(the newest ${limit}; --limit or --since/--until show others)`)
  },
})
