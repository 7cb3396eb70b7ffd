/** `health`, `me` and `request`: the connection checks and the raw escape hatch. */
import type { HttpMethod } from '@jetmon/api-client'
import { defineApiCommand, note, printData } from '../_command.js'
import { readInput } from '../_input.js'
import { parseJsonText } from '../_schema.js'
import { matchRoute } from '../_session.js'
import { UsageError } from '../errors.js'
import { formatValue } from '../output.js'
import { print } from './_shared.js'

export const health = defineApiCommand({
  name: 'health',
  description: 'Whether the API and its database answer (no token needed)',
  examples: ['jetmon2 api health', 'jetmon2 api health --url https://jetmon.example.com --output json'],
  routes: ['health'],
  async run({ session }) {
    const started = performance.now()
    const response = await session.call('health')
    const ms = Math.round(performance.now() - started)
    printData(session, response.data, (data) =>
      formatValue({ ...(data as object), api: session.connection.apiBaseUrl, answered_in_ms: ms }),
    )
  },
})

export const me = defineApiCommand({
  name: 'me',
  description: 'The calling key: consumer, scope, rate limit, expiry (checks the token)',
  examples: ['jetmon2 api me', 'jetmon2 api me --token-file ~/.config/jetmon2/token --output json --pretty'],
  routes: ['me'],
  async run({ session }) {
    const response = await session.call('me')
    printData(session, response.data, (data) => {
      const rate = response.rateLimit
      return formatValue({
        ...(data as object),
        api: session.connection.apiBaseUrl,
        ...(rate ? { rate_limit_remaining: rate.remaining } : {}),
      })
    })
  },
})

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']

export const request = defineApiCommand({
  name: 'request',
  description: 'Send one raw request below /api/v1 and print the JSON answer',
  examples: [
    'jetmon2 api request GET /me',
    'jetmon2 api request GET "/sites?state=Down&limit=5"',
    `jetmon2 api request POST /events/123/close --body '{"reason":"false_alarm"}'`,
    'jetmon2 api request PATCH /sites/42 --body-file - < patch.json',
  ],
  writes: true,
  scope: 'any',
  args: {
    method: { type: 'positional', required: true, description: `HTTP method: ${METHODS.join(', ')}` },
    path: {
      type: 'positional',
      required: true,
      description: 'Path below /api/v1, with any query string (/sites?limit=5)',
    },
    body: { type: 'string', valueHint: 'json', description: 'The JSON request body' },
    'body-file': { type: 'string', valueHint: 'path|-', description: 'Read the JSON body from a file (- for stdin)' },
    'idempotency-key': {
      type: 'string',
      valueHint: 'key',
      description: 'Send Idempotency-Key (POST routes that create or act)',
    },
  },
  async run({ args, session }) {
    const method = args.method.toUpperCase() as HttpMethod
    if (!METHODS.includes(method))
      throw new UsageError(`METHOD: must be one of ${METHODS.join(', ')}, got ${JSON.stringify(args.method)}`)
    // `/api/v1/me` and `/me` mean the same: the base URL already ends in /api/v1.
    const path = args.path.replace(/^\/api\/v1(?=\/|$)/, '') || '/'
    if (!path.startsWith('/'))
      throw new UsageError(`PATH: must start with / (a path below /api/v1), got ${JSON.stringify(args.path)}`)
    if (args.body !== undefined && args['body-file'] !== undefined)
      throw new UsageError('--body and --body-file: give one or the other')
    let body: unknown
    if (args.body !== undefined) body = parseJsonText(args.body, '--body')
    if (args['body-file'] !== undefined)
      body = parseJsonText(await readInput(args['body-file']), `--body-file ${args['body-file']}`)
    if (method !== 'GET') session.assertWritable(`${method} ${path}`)
    if (!matchRoute(method, path))
      note(`note: ${method} ${path.split('?')[0]} is not a route of this build's contract; sending it anyway`)
    const response = await session.raw({
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(args['idempotency-key'] !== undefined ? { idempotencyKey: args['idempotency-key'] } : {}),
    })
    if (response.idempotencyReplayed)
      note('note: replayed — the stored answer of an earlier request with this Idempotency-Key')
    if (response.data === undefined) {
      if (session.format === 'table') print(`done (HTTP ${response.status})`)
      return
    }
    printData(session, response.data, (data) => {
      const list = data as { data?: unknown; page?: unknown }
      return formatValue(Array.isArray(list?.data) && list.page ? list.data : data)
    })
  },
})
