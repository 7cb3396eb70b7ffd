import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FieldIssue } from '@jetmon/monitor/protocol'

/** What a refusal may carry besides its status and code: the bad fields, and response headers. */
export interface ProblemExtra {
  details?: FieldIssue[]
  headers?: Record<string, string>
}

/** A request the server refuses: mapped to an HTTP status and the JSON error envelope. */
export class HttpProblem extends Error {
  readonly status: number
  readonly code: string
  readonly extra: ProblemExtra
  constructor(status: number, code: string, message: string, extra: ProblemExtra = {}) {
    super(message)
    this.name = 'HttpProblem'
    this.status = status
    this.code = code
    this.extra = extra
  }
}

/**
 * Writes a JSON answer (no body for `HEAD`). `closing` adds `Connection: close`: a draining server
 * tells every client it answers to go elsewhere next time.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  options: { headers?: Record<string, string>; closing?: boolean } = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...(options.closing && { connection: 'close' }),
    ...options.headers,
  })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}

/** Writes a refusal in the error envelope: `{"error": {"code", "message", "details"?}}`. */
export function sendProblem(res: ServerResponse, problem: HttpProblem, closing: boolean): void {
  const { details, headers } = problem.extra
  sendJson(
    res,
    problem.status,
    { error: { code: problem.code, message: problem.message, ...(details && { details }) } },
    { ...(headers && { headers }), closing },
  )
}

/**
 * Answers a request Node's HTTP parser refused before any handler saw it (`clientError`): 431 for
 * oversized headers, 408 for a request that took too long, 400 for anything else, in the same
 * error envelope, then closes the connection. A socket already gone is just destroyed.
 */
export function answerMalformedRequest(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && !socket.bytesWritten)) {
    socket.destroy()
    return
  }
  const [status, reason] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request']
  const body = JSON.stringify({ error: { code: 'invalid_request', message: `malformed HTTP request (${reason})` } })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
