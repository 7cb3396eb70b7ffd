import { setImmediate as settle } from 'node:timers/promises'

/**
 * A clock the test moves by hand. Its timers fire in due order while {@link advance} moves time;
 * after each one, pending promise callbacks get to run, so work a timer starts can settle.
 */
export class ManualClock {
  #now: number
  #nextHandle = 1
  readonly #timers = new Map<number, { at: number; callback: () => void }>()

  constructor(start: number) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#nextHandle++
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), callback })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms)
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry
      }
      if (!next) break
      this.#timers.delete(next[0])
      this.#now = Math.max(this.#now, next[1].at)
      next[1].callback()
      await flush()
    }
    this.#now = Math.max(this.#now, target)
    await flush()
  }
}

/** Lets every pending promise callback run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await settle()
}
