import { ErrorEnvelope, type RouteDefinition, routes } from '@jetmon/api-client'
import { toJsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'

type JsonSchema = Record<string, unknown>

const CROSS_CUTTING: Record<number, string> = {
  400: 'invalid_request: a field is missing, unknown or malformed (see details)',
  401: 'missing_token, invalid_token, token_revoked or token_expired',
  403: 'insufficient_scope, or forbidden_gateway_context',
  409: 'a conflict (idempotency_conflict, idempotency_in_progress, idempotency_replay_withheld, or the route’s own)',
  413: 'payload_too_large: the body is over 1 MiB',
  429: 'rate_limited, or trigger_now_busy on trigger-now: see Retry-After',
  500: 'internal_error: quote the request id',
}

function schemaOf(schema: v.GenericSchema, mode: 'input' | 'output'): JsonSchema {
  const json = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode: mode,
    errorMode: 'ignore',
  }) as JsonSchema
  delete json.$schema
  return json
}

function parametersOf(route: RouteDefinition): JsonSchema[] {
  const out: JsonSchema[] = []
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue
    const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
      })
    }
  }
  return out
}

let cached: JsonSchema | null = null

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the contract's valibot schemas (requests
 * in their input form, responses in their output form); nothing in it is written by hand.
 */
export function buildOpenApiDocument(): JsonSchema {
  if (cached) return cached
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const [id, route] of Object.entries(routes as Record<string, RouteDefinition>)) {
    const operation: JsonSchema = {
      operationId: id,
      summary: route.summary,
      tags: [route.tag],
      ...(route.scope === 'none' ? { security: [] } : { 'x-required-scope': route.scope }),
    }
    const parameters = parametersOf(route)
    if (route.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 255 },
        description: 'Retrying with the same key and request replays the first answer (24 h).',
      })
    }
    if (parameters.length > 0) operation.parameters = parameters
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: {
          'application/json': { schema: schemaOf(route.body, 'input') },
          ...(route.yaml ? { 'application/yaml': { schema: { type: 'string' } } } : {}),
        },
      }
    }
    const responses: Record<string, JsonSchema> = {}
    responses[String(route.status)] = route.response
      ? {
          description: 'Success',
          content: {
            'application/json': { schema: schemaOf(route.response, 'output') },
            ...(route.yaml ? { 'application/yaml': { schema: { type: 'string' } } } : {}),
          },
        }
      : { description: 'Success, no content' }
    const errorCodes = route.errors ?? []
    const statuses = new Set<number>([400, 500])
    if (route.scope !== 'none') for (const status of [401, 403, 429]) statuses.add(status)
    if (route.body) statuses.add(413)
    if (route.idempotent) statuses.add(409)
    const error = { $ref: '#/components/schemas/Error' }
    for (const status of [...statuses].sort()) {
      responses[String(status)] = {
        description: CROSS_CUTTING[status] ?? 'Error',
        content: { 'application/json': { schema: error } },
      }
    }
    if (errorCodes.length > 0) {
      responses.default = {
        description: `Route-specific errors: ${errorCodes.join(', ')}`,
        content: { 'application/json': { schema: error } },
      }
    }
    operation.responses = responses
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation }
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Jetmon API',
      version: '1',
      description:
        'Site-health monitoring: sites and endpoints, incident events, statistics, webhooks and alert contacts. Ids are JSON numbers when ≤ 2^53 and decimal strings beyond.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'jm_… API key' } },
      schemas: { Error: schemaOf(ErrorEnvelope, 'output') },
    },
  }
  return cached
}
