import { describe, expect, test } from 'vitest'
import { formatJson, formatTable } from './_output.js'

describe('formatTable', () => {
  test('aligns columns under upper-case headings, with - for empty cells and no trailing blanks', () => {
    const table = formatTable(
      ['key', 'value', 'source'],
      [
        ['url', 'http://127.0.0.1:8090', 'default'],
        ['token', '', ''],
        ['allow_remote', 'true', 'file'],
      ],
    )
    expect(table.split('\n')).toEqual([
      'KEY           VALUE                  SOURCE',
      'url           http://127.0.0.1:8090  default',
      'token         -                      -',
      'allow_remote  true                   file',
    ])
  })

  test('counts characters, not UTF-16 units, so a redacted token lines up', () => {
    const [, first, second] = formatTable(
      ['a', 'b'],
      [
        ['jm_ab…(redacted)', 'x'],
        ['short', 'y'],
      ],
    ).split('\n')
    expect(first?.indexOf('x')).toBe(second?.indexOf('y'))
  })
})

describe('formatJson', () => {
  test('one line for pipes, indented when pretty', () => {
    expect(formatJson({ a: [1] }, false)).toBe('{"a":[1]}')
    expect(formatJson({ a: 1 }, true)).toBe('{\n  "a": 1\n}')
  })
})
