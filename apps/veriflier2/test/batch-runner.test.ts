import { type CheckRequest, type CheckResult, ERROR_CODES } from '@jetmon/checker'
import { type CheckBatch, parseCheckBatch } from '@jetmon/monitor/protocol'
import { recordingLogger, waitFor } from '@jetmon/testkit'
import { describe, expect, it } from 'vitest'
import { createBatchRunner } from '../src/batch-runner.js'

const identity = { id: 'test', region: 'local', version: '0.0.0' }

function batch(urls: string[]): CheckBatch {
  const parsed = parseCheckBatch({
    request_id: 'r1',
    checks: urls.map((url, index) => ({ endpoint_id: index + 1, url })),
  })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  return parsed.batch
}

function result(request: CheckRequest, ok: boolean): CheckResult {
  return {
    url: request.url,
    finalUrl: request.url,
    method: 'GET',
    startedAt: new Date(0).toISOString(),
    ok,
    error: ok ? null : 'http_status',
    errorCode: ok ? 0 : ERROR_CODES.http_status,
    detail: null,
    httpStatus: ok ? 200 : 503,
    timings: { dnsMs: 1, connectMs: 1, tlsMs: null, ttfbMs: 1, transferMs: 1, totalMs: 4 },
    redirects: [],
    advisories: [],
  }
}

describe('the batch runner, without HTTP', () => {
  it('answers every check of a batch, a check that throws as monitor_error, and logs the tally', async () => {
    const logger = recordingLogger()
    const runner = createBatchRunner({
      maxConcurrency: 2,
      identity,
      logger,
      check: async (request) => {
        if (request.url.includes('bug')) throw new Error('boom')
        return result(request, !request.url.includes('down'))
      },
    })
    const answer = await runner.run(
      batch(['http://up.test/', 'http://down.test/', 'http://bug.test/']),
      new AbortController().signal,
    )
    expect(answer?.veriflier).toEqual(identity)
    expect(answer?.results.map((r) => [r.endpoint_id, r.ok, r.error])).toEqual([
      [1, true, null],
      [2, false, 'http_status'],
      [3, false, 'monitor_error'],
    ])
    expect(logger.entries.find((entry) => entry.msg === 'check batch answered')?.obj).toMatchObject({
      request_id: 'r1',
      checks: 3,
      up: 1,
      down: 1,
      monitor_error: 1,
    })
    expect(runner.inFlight).toBe(0)
  })

  it('does not run the queued checks of an aborted batch, and answers nothing', async () => {
    const started: string[] = []
    let release: () => void = () => {}
    const runner = createBatchRunner({
      maxConcurrency: 1,
      identity,
      logger: recordingLogger(),
      check: (request) => {
        started.push(request.url)
        return new Promise((resolve) => {
          release = () => resolve(result(request, true))
        })
      },
    })
    const controller = new AbortController()
    const answer = runner.run(batch(['http://a.test/', 'http://b.test/', 'http://c.test/']), controller.signal)
    await waitFor('one check running', () => runner.inFlight === 1)
    controller.abort()
    release()
    expect(await answer).toBeUndefined()
    expect(started).toEqual(['http://a.test/'])
    expect(runner.inFlight).toBe(0)
  })
})
