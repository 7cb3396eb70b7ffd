import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './index.js'

function capture(format: 'json' | 'pretty') {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (chunk) => chunks.push(String(chunk)))
  return { logger: createLogger({ format, destination: stream }), text: () => chunks.join('') }
}

describe('createLogger', () => {
  it('writes JSON lines with level, time and message', () => {
    const { logger, text } = capture('json')
    logger.info({ endpointId: '42' }, 'check finished')
    const line = JSON.parse(text().trim())
    expect(line).toMatchObject({ level: 30, msg: 'check finished', endpointId: '42' })
    expect(typeof line.time).toBe('string')
  })

  it('never writes secrets, at any of the first three levels, in either format', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { logger, text } = capture(format)
      logger.info(
        {
          AUTH_TOKEN: 'tok-top-level-1234',
          config: { SMTP_PASSWORD: 'smtp-pass-5678', DATABASE_URL: 'mysql://jetmon:db-pass-9012@db:3306/jetmon' },
          request: { headers: { authorization: 'Bearer bearer-3456' } },
          veriflier: { token: 'vtoken-7890' },
        },
        'starting',
      )
      const out = text()
      for (const secret of ['tok-top-level-1234', 'smtp-pass-5678', 'db-pass-9012', 'bearer-3456', 'vtoken-7890']) {
        expect(out, `${format} output leaks ${secret}`).not.toContain(secret)
      }
      // The database URL keeps its shape so an operator can still see where it points.
      expect(out).toContain('db:3306/jetmon')
    }
  })

  it('logs a failed statement without its parameters, in the message, the stack or the cause', () => {
    class DrizzleQueryError extends Error {
      constructor(
        readonly query: string,
        readonly params: unknown[],
        cause: Error,
      ) {
        super(`Failed query: ${query}\nparams: ${params.join(',')}`, { cause })
      }
    }
    const driver = Object.assign(new Error("Duplicate entry 'whsec_dup-1111' for key 'uk_secret'"), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sqlMessage: "Duplicate entry 'whsec_dup-1111' for key 'uk_secret'",
      sql: "insert into t values ('whsec_inline-2222')",
    })
    const error = new DrizzleQueryError('insert into `t` values (?, ?)', ['whsec_param-3333', 'hdr-4444'], driver)
    for (const format of ['json', 'pretty'] as const) {
      const { logger, text } = capture(format)
      logger.error({ err: error }, 'insert failed')
      logger.error(error)
      const out = text()
      for (const secret of ['dup-1111', 'inline-2222', 'param-3333', 'hdr-4444']) {
        expect(out, `${format} output leaks ${secret}`).not.toContain(secret)
      }
      expect(out).toContain('insert into `t` values (?, ?)')
      expect(out).toContain('ER_DUP_ENTRY')
    }
  })
})
