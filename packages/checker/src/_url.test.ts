import { describe, expect, it } from 'vitest'
import { parseTargetUrl } from './_url.js'

const FIELDS = ['href', 'protocol', 'hostname', 'host', 'port', 'pathname', 'search', 'origin'] as const

/** The fields a check reads, or the error's name. */
function read(parse: () => Record<(typeof FIELDS)[number], string>) {
  try {
    const url = parse()
    return Object.fromEntries(FIELDS.map((field) => [field, url[field]]))
  } catch (error) {
    return { error: (error as Error).name }
  }
}

describe('parseTargetUrl', () => {
  it('reads every URL as URL does, canonical or not', () => {
    const schemes = ['http', 'https', 'HTTP', 'ftp']
    const hosts = [
      'example.com',
      'EXAMPLE.com',
      'a-b.example',
      '-a.example',
      'a.example.',
      '127.0.0.1',
      '127.1',
      '0x7f.0.0.1',
      '01.2.3.4',
      '1.2.3.256',
      'foo.123',
      'foo.0x1',
      '123abc',
      'xn--nxasmq6b.example',
      'a.xn--zz',
      '[::1]',
      'user@example.com',
    ]
    const ports = ['', ':80', ':443', ':8080', ':0', ':65535', ':65536', ':080']
    const paths = [
      '',
      '/',
      '/a/b',
      '/./a',
      '/a/../b',
      '/%2E/',
      '/.well-known/x',
      '/a b',
      "/it's",
      '/%zz',
      '/~u',
      '/a:b@c',
      '/é',
    ]
    const queries = ['', '?', '?a=1&b=%20', "?q='x'", '?a b', '?x?y']
    const fragments = ['', '#f']
    let fast = 0
    const mismatches: unknown[] = []
    const compare = (input: string) => {
      const ours = read(() => parseTargetUrl(input))
      const theirs = read(() => new URL(input))
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) mismatches.push({ input, ours, theirs })
      if (!('error' in ours) && !(parseTargetUrl(input) instanceof URL)) fast++
    }
    // Every scheme, host and port with a few paths; every path, query and fragment on two origins.
    for (const scheme of schemes)
      for (const host of hosts)
        for (const port of ports) for (const rest of ['', '/', '/a?b=1']) compare(`${scheme}://${host}${port}${rest}`)
    for (const origin of ['http://example.com', 'https://a.example:8443'])
      for (const path of paths)
        for (const query of queries) for (const fragment of fragments) compare(`${origin}${path}${query}${fragment}`)
    expect(mismatches).toEqual([])
    // The canonical ones (most of a real fleet) were read without URL.
    expect(fast).toBeGreaterThan(50)
  })
})
