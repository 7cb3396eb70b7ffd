import type * as v from 'valibot'

export type RouteMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'
/** `none` routes need no token; the others need a key whose scope is at least this. */
export type RouteScope = 'none' | 'read' | 'write' | 'admin'

type ObjectSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>
type StrictObjectSchema = v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue> | undefined>

/**
 * One route of the API: everything the server needs to validate and authorise it, the client
 * needs to type it, and the OpenAPI generator needs to describe it.
 */
export interface RouteDefinition {
  method: RouteMethod
  /** OpenAPI-style template below `/api/v1`: `/sites/{blog_id}`. */
  path: string
  scope: RouteScope
  /** One line for the OpenAPI document and `jetmon2 api commands`. */
  summary: string
  /** OpenAPI tag (the resource). */
  tag: string
  /** Path parameters, by template name. */
  params?: ObjectSchema | StrictObjectSchema
  /** Query string; unknown parameters are rejected, so use a strict object. */
  query?: StrictObjectSchema
  /** JSON body; unknown fields are rejected, so use a strict object. */
  body?: v.GenericSchema
  /** Success status. */
  status: 200 | 201 | 202 | 204
  /** Success body; absent for 204. */
  response?: v.GenericSchema
  /** Error codes this route can answer with besides the cross-cutting ones (auth, rate limit, validation). */
  errors?: readonly string[]
  /** Accepts `Idempotency-Key` (every POST that creates or acts). */
  idempotent?: boolean
  /**
   * Also speaks YAML: a body sent as `application/yaml` reaches the handler as its text, and the
   * handler may answer YAML when the request's `Accept` asks for it.
   */
  yaml?: boolean
}

/** Declares a route, keeping its literal types for the client and the server. */
export function defineRoute<const T extends RouteDefinition>(route: T): T {
  return route
}

/** A path parameter as a caller may give it. */
export type ParamValue = string | number | bigint
/** A query value as a caller may give it: lists are sent comma-separated. */
export type QueryParamValue = string | number | bigint | boolean | Date | readonly (string | number | bigint)[]

type Keys<S> = S extends v.GenericSchema ? keyof v.InferInput<S> : never

/** What a caller passes for a route: path params, query and wire-format body. */
export type RouteInput<R extends RouteDefinition> = (R['params'] extends v.GenericSchema
  ? { params: { [K in Keys<R['params']>]: ParamValue } }
  : { params?: undefined }) &
  (R['query'] extends v.GenericSchema
    ? { query?: { [K in Keys<R['query']>]?: QueryParamValue | null | undefined } }
    : { query?: undefined }) &
  (R['body'] extends v.GenericSchema
    ? undefined extends v.InferInput<R['body']>
      ? { body?: v.InferInput<R['body']> }
      : { body: v.InferInput<R['body']> }
    : { body?: undefined })

/** The response body of a route as it arrives (`undefined` for 204). */
export type RouteOutput<R extends RouteDefinition> = R['response'] extends v.GenericSchema
  ? v.InferOutput<R['response']>
  : undefined
