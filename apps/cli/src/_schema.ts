/**
 * Reads the contract's valibot schemas without depending on valibot: the route table is the one
 * source of a command's flags (a body field is a flag, a query parameter is a flag, a path parameter
 * is an argument) and of the checks run before anything is sent. Schemas are plain objects
 * (`type`, `entries`, `wrapped`, `options`, `pipe`) and implement Standard Schema (`~standard`).
 */
import { UsageError } from './errors.js'

/** The parts of a valibot schema (or action) this module reads. */
export interface SchemaNode {
  kind?: string
  type: string
  entries?: Record<string, SchemaNode>
  wrapped?: SchemaNode
  options?: readonly unknown[]
  item?: SchemaNode
  pipe?: readonly SchemaNode[]
  description?: string
  '~standard'?: {
    validate(value: unknown): StandardResult | Promise<StandardResult>
  }
}

interface StandardResult {
  issues?: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] | undefined }[]
}

/** What a field takes, as far as reading it from command-line text is concerned. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'id' | 'enum' | 'array' | 'object' | 'unknown'

export interface FieldInfo {
  name: string
  kind: FieldKind
  optional: boolean
  nullable: boolean
  /** The allowed values of an `enum` (picklist). */
  options?: readonly string[]
  /** The items of an `array`. */
  item?: FieldInfo
  description?: string
}

const asNode = (value: unknown): SchemaNode | undefined =>
  typeof value === 'object' && value !== null && typeof (value as SchemaNode).type === 'string'
    ? (value as SchemaNode)
    : undefined

function descriptionOf(node: SchemaNode): string | undefined {
  return node.pipe?.find((action) => action.type === 'description')?.description
}

/** Describes one schema (an object entry) for the command line. */
export function describeField(name: string, schema: SchemaNode): FieldInfo {
  let node = schema
  let optional = false
  let nullable = false
  let description = descriptionOf(node)
  for (;;) {
    if (node.type === 'optional' || node.type === 'exact_optional' || node.type === 'undefinedable') optional = true
    else if (node.type === 'nullable') nullable = true
    else if (node.type === 'nullish') {
      optional = true
      nullable = true
    } else break
    node = node.wrapped!
    description ??= descriptionOf(node)
  }
  const info = (kind: FieldKind, extra: Partial<FieldInfo> = {}): FieldInfo => ({
    name,
    kind,
    optional,
    nullable,
    ...(description ? { description } : {}),
    ...extra,
  })
  switch (node.type) {
    case 'string':
      return info('string')
    case 'number':
      return info('number')
    case 'boolean':
      return info('boolean')
    case 'picklist':
    case 'enum':
      return info('enum', { options: (node.options ?? []).map(String) })
    case 'literal':
      return info('string')
    case 'array': {
      const item = asNode(node.item)
      return info('array', item ? { item: describeField(`${name}[]`, item) } : {})
    }
    case 'object':
    case 'strict_object':
    case 'loose_object':
    case 'record':
      return info('object')
    case 'union': {
      const kinds = new Set((node.options ?? []).map(asNode).map((option) => option?.type))
      // IdInput: a JSON number or a decimal string.
      if (kinds.size === 2 && kinds.has('number') && kinds.has('string')) return info('id')
      const options = (node.options ?? []).map(asNode).filter((option) => option !== undefined)
      if (options.every((option) => option.type === 'literal' || option.type === 'picklist')) return info('string')
      return info('unknown')
    }
    default:
      return info('unknown')
  }
}

/** The entries of an object schema (unwrapping `optional(strictObject(...))`), or none. */
export function objectFields(schema: SchemaNode | undefined): FieldInfo[] {
  let node = schema
  while (node && (node.type === 'optional' || node.type === 'nullable' || node.type === 'nullish')) node = node.wrapped
  if (!node?.entries) return []
  return Object.entries(node.entries).map(([name, entry]) => describeField(name, entry))
}

/** `check_interval_sec` → `check-interval-sec`, `state__in` → `state-in`. */
export function flagName(field: string): string {
  return field.replace(/_+/g, '-').toLowerCase()
}

/**
 * A field's value from command-line text: numbers, booleans (`true`/`false`), lists (comma
 * separated, or a JSON array), objects (JSON), `null` for a nullable field. Ids stay decimal text
 * beyond 2^53, so they are never rounded. `where` names the flag or column in the error.
 */
export function valueFromText(field: FieldInfo, text: string, where: string): unknown {
  const trimmed = text.trim()
  if (field.nullable && trimmed === 'null') return null
  const fail = (message: string): never => {
    throw new UsageError(`${where}: ${message}`)
  }
  switch (field.kind) {
    case 'string':
    case 'enum':
      return text
    case 'number': {
      if (!/^-?\d+(\.\d+)?$/.test(trimmed)) fail(`must be a number, got ${JSON.stringify(text)}`)
      return Number(trimmed)
    }
    case 'id': {
      if (!/^\d+$/.test(trimmed)) fail(`must be a positive whole number, got ${JSON.stringify(text)}`)
      const id = BigInt(trimmed)
      return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : trimmed
    }
    case 'boolean': {
      const lower = trimmed.toLowerCase()
      if (['true', 'yes', '1'].includes(lower)) return true
      if (['false', 'no', '0'].includes(lower)) return false
      return fail(`must be true or false, got ${JSON.stringify(text)}`)
    }
    case 'array': {
      if (trimmed.startsWith('[')) return parseJsonText(trimmed, where)
      if (trimmed === '') return []
      const item = field.item ?? { name: field.name, kind: 'string', optional: false, nullable: false }
      return trimmed.split(',').map((part) => valueFromText(item, part.trim(), where))
    }
    case 'object':
      return parseJsonText(trimmed, where)
    case 'unknown': {
      try {
        return JSON.parse(trimmed)
      } catch {
        return text
      }
    }
  }
}

/** JSON text given on the command line (a flag, a file, a CSV cell). */
export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${where}: not valid JSON (${(error as Error).message})`)
  }
}

/** One problem found by a schema: `path` is dotted (`custom_headers.X-Foo`), empty for the whole value. */
export interface SchemaIssue {
  path: string
  message: string
}

/** Checks a value against a schema (Standard Schema), as the server will: no issues means it would pass. */
export async function checkSchema(schema: SchemaNode | undefined, value: unknown): Promise<SchemaIssue[]> {
  const standard = schema?.['~standard']
  if (!standard) return []
  const result = await standard.validate(value)
  return (result.issues ?? []).map((issue) => ({
    path: (issue.path ?? [])
      .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
      .join('.'),
    message: issue.message,
  }))
}
