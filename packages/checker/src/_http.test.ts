import { describe, expect, it } from 'vitest'
import { MalformedResponse, ResponseReader, serializeRequest } from './_http.js'

function read(chunks: string[], options: { head?: boolean; end?: boolean } = {}) {
  const body: string[] = []
  let status = 0
  const reader = new ResponseReader(
    {
      onHead(head) {
        status = head.status
        return head.status < 400
      },
      onBody(chunk) {
        body.push(chunk.toString('latin1'))
      },
    },
    options.head ?? false,
  )
  for (const chunk of chunks) reader.push(Buffer.from(chunk, 'latin1'))
  const outcome = options.end === false ? null : reader.end()
  return {
    status,
    body: body.join(''),
    done: reader.done,
    outcome,
    framing: reader.framing,
    length: reader.contentLength,
  }
}

/** Every way of cutting `text` into two chunks. */
const splits = (text: string) => Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)])

describe('ResponseReader', () => {
  const lengthResponse = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world'
  const chunked =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n'

  it.each(splits(lengthResponse))('reads a Content-Length body however it is split (%#)', (a, b) => {
    const result = read([a, b], { end: false })
    expect(result).toMatchObject({ status: 200, body: 'hello world', done: true, framing: 'length', length: 11 })
  })

  it.each(splits(chunked))('reads a chunked body however it is split (%#)', (a, b) => {
    expect(read([a, b], { end: false })).toMatchObject({
      status: 200,
      body: 'hello world',
      done: true,
      framing: 'chunked',
    })
  })

  it('reports a Content-Length body cut short as truncated', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'])).toMatchObject({
      outcome: 'truncated',
      body: 'short',
    })
  })

  it('reports a chunked body without its final chunk as truncated', () => {
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'])).toMatchObject({
      outcome: 'truncated',
    })
  })

  it('takes a close-delimited body as complete at end of stream', () => {
    expect(read(['HTTP/1.0 200 OK\r\n\r\nall of it'])).toMatchObject({
      outcome: 'complete',
      body: 'all of it',
      framing: 'close',
    })
  })

  it('skips interim 1xx responses', () => {
    expect(
      read(
        ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
        { end: false },
      ),
    ).toMatchObject({ status: 204, done: true })
  })

  it('reads no body for HEAD, 204, 304 or a response the caller does not want', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'], { head: true, end: false })).toMatchObject({
      done: true,
      body: '',
    })
    expect(read(['HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n'], { end: false })).toMatchObject({
      done: true,
    })
    expect(read(['HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\nerror'], { end: false })).toMatchObject({
      status: 500,
      done: true,
      body: '',
    })
  })

  it('says when the server closed before any response', () => {
    expect(read([]).outcome).toBe('no_response')
    expect(read(['HTTP/1.1 200 OK\r\nContent-Le']).outcome).toBe('no_response')
  })

  it('reads status lines and the kept headers as their definition does, whatever the case and spacing', () => {
    // The definition: the status-line pattern, and each name trimmed and lower-cased before it is looked up.
    const STATUS = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/
    const KEPT = ['content-encoding', 'content-length', 'content-type', 'location', 'transfer-encoding']
    const definition = (head: string) => {
      const lines = head.split('\r\n')
      const match = STATUS.exec(lines[0] as string)
      if (!match) return null
      const headers = new Map<string, string>()
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        const name = line.slice(0, Math.max(colon, 0)).trim().toLowerCase()
        if (colon === -1 || !KEPT.includes(name)) continue
        const value = line.slice(colon + 1).trim()
        headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value)
      }
      return { status: Number(match[1]), headers: Object.fromEntries(headers) }
    }
    const statusLines = [
      'HTTP/1.1 200 OK',
      'HTTP/1.0 404',
      'HTTP/1.1 301 Moved\rX',
      'HTTP/1.2 200 OK',
      'HTTP/1.1 20 OK',
    ]
    const names = [
      'Location',
      'LOCATION',
      ' location',
      'location ',
      '\tContent-Type',
      'Content-type\u00a0',
      'content-lengtH',
    ]
    const others = [
      'Locatio',
      'Content_Type',
      'x-fixture-site',
      'Content-Lengths',
      'Transfer-Encodinf',
      'conten-type',
      'Date',
    ]
    let seed = 11
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let run = 0; run < 500; run++) {
      const lines = [statusLines[random(statusLines.length)] as string]
      for (let i = random(6); i > 0; i--) {
        const from = random(2) === 0 ? names : others
        lines.push(`${from[random(from.length)]}:${random(2) === 0 ? ' ' : ''}v${i}`)
      }
      const head = lines.join('\r\n')
      const expected = definition(head)
      let got: { status: number; headers: Record<string, string> } | null = null
      const reader = new ResponseReader(
        {
          onHead: (h) => {
            got = { status: h.status, headers: Object.fromEntries(h.headers) }
            return false
          },
          onBody: () => {},
        },
        false,
      )
      try {
        reader.push(Buffer.from(`${head}\r\n\r\n`, 'latin1'))
      } catch (error) {
        if (!(error instanceof MalformedResponse)) throw error
      }
      // 1xx and 101 aside, every line here is final or malformed.
      expect({ head, got }).toEqual({ head, got: expected })
    }
  })

  it('rejects bytes that are not HTTP', () => {
    expect(() => read(['SSH-2.0-OpenSSH_9.0\r\n\r\n'])).toThrow(MalformedResponse)
    expect(() => read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'])).toThrow(/invalid chunk size/)
    expect(() => read([`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`])).toThrow(/64 KiB/)
  })
})

describe('serializeRequest', () => {
  it('sends our headers, lets custom headers (Host included) override them, and always closes', () => {
    const text = serializeRequest({
      method: 'GET',
      path: '/a?b=1',
      host: 'example.com',
      userAgent: 'Jetmon/test',
      headers: { host: 'virtual.example', 'X-Token': 'abc', Connection: 'keep-alive' },
    })
    expect(text).toBe(
      'GET /a?b=1 HTTP/1.1\r\nhost: virtual.example\r\nUser-Agent: Jetmon/test\r\nAccept: */*\r\nX-Token: abc\r\nConnection: close\r\n\r\n',
    )
  })
})
