/**
 * Commands generated from the route table of `@jetmon/api-client`: a path parameter becomes an
 * argument, a query parameter or a body field becomes a flag (`check_interval_sec` →
 * `--check-interval-sec`, `state__in` → `--state-in`), the description is the route's summary, and
 * the input is checked with the route's own schemas before anything is sent. A command can
 * therefore only call a route that exists, with the fields it takes.
 */
import type { RouteDefinition, RouteId } from '@jetmon/api-client'
import type { ArgDef, ArgsDef, CommandDef } from 'citty'
import { defineApiCommand, globalArgs, note, printData, type RunContext, writeArgs } from './_command.js'
import { readInput } from './_input.js'
import {
  checkSchema,
  type FieldInfo,
  flagName,
  objectFields,
  parseJsonText,
  type SchemaIssue,
  type SchemaNode,
  valueFromText,
} from './_schema.js'
import { type CallInput, requireRoute, type Session } from './_session.js'
import { UsageError } from './errors.js'
import { formatValue } from './output.js'

/** One command of a resource group, by route id. */
export interface RouteCommandSpec {
  /** The subcommand's name (`get`, `trigger-now`). */
  name: string
  /** The route it calls: an id of the contract's `routes`, so a typo does not compile. */
  route: RouteId
  examples: readonly string[]
  /** Default: the route's summary. */
  description?: string
  /** Descriptions of the path parameters (`blog_id: 'The site (blog id)'`). */
  params?: Record<string, string>
  /** Columns of a list (default: every scalar field). */
  columns?: readonly string[]
  /** How a person sees the answer (default: {@link formatValue}). */
  table?: (data: unknown) => string
  /** Flag names for fields whose natural name is taken by a global flag (`url` → `target-url`). */
  rename?: Record<string, string>
  /** What table output prints for an empty (204) answer. */
  done?: (params: Record<string, string>) => string
}

const RESERVED = new Set([
  ...Object.keys(globalArgs),
  ...Object.keys(writeArgs),
  'help',
  'all',
  'body',
  'body-file',
  'idempotency-key',
])

interface FlagField {
  flag: string
  field: FieldInfo
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((match) => match[1]!)
}

/** What a query parameter without a description of its own does, from its name. */
function queryDescription(name: string): string {
  if (name === 'limit') return 'Page size, 1–200 (default 50)'
  if (name === 'cursor') return 'Continue from the page.next of an earlier answer'
  const [base, operator] = name.split('__') as [string, string | undefined]
  const what = base.replace(/_/g, ' ')
  if (operator === 'in') return `Any of these ${what} values, comma separated`
  if (operator === 'gte') return `${what} at least this`
  if (operator === 'lt') return `${what} before (below) this`
  return `Only those with this ${what}`
}

function valueHint(field: FieldInfo): string {
  if (field.kind === 'enum' && field.options && field.options.length <= 4) return field.options.join('|')
  if (field.kind === 'boolean') return 'true|false'
  if (field.kind === 'enum') return 'value'
  return field.kind === 'unknown' ? 'value' : field.kind
}

function fieldDescription(field: FieldInfo, where: 'query' | 'body'): string {
  const parts = [
    field.description ?? (where === 'query' ? queryDescription(field.name) : `The ${field.name.replace(/_/g, ' ')}`),
  ]
  // Up to four options show in the value hint (`--request-method=<GET|HEAD>`); more go here.
  if (field.kind === 'enum' && field.options && field.options.length > 4) parts.push(`(${field.options.join(', ')})`)
  else if (field.kind === 'boolean' && where === 'body') parts.push('(true or false)')
  else if (field.kind === 'array') parts.push('(comma separated, or a JSON array)')
  else if (field.kind === 'object') parts.push('(JSON)')
  if (field.nullable) parts.push('(null clears it)')
  return parts.join(' ')
}

