import { describe, expect, test } from 'vitest'
import { CsvError, formatCsv, parseCsv } from './_csv.js'

describe('parseCsv', () => {
  test('reads quoted cells, doubled quotes, CRLF and line breaks inside quotes, with the start line of each record', () => {
    const text =
      '\ufeffblog_id,monitor_url,check_keyword\r\n42,https://a.example/,"say ""hi"", twice"\r\n\r\n43,"https://b.example/","two\nlines"\n'
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ['blog_id', 'monitor_url', 'check_keyword'] },
      { line: 2, cells: ['42', 'https://a.example/', 'say "hi", twice'] },
      { line: 4, cells: ['43', 'https://b.example/', 'two\nlines'] },
    ])
  })

  test('keeps empty cells, and a last line without a line break', () => {
    expect(parseCsv('a,b,c\n1,,3')).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', '', '3'] },
    ])
    expect(parseCsv('""')).toEqual([{ line: 1, cells: [''] }])
  })

  test('names the line of a malformed record', () => {
    expect(() => parseCsv('a,b\n1,"open')).toThrow(new CsvError(2, 'a quoted cell is not closed'))
    expect(() => parseCsv('a\nx"y')).toThrow(/line 2: a quote in the middle/)
    expect(() => parseCsv('a\n"x"y')).toThrow(/line 2: text after a closing quote/)
  })
})

describe('formatCsv', () => {
  test('quotes what needs it and round-trips through parseCsv', () => {
    const rows = [
      { id: '1', text: 'plain' },
      { id: '2', text: 'a, "quoted"\nvalue' },
      { id: '3', text: null },
    ]
    const text = formatCsv(['id', 'text'], rows)
    expect(text).toBe('id,text\r\n1,plain\r\n2,"a, ""quoted""\nvalue"\r\n3,\r\n')
    expect(parseCsv(text).map((r) => r.cells)).toEqual([
      ['id', 'text'],
      ['1', 'plain'],
      ['2', 'a, "quoted"\nvalue'],
      ['3', ''],
    ])
  })
})
