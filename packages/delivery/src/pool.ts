/**
 * The global pool of sends (default 50): slots shared by every worker of a process,
 * so the webhook and alert workers together never have more than `size` sends in flight.
 */
export class SendPool {
  readonly size: number
  private used = 0
  private readonly listeners = new Set<() => void>()

  constructor(size = 50) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a send pool needs at least one slot, got ${size}`)
    this.size = size
  }

  /** Slots free now. */
  get available(): number {
    return this.size - this.used
  }

  /** Takes up to `wanted` slots and returns how many it got (possibly 0). */
  acquire(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.available))
    this.used += granted
    return granted
  }

  /**
   * Gives slots back. After a send (`notify`, the default) the workers are told, so they claim
   * again at once; slots taken for a claim that found less work come back silently (telling the
   * worker that just found nothing would only make it look again).
   */
  release(count = 1, notify = true): void {
    this.used = Math.max(0, this.used - count)
    if (notify) for (const listener of this.listeners) listener()
  }

  /** Called whenever slots are released; returns the unsubscribe function. */
  onRelease(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