function flagsOf(
  fields: FieldInfo[],
  where: 'query' | 'body',
  spec: RouteCommandSpec,
  taken: Set<string>,
): FlagField[] {
  return fields.map((field) => {
    const flag = spec.rename?.[field.name] ?? flagName(field.name)
    if (RESERVED.has(flag) || taken.has(flag))
      throw new Error(`${spec.route}: ${where} field ${field.name} would be --${flag}, which is taken; rename it`)
    taken.add(flag)
    return { flag, field }
  })
}

/** Maps schema issues to the flags or arguments the operator typed. */
function usageLines(issues: SchemaIssue[], where: (path: string) => string): string {
  return issues.map((issue) => `${where(issue.path)}: ${issue.message}`).join('\n')
}

/** Builds one command from its route; see the module comment. */
export function routeCommand(spec: RouteCommandSpec): CommandDef {
  const route = requireRoute(spec.route)
  const params = pathParams(route.path)
  const taken = new Set<string>()
  const queryFlags = flagsOf(objectFields(route.query as SchemaNode | undefined), 'query', spec, taken)
  const bodyFlags = flagsOf(objectFields(route.body as SchemaNode | undefined), 'body', spec, taken)
  const paginated = queryFlags.some((q) => q.field.name === 'cursor')

  const args: Record<string, ArgDef> = {}
  for (const name of params)
    args[name] = { type: 'positional', required: true, description: spec.params?.[name] ?? name.replace(/_/g, ' ') }
  for (const { flag, field } of queryFlags)
    args[flag] = {
      type: 'string',
      valueHint: field.kind === 'enum' ? valueHint(field) : flag === 'limit' ? 'n' : 'value',
      description: fieldDescription(field, 'query'),
    }
  if (paginated) args.all = { type: 'boolean', description: 'Follow page.next and print every page' }
  for (const { flag, field } of bodyFlags)
    args[flag] = { type: 'string', valueHint: valueHint(field), description: fieldDescription(field, 'body') }
  if (route.body) {
    args.body = {
      type: 'string',
      valueHint: 'json',
      description: 'The request body as JSON; flags override its fields',
    }
    args['body-file'] = {
      type: 'string',
      valueHint: 'path|-',
      description: 'Read the JSON body from a file (- for stdin)',
    }
  }
  if (route.idempotent)
    args['idempotency-key'] = {
      type: 'string',
      valueHint: 'key',
      description: 'Idempotency-Key: re-running with the same key replays the first answer instead of acting twice',
    }

  return defineApiCommand({
    name: spec.name,
    description: spec.description ?? route.summary,
    examples: spec.examples,
    args: args as ArgsDef,
    writes: route.method !== 'GET',
    routes: [spec.route],
    async run(context) {
      await runRoute(spec, { route, params, queryFlags, bodyFlags, paginated }, context)
    },
  })
}

interface Shape {
  route: RouteDefinition
  params: string[]
  queryFlags: FlagField[]
  bodyFlags: FlagField[]
  paginated: boolean
}

