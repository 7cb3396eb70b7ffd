import type { Transform } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { TextDecoder } from 'node:util'
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  constants as zlibConstants,
} from 'node:zlib'
import type { ContentCoding } from './types.js'

/** `charset=` of a Content-Type, quoted or not. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i

/**
 * Streams body chunks past the required and forbidden keywords. Only the last `longest - 1`
 * characters are carried between chunks, so a match split across two chunks is found without ever
 * holding the whole body.
 */
export class KeywordScanner {
  private readonly decoder = new StringDecoder('utf8')
  /** Set for a body in another charset than UTF-8 (decoded as a browser would, WHATWG labels). */
  private text: TextDecoder | null = null
  private readonly required: string | null
  private readonly forbidden: { original: string; needle: string }[]
  private readonly caseSensitive: boolean
  private readonly carryLength: number
  private carry = ''
  requiredFound = false
  forbiddenMatch: string | null = null

  constructor(options: {
    keyword?: string | null | undefined
    forbidden?: readonly string[] | null | undefined
    caseSensitive: boolean
  }) {
    this.caseSensitive = options.caseSensitive
    const prepare = (text: string) => (this.caseSensitive ? text : text.toLowerCase())
    this.required = options.keyword ? prepare(options.keyword) : null
    this.forbidden = (options.forbidden ?? [])
      .filter(Boolean)
      .map((original) => ({ original, needle: prepare(original) }))
    const longest = Math.max(this.required?.length ?? 0, ...this.forbidden.map((f) => f.needle.length), 1)
    this.carryLength = longest - 1
  }

  get requiresKeyword(): boolean {
    return this.required !== null
  }

  get active(): boolean {
    return this.required !== null || this.forbidden.length > 0
  }

  /**
   * Reads the body in the charset its Content-Type declares (call before the first push). An
   * `iso-8859-1` label means windows-1252, as in browsers; an unknown one leaves UTF-8.
   */
  useCharset(contentType: string | undefined): void {
    const label = contentType === undefined ? undefined : CHARSET.exec(contentType)?.[1]?.toLowerCase()
    if (label === undefined || label === 'utf-8' || label === 'utf8') return
    try {
      this.text = new TextDecoder(label)
    } catch {
      // Not a charset the runtime knows: UTF-8 is the best guess, as before.
    }
  }

  push(chunk: Buffer): void {
    this.scan(this.text === null ? this.decoder.write(chunk) : this.text.decode(chunk, { stream: true }))
  }

  finish(): void {
    this.scan(this.text === null ? this.decoder.end() : this.text.decode())
  }

  private scan(text: string): void {
    if (!text) return
    const window = this.carry + (this.caseSensitive ? text : text.toLowerCase())
    if (this.required && !this.requiredFound && window.includes(this.required)) this.requiredFound = true
    if (this.forbiddenMatch === null) {
      for (const { original, needle } of this.forbidden) {
        if (window.includes(needle)) {
          this.forbiddenMatch = original
          break
        }
      }
    }
    this.carry = this.carryLength > 0 ? window.slice(-this.carryLength) : ''
  }
}

const SAMPLE_LIMIT = 8 * 1024
/** One skeleton tag at the scan position: `<!doctype …>`, `<html …>`, `</head>`, `<body …>`. */
const SKELETON_TAG = /<!doctype[^>]*>|<\/?(?:html|head|body)\b[^>]*>/iy
/** What a skeleton tag that is still arriving can start with. */
const SKELETON_STARTS = ['<!doctype', '<html', '<head', '<body', '</html', '</head', '</body']
/** Whether `bytes` at `at` spell `word` (lower-case ASCII letters), in any case. */
function spells(bytes: Buffer, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (((bytes[at + k] as number) | 0x20) !== word.charCodeAt(k)) return false
  return true
}

/** A word character as `\b` knows it. */
const isWordByte = (code: number) =>
  (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a) || code === 0x5f

/**
 * SKELETON_TAG over the bytes of one tag, `<` before `from` and its first `>` at `close`: the
 * same answer as the expression, without turning the tag into text.
 */
