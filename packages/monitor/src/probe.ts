import type { CheckRequest, CheckResult } from '@jetmon/checker'
import { isDowntime } from '@jetmon/checker'
import type { Db, Logger } from '@jetmon/db'
import { closeEvent, listOpenEvents } from '@jetmon/eventstore'
import { type EndpointDefaults, loadEndpointConfigs } from '@jetmon/scheduler'
import { type JsonId, jsonId } from '@jetmon/vocabulary'
import { type ConfirmationPipeline, checkRequestOf, type MonitoredEndpoint } from './pipeline.js'

/**
 * One endpoint's answer to trigger-now, in the API's wire form (the `ProbeAnswer` of the
 * `@jetmon/api-client` contract).
 */
export interface ProbeAnswer {
  endpoint_id: JsonId
  monitor_url: string
  success: boolean
  http_code: number | null
  error_code: number
  error: string | null
  error_detail: string | null
  rtt_ms: number | null
  checked_at: string
  /**
   * What the answer did: `ok` (passed, nothing open), `closed_events` (passed and closed the open
   * http event with `probe_cleared`), `confirmation_started` (failed and fed this host's
   * confirmation pipeline: an http event is open), `failed` (failed; the endpoint is checked by
   * another monitor host, whose own checks confirm it).
   */
  outcome: 'ok' | 'closed_events' | 'confirmation_started' | 'failed'
}

export interface MonitorProbeDeps {
  db: Db
  check: (request: CheckRequest) => Promise<CheckResult>
  pipeline: ConfirmationPipeline
  /** The endpoint as this host schedules it, when its bucket is ours. */
  owned: (endpointId: bigint) => MonitoredEndpoint | undefined
  defaults: () => EndpointDefaults
  /** `LEGACY_STATUS_PROJECTION_ENABLE`, read per call so that a reload applies. */
  projection: () => boolean
  logger: Logger
}

const PARALLEL = 8

/**
 * The API's trigger-now inside `jetmon2 serve` (it fits `@jetmon/api-server`'s `EndpointProbe`). An endpoint whose bucket this host holds runs
 * through the confirmation pipeline exactly like a scheduled check (a failure opens or advances
 * its http event; a pass closes it, here with `probe_cleared`). Any other endpoint is checked with
 * the same checker: a pass closes its open http events with `probe_cleared`, a failure is
 * reported and left to the host that owns it, whose own checks confirm it.
 */
export class MonitorProbe {
  constructor(private readonly deps: MonitorProbeDeps) {}

  async probe(endpoints: readonly { endpointId: bigint; blogId: bigint }[], source: string): Promise<ProbeAnswer[]> {
    const loaded = await loadEndpointConfigs(
      this.deps.db,
      endpoints.map((endpoint) => endpoint.endpointId),
      this.deps.defaults(),
    )
    const queue = endpoints.filter((endpoint) => loaded.has(endpoint.endpointId))
    const answers = new Map<bigint, ProbeAnswer>()
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const config = loaded.get(next.endpointId)!.config
        answers.set(next.endpointId, await this.one(config, source))
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker))
    return endpoints.flatMap((endpoint) => answers.get(endpoint.endpointId) ?? [])
  }

  private async one(config: MonitoredEndpoint, source: string): Promise<ProbeAnswer> {
    const owned = this.deps.owned(config.endpointId)
    if (owned) {
      const { result, closedHttp, openHttp } = await this.deps.pipeline.check(owned, { closeReason: 'probe_cleared' })
      const outcome = closedHttp ? 'closed_events' : isDowntime(result) && openHttp ? 'confirmation_started' : 'ok'
      return answerOf(config, result, isDowntime(result) && outcome === 'ok' ? 'failed' : outcome)
    }
    const result = await this.deps.check(checkRequestOf(config))
    if (isDowntime(result) || result.error === 'monitor_error') return answerOf(config, result, 'failed')
    const open = await listOpenEvents({ ctx: { db: this.deps.db }, endpointId: config.endpointId, checkType: 'http' })
    let closed = 0
    for (const event of open) {
      try {
        await closeEvent({
          ctx: { db: this.deps.db, source, logger: this.deps.logger, projection: this.deps.projection() },
          input: {
            eventId: event.id,
            reason: 'probe_cleared',
            transitionMetadata: { trigger: 'api', http_code: result.httpStatus, total_ms: result.timings.totalMs },
          },
        })
        closed++
      } catch (error) {
        if ((error as { code?: string }).code !== 'EVENT_CLOSED') throw error
      }
    }
    return answerOf(config, result, closed > 0 ? 'closed_events' : 'ok')
  }
}

function answerOf(config: MonitoredEndpoint, result: CheckResult, outcome: ProbeAnswer['outcome']): ProbeAnswer {
  return {
    endpoint_id: jsonId(config.endpointId),
    monitor_url: config.url,
    success: !isDowntime(result) && result.error !== 'monitor_error',
    http_code: result.httpStatus,
    error_code: result.errorCode,
    error: result.error,
    error_detail: result.detail,
    rtt_ms: result.timings.totalMs,
    checked_at: result.startedAt,
    outcome,
  }
}
