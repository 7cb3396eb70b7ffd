import { toJsonSchema as convert, type JsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'
import { configEntries } from './_schema.js'

export type { JsonSchema }

/** Options of {@link toJsonSchema}. */
export interface JsonSchemaOptions {
  /** `$id` of the generated schema. */
  id?: string
  title?: string
  description?: string
  /** JSON Schema draft (default `draft-07`, the one editors support best). */
  target?: 'draft-07' | 'draft-2020-12'
}

// Cross-field checks have no JSON Schema equivalent; they still run when the file is loaded.
const VALIDATION_ONLY = ['check', 'partial_check', 'raw_check']

/**
 * A JSON Schema of the configuration *file* for editors: completion, hover descriptions taken from
 * `v.description(…)`, warnings on unknown keys at any level. It describes the input: keys may be
 * omitted where the schema has defaults, and transforms after validation are not part of it.
 *
 * Defaults computed at run time (such as the host name) are left out, so that the generated file
 * is the same on every machine. A `$schema` key is allowed, so a file can point at this schema.
 */
export function toJsonSchema(schema: v.GenericSchema, options: JsonSchemaOptions = {}): JsonSchema {
  configEntries(schema) // only object schemas describe a config file
  const converted = convert(schema, {
    target: options.target ?? 'draft-07',
    typeMode: 'input',
    ignoreActions: VALIDATION_ONLY,
    overrideSchema: ({ valibotSchema, jsonSchema }) => {
      // Flag unknown keys at every level, as the loader warns about them.
      if (valibotSchema.type === 'object') return { ...jsonSchema, additionalProperties: false }
      const computedDefault = 'default' in valibotSchema && typeof valibotSchema.default === 'function'
      if (!computedDefault) return undefined
      const { default: _machineSpecific, ...rest } = jsonSchema
      return rest
    },
  })
  const { $schema, properties, required, additionalProperties: _closed, ...rest } = converted
  return {
    $schema,
    ...(options.id === undefined ? {} : { $id: options.id }),
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.description === undefined ? {} : { description: options.description }),
    ...rest,
    properties: {
      $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors. Ignored by the loader.' },
      ...properties,
    },
    ...(required && required.length > 0 ? { required } : {}),
    additionalProperties: false,
  }
}
