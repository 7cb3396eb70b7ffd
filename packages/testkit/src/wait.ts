import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number
  /** Pause between probes (default 50 ms). */
  intervalMs?: number
}

/**
 * Probes until `probe` returns something truthy and resolves with it: readiness by asking, never a
 * fixed sleep. Fails naming `what` (and the last value seen) once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 50 } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last probe: ${String(value)})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** A loopback port that was free a moment ago (bound, then closed): connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
