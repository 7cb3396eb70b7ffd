import { type DbOrTx, endpointConfig, monitorSites } from '@jetmon/db'
import { eq, inArray } from 'drizzle-orm'
import {
  DEFAULT_ENDPOINT_DEFAULTS,
  type EndpointConfig,
  type EndpointDefaults,
  type EndpointRow,
  endpointColumns,
  toEndpointConfig,
} from './endpoint-config.js'

/** One endpoint as {@link loadEndpointConfigs} reads it: its configuration and whether it is active. */
export interface LoadedEndpoint {
  config: EndpointConfig
  active: boolean
}

/**
 * Reads the configuration of the given endpoints in one query, with the same defaults the
 * scheduler applies, whatever host owns their buckets (for on-demand checks such as the API's
 * trigger-now). Unknown ids are absent from the result.
 */
export async function loadEndpointConfigs(
  db: DbOrTx,
  endpointIds: readonly bigint[],
  defaults: EndpointDefaults = DEFAULT_ENDPOINT_DEFAULTS,
): Promise<Map<bigint, LoadedEndpoint>> {
  const found = new Map<bigint, LoadedEndpoint>()
  const ids = [...new Set(endpointIds)]
  if (ids.length === 0) return found
  const rows = (await db
    .select(endpointColumns)
    .from(monitorSites)
    .leftJoin(endpointConfig, eq(endpointConfig.endpointId, monitorSites.endpointId))
    .where(inArray(monitorSites.endpointId, ids))) as EndpointRow[]
  for (const row of rows) {
    found.set(row.endpointId, { config: toEndpointConfig(row, defaults), active: row.active === 1 })
  }
  return found
}
