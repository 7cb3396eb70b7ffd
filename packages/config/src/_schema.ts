import type * as v from 'valibot'
import { ConfigSchemaError } from './errors.js'

/** The parts of valibot schemas we look into; valibot keeps them as plain public properties. */
type Inspectable = v.GenericSchema & {
  readonly entries?: Readonly<Record<string, v.GenericSchema>>
  readonly wrapped?: v.GenericSchema
  readonly options?: readonly unknown[]
  readonly item?: v.GenericSchema
  readonly literal?: unknown
}

const WRAPPERS = new Set(['optional', 'exact_optional', 'nullable', 'nullish', 'undefinedable', 'non_optional'])
const OBJECTS = new Set(['object', 'loose_object', 'strict_object', 'object_with_rest'])

/** Removes optional/nullable wrappers. A piped schema keeps its first schema's type and properties. */
export function unwrap(schema: v.GenericSchema): Inspectable {
  let current = schema as Inspectable
  while (WRAPPERS.has(current.type) && current.wrapped) current = current.wrapped as Inspectable
  return current
}

/** The entries of an object schema (or undefined for any other schema). */
export function entriesOf(schema: v.GenericSchema): Readonly<Record<string, v.GenericSchema>> | undefined {
  const inner = unwrap(schema)
  return OBJECTS.has(inner.type) ? inner.entries : undefined
}

/** The top-level entries of a configuration schema, which must be an object schema. */
export function configEntries(schema: v.GenericSchema): Readonly<Record<string, v.GenericSchema>> {
  const entries = entriesOf(schema)
  if (!entries) {
    throw new ConfigSchemaError(
      `a configuration schema must be an object schema (optionally piped), got "${schema.type}"`,
    )
  }
  return entries
}

/** The array item schema, for walking lists of objects. */
export function arrayItemOf(schema: v.GenericSchema): v.GenericSchema | undefined {
  const inner = unwrap(schema)
  return inner.type === 'array' ? inner.item : undefined
}

/** What kinds of JSON value a schema accepts, used to turn an environment string into one. */
export interface AcceptedValues {
  string: boolean
  number: boolean
  boolean: boolean
  array: boolean
  object: boolean
  /** Nothing is known (`unknown`, `any`, `lazy`…): try JSON, fall back to the string. */
  anything: boolean
  /** Exact string values accepted by literals and picklists, such as `"auto"`. */
  literals: Set<string>
}

export function acceptedValues(schema: v.GenericSchema): AcceptedValues {
  const accepted: AcceptedValues = {
    string: false,
    number: false,
    boolean: false,
    array: false,
    object: false,
    anything: false,
    literals: new Set(),
  }
  const addLiteral = (value: unknown) => {
    if (typeof value === 'string') accepted.literals.add(value)
    else if (typeof value === 'number') accepted.number = true
    else if (typeof value === 'boolean') accepted.boolean = true
  }
  const visit = (node: v.GenericSchema) => {
    const inner = unwrap(node)
    switch (inner.type) {
      case 'string':
        accepted.string = true
        break
      case 'number':
        accepted.number = true
        break
      case 'boolean':
        accepted.boolean = true
        break
      case 'literal':
        addLiteral(inner.literal)
        break
      case 'picklist':
      case 'enum':
        for (const option of inner.options ?? []) addLiteral(option)
        break
      case 'union':
      case 'variant':
        for (const option of inner.options ?? []) visit(option as v.GenericSchema)
        break
      case 'array':
      case 'tuple':
      case 'strict_tuple':
      case 'loose_tuple':
      case 'tuple_with_rest':
        accepted.array = true
        break
      case 'record':
        accepted.object = true
        break
      default:
        if (OBJECTS.has(inner.type)) accepted.object = true
        else accepted.anything = true
    }
  }
  visit(schema)
  return accepted
}