function isSkeletonTag(bytes: Buffer, from: number, close: number): boolean {
  if (bytes[from] === 0x21 /* ! */) return close - from - 1 >= 7 && spells(bytes, from + 1, 'doctype')
  const at = bytes[from] === 0x2f /* / */ ? from + 1 : from
  if (close - at < 4) return false
  if (!spells(bytes, at, 'html') && !spells(bytes, at, 'head') && !spells(bytes, at, 'body')) return false
  return !isWordByte(bytes[at + 4] as number)
}

/** Whitespace as `\s` knows it, within the latin1 range the body is read in. */
const isSpace = (code: number) => code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0

/**
 * Decides whether a body has any content: an empty page, or one that is only the `<html>`,
 * `<head>` and `<body>` skeleton (and whitespace), is what a broken CMS serves with a 200. The
 * bytes are scanned from the start and the answer is known at the first byte of content, so a
 * real page costs a few dozen characters; a body longer than 8 KiB is never empty.
 */
export class EmptinessProbe {
  /** Unscanned text: a skeleton tag whose `>` has not arrived yet. */
  private pending = ''
  private seen = 0
  private content = false

  push(chunk: Buffer): void {
    if (this.content) return
    this.seen += chunk.length
    if (this.seen > SAMPLE_LIMIT) {
      this.content = true
      this.pending = ''
      return
    }
    if (this.pending !== '') {
      const text = this.pending + chunk.toString('latin1')
      this.pending = ''
      this.scanText(text)
      return
    }
    // The bytes themselves, with only the tags turned into text: a page's first tags are its whole cost.
    const length = chunk.length
    let i = 0
    while (i < length) {
      const code = chunk[i] as number
      if (isSpace(code)) {
        i++
        continue
      }
      if (code !== 0x3c /* < */) break
      const close = chunk.indexOf(0x3e /* > */, i)
      if (close === -1) {
        const rest = chunk.toString('latin1', i)
        if (couldBeSkeleton(rest, 0)) {
          this.pending = rest
          return
        }
        break
      }
      // A skeleton tag ends at the first '>' after its '<': it matches up to `close` or not at all.
      if (!isSkeletonTag(chunk, i + 1, close)) break
      i = close + 1
    }
    if (i < length) this.content = true
  }

  /** The same scan over text: a skeleton tag that began in an earlier chunk, joined with this one. */
  private scanText(text: string): void {
    let i = 0
    while (i < text.length) {
      const code = text.charCodeAt(i)
      if (isSpace(code)) {
        i++
        continue
      }
      if (code !== 0x3c /* < */) break
      SKELETON_TAG.lastIndex = i
      if (SKELETON_TAG.test(text)) {
        i = SKELETON_TAG.lastIndex
        continue
      }
      if (text.indexOf('>', i) === -1 && couldBeSkeleton(text, i)) {
        this.pending = text.slice(i)
        return
      }
      break
    }
    if (i < text.length) this.content = true
  }

  get empty(): boolean {
    // A tag left unfinished at the end of the body is not skeleton: it is what the page has.
    return !this.content && this.pending === ''
  }
}

function couldBeSkeleton(text: string, at: number): boolean {
  const head = text.slice(at, at + 9).toLowerCase()
  return SKELETON_STARTS.some((start) => (head.length < start.length ? start.startsWith(head) : head.startsWith(start)))
}

/** The `Content-Encoding` the content checks can decode, or null (identity, unknown, or several layered). */
export function contentCodingOf(header: string | undefined): ContentCoding | null {
  if (header === undefined) return null
  switch (header.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return 'gzip'
    case 'deflate':
      return 'deflate'
    case 'br':
      return 'br'
    default:
      return null
  }
}

/** A stream that turns a compressed body's bytes into the decoded bytes the content checks read. */
export type BodyDecoder = Transform

/**
 * A streaming decoder for a compressed body. Input that stops short (a body cut at the byte
 * budget) flushes what it has instead of failing. `deflate` is zlib-wrapped by the standard but
 * sent raw by some servers; browsers accept both, and so do we, told apart by the first bytes.
 */
export function createBodyDecoder(coding: ContentCoding, first: Buffer): BodyDecoder {
  if (coding === 'gzip') return createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
  if (coding === 'br') return createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH })
  const cmf = first[0] ?? 0
  const flg = first[1]
  const zlibWrapped = (cmf & 0x0f) === 8 && (flg === undefined || ((cmf << 8) | flg) % 31 === 0)
  return zlibWrapped
    ? createInflate({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
    : createInflateRaw({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
}
