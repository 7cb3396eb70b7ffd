/** Outcome of parsing JSON text: the value, or where and why it is not valid JSON. */
export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; line: number; column: number; offset: number; reason: string }

/**
 * Parses JSON and, when that fails, locates the first syntax error by line and column. Node 20's
 * `JSON.parse` messages often carry no position at all, and an operator editing a file needs one.
 */
export function parseJson(text: string): JsonParseResult {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  try {
    return { ok: true, value: JSON.parse(source) }
  } catch (error) {
    const problem = locateSyntaxError(source) ?? { offset: 0, reason: (error as Error).message }
    return { ok: false, ...lineColumn(source, problem.offset), offset: problem.offset, reason: problem.reason }
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const lastBreak = before.lastIndexOf('\n')
  return { line: before.split('\n').length, column: offset - lastBreak }
}

class SyntaxProblem {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])

/** A small recursive-descent JSON scanner that only reports the first error (offset and reason). */
function locateSyntaxError(text: string): SyntaxProblem | undefined {
  let i = 0
  const found = (at: number) => (at >= text.length ? 'the end of the text' : JSON.stringify(text[at]))
  // Annotated so that TypeScript knows a call to it ends the branch.
  const fail: (reason: string, at?: number) => never = (reason, at = i) => {
    throw new SyntaxProblem(at, reason)
  }

  const skipWhitespace = () => {
    for (;;) {
      const ch = text[i]
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++
      else if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
        fail('comments are not allowed in JSON (the JSON Schema descriptions document each key instead)')
      } else return
    }
  }

  const string = () => {
    const start = i
    i++
    for (;;) {
      const ch = text[i]
      if (ch === undefined) fail('unterminated string (a closing " is missing)', start)
      if (ch === '"') {
        i++
        return
      }
      if (ch === '\\') {
        const next = text[i + 1]
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6
        else if (next !== undefined && ESCAPES.has(next)) i += 2
        else fail(`invalid escape sequence \\${next ?? ''} in a string (write a backslash as \\\\)`)
        continue
      }
      if (ch < ' ') fail('line break or control character inside a string (is a closing " missing?)')
      i++
    }
  }

  const value = (): void => {
    skipWhitespace()
    const ch = text[i]
    const word = ['true', 'false', 'null'].find((literal) => text.startsWith(literal, i))
    if (ch === '{') object()
    else if (ch === '[') array()
    else if (ch === '"') string()
    else if (word) i += word.length
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      NUMBER.lastIndex = i
      if (!NUMBER.test(text)) fail('invalid number')
      i = NUMBER.lastIndex
    } else if (ch === "'") fail('strings must use double quotes (")')
    else fail(`expected a value (a string, number, true, false, null, object or array), found ${found(i)}`)
  }

  const object = () => {
    i++
    skipWhitespace()
    if (text[i] === '}') {
      i++
      return
    }
    let comma = -1
    for (;;) {
      skipWhitespace()
      if (text[i] === '}' && comma >= 0) fail('trailing comma before "}" (JSON does not allow one)', comma)
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found(i)}`)
      string()
      skipWhitespace()
      if (text[i] !== ':') fail(`expected ":" after the property name, found ${found(i)}`)
      i++
      value()
      skipWhitespace()
      if (text[i] === ',') {
        comma = i++
        continue
      }
      if (text[i] === '}') {
        i++
        return
      }
      const hint = text[i] === '"' ? ' (is a comma missing at the end of the previous value?)' : ''
      fail(`expected "," or "}" after a property value, found ${found(i)}${hint}`)
    }
  }

  const array = () => {
    i++
    skipWhitespace()
    if (text[i] === ']') {
      i++
      return
    }
    let comma = -1
    for (;;) {
      skipWhitespace()
      if (text[i] === ']' && comma >= 0) fail('trailing comma before "]" (JSON does not allow one)', comma)
      value()
      skipWhitespace()
      if (text[i] === ',') {
        comma = i++
        continue
      }
      if (text[i] === ']') {
        i++
        return
      }
      fail(`expected "," or "]" after an array element, found ${found(i)}`)
    }
  }

  try {
    value()
    skipWhitespace()
    if (i < text.length) fail(`unexpected ${found(i)} after the end of the JSON value`)
    return undefined
  } catch (error) {
    if (error instanceof SyntaxProblem) return error
    throw error
  }
}
