/**
 * A FIFO of rows kept as chunks of at most `chunkSize` rows, so that taking one statement's worth
 * and dropping the oldest rows are cheap however long the queue grows during a database outage.
 */
export class ChunkQueue<T> {
  #chunks: T[][] = []
  /** Rows of the first chunk already dropped. */
  #head = 0
  #length = 0
  readonly #chunkSize: number

  constructor(chunkSize: number) {
    this.#chunkSize = chunkSize
  }

  get length(): number {
    return this.#length
  }

  /** Rows in the first chunk (a full statement's worth once it equals the chunk size). */
  get firstChunkLength(): number {
    const first = this.#chunks[0]
    return first ? first.length - this.#head : 0
  }

  push(row: T): void {
    const last = this.#chunks[this.#chunks.length - 1]
    if (last && last.length < this.#chunkSize) last.push(row)
    else this.#chunks.push([row])
    this.#length++
  }

  /** Removes and returns the oldest chunk (at most `chunkSize` rows); empty when the queue is. */
  takeChunk(): T[] {
    const first = this.#chunks.shift()
    if (!first) return []
    const rows = this.#head > 0 ? first.slice(this.#head) : first
    this.#head = 0
    this.#length -= rows.length
    return rows
  }

  /** Puts rows taken earlier back in front (a failed write), keeping their order. */
  putBack(rows: T[]): void {
    if (rows.length === 0) return
    if (this.#head > 0) {
      const first = this.#chunks[0]!
      this.#chunks[0] = first.slice(this.#head)
      this.#head = 0
    }
    this.#chunks.unshift(rows)
    this.#length += rows.length
  }

  /** Drops the `count` oldest rows; returns how many were dropped. */
  dropOldest(count: number): number {
    let dropped = 0
    while (dropped < count) {
      const first = this.#chunks[0]
      if (!first) break
      const live = first.length - this.#head
      const take = Math.min(live, count - dropped)
      dropped += take
      if (take === live) {
        this.#chunks.shift()
        this.#head = 0
      } else {
        this.#head += take
      }
    }
    this.#length -= dropped
    return dropped
  }
}
