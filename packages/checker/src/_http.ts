/**
 * A small HTTP/1.1 response reader for one request on a fresh `Connection: close` socket. The
 * checker needs less than a general client (no pooling, no pipelining, no compression) but more
 * visibility (exactly where a body stopped), and it runs millions of times a day, so the reader is
 * ours: a state machine over raw socket bytes.
 */

const HEAD_LIMIT = 64 * 1024
const CRLF = Buffer.from('\r\n')
const HEAD_END = Buffer.from('\r\n\r\n')

/** A response's status line and the headers the checker reads (names lower-case; see KEPT_HEADERS). */
export interface ResponseHead {
  status: number
  headers: Map<string, string>
}

/** How the body's end is known: no body, `Content-Length`, chunked encoding, or the peer closing. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close'

/** Why the reader gave up, when the bytes were not HTTP. */
export class MalformedResponse extends Error {}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'close' | 'done'

/** What the reader reports to its owner as bytes arrive. */
export interface ResponseReaderEvents {
  /** Called once with the final (non-1xx) head; returns whether the body should be read. */
  onHead(head: ResponseHead): boolean
  onBody(chunk: Buffer): void
}

/** Parses one response from the socket's bytes as they arrive, reporting the head and the body's chunks. */
export class ResponseReader {
  private state: State = 'head'
  private pending: Buffer | null = null
  private remaining = 0
  head: ResponseHead | null = null
  framing: BodyFraming = 'none'
  contentLength: number | null = null

  constructor(
    private readonly events: ResponseReaderEvents,
    private readonly isHead: boolean,
  ) {}

  get done(): boolean {
    return this.state === 'done'
  }

  /**
   * Whether every byte of the response has been read: it is done and no body was left unread (a
   * body the owner did not want, behind a head it judged alone). The server has nothing more to send.
   */
  get consumed(): boolean {
    return this.state === 'done' && !this.skippedBody
  }

  private skippedBody = false

  /** Feeds bytes from the socket; throws MalformedResponse for bytes that are not HTTP. */
  push(data: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, data]) : data
    this.pending = null
    let offset = 0
    while (offset < buf.length && this.state !== 'done') {
      switch (this.state) {
        case 'head': {
          const end = buf.indexOf(HEAD_END, offset)
          if (end === -1) {
            if (buf.length - offset > HEAD_LIMIT) throw new MalformedResponse('response headers exceed 64 KiB')
            // A copy: the caller may reuse its read buffer once push() returns.
            this.pending = Buffer.from(buf.subarray(offset))
            return
          }
          const head = parseHead(buf.toString('latin1', offset, end))
          offset = end + 4
          // Interim responses (100 Continue, 103 Early Hints) precede the real one.
          if (head.status >= 100 && head.status < 200 && head.status !== 101) continue
          this.head = head
          this.startBody(head)
          break
        }
        case 'length': {
          const take = Math.min(this.remaining, buf.length - offset)
          this.events.onBody(buf.subarray(offset, offset + take))
          offset += take
          this.remaining -= take
          if (this.remaining === 0) this.state = 'done'
          break
        }
        case 'close':
          this.events.onBody(offset === 0 ? buf : buf.subarray(offset))
          offset = buf.length
          break
        case 'chunk-size':
        case 'chunk-data-end':
        case 'trailers': {
          const end = buf.indexOf(CRLF, offset)
          if (end === -1) {
            if (buf.length - offset > 8 * 1024) throw new MalformedResponse('chunk header line too long')
            this.pending = Buffer.from(buf.subarray(offset))
            return
          }
          const line = buf.toString('latin1', offset, end)
          offset = end + 2
          if (this.state === 'chunk-size') {
            const size = Number.parseInt(line.split(';', 1)[0]?.trim() ?? '', 16)
            if (!Number.isFinite(size) || size < 0)
              throw new MalformedResponse(`invalid chunk size "${line.slice(0, 32)}"`)
            if (size === 0) this.state = 'trailers'
            else {
              this.remaining = size
              this.state = 'chunk-data'
            }
          } else if (this.state === 'chunk-data-end') {
            if (line !== '') throw new MalformedResponse('chunk data longer than its declared size')
            this.state = 'chunk-size'
          } else if (line === '') {
            this.state = 'done'
          }
          break
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, buf.length - offset)
          this.events.onBody(buf.subarray(offset, offset + take))
          offset += take
          this.remaining -= take
          if (this.remaining === 0) this.state = 'chunk-data-end'
          break
        }
      }
      if (offset >= buf.length) break
      buf = offset === 0 ? buf : buf.subarray(offset)
      offset = 0
    }
  }

  /**
   * The server closed the connection. Returns whether the body was complete: a close-delimited body
   * is complete at EOF; a Content-Length or chunked body that had not ended is truncated.
   */
  end(): 'complete' | 'truncated' | 'no_response' {
    if (this.state === 'head') return 'no_response'
    if (this.state === 'close') {
      this.state = 'done'
      return 'complete'
    }
    return this.state === 'done' ? 'complete' : 'truncated'
  }

  private startBody(head: ResponseHead): void {
    const status = head.status
    const transferEncoding = head.headers.get('transfer-encoding')?.toLowerCase()
    const length = head.headers.get('content-length')
    const wanted = this.events.onHead(head)
    if (length !== undefined && /^\d+$/.test(length.trim())) this.contentLength = Number(length)
    if (!wanted || this.isHead || status === 204 || status === 304) {
      this.framing = 'none'
      this.state = 'done'
      this.skippedBody = !(this.isHead || status === 204 || status === 304 || this.contentLength === 0)
    } else if (transferEncoding?.split(',').pop()?.trim() === 'chunked') {
      this.framing = 'chunked'
      this.state = 'chunk-size'
    } else if (this.contentLength !== null) {
      this.framing = 'length'
      this.remaining = this.contentLength
      this.state = this.contentLength === 0 ? 'done' : 'length'
    } else {
      this.framing = 'close'
      this.state = 'close'
    }
  }
}

