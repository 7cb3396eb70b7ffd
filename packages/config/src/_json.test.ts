import { describe, expect, test } from 'vitest'
import { parseJson } from './_json.js'

describe('parseJson', () => {
  test('parses valid JSON, with or without a byte order mark', () => {
    expect(parseJson('{"a": [1, true, null, "x"]}')).toEqual({ ok: true, value: { a: [1, true, null, 'x'] } })
    expect(parseJson('\uFEFF{"a": 1}')).toEqual({ ok: true, value: { a: 1 } })
  })

  test.each([
    ['{\n  "a": 1,\n}', 2, 9, 'trailing comma before "}" (JSON does not allow one)'],
    ['[1, 2,]', 1, 6, 'trailing comma before "]" (JSON does not allow one)'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}" after a property value, found "\\""'],
    ['{\n  // note\n  "a": 1\n}', 2, 3, 'comments are not allowed in JSON'],
    ['{ a: 1 }', 1, 3, 'expected a property name in double quotes, found "a"'],
    ["{ 'a': 1 }", 1, 3, 'expected a property name in double quotes, found "\'"'],
    ['{"a": \'x\'}', 1, 7, 'strings must use double quotes (")'],
    ['{"a": tru}', 1, 7, 'expected a value'],
    ['{"a": "unterminated\n}', 1, 20, 'line break or control character inside a string'],
    ['{"a": 01}', 1, 8, 'expected "," or "}" after a property value, found "1"'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the end of the JSON value'],
    ['{"a": "\\q"}', 1, 8, 'invalid escape sequence \\q'],
    ['', 1, 1, 'expected a value (a string, number, true, false, null, object or array), found the end of the text'],
    ['{"a": [1, 2}', 1, 12, 'expected "," or "]" after an array element, found "}"'],
  ])('locates the error in %j at line %i, column %i', (text, line, column, reason) => {
    const result = parseJson(text)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect({ line: result.line, column: result.column }).toEqual({ line, column })
    expect(result.reason).toContain(reason)
  })
})
