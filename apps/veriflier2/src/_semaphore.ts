/**
 * Bounds how many checks run at once across every request of the process (`MAX_CONCURRENCY`):
 * a few large batches arriving together queue behind each other instead of opening thousands of
 * sockets. Waiters are served first in, first out.
 */
export class Semaphore {
  readonly #limit: number
  #active = 0
  readonly #waiters: { grant: () => void; onAbort: () => void }[] = []

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    this.#limit = limit
  }

  /** Permits held right now (checks running). */
  get active(): number {
    return this.#active
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length
  }

  /**
   * Waits for a permit. Resolves `false` without one when `signal` aborts first (the caller went
   * away, so its queued checks are not worth running); call {@link release} only after `true`.
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false)
    if (this.#active < this.#limit) {
      this.#active++
      return Promise.resolve(true)
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', waiter.onAbort)
          resolve(true)
        },
        onAbort: () => {
          const index = this.#waiters.indexOf(waiter)
          if (index >= 0) this.#waiters.splice(index, 1)
          resolve(false)
        },
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  /** Returns a permit; the next waiter (if any) gets it at once. */
  release(): void {
    const next = this.#waiters.shift()
    if (next) next.grant()
    else this.#active--
  }
}
