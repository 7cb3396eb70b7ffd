import { type ApiClient, type ApiClientOptions, type ApiResponse, createApiClient, type QueryValue } from './client.js'
import { type RouteId, type RouteInput, type RouteOutput, type Routes, routes } from './contract/index.js'
import { JetmonUsageError } from './errors.js'

export interface CallOptions {
  /** Sent as `Idempotency-Key` (routes that create or act). */
  idempotencyKey?: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** The client returned by {@link createJetmonClient}: the transport plus `call`, typed per route. */
export interface JetmonClient extends ApiClient {
  /**
   * Calls one route of the contract by id (`'sites.get'`, `'events.list'`, …): fills the path
   * template, sends query and body, and returns the typed answer.
   *
   * @example
   * const { data } = await api.call('sites.get', { params: { blog_id: 42 } })
   */
  call<K extends RouteId>(
    id: K,
    input?: RouteInput<Routes[K]>,
    options?: CallOptions,
  ): Promise<ApiResponse<RouteOutput<Routes[K]>>>
}

/**
 * A client for every route of the Jetmon API, typed from the same valibot schemas the server
 * validates with. Errors arrive as {@link JetmonApiError} carrying the error envelope.
 */
export function createJetmonClient(options: ApiClientOptions): JetmonClient {
  const transport = createApiClient(options)
  async function call<K extends RouteId>(
    id: K,
    input?: RouteInput<Routes[K]>,
    callOptions: CallOptions = {},
  ): Promise<ApiResponse<RouteOutput<Routes[K]>>> {
    const route = routes[id]
    if (!route) throw new JetmonUsageError('INVALID_PATH', `no route ${String(id)} in the API contract`)
    const given = (input ?? {}) as {
      params?: Record<string, unknown>
      query?: Record<string, QueryValue>
      body?: unknown
    }
    const path = route.path.replace(/\{([a-z_]+)\}/g, (_match, name: string) => {
      const value = given.params?.[name]
      if (value === undefined || value === null || String(value) === '') {
        throw new JetmonUsageError('INVALID_PATH', `${String(id)} needs the path parameter ${name}`)
      }
      return encodeURIComponent(String(value))
    })
    return transport.request<RouteOutput<Routes[K]>>({
      method: route.method,
      path,
      ...(given.query ? { query: given.query } : {}),
      ...(given.body !== undefined ? { body: given.body } : {}),
      ...(callOptions.idempotencyKey !== undefined ? { idempotencyKey: callOptions.idempotencyKey } : {}),
      ...(callOptions.headers ? { headers: callOptions.headers } : {}),
      ...(callOptions.signal ? { signal: callOptions.signal } : {}),
    })
  }
  return { ...transport, call }
}
