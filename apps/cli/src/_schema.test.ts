import { routes } from '@jetmon/api-client'
import { describe, expect, test } from 'vitest'
import { checkSchema, describeField, flagName, objectFields, type SchemaNode, valueFromText } from './_schema.js'

const body = (id: keyof typeof routes) => objectFields((routes[id] as { body?: unknown }).body as SchemaNode)
const field = (id: keyof typeof routes, name: string) => body(id).find((f) => f.name === name)!

describe('reading the contract schemas', () => {
  test('the fields of POST /sites with their kinds, optionality and descriptions', () => {
    const fields = body('sites.create')
    expect(fields.map((f) => f.name).slice(0, 3)).toEqual(['blog_id', 'monitor_url', 'monitor_active'])
    expect(field('sites.create', 'blog_id')).toMatchObject({ kind: 'id', optional: false, nullable: false })
    expect(field('sites.create', 'monitor_url')).toMatchObject({ kind: 'string', optional: false })
    expect(field('sites.create', 'check_interval_sec')).toMatchObject({
      kind: 'number',
      optional: true,
      nullable: true,
      description: expect.stringMatching(/Seconds between checks/),
    })
    expect(field('sites.create', 'request_method')).toMatchObject({ kind: 'enum', options: ['GET', 'HEAD'] })
    expect(field('sites.create', 'detection_profile')).toMatchObject({
      kind: 'enum',
      options: ['legacy', 'simple_http', 'full'],
      nullable: true,
      description: expect.stringMatching(/fleet default/),
    })
    expect(field('sites.create', 'forbidden_keywords')).toMatchObject({ kind: 'array', item: { kind: 'string' } })
    expect(field('sites.create', 'custom_headers')).toMatchObject({ kind: 'object' })
    expect(field('sites.create', 'keyword_case_sensitive')).toMatchObject({ kind: 'boolean', nullable: true })
  })

  test('an optional body (events close) and a query object unwrap to their entries', () => {
    expect(body('events.close').map((f) => f.name)).toEqual(['reason', 'note'])
    const query = objectFields(routes['sites.list'].query as SchemaNode).map((f) => f.name)
    expect(query).toEqual([
      'limit',
      'cursor',
      'state',
      'state__in',
      'severity__gte',
      'monitor_active',
      'q',
      'request_method',
      'detection_profile',
    ])
    expect(objectFields(undefined)).toEqual([])
  })

  test('the statistics queries: response time takes a vantage, the vantage list does not', () => {
    const names = (id: keyof typeof routes) =>
      objectFields((routes[id] as { query?: unknown }).query as SchemaNode).map((f) => f.name)
    expect(names('stats.responseTime')).toEqual(['window', 'from', 'to', 'endpoint_id', 'vantage'])
    expect(names('stats.timingBreakdown')).toContain('vantage')
    expect(names('stats.vantages')).toEqual(['window', 'from', 'to', 'endpoint_id'])
    const vantage = objectFields(routes['stats.responseTime'].query as SchemaNode).find((f) => f.name === 'vantage')
    expect(vantage).toMatchObject({
      kind: 'string',
      optional: true,
      description: expect.stringMatching(/veriflier id/),
    })
  })

  test('flag names', () => {
    expect(flagName('check_interval_sec')).toBe('check-interval-sec')
    expect(flagName('state__in')).toBe('state-in')
  })
})

describe('valueFromText', () => {
  test('numbers, booleans, lists, objects and null for nullable fields', () => {
    expect(valueFromText(field('sites.create', 'check_interval_sec'), '60', '--x')).toBe(60)
    expect(valueFromText(field('sites.create', 'check_interval_sec'), 'null', '--x')).toBeNull()
    expect(valueFromText(field('sites.create', 'monitor_active'), 'false', '--x')).toBe(false)
    expect(valueFromText(field('sites.create', 'forbidden_keywords'), 'error, fatal', '--x')).toEqual([
      'error',
      'fatal',
    ])
    expect(valueFromText(field('sites.create', 'forbidden_keywords'), '["a,b"]', '--x')).toEqual(['a,b'])
    expect(valueFromText(field('sites.create', 'custom_headers'), '{"X-A":"1"}', '--x')).toEqual({ 'X-A': '1' })
    expect(valueFromText(field('sites.create', 'check_keyword'), ' keep spaces ', '--x')).toBe(' keep spaces ')
  })

  test('ids stay exact: a number up to 2^53 − 1, decimal text beyond', () => {
    const id = field('sites.create', 'blog_id')
    expect(valueFromText(id, '42', '--blog-id')).toBe(42)
    expect(valueFromText(id, '18446744073709551615', '--blog-id')).toBe('18446744073709551615')
    expect(valueFromText(id, '9007199254740993', '--blog-id')).toBe('9007199254740993')
  })

  test('text that does not fit is a usage error naming the flag', () => {
    expect(() => valueFromText(field('sites.create', 'timeout_ms'), 'soon', '--timeout-ms')).toThrow(
      '--timeout-ms: must be a number, got "soon"',
    )
    expect(() => valueFromText(field('sites.create', 'monitor_active'), 'maybe', '--monitor-active')).toThrow(
      /--monitor-active: must be true or false/,
    )
    expect(() => valueFromText(field('sites.create', 'custom_headers'), '{nope', '--custom-headers')).toThrow(
      /--custom-headers: not valid JSON/,
    )
  })
})

describe('checkSchema', () => {
  test('runs the route schema as the server does and reports dotted paths', async () => {
    const schema = routes['sites.create'].body as unknown as SchemaNode
    expect(await checkSchema(schema, { blog_id: 42, monitor_url: 'https://example.com/' })).toEqual([])
    const issues = await checkSchema(schema, {
      blog_id: 42,
      monitor_url: 'ftp://x',
      custom_headers: { 'Content-Length': '1' },
    })
    expect(issues).toEqual([
      { path: 'monitor_url', message: 'must use http or https' },
      { path: 'custom_headers.Content-Length', message: expect.stringMatching(/cannot be overridden/) },
    ])
    expect((await checkSchema(schema, { blog_id: 42, monitor_url: 'https://a/', colour: 'red' }))[0]?.path).toBe(
      'colour',
    )
  })

  test('describeField of a union of literals is text, of anything else unknown', () => {
    expect(describeField('x', { type: 'union', options: [{ type: 'literal' }, { type: 'literal' }] }).kind).toBe(
      'string',
    )
    expect(describeField('x', { type: 'tuple' }).kind).toBe('unknown')
  })
})
