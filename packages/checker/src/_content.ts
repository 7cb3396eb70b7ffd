import { StringDecoder } from 'node:string_decoder'

/**
 * Streams body chunks past the required and forbidden keywords. Only the last `longest - 1`
 * characters are carried between chunks, so a match split across two chunks is found without ever
 * holding the whole body.
 */
export class KeywordScanner {
  private readonly decoder = new StringDecoder('utf8')
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

  push(chunk: Buffer): void {
    this.scan(this.decoder.write(chunk))
  }

  finish(): void {
    this.scan(this.decoder.end())
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

const SKELETON = /<!doctype[^>]*>|<\/?(?:html|head|body)\b[^>]*>|\s+/gi
const SAMPLE_LIMIT = 8 * 1024

/**
 * Decides whether a body has any content: an empty page, or one that is only the `<html>`,
 * `<head>` and `<body>` skeleton, is what a broken CMS serves with a 200. Only the first 8 KiB are
 * kept; a body longer than that is not empty.
 */
export class EmptinessProbe {
  private sample = ''
  private overflow = false

  push(chunk: Buffer): void {
    if (this.overflow) return
    if (this.sample.length + chunk.length > SAMPLE_LIMIT) {
      this.overflow = true
      this.sample = ''
      return
    }
    this.sample += chunk.toString('latin1')
  }

  get empty(): boolean {
    if (this.overflow) return false
    // Most pages have text outside the skeleton within their first tags: decide cheaply first.
    const text = this.sample
    const firstTagEnd = text.indexOf('>')
    if (
      firstTagEnd !== -1 &&
      firstTagEnd + 1 < text.length &&
      !/^\s*</.test(text.slice(firstTagEnd + 1, firstTagEnd + 64))
    ) {
      return false
    }
    return text.replace(SKELETON, '').length === 0
  }
}
