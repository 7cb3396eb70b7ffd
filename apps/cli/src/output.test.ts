import { describe, expect, test } from 'vitest'
import { bar, cellText, formatJson, formatTable, formatValue, sparkline, terminalSafe } from './output.js'

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

describe('cellText', () => {
  test('prints values exactly as the API sent them', () => {
    expect(cellText(9007199254740993n)).toBe('9007199254740993')
    expect(cellText('18446744073709551615')).toBe('18446744073709551615')
    expect(cellText(99.95)).toBe('99.95')
    expect(cellText('2026-05-01T10:00:00.000Z')).toBe('2026-05-01T10:00:00.000Z')
    expect(cellText(null)).toBe('')
    expect(cellText(false)).toBe('false')
    expect(cellText(['a', 'b'])).toBe('a, b')
    expect(cellText({ a: 1 })).toBe('{"a":1}')
    expect(cellText('two\nlines')).toBe('two lines')
  })
})

describe('formatValue', () => {
  test('an object: field lines, small nested objects flattened, lists of objects as their own tables', () => {
    const text = formatValue({
      blog_id: '18446744073709551615',
      maintenance: { id: 7, ends_at: '2026-05-01T23:00:00.000Z' },
      endpoints: [{ endpoint_id: 1, monitor_url: 'https://a.example/' }],
      empty: [],
    })
    expect(text.split('\n')).toEqual([
      'FIELD                VALUE',
      'blog_id              18446744073709551615',
      'maintenance.id       7',
      'maintenance.ends_at  2026-05-01T23:00:00.000Z',
      'empty                -',
      '',
      'ENDPOINTS (1)',
      'ENDPOINT_ID  MONITOR_URL',
      '1            https://a.example/',
    ])
  })

  test('a list: the given columns, dotted paths reach into nested objects', () => {
    const rows = [
      { id: 1, runtime: { last_http_code: 200 } },
      { id: 2, runtime: { last_http_code: null } },
    ]
    expect(formatValue(rows, { columns: ['id', 'runtime.last_http_code'] }).split('\n')).toEqual([
      'ID  RUNTIME.LAST_HTTP_CODE',
      '1   200',
      '2   -',
    ])
    expect(formatValue([], { columns: ['id'] })).toBe('ID\n(none)')
  })
})

describe('sparkline and bar', () => {
  test('sparkline scales to the largest value', () => {
    expect(sparkline([0, 50, 100])).toBe('▁▅█')
    expect(sparkline([])).toBe('')
    expect(sparkline([0, 0])).toBe('▁▁')
  })

  test('bar is width cells at max, in eighths, never longer, empty for nothing', () => {
    expect(bar(10, 10, 4)).toBe('████')
    expect(bar(5, 10, 4)).toBe('██')
    expect(bar(1, 16, 2)).toBe('▏')
    expect(bar(20, 10, 4)).toBe('████')
    expect(bar(0, 10, 4)).toBe('')
    expect(bar(5, 0, 4)).toBe('')
  })
})

describe('terminalSafe', () => {
  const hostile = 'a\x1b[2Jb\x1b]0;title\x07c\x9bd\u202ee\rf\x7fg'

  test('shows every terminal control character as its escape and keeps everything else', () => {
    expect(terminalSafe(hostile)).toBe('a\\x1b[2Jb\\x1b]0;title\\x07c\\x9bd\\u202ee\\x0df\\x7fg')
    expect(terminalSafe('line one\nline two: naïve ✓ 日本')).toBe('line one\nline two: naïve ✓ 日本')
    expect(terminalSafe(terminalSafe(hostile))).toBe(terminalSafe(hostile))
  })

  test('tables and values never carry a control character, however the API data is shaped', () => {
    const outputs = [
      formatTable(['url', `k\x1bey`], [[hostile, 'x']]),
      formatValue([{ monitor_url: hostile, name: { nested: hostile } }]),
      formatValue({ label: hostile, endpoints: [{ monitor_url: hostile }], window: { note: hostile } }),
      formatValue(hostile),
      cellText([hostile, 1]),
    ]
    for (const output of outputs) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
      expect(output).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/)
      expect(output).toContain('\\x1b[2J')
    }
  })
})
