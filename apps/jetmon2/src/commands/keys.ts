/**
 * `jetmon2 keys create|list|revoke|rotate`: API keys, straight in the database (for the first
 * admin key, and for operators on the host). Tokens are printed once and stored only as sha256;
 * every change writes an audit row with source `cli:<os user>`.
 */
import {
  type ApiKeyRow,
  DEFAULT_RATE_LIMITS,
  isApiKeyError,
  issueApiKey,
  keyStatus,
  keyToJson,
  listApiKeys,
  rateLimitOf,
  revokeApiKey,
  rotateApiKey,
} from '@jetmon/api-keys'
import { defineCommand } from 'citty'
import { withAdminDatabase } from '../_admin-database.js'
import { cliSource, parseDuration, parseId, parseInteger, usageError } from '../_args.js'
import { formatTable, formatTime, outputArg, outputFormat, print, printJson } from '../_output.js'
import { configArg } from '../command-config.js'
import { CommandError } from '../errors.js'

type Scope = ApiKeyRow['scope']

const SCOPES: readonly Scope[] = ['read', 'write', 'admin']
// The REST API's limits (POST /keys, POST /keys/{id}/rotate), so both paths accept the same keys.
const CONSUMER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/
const MAX_RATE_LIMIT = 1_000_000
const MAX_TTL_MS = 3650 * 86_400_000
const MAX_GRACE_MS = 30 * 86_400_000
const DEFAULT_GRACE_MS = 86_400_000

/** Key times are whole-second columns: store a second that has begun, never one rounded up. */
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

/** A key's status for a table: `rotating` says until when the old token still works. */
function statusCell(row: ApiKeyRow, now: Date): string {
  const status = keyStatus(row, now)
  return status === 'rotating' ? `rotating until ${formatTime(row.revokedAt)}` : status
}

/** A refused key change in an operator's words (exit 1); anything else as is. */
function keyCommandError(error: unknown): never {
  if (!isApiKeyError(error)) throw error
  const { id, key } = error
  switch (error.code) {
    case 'KEY_NOT_FOUND':
      throw new CommandError(`there is no API key ${id}; \`jetmon2 keys list\` shows the keys`)
    case 'KEY_REVOKED':
      throw new CommandError(
        `API key ${id} (${key?.consumerName}) is already revoked; create a new one with jetmon2 keys create`,
      )
    case 'KEY_EXPIRED':
      throw new CommandError(
        `API key ${id} (${key?.consumerName}) expired at ${formatTime(key?.expiresAt)}; create a new one with jetmon2 keys create`,
      )
  }
}

/** The one-time token print, with what to do with it. */
function printToken(token: string): void {
  print(
    [
      '',
      'Token (shown only this once; it is stored as a hash and cannot be shown again, so keep it in your secret store now):',
      '',
      `    ${token}`,
      '',
      'Use it:',
      '  HTTP          Authorization: Bearer <token>   on requests to /api/v1',
      '  jetmon2 api   save it in a file readable only by you (chmod 600), then: jetmon2 api me --token-file <file>',
    ].join('\n'),
  )
}