async function runRoute(spec: RouteCommandSpec, shape: Shape, { args, session }: RunContext<ArgsDef>): Promise<void> {
  const route = shape.route
  const value = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined)

  const params: Record<string, string> = {}
  for (const name of shape.params) params[name] = value(name) ?? ''
  const paramIssues = await checkSchema(route.params as SchemaNode | undefined, params)
  if (paramIssues.length > 0) throw new UsageError(usageLines(paramIssues, (path) => path.toUpperCase() || 'arguments'))

  const query: Record<string, string> = {}
  for (const { flag, field } of shape.queryFlags) {
    const text = value(flag)
    if (text !== undefined) query[field.name] = text
  }
  if (args.all === true && query.cursor !== undefined) throw new UsageError('--all and --cursor: give one or the other')
  const queryIssues = await checkSchema(route.query as SchemaNode | undefined, query)
  const flagOf = (fields: FlagField[], path: string) => {
    const top = path.split('.')[0]
    const match = fields.find((f) => f.field.name === top)
    return match ? `--${match.flag}${path.slice(top!.length)}` : path
  }
  if (queryIssues.length > 0) throw new UsageError(usageLines(queryIssues, (path) => flagOf(shape.queryFlags, path)))

  let body: unknown
  const fromFlags = new Set<string>()
  if (route.body) {
    const text = value('body')
    const file = value('body-file')
    if (text !== undefined && file !== undefined) throw new UsageError('--body and --body-file: give one or the other')
    if (text !== undefined) body = parseJsonText(text, '--body')
    if (file !== undefined) body = parseJsonText(await readInput(file), `--body-file ${file}`)
    for (const { flag, field } of shape.bodyFlags) {
      const given = value(flag)
      if (given === undefined) continue
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
        throw new UsageError(`--${flag}: the body given with --body/--body-file is not a JSON object`)
      body = { ...(body as object | undefined), [field.name]: valueFromText(field, given, `--${flag}`) }
      fromFlags.add(field.name)
    }
    const bodyIssues = await checkSchema(route.body as SchemaNode, body)
    if (bodyIssues.length > 0)
      throw new UsageError(
        usageLines(bodyIssues, (path) => {
          const top = path.split('.')[0] ?? ''
          return fromFlags.has(top) ? flagOf(shape.bodyFlags, path) : `body${path ? `.${path}` : ''}`
        }),
      )
  }

  if (route.method !== 'GET') session.assertWritable(`${spec.route} (${route.method} ${route.path})`)
  const input: CallInput = { params, query, ...(body !== undefined ? { body } : {}) }
  const idempotencyKey = value('idempotency-key')
  if (args.all === true) {
    printData(session, await allPages(session, spec.route, input), (data) => renderTable(spec, data))
    return
  }
  const response = await session.call(spec.route, input, { idempotencyKey })
  if (response.idempotencyReplayed)
    note('note: replayed — the API answered with the stored response of an earlier request with this Idempotency-Key')
  if (response.status === 204 || response.data === undefined) {
    if (session.format === 'table')
      process.stdout.write(`${spec.done ? spec.done(params) : `done (HTTP ${response.status})`}\n`)
    return
  }
  printData(session, response.data, (data) => renderTable(spec, data))
  const next = (response.data as { page?: { next?: unknown } }).page?.next
  if (session.format === 'table' && typeof next === 'string')
    note(`more: add --cursor ${next} for the next page (or --all for every page)`)
}

/** Every page of a list route, as one list answer (`page.next` null). */
export async function allPages(
  session: Session,
  routeId: RouteId,
  input: CallInput,
): Promise<{ data: unknown[]; page: { next: null; limit: number } }> {
  const data: unknown[] = []
  const seen = new Set<string>()
  let cursor: string | undefined
  let limit = 0
  for (;;) {
    const response = await session.call(routeId, { ...input, query: { ...input.query, ...(cursor ? { cursor } : {}) } })
    const page = response.data as { data?: unknown[]; page?: { next?: string | null; limit?: number } }
    data.push(...(page.data ?? []))
    limit = page.page?.limit ?? limit
    const next = page.page?.next
    if (typeof next !== 'string') break
    if (seen.has(next)) throw new Error(`${routeId} returned the cursor ${next} twice; stopping`)
    seen.add(next)
    cursor = next
  }
  return { data, page: { next: null, limit } }
}

function renderTable(spec: RouteCommandSpec, data: unknown): string {
  if (spec.table) return spec.table(data)
  const list = data as { data?: unknown; page?: unknown }
  if (typeof data === 'object' && data !== null && Array.isArray(list.data) && 'page' in list)
    return formatValue(list.data, spec.columns ? { columns: spec.columns } : {})
  return formatValue(data)
}

/** A resource group (`sites`, `webhooks`) of route commands, plus any hand-written ones. */
export function resourceGroup(
  name: string,
  description: string,
  commands: Record<string, CommandDef | RouteCommandSpec>,
): CommandDef {
  const subCommands: Record<string, CommandDef> = {}
  for (const [key, command] of Object.entries(commands))
    subCommands[key] =
      'route' in command && typeof command.route === 'string'
        ? routeCommand(command as RouteCommandSpec)
        : (command as CommandDef)
  return { meta: { name, description }, subCommands }
}
