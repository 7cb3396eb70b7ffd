import { routes } from '@jetmon/api-client'
import { describe, expect, test } from 'vitest'
import { objectFields, type SchemaNode } from '../_schema.js'
import { checkBatchName, detectFormat, endpointRow, parseRows, rowIdempotencyKey } from './sites-bulk.js'

const fields = objectFields(routes['sites.create'].body as unknown as SchemaNode)

describe('bulk-add input', () => {
  test('format: --format, then the file name, then the first character', () => {
    expect(detectFormat('[]', 'x.csv', 'json')).toBe('json')
    expect(detectFormat('[]', 'sites.csv', undefined)).toBe('csv')
    expect(detectFormat('a,b', 'sites.json', undefined)).toBe('json')
    expect(detectFormat('  [{}]', '-', undefined)).toBe('json')
    expect(detectFormat('blog_id,monitor_url', '-', undefined)).toBe('csv')
  })

  test('CSV cells become typed fields; empty cells are absent; a bad cell is a problem of its row only', () => {
    const rows = parseRows(
      'blog_id,monitor_url,check_interval_sec,forbidden_keywords,monitor_active\n' +
        '42,https://a.example/,60,"[""down"",""error""]",false\n' +
        '18446744073709551615,https://b.example/,,,\n' +
        '44,https://c.example/,soon,,\n',
      'csv',
      fields,
    )
    expect(rows).toEqual([
      {
        row: 1,
        line: 2,
        body: {
          blog_id: 42,
          monitor_url: 'https://a.example/',
          check_interval_sec: 60,
          forbidden_keywords: ['down', 'error'],
          monitor_active: false,
        },
        problems: [],
      },
      { row: 2, line: 3, body: { blog_id: '18446744073709551615', monitor_url: 'https://b.example/' }, problems: [] },
      {
        row: 3,
        line: 4,
        body: { blog_id: 44, monitor_url: 'https://c.example/' },
        problems: ['check_interval_sec: must be a number, got "soon"'],
      },
    ])
  })

  test('an unknown CSV column or a document that is not JSON is a usage error for the whole file', () => {
    expect(() => parseRows('blog_id,url\n1,x', 'csv', fields)).toThrow(
      /unknown column\(s\) url; the columns are the fields of POST \/sites: blog_id, monitor_url/,
    )
    expect(() => parseRows('[{', 'json', fields)).toThrow(/--file: not valid JSON/)
    expect(() => parseRows('{"sites": []}', 'json', fields)).toThrow(/must be an array of sites/)
  })

  test('JSON: an array, or a list answer; a non-object item is a problem of its row', () => {
    expect(parseRows('{"data":[{"blog_id":1}]}', 'json', fields)).toEqual([
      { row: 1, body: { blog_id: 1 }, problems: [] },
    ])
    expect(parseRows('[1]', 'json', fields)[0]?.problems).toEqual(['must be an object of site fields'])
  })

  test('idempotency keys: same site in any key order → same key; another batch or content → another key', () => {
    const a = rowIdempotencyKey({ blog_id: 1, monitor_url: 'https://a/' }, 'b1')
    expect(a).toMatch(/^jetmon2-bulk-add:b1:[0-9a-f]{40}$/)
    expect(rowIdempotencyKey({ monitor_url: 'https://a/', blog_id: 1 }, 'b1')).toBe(a)
    expect(rowIdempotencyKey({ blog_id: 1, monitor_url: 'https://a/' }, 'b2')).not.toBe(a)
    expect(rowIdempotencyKey({ blog_id: 1, monitor_url: 'https://b/' }, 'b1')).not.toBe(a)
  })

  test('batch names keep to the alphabet of request ids', () => {
    expect(checkBatchName('migration-2026.05_a')).toBe('migration-2026.05_a')
    expect(() => checkBatchName('two words')).toThrow(/--batch: must be 1–64 letters/)
  })
})

test('export rows: the create fields of an endpoint, without nulls, empty lists or answer-only fields', () => {
  const row = endpointRow(
    {
      endpoint_id: 9,
      blog_id: '18446744073709551615',
      monitor_url: 'https://a/',
      monitor_active: true,
      check_keyword: null,
      forbidden_keywords: [],
      custom_header_names: ['X-Auth'],
      timeout_ms: 10000,
      current_state: 'Up',
    },
    fields.filter((f) => f.name !== 'custom_headers'),
  )
  expect(row).toEqual({
    blog_id: '18446744073709551615',
    monitor_url: 'https://a/',
    monitor_active: true,
    timeout_ms: 10000,
  })
})
