/**
 * A cached reader of the verifliers' `GET /v1/health` (no token needed), for the fleet page's
 * `fleetInfo`. Probes run at most once per `ttlMs` however many pages ask, in parallel, each
 * bounded by `timeoutMs`; a failed probe is an answer ("unreachable: …"), never an exception.
 */
import type { VeriflierStatus } from './data/fleet.js'

/** A configured veriflier; extra fields (its token) are ignored and never leave this module. */
export interface VeriflierHealthTarget {
  id: string
  region: string
  /** Base URL; `v1/health` is resolved against it (as the monitor resolves `v1/check`). */
  url: string
}

export interface VeriflierHealthProbeOptions {
  /** Read on every refresh, so a configuration reload takes effect. */
  targets: () => readonly VeriflierHealthTarget[]
  /** Per probe (default 2 000 ms). */
  timeoutMs?: number
  /** How long answers are reused (default 15 000 ms). */
  ttlMs?: number
  fetch?: typeof fetch
  now?: () => Date
}

/** Reads every veriflier's health, reusing answers for `ttlMs`. */
export function createVeriflierHealthProbe(options: VeriflierHealthProbeOptions): {
  read(): Promise<VeriflierStatus[]>
} {
  const timeoutMs = options.timeoutMs ?? 2_000
  const ttlMs = options.ttlMs ?? 15_000
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? (() => new Date())
  let last: { at: number; value: Promise<VeriflierStatus[]> } | null = null

  async function probe(target: VeriflierHealthTarget): Promise<VeriflierStatus> {
    const started = performance.now()
    const base: VeriflierStatus = {
      id: target.id,
      region: target.region,
      url: target.url,
      reachable: false,
      latencyMs: null,
      checkedAt: now(),
    }
    try {
      const url = new URL('v1/health', target.url.endsWith('/') ? target.url : `${target.url}/`)
      const response = await doFetch(url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      })
      const latencyMs = Math.round(performance.now() - started)
      const body = (await response.json().catch(() => null)) as {
        status?: unknown
        version?: unknown
        in_flight?: unknown
      } | null
      if (!response.ok || body?.status !== 'ok') {
        return { ...base, latencyMs, error: `answered HTTP ${response.status}` }
      }
      return {
        ...base,
        reachable: true,
        latencyMs,
        version: typeof body.version === 'string' ? body.version : null,
        inFlight: typeof body.in_flight === 'number' ? body.in_flight : null,
      }
    } catch (error) {
      const name = (error as Error).name
      const message =
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${timeoutMs} ms`
          : ((error as { cause?: { code?: string; message?: string } }).cause?.code ??
            (error as { cause?: { message?: string } }).cause?.message ??
            (error as Error).message)
      return { ...base, error: message }
    }
  }

  return {
    read() {
      const t = Date.now()
      if (last && t - last.at < ttlMs) return last.value
      const value = Promise.all(options.targets().map(probe))
      last = { at: t, value }
      return value
    },
  }
}
