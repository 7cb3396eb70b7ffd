import { monitorSites } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { EndpointProbe, ProbeResult } from '../src/index.js'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

/** A probe the test controls: it can hold answers back and fail on demand. */
function controllableProbe() {
  let release: () => void = () => {}
  let gate: Promise<void> | null = null
  let failures = 0
  const calls: bigint[] = []
  const probe: EndpointProbe = {
    async probe(endpoints) {
      calls.push(...endpoints.map((e) => e.endpointId))
      if (gate) await gate
      if (failures > 0) {
        failures--
        throw new Error('the checker is out of sockets')
      }
      return endpoints.map(
        (e): ProbeResult => ({
          endpoint_id: Number(e.endpointId),
          monitor_url: 'https://example.com/',
          success: true,
          http_code: 200,
          error_code: 0,
          error: null,
          error_detail: null,
          rtt_ms: 12,
          checked_at: new Date().toISOString(),
          outcome: 'ok',
        }),
      )
    },
  }
  return {
    probe,
    calls,
    hold() {
      gate = new Promise((resolve) => {
        release = () => {
          gate = null
          resolve()
        }
      })
    },
    release: () => release(),
    failNext(n: number) {
      failures = n
    },
  }
}

const control = controllableProbe()
const harness = useTestApi({ deps: { probe: control.probe } })

async function post(path: string, body: unknown, key: string, token?: string) {
  const response = await harness().fetch(path, {
    method: 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    ...(token ? { token } : {}),
  })
  return {
    status: response.status,
    replayed: response.headers.get('idempotency-replayed'),
    text: await response.text(),
  }
}

describe('idempotency keys', () => {
  it('concurrent requests racing one key create the site once; later ones replay the stored answer', async () => {
    const blogId = newBlogId()
    const body = { blog_id: String(blogId), monitor_url: `https://race-${blogId}.example/` }
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/sites', body, `race-${blogId}`)))
    const rows = await harness().database.db.select().from(monitorSites).where(eq(monitorSites.blogId, blogId))
    expect(rows).toHaveLength(1)
    const created = answers.filter((a) => a.status === 201 && a.replayed === null)
    const replays = answers.filter((a) => a.status === 201 && a.replayed === 'true')
    const busy = answers.filter((a) => a.status === 409)
    expect(created).toHaveLength(1)
    expect(replays.length + busy.length).toBe(9)
    for (const replay of replays) expect(replay.text).toBe(created[0]!.text)
    for (const answer of busy) expect(JSON.parse(answer.text).error.code).toBe('idempotency_in_progress')

    const later = await post('/sites', body, `race-${blogId}`)
    expect(later).toMatchObject({ status: 201, replayed: 'true', text: created[0]!.text })
  })

  it('the same key with a different request is a conflict; another API key has its own keys', async () => {
    const blogId = newBlogId()
    const first = await post('/sites', { blog_id: Number(blogId), monitor_url: 'https://a.example/' }, 'k-conflict')
    expect(first.status).toBe(201)
    const other = await post('/sites', { blog_id: Number(blogId), monitor_url: 'https://b.example/' }, 'k-conflict')
    expect(other.status).toBe(409)
    expect(JSON.parse(other.text).error.code).toBe('idempotency_conflict')
    // The same key under another API key is a different record: this one runs (and finds the site).
    const writer = await post(
      '/sites',
      { blog_id: Number(blogId), monitor_url: 'https://a.example/' },
      'k-conflict',
      harness().tokens.write,
    )
    expect(writer.status).toBe(409)
    expect(JSON.parse(writer.text).error.code).toBe('site_exists')
    expect(writer.replayed).toBeNull()
  })

  it('while the first request runs, the same key answers 409 idempotency_in_progress with Retry-After', async () => {
    const blogId = newBlogId()
    expect((await post('/sites', { blog_id: Number(blogId), monitor_url: 'https://slow.example/' }, 'mk')).status).toBe(
      201,
    )
    control.hold()
    const first = post(`/sites/${blogId}/trigger-now`, undefined, `trigger-${blogId}`)
    // Wait until the first request is inside the probe.
    while (control.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    const second = await harness().fetch(`/sites/${blogId}/trigger-now`, {
      method: 'POST',
      headers: { 'idempotency-key': `trigger-${blogId}` },
    })
    expect(second.status).toBe(409)
    expect(second.headers.get('retry-after')).toBe('1')
    expect((await envelopeOf(second)).code).toBe('idempotency_in_progress')
    control.release()
    const done = await first
    expect(done.status).toBe(200)
    const again = await post(`/sites/${blogId}/trigger-now`, undefined, `trigger-${blogId}`)
    expect(again).toMatchObject({ status: 200, replayed: 'true', text: done.text })
    expect(control.calls).toHaveLength(1)
  })

  it('a 5xx answer is not stored: retrying with the same key runs the request again', async () => {
    const blogId = newBlogId()
    await post('/sites', { blog_id: Number(blogId), monitor_url: 'https://flaky.example/' }, `create-${blogId}`)
    control.calls.length = 0
    control.failNext(1)
    const failed = await post(`/sites/${blogId}/trigger-now`, undefined, `t5-${blogId}`)
    expect(failed.status).toBe(500)
    expect(JSON.parse(failed.text).error).toMatchObject({ code: 'internal_error' })
    expect(failed.text).not.toContain('sockets')
    const retried = await post(`/sites/${blogId}/trigger-now`, undefined, `t5-${blogId}`)
    expect(retried).toMatchObject({ status: 200, replayed: null })
    expect(control.calls).toHaveLength(2)
  })

  it('rejects an unusable key', async () => {
    const response = await post('/sites', { blog_id: 1, monitor_url: 'https://x.example/' }, 'k'.repeat(256))
    expect(response.status).toBe(400)
    expect(JSON.parse(response.text).error.details[0].path).toBe('headers.idempotency-key')
  })
})

describe('action routes without a body', () => {
  it('accept an empty body or {}, and refuse anything else', async () => {
    const blogId = newBlogId()
    await post('/sites', { blog_id: Number(blogId), monitor_url: 'https://body.example/' }, `create-body-${blogId}`)
    for (const body of [undefined, '{}', ' {} ']) {
      const response = await harness().fetch(`/sites/${blogId}/pause`, {
        method: 'POST',
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      })
      expect(response.status, String(body)).toBe(200)
    }
    const refused = await harness().fetch(`/sites/${blogId}/pause`, {
      method: 'POST',
      body: '{"force":true}',
      headers: { 'content-type': 'application/json' },
    })
    expect(refused.status).toBe(400)
    expect((await envelopeOf(refused)).details).toEqual([{ path: 'body', message: 'must be empty' }])
  })
})
