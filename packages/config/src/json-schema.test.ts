import * as v from 'valibot'
import { expect, test } from 'vitest'
import { ConfigSchemaError } from './errors.js'
import { integer } from './fields.js'
import { toJsonSchema } from './json-schema.js'

const schema = v.pipe(
  v.object({
    BUCKET_TOTAL: v.optional(integer(1, 65536, 'Number of buckets.'), 1000),
    HOST_ID: v.optional(v.pipe(v.string(), v.description('This host.')), () => 'machine-specific'),
    MODE: v.pipe(v.picklist(['all', 'failures']), v.description('What to keep.')),
  }),
  v.check((c) => c.BUCKET_TOTAL > 0, 'cross-field rule'),
  v.transform((c) => ({ ...c, DERIVED: true })),
)

test('describes the file: types, bounds, defaults and descriptions, closed to unknown keys', () => {
  expect(toJsonSchema(schema, { id: 'https://example.com/app.schema.json', title: 'App' })).toEqual({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://example.com/app.schema.json',
    title: 'App',
    type: 'object',
    properties: {
      $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors. Ignored by the loader.' },
      BUCKET_TOTAL: { type: 'integer', minimum: 1, maximum: 65536, description: 'Number of buckets.', default: 1000 },
      HOST_ID: { type: 'string', description: 'This host.' },
      MODE: { type: 'string', enum: ['all', 'failures'], description: 'What to keep.' },
    },
    required: ['MODE'],
    additionalProperties: false,
  })
})

test('can target draft 2020-12', () => {
  expect(toJsonSchema(schema, { target: 'draft-2020-12' }).$schema).toBe('https://json-schema.org/draft/2020-12/schema')
})

test('rejects a schema that does not describe an object', () => {
  expect(() => toJsonSchema(v.array(v.string()))).toThrow(ConfigSchemaError)
})
