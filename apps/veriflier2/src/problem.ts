import type { ServerResponse } from 'node:http'
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