const create = defineCommand({
  meta: { name: 'create', description: 'Create an API key and print its token (once)' },
  args: {
    consumer: {
      type: 'string',
      required: true,
      valueHint: 'name',
      description: 'Who holds the key (1–128 letters, digits, ".", "_", "@" or "-"), e.g. gateway or ops-dashboard',
    },
    scope: { type: 'string', valueHint: 'read|write|admin', description: 'What the key may do (default: read)' },
    'rate-limit': {
      type: 'string',
      valueHint: 'N',
      description: `Requests per minute (default by scope: read ${DEFAULT_RATE_LIMITS.read}, write ${DEFAULT_RATE_LIMITS.write}, admin ${DEFAULT_RATE_LIMITS.admin})`,
    },
    ttl: {
      type: 'string',
      valueHint: '90d',
      description: 'Expire the key after this long (30s, 15m, 24h, 90d); default: never',
    },
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const consumer = args.consumer.trim()
    if (!CONSUMER.test(consumer)) {
      throw usageError(
        '--consumer',
        `must be 1–128 letters, digits, ".", "_", "@" or "-", got ${JSON.stringify(args.consumer)}`,
      )
    }
    const scope = (args.scope ?? 'read') as Scope
    if (!SCOPES.includes(scope)) {
      throw usageError('--scope', `expected read, write or admin, got ${JSON.stringify(args.scope)}`)
    }
    const rateLimit =
      args['rate-limit'] === undefined
        ? null
        : parseInteger('--rate-limit', args['rate-limit'], { min: 1, max: MAX_RATE_LIMIT })
    const ttlMs = args.ttl === undefined ? null : parseDuration('--ttl', args.ttl, { min: 1_000, max: MAX_TTL_MS })
    const source = cliSource()

    const { row, token } = await withAdminDatabase(args, (db) =>
      issueApiKey({
        ctx: { db },
        input: {
          consumer,
          scope,
          rateLimitPerMinute: rateLimit,
          expiresAt: ttlMs === null ? null : wholeSecond(Date.now() + ttlMs),
          actor: source,
        },
      }),
    )
    const now = new Date()
    if (format === 'json') {
      printJson({ key: keyToJson(row, now), token })
      return
    }
    print(
      `Created API key ${row.id} for ${row.consumerName}: scope ${row.scope}, ${rateLimitOf(row)} requests/minute, ` +
        `${row.expiresAt ? `expires ${formatTime(row.expiresAt)}` : 'never expires'}.`,
    )
    printToken(token)
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'List the API keys, newest first (tokens are never shown)' },
  args: { ...outputArg, ...configArg },
  async run({ args }) {
    const format = outputFormat(args)
    const rows = await withAdminDatabase(args, (db) => listApiKeys({ ctx: { db } }))
    const now = new Date()
    if (format === 'json') {
      printJson(rows.map((row) => keyToJson(row, now)))
      return
    }
    if (rows.length === 0) {
      print('No API keys yet. Create the first with: jetmon2 keys create --consumer <name> --scope admin')
      return
    }
    print(
      formatTable(
        ['id', 'consumer', 'scope', 'rate', 'expires', 'last used', 'status'],
        rows.map((row) => [
          row.id.toString(),
          row.consumerName,
          row.scope,
          `${rateLimitOf(row)}/min`,
          formatTime(row.expiresAt, 'never'),
          formatTime(row.lastUsedAt, 'never'),
          statusCell(row, now),
        ]),
      ),
    )
  },
})

const idArg = {
  id: { type: 'positional', required: true, valueHint: 'id', description: 'Key id (see jetmon2 keys list)' },
} as const

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke an API key now: its token is refused from the next request on' },
  args: { ...idArg, ...outputArg, ...configArg },
  async run({ args }) {
    const format = outputFormat(args)
    const id = parseId('id', args.id)
    const source = cliSource()
    const now = wholeSecond(Date.now())
    // Idempotent, like POST /keys/{id}/revoke: a revoked key stays as it is.
    const { row, changed } = await withAdminDatabase(args, (db) =>
      revokeApiKey({ ctx: { db, clock: () => now }, input: { id, actor: source } }).catch(keyCommandError),
    )
    if (format === 'json') {
      printJson(keyToJson(row, new Date()))
      return
    }
    print(
      changed
        ? `Revoked API key ${row.id} (${row.consumerName}, ${row.scope}): its token is refused from now on.`
        : `API key ${row.id} (${row.consumerName}) was already revoked at ${formatTime(row.revokedAt)}; nothing changed.`,
    )
  },
})

const rotate = defineCommand({
  meta: {
    name: 'rotate',
    description: 'Issue a replacement key; the old token keeps working for a grace period, then is refused',
  },
  args: {
    ...idArg,
    grace: {
      type: 'string',
      valueHint: '24h',
      description: 'How long the old token keeps working (0s to 30d; default 24h)',
    },
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const id = parseId('id', args.id)
    const graceMs =
      args.grace === undefined ? DEFAULT_GRACE_MS : parseDuration('--grace', args.grace, { min: 0, max: MAX_GRACE_MS })
    const source = cliSource()
    // Key times are whole seconds, so a whole-second `now` judges them as the exact one would.
    const now = wholeSecond(Date.now())
    const { old, next, keptEarlier } = await withAdminDatabase(args, (db) =>
      rotateApiKey({ ctx: { db, clock: () => now }, input: { id, graceSeconds: graceMs / 1000, actor: source } }).catch(
        keyCommandError,
      ),
    )
    if (format === 'json') {
      printJson({ key: keyToJson(next.row, now), token: next.token, replaced: keyToJson(old, now) })
      return
    }
    print(
      `Rotated API key ${old.id} (${old.consumerName}, ${old.scope}) to new key ${next.row.id}.\n` +
        `The old token keeps working until ${formatTime(old.revokedAt)} ` +
        (keptEarlier ? '(its earlier rotation cutoff); ' : `(grace ${args.grace?.trim() ?? '24h'}); `) +
        'put the new token in place before then.',
    )
    printToken(next.token)
  },
})

export default defineCommand({
  meta: { name: 'keys', description: 'Manage API keys in the database: create, list, revoke, rotate' },
  subCommands: { create, list, revoke, rotate },
})