/**
 * The only headers a check reads: framing, redirects and what the content checks need. Others are
 * skipped without being copied out of the head, which spares a few strings per header per check.
 */
const KEPT_HEADERS = new Set(['content-encoding', 'content-length', 'content-type', 'location', 'transfer-encoding'])
/** The shortest kept name ('location'): shorter names are skipped before any copy. */
const KEPT_MIN = 8

/** Whitespace that String.prototype.trim removes, within the latin1 range a head is read in. */
const isTrimmed = (code: number) => code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0

/**
 * The kept header named by `text[from, to)`, compared in place without case (only ASCII letters
 * fold to the ASCII names kept); null for any other name. The name has no surrounding whitespace.
 */
function keptName(text: string, from: number, to: number): string | null {
  let name: string
  switch (to - from) {
    case 8:
      name = 'location'
      break
    case 12:
      name = 'content-type'
      break
    case 14:
      name = 'content-length'
      break
    case 16:
      name = 'content-encoding'
      break
    case 17:
      name = 'transfer-encoding'
      break
    default:
      return null
  }
  for (let i = from; i < to; i++) {
    let code = text.charCodeAt(i)
    if (code >= 0x41 && code <= 0x5a) code += 0x20
    if (code !== name.charCodeAt(i - from)) return null
  }
  return name
}

const isDigit = (code: number) => code >= 0x30 && code <= 0x39

/** The status of an `HTTP/1.0` or `HTTP/1.1` status line `text[0, end)` (three digits, then nothing or a space and a reason without CR or LF); -1 if it is not one. */
function statusOf(text: string, end: number): number {
  if (end < 12 || !text.startsWith('HTTP/1.')) return -1
  const minor = text.charCodeAt(7)
  if ((minor !== 0x30 && minor !== 0x31) || text.charCodeAt(8) !== 0x20) return -1
  const a = text.charCodeAt(9)
  const b = text.charCodeAt(10)
  const c = text.charCodeAt(11)
  if (!isDigit(a) || !isDigit(b) || !isDigit(c)) return -1
  if (end > 12) {
    if (text.charCodeAt(12) !== 0x20) return -1
    for (let i = 13; i < end; i++) {
      const code = text.charCodeAt(i)
      if (code === 0x0d || code === 0x0a) return -1
    }
  }
  return (a - 0x30) * 100 + (b - 0x30) * 10 + (c - 0x30)
}

function parseHead(text: string): ResponseHead {
  let lineEnd = text.indexOf('\r\n')
  if (lineEnd === -1) lineEnd = text.length
  const status = statusOf(text, lineEnd)
  if (status === -1)
    throw new MalformedResponse(`not an HTTP/1.x status line: "${text.slice(0, Math.min(lineEnd, 64))}"`)
  const headers = new Map<string, string>()
  let at = lineEnd + 2
  while (at < text.length) {
    let end = text.indexOf('\r\n', at)
    if (end === -1) end = text.length
    const colon = text.indexOf(':', at)
    if (colon - at >= KEPT_MIN && colon < end) {
      // A name with whitespace around it (tolerated) takes the slow way: copied, trimmed, lower-cased.
      const name =
        isTrimmed(text.charCodeAt(at)) || isTrimmed(text.charCodeAt(colon - 1))
          ? trimmedKeptName(text.slice(at, colon))
          : keptName(text, at, colon)
      if (name !== null) {
        const value = text.slice(colon + 1, end).trim()
        const existing = headers.get(name)
        headers.set(name, existing === undefined ? value : `${existing}, ${value}`)
      }
    }
    at = end + 2
  }
  return { status, headers }
}

function trimmedKeptName(raw: string): string | null {
  const name = raw.trim().toLowerCase()
  return KEPT_HEADERS.has(name) ? name : null
}

/** The request bytes: our headers first, the caller's custom headers override them (Host included). */
export function serializeRequest(options: {
  method: string
  path: string
  host: string
  userAgent: string
  headers: Readonly<Record<string, string>> | undefined
}): string {
  if (!options.headers) {
    return `${options.method} ${options.path} HTTP/1.1\r\nHost: ${options.host}\r\nUser-Agent: ${options.userAgent}\r\nAccept: */*\r\nConnection: close\r\n\r\n`
  }
  const headers = new Map<string, [string, string]>([
    ['host', ['Host', options.host]],
    ['user-agent', ['User-Agent', options.userAgent]],
    ['accept', ['Accept', '*/*']],
  ])
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // Header injection guard: a value with CR/LF would smuggle a second header or request.
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) continue
    headers.set(name.toLowerCase(), [name, value])
  }
  headers.set('connection', ['Connection', 'close'])
  let out = `${options.method} ${options.path} HTTP/1.1\r\n`
  for (const [name, value] of headers.values()) out += `${name}: ${value}\r\n`
  return `${out}\r\n`
}
