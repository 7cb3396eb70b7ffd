import { describe, expect, it } from 'vitest'
import { EmptinessProbe, KeywordScanner } from './_content.js'

function scan(chunks: (string | Buffer)[], options: ConstructorParameters<typeof KeywordScanner>[0]) {
  const scanner = new KeywordScanner(options)
  for (const chunk of chunks) scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  scanner.finish()
  return scanner
}

describe('KeywordScanner', () => {
  it('finds a required keyword split across chunks at every position', () => {
    const text = 'xxxx Welcome to my site yyyy'
    for (let i = 0; i < text.length; i++) {
      expect(
        scan([text.slice(0, i), text.slice(i)], { keyword: 'Welcome to my site', caseSensitive: true }).requiredFound,
      ).toBe(true)
    }
  })

  it('finds a keyword split across three one-byte chunks', () => {
    expect(scan(['ab', 'c', 'd', 'ef'], { keyword: 'bcde', caseSensitive: true }).requiredFound).toBe(true)
  })

  it('matches case-sensitively unless told otherwise', () => {
    expect(scan(['Hello World'], { keyword: 'hello world', caseSensitive: true }).requiredFound).toBe(false)
    expect(scan(['Hello World'], { keyword: 'hello world', caseSensitive: false }).requiredFound).toBe(true)
  })

  it('names the forbidden text it found, as configured', () => {
    const scanner = scan(['all good ', 'but CAS', 'INO here'], {
      forbidden: ['hacked', 'Casino'],
      caseSensitive: false,
    })
    expect(scanner.forbiddenMatch).toBe('Casino')
  })

  it('handles multi-byte characters split between chunks', () => {
    const bytes = Buffer.from('prix: 10 €, café')
    const cut = bytes.indexOf(Buffer.from('€')) + 1 // in the middle of the euro sign
    expect(
      scan([bytes.subarray(0, cut), bytes.subarray(cut)], { keyword: '10 €, café', caseSensitive: true }).requiredFound,
    ).toBe(true)
  })

  it('is inactive without keywords', () => {
    expect(new KeywordScanner({ caseSensitive: true }).active).toBe(false)
  })
})

describe('EmptinessProbe', () => {
  const probe = (...chunks: string[]) => {
    const p = new EmptinessProbe()
    for (const chunk of chunks) p.push(Buffer.from(chunk))
    return p.empty
  }

  it('calls a blank page or a bare skeleton empty', () => {
    expect(probe('')).toBe(true)
    expect(probe('   \n')).toBe(true)
    expect(probe('<html></html>')).toBe(true)
    expect(probe('<!DOCTYPE html>\n<html lang="en"><head></head>', '<body class="x">\n</body></html>')).toBe(true)
  })

  it('calls a page with any content non-empty, even when a tag is split across chunks', () => {
    expect(probe('<ht', 'ml><body>Hi</body></html>')).toBe(false)
    expect(probe('<html><title>x</title></html>')).toBe(false)
    expect(probe('ok')).toBe(false)
  })
})

describe('EmptinessProbe against its definition', () => {
  // The definition: whitespace and skeleton tags removed, nothing is left (bodies up to 8 KiB).
  const SKELETON = /<!doctype[^>]*>|<\/?(?:html|head|body)\b[^>]*>|\s+/gi
  const definition = (text: string) => text.replace(SKELETON, '').length === 0
  const pieces = ['<!DOCTYPE html>', '<html lang="en">', '</html>', '<head>', '</head>', '<body class="a">', '</body>']
  const noise = [' ', '\n', '\t', '\u00a0', '<title>t</title>', 'x', '<', '>', '<htmlx>', '<bod', '<!doc']

  it('agrees with the definition for generated bodies cut into random chunks', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let run = 0; run < 3000; run++) {
      const parts: string[] = []
      const count = random(8)
      for (let i = 0; i < count; i++) {
        const from = random(5) === 0 ? noise : pieces
        parts.push(from[random(from.length)] as string)
      }
      const text = parts.join('')
      const bytes = Buffer.from(text, 'latin1')
      const probe = new EmptinessProbe()
      let at = 0
      while (at < bytes.length) {
        // Mostly small pieces (tags split across chunks), sometimes the whole rest in one.
        const size = random(4) === 0 ? bytes.length : 1 + random(6)
        probe.push(bytes.subarray(at, at + size))
        at += size
      }
      expect({ text, empty: probe.empty }).toEqual({ text, empty: definition(text) })
    }
  })

  it('calls a body over 8 KiB non-empty, whatever it holds', () => {
    const probe = new EmptinessProbe()
    probe.push(Buffer.from(' '.repeat(8 * 1024 + 1)))
    expect(probe.empty).toBe(false)
  })
})
