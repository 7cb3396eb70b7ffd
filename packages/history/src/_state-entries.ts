// The endpoint state entries waiting for the next state flush, kept compact: a Map from endpoint
// to a dense row number and the latest local sample's fields in typed arrays. With a five-minute
// flush period and five-minute checks that is every endpoint of the host, about 55 bytes each here
// where an object per endpoint took about 125.
import type { StateEntry } from './_statements.js'

const MIN_CAPACITY = 1_024
/** TLS versions are few: each distinct one is stored once and rows hold its number (0: none). */
const MAX_VERSIONS = 255

function grown<T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length)
  copy.set(array)
  return copy
}

export class StateEntries {
  /** Endpoint → row. */
  readonly rows = new Map<bigint, number>()
  #checkedAt: Float64Array
  /** -1: no HTTP status. */
  #httpCode: Int32Array
  #errorCode: Uint16Array
  /** NaN: not observed. */
  #sslExpiresAt: Float64Array
  #tlsVersion: Uint8Array
  #versions: string[] = []
  #versionNumbers = new Map<string, number>()
  /** Versions beyond the table's room, by row (never seen in practice). */
  #otherVersions: Map<number, string> | null = null
  #next = 0

  constructor(capacity: number) {
    const rows = Math.max(MIN_CAPACITY, capacity)
    this.#checkedAt = new Float64Array(rows)
    this.#httpCode = new Int32Array(rows)
    this.#errorCode = new Uint16Array(rows)
    this.#sslExpiresAt = new Float64Array(rows)
    this.#tlsVersion = new Uint8Array(rows)
  }

  get size(): number {
    return this.rows.size
  }

  #setVersion(row: number, version: string): void {
    let number = this.#versionNumbers.get(version)
    if (number === undefined && this.#versions.length < MAX_VERSIONS) {
      number = this.#versions.push(version)
      this.#versionNumbers.set(version, number)
    }
    if (number !== undefined) {
      this.#tlsVersion[row] = number
      this.#otherVersions?.delete(row)
      return
    }
    this.#tlsVersion[row] = 0
    this.#otherVersions ??= new Map()
    this.#otherVersions.set(row, version)
  }

  #version(row: number): string | null {
    const number = this.#tlsVersion[row]!
    return number === 0 ? (this.#otherVersions?.get(row) ?? null) : this.#versions[number - 1]!
  }

  #newRow(endpointId: bigint): number {
    const row = this.#next++
    if (row === this.#checkedAt.length) {
      const length = Math.ceil(row * 1.5)
      this.#checkedAt = grown(this.#checkedAt, length)
      this.#httpCode = grown(this.#httpCode, length)
      this.#errorCode = grown(this.#errorCode, length)
      this.#sslExpiresAt = grown(this.#sslExpiresAt, length)
      this.#tlsVersion = grown(this.#tlsVersion, length)
    }
    this.rows.set(endpointId, row)
    return row
  }

  /**
   * A local sample: the endpoint's entry when it has none, or its newer content (a sample older
   * than the entry changes nothing). A TLS fact not observed keeps the one held.
   */
  record(
    endpointId: bigint,
    checkedAt: number,
    httpCode: number | null,
    errorCode: number,
    sslExpiresAt: number | null,
    tlsVersion: string | null,
  ): void {
    let row = this.rows.get(endpointId)
    if (row === undefined) {
      row = this.#newRow(endpointId)
      this.#sslExpiresAt[row] = Number.NaN
      this.#tlsVersion[row] = 0
    } else if (checkedAt < this.#checkedAt[row]!) return
    this.#checkedAt[row] = checkedAt
    this.#httpCode[row] = httpCode ?? -1
    this.#errorCode[row] = errorCode
    if (sslExpiresAt !== null) this.#sslExpiresAt[row] = sslExpiresAt
    if (tlsVersion !== null) this.#setVersion(row, tlsVersion)
  }

  /** An entry that could not be written comes back, unless a newer sample arrived meanwhile (whose unobserved TLS facts it fills). */
  restore(entry: StateEntry): void {
    const row = this.rows.get(entry.endpointId)
    if (row === undefined) {
      const fresh = this.#newRow(entry.endpointId)
      this.#checkedAt[fresh] = entry.lastCheckedAt
      this.#httpCode[fresh] = entry.lastHttpCode ?? -1
      this.#errorCode[fresh] = entry.lastErrorCode
      this.#sslExpiresAt[fresh] = entry.sslExpiresAt ?? Number.NaN
      this.#tlsVersion[fresh] = 0
      if (entry.tlsVersion !== null) this.#setVersion(fresh, entry.tlsVersion)
      return
    }
    if (Number.isNaN(this.#sslExpiresAt[row]!) && entry.sslExpiresAt !== null)
      this.#sslExpiresAt[row] = entry.sslExpiresAt
    if (this.#version(row) === null && entry.tlsVersion !== null) this.#setVersion(row, entry.tlsVersion)
  }

  entry(endpointId: bigint, row: number): StateEntry {
    const httpCode = this.#httpCode[row]!
    const sslExpiresAt = this.#sslExpiresAt[row]!
    return {
      endpointId,
      lastCheckedAt: this.#checkedAt[row]!,
      lastHttpCode: httpCode === -1 ? null : httpCode,
      lastErrorCode: this.#errorCode[row]!,
      sslExpiresAt: Number.isNaN(sslExpiresAt) ? null : sslExpiresAt,
      tlsVersion: this.#version(row),
    }
  }
}
