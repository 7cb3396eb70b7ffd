import { JetmonApiError, JetmonTransportError, JetmonUsageError } from '@jetmon/api-client'
import { CommandError } from '@jetmon/config'
import { describe, expect, test } from 'vitest'
import { checkCommandLine, describeApiError, toExitError } from './_command.js'
import { UsageError } from './errors.js'

const args = {
  blog_id: { type: 'positional' as const, required: true },
  limit: { type: 'string' as const },
  'dry-run': { type: 'boolean' as const },
  output: { type: 'enum' as const, options: ['table', 'json'] },
}

describe('checkCommandLine', () => {
  test('accepts known flags in every spelling, values, = forms, negations and - as a value', () => {
    expect(() =>
      checkCommandLine(['42', '--limit', '5', '--dry-run', '--output=json', '--dryRun', '--no-dry-run'], args),
    ).not.toThrow()
    expect(() => checkCommandLine(['42', '--limit', '-'], args)).not.toThrow()
    expect(() => checkCommandLine(['42', '--limit', '-5'], args)).not.toThrow()
  })

  test('an unknown flag is a usage error with a suggestion', () => {
    expect(() => checkCommandLine(['42', '--limt', '5'], args)).toThrow(
      new UsageError('unknown option --limt (did you mean --limit?)'),
    )
    expect(() => checkCommandLine(['42', '--frobnicate'], args)).toThrow(/^unknown option --frobnicate$/)
  })

  test('a value flag without a value, or followed by another flag, is a usage error', () => {
    expect(() => checkCommandLine(['42', '--limit'], args)).toThrow('--limit needs a value')
    expect(() => checkCommandLine(['42', '--limit', '--dry-run'], args)).toThrow('--limit needs a value')
  })

  test('surplus arguments are a usage error', () => {
    expect(() => checkCommandLine(['42', '43'], args)).toThrow('unexpected argument "43": this command takes BLOG_ID')
    expect(() => checkCommandLine(['x'], {})).toThrow('unexpected argument "x": this command takes none')
  })
})

describe('errors to exit codes', () => {
  const apiError = new JetmonApiError({
    status: 400,
    code: 'invalid_request',
    message: 'the request is not valid',
    requestId: 'req_123',
    details: [{ path: 'monitor_url', message: 'must use http or https' }],
  })

  test('an API error prints its envelope (exit 1)', () => {
    expect(describeApiError(apiError)).toBe(
      'invalid_request (HTTP 400): the request is not valid\n  request id: req_123\n  monitor_url: must use http or https',
    )
    const mapped = toExitError(apiError, undefined)
    expect(mapped).toBeInstanceOf(CommandError)
    expect((mapped as CommandError).exitCode).toBe(1)
  })

  test('client refusals are usage errors (exit 2); transport failures are failures with a hint', () => {
    expect(toExitError(new JetmonUsageError('FOREIGN_ORIGIN', 'refusing'), undefined)).toBeInstanceOf(UsageError)
    const transport = toExitError(new JetmonTransportError('TRANSPORT_FAILED', 'GET x: ECONNREFUSED'), undefined)
    expect(transport).toBeInstanceOf(CommandError)
    expect((transport as Error).message).toMatch(/no answer from the API; is it running/)
    const plain = new Error('bug')
    expect(toExitError(plain, undefined)).toBe(plain)
  })
})
