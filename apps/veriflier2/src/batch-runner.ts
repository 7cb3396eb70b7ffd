import { performance } from 'node:perf_hooks'
import { type CheckResult, ERROR_CODES, isDowntime } from '@jetmon/checker'
import {
  type BatchCheck,
  type CheckBatch,
  toWireResult,
  type WireAnswer,
  type WireResult,
} from '@jetmon/monitor/protocol'
import type { Logger } from '@jetmon/vocabulary'
import { Semaphore } from './_semaphore.js'
import type { CheckFunction } from './checker.js'

/** Who answers: echoed in every answer (`veriflier`) and in `/v1/health`. */
export interface VeriflierIdentity {
  id: string
  region: string
  version: string
}

/** Options of {@link createBatchRunner}. */
export interface BatchRunnerOptions {
  check: CheckFunction
  /** Most checks running at once, across every batch of the process (`MAX_CONCURRENCY`). */
  maxConcurrency: number
  identity: VeriflierIdentity
  logger: Logger
}

/** Runs validated batches of checks and builds their answers. */
export interface BatchRunner {
  /**
   * Runs every check of `batch` (each waits for one of the process's permits) and resolves the
   * answer; resolves `undefined` when `signal` aborted first (the monitor hung up: its queued
   * checks are not run, and nobody is left to answer).
   */
  run(batch: CheckBatch, signal: AbortSignal): Promise<WireAnswer | undefined>
  /** Checks running right now. */
  readonly inFlight: number
}

/** The result of a check the veriflier itself could not run: our trouble, never the site's downtime. */
function monitorError(check: BatchCheck, error: unknown, startedAt: Date, elapsedMs: number): CheckResult {
  const reason = error instanceof Error ? error.message : String(error)
  return {
    url: check.request.url,
    finalUrl: check.request.url,
    method: check.request.method ?? 'GET',
    startedAt: startedAt.toISOString(),
    ok: false,
    error: 'monitor_error',
    errorCode: ERROR_CODES.monitor_error,
    detail: `the veriflier could not run this check: ${reason}`.slice(0, 512),
    httpStatus: null,
    timings: { dnsMs: null, connectMs: null, tlsMs: null, ttfbMs: null, transferMs: null, totalMs: elapsedMs },
    redirects: [],
    advisories: [],
  }
}

/** Creates the runner of check batches, with its concurrency bound. */
export function createBatchRunner(options: BatchRunnerOptions): BatchRunner {
  const { check, identity, logger } = options
  const semaphore = new Semaphore(options.maxConcurrency)

  async function runCheck(item: BatchCheck, signal: AbortSignal): Promise<CheckResult | undefined> {
    if (!(await semaphore.acquire(signal))) return undefined
    const startedAt = new Date()
    const started = performance.now()
    try {
      return await check(item.request)
    } catch (error) {
      // The checker throws only for bugs (a site's behaviour is always a result): answer this one
      // check as our own trouble, which the monitor never counts as downtime, and keep the batch.
      logger.error(
        { err: error, endpoint_id: String(item.endpointId.value) },
        'a check failed inside the veriflier (a bug): answered as monitor_error',
      )
      return monitorError(item, error, startedAt, Math.round(performance.now() - started))
    } finally {
      semaphore.release()
    }
  }

  return {
    get inFlight() {
      return semaphore.active
    },
    async run({ requestId, checks }, signal) {
      const started = performance.now()
      const results = await Promise.all(checks.map((item) => runCheck(item, signal)))
      const durationMs = Math.round(performance.now() - started)
      if (signal.aborted) {
        logger.warn(
          { request_id: requestId, checks: checks.length, duration_ms: durationMs },
          'the monitor closed the connection before the batch finished; its answer was dropped',
        )
        return undefined
      }
      const answers: WireResult[] = []
      let down = 0
      let unknown = 0
      for (const [index, item] of checks.entries()) {
        const result = results[index]
        if (!result) continue
        if (result.errorCode === ERROR_CODES.monitor_error) unknown++
        else if (isDowntime(result)) down++
        answers.push(toWireResult(item.endpointId, result))
      }
      logger.info(
        {
          request_id: requestId,
          checks: checks.length,
          down,
          up: checks.length - down - unknown,
          monitor_error: unknown,
          duration_ms: durationMs,
        },
        'check batch answered',
      )
      return { veriflier: identity, results: answers }
    },
  }
}
