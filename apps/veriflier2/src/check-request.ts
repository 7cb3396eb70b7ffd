import type { IncomingMessage, ServerResponse } from 'node:http'
import { type CheckBatch, MAX_BODY_BYTES, MAX_CHECKS, parseCheckBatch } from '@jetmon/monitor/protocol'
import type { Logger } from '@jetmon/vocabulary'
import { createTokenVerifier } from './_auth.js'
import { HttpProblem } from './problem.js'

/**
 * Reads one `POST /v1/check` request into a validated batch: resolves the batch, resolves
 * `undefined` when the client went away mid-body, and throws {@link HttpProblem} for a request it
 * refuses (401 without a known token, 503 while draining, 413 too large, 400 not a valid batch).
 */
export type CheckRequestReader = (req: IncomingMessage, res: ServerResponse) => Promise<CheckBatch | undefined>

/** Options of {@link createCheckRequestReader}. */
export interface CheckRequestReaderOptions {
  /** Bearer tokens accepted (`VERIFLIER_TOKENS`). */
  tokens: readonly string[]
  /** Whether the server is shutting down: an authorized request is then refused with 503. */
  draining: () => boolean
  logger: Logger
}

type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' }

/** Reads a request body up to `limit` bytes; beyond it, stops reading at once. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: BodyRead) => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        finish({ ok: false, reason: 'too_large' })
      } else chunks.push(chunk)
    }
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) })
    const onAborted = () => finish({ ok: false, reason: 'aborted' })
    const onClose = () => {
      if (!req.complete) onAborted()
    }
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onClose)
  })
}

/**
 * Creates the reader of check requests. The order of its refusals is part of the contract: an
 * unauthorized client learns nothing (not even that the server is draining), and no body is asked
 * for (`100 Continue`) or read before the request is authorized and of an acceptable size.
 */
export function createCheckRequestReader(options: CheckRequestReaderOptions): CheckRequestReader {
  const { logger } = options
  const verifyToken = createTokenVerifier(options.tokens)
  return async (req, res) => {
    if (!verifyToken(req.headers.authorization)) {
      logger.warn(
        { remote: req.socket.remoteAddress, has_authorization: req.headers.authorization !== undefined },
        'check request refused: missing or unknown token (is the monitor configured with one of VERIFLIER_TOKENS?)',
      )
      throw new HttpProblem(
        401,
        'unauthorized',
        'missing or invalid bearer token: send "Authorization: Bearer <token>" with one of the tokens in VERIFLIER_TOKENS',
        { headers: { 'www-authenticate': 'Bearer' } },
      )
    }
    if (options.draining()) {
      throw new HttpProblem(503, 'shutting_down', 'this veriflier is shutting down; ask another one or retry shortly', {
        headers: { 'retry-after': '5' },
      })
    }
    const tooLarge = new HttpProblem(
      413,
      'payload_too_large',
      `request body larger than ${MAX_BODY_BYTES} bytes: send at most ${MAX_CHECKS} checks per request`,
      { headers: { connection: 'close' } },
    )
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) throw tooLarge
    // Only now, authorized and of an acceptable size, is the client told to send its body.
    if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue()
    const read = await readBody(req, MAX_BODY_BYTES)
    if (!read.ok) {
      if (read.reason === 'aborted') return undefined
      throw tooLarge
    }
    let json: unknown
    try {
      json = JSON.parse(read.body.toString('utf8'))
    } catch (error) {
      throw new HttpProblem(
        400,
        'invalid_request',
        read.body.length === 0
          ? 'request body is empty'
          : `request body is not valid JSON: ${(error as Error).message}`,
        { details: [] },
      )
    }
    const parsed = parseCheckBatch(json)
    if (!parsed.ok) {
      const first = parsed.issues[0]
      throw new HttpProblem(
        400,
        'invalid_request',
        first ? `invalid request: ${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid request',
        { details: parsed.issues },
      )
    }
    return parsed.batch
  }
}
