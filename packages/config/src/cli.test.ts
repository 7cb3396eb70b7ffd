import { defineCommand } from 'citty'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CommandError, EXIT, runCli } from './cli.js'

const SECRET = 'whsec_c0ffee0123456789abcdef'

/** A failed statement as drizzle reports it: the message and `params` repeat every bound value. */
function failedQuery(): Error {
  const error = new Error(
    `Failed query: insert into \`jetmon_webhooks\` (\`url\`, \`secret\`) values (?, ?)\nparams: https://hooks.example.com/in,${SECRET}`,
  )
  Object.assign(error, {
    query: 'insert into `jetmon_webhooks` (`url`, `secret`) values (?, ?)',
    params: ['https://hooks.example.com/in', SECRET],
  })
  return error
}

async function stderrOf(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  let text = ''
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk)
    return true
  })
  try {
    return { code: await run(), text }
  } finally {
    spy.mockRestore()
  }
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('runCli prints failures without the values of a failed statement', () => {
  it('an unexpected error: the statement with its placeholders, never its values', async () => {
    const root = defineCommand({
      meta: { name: 'tool' },
      subCommands: {
        save: defineCommand({
          run: () => {
            throw failedQuery()
          },
        }),
      },
    })
    const { code, text } = await stderrOf(() => runCli(root, ['save']))
    expect(code).toBe(EXIT.failure)
    expect(text).toContain('Failed query: insert into `jetmon_webhooks`')
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain('hooks.example.com')
  })

  it('a CommandError that quotes the error it wraps, and the JETMON_DEBUG stack', async () => {
    vi.stubEnv('JETMON_DEBUG', '1')
    const root = defineCommand({
      meta: { name: 'tool' },
      subCommands: {
        start: defineCommand({
          run: () => {
            const cause = failedQuery()
            throw new CommandError(`the monitor could not start: ${cause.message}`, { cause })
          },
        }),
        crash: defineCommand({
          run: () => {
            throw failedQuery()
          },
        }),
      },
    })
    const wrapped = await stderrOf(() => runCli(root, ['start']))
    expect(wrapped.code).toBe(EXIT.failure)
    expect(wrapped.text).toContain('the monitor could not start: Failed query')
    expect(wrapped.text).not.toContain(SECRET)
    const crashed = await stderrOf(() => runCli(root, ['crash']))
    expect(crashed.text).toMatch(/\n\s+at /) // the stack is there…
    expect(crashed.text).not.toContain(SECRET) // …without the values
  })

  it('a duplicate-key message from the server does not quote the value', async () => {
    const root = defineCommand({
      meta: { name: 'tool' },
      run: () => {
        throw new Error(`Duplicate entry '${SECRET}' for key 'uk_secret'`)
      },
    })
    const { text } = await stderrOf(() => runCli(root, ['--flag']))
    expect(text).toContain("Duplicate entry '[redacted]' for key")
    expect(text).not.toContain(SECRET)
  })
})
