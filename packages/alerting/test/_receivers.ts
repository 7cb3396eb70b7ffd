/**
 * Real peers on loopback for the transport tests: an HTTP receiver that records what it is sent,
 * an SMTP server (smtp-server) whose mails are parsed with mailparser, a port nobody listens on,
 * and a throwaway certificate for TLS and STARTTLS.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { createTestPki } from '@jetmon/testkit/fixtures'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  json: unknown
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>` */
  origin: string
  requests: ReceivedRequest[]
  /** Sets how the next requests are answered; default 202 `{"status":"success"}`. */
  answer(respond: (request: ReceivedRequest, res: ServerResponse) => void): void
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1 (port chosen by the OS) that records every request. */
export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = []
  let respond = (_request: ReceivedRequest, res: ServerResponse) => {
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success"}')
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json: unknown = null
      try {
        json = JSON.parse(body)
      } catch {
        // Not JSON: the test looks at `body`.
      }
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json }
      requests.push(request)
      respond(request, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      respond = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        // A receiver that never answered still holds its connections.
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface TestCertificate {
  key: string
  cert: string
}

/** A self-signed certificate for 127.0.0.1 and localhost (from the test kit's PKI). */
export async function selfSignedCertificate(): Promise<TestCertificate> {
  const pki = await createTestPki()
  const leaf = await pki.issueLeaf({ hosts: ['127.0.0.1', 'localhost'], selfSigned: true, keyType: 'ecdsa-p256' })
  return { key: leaf.key, cert: leaf.cert }
}

export interface ReceivedMail {
  envelope: { from: string | false; to: string[] }
  /** The user that authenticated, if any. */
  user: string | null
  /** Whether the session was encrypted (TLS from the start or after STARTTLS). */
  secure: boolean
  raw: string
  parsed: ParsedMail
}

export interface SmtpReceiver {
  host: string
  port: number
  mails: ReceivedMail[]
  close(): Promise<void>
}

export interface SmtpReceiverOptions {
  /** Require AUTH with this user and password. */
  auth?: { user: string; password: string }
  /** A certificate: STARTTLS is offered with it, or TLS from the start with `secure`. Without it STARTTLS is off. */
  tls?: TestCertificate
  secure?: boolean
}

/** An SMTP server on 127.0.0.1 that accepts every mail and keeps it, parsed. */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = []
  const server = new SMTPServer({
    logger: false,
    secure: options.secure ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disableReverseLookup: true,
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    authOptional: !options.auth,
    // Without a certificate the password crosses in the clear: allowed here, on loopback only.
    allowInsecureAuth: !options.tls,
    onAuth(auth, _session, callback) {
      const expected = options.auth
      if (expected && auth.username === expected.user && auth.password === expected.password) {
        callback(null, { user: auth.username })
      } else {
        callback(new Error('Invalid username or password'))
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks)
        simpleParser(raw).then(
          (parsed) => {
            mails.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : false,
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              },
              user: typeof session.user === 'string' ? session.user : null,
              secure: session.secure,
              raw: raw.toString('utf8'),
              parsed,
            })
            callback(null, 'Accepted for the test')
          },
          (error: Error) => callback(error),
        )
      })
    },
  })
  // A client that gives up during the TLS handshake (an unverifiable certificate) is an error here.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    host: '127.0.0.1',
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export interface PlainSmtpPeer {
  host: string
  port: number
  /** Every byte clients sent, as text, across all connections. */
  readonly received: string
  close(): Promise<void>
}

/**
 * A bare SMTP peer on 127.0.0.1 that never offers STARTTLS (and answers 502 if asked) but does
 * offer AUTH and accepts anything: the server a downgrade attacker would put on the path. It keeps
 * every byte it was sent, so a test can prove what crossed the wire in the clear.
 */
export async function startPlainSmtpPeer(): Promise<PlainSmtpPeer> {
  const chunks: Buffer[] = []
  const sockets = new Set<Socket>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffered = ''
    let inData = false
    socket.write('220 plain.test ESMTP no TLS here\r\n')
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      buffered += chunk.toString('latin1')
      let end = buffered.indexOf('\r\n')
      while (end >= 0) {
        const line = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        end = buffered.indexOf('\r\n')
        if (inData) {
          if (line === '.') {
            inData = false
            socket.write('250 queued\r\n')
          }
          continue
        }
        const verb = line.split(' ')[0]?.toUpperCase()
        if (verb === 'EHLO') socket.write('250-plain.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n')
        else if (verb === 'HELO') socket.write('250 plain.test\r\n')
        else if (verb === 'STARTTLS') socket.write('502 5.5.1 STARTTLS not available\r\n')
        else if (verb === 'AUTH') socket.write('235 2.7.0 Authentication successful\r\n')
        else if (verb === 'DATA') {
          inData = true
          socket.write('354 go ahead\r\n')
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else socket.write('250 OK\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    host: '127.0.0.1',
    port,
    get received() {
      return Buffer.concat(chunks).toString('latin1')
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
