import { jsonId } from '@jetmon/api-client'
import { describe, expect, it } from 'vitest'
import type { EndpointProbe, ProbeResult } from '../src/index.js'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

/** A probe whose checks run until the test releases them, so that requests overlap for certain. */
let started = 0
let release: () => void = () => {}
let released = Promise.resolve()
function hold(): void {
  released = new Promise<void>((resolve) => {
    release = resolve
  })
}
const probe: EndpointProbe = {
  async probe(endpoints) {
    started++
    await released
    return endpoints.map(
      (endpoint): ProbeResult => ({
        endpoint_id: jsonId(endpoint.endpointId),
        monitor_url: `probed:${endpoint.endpointId}`,
        success: true,
        http_code: 200,
        error_code: 0,
        error: null,
        error_detail: null,
        rtt_ms: 1,
        checked_at: '2026-05-01T12:00:00.000Z',
        outcome: 'ok',
      }),
    )
  },
}

const harness = useTestApi({ deps: { probe, triggerNowConcurrency: 3 } })

async function siteWithEndpoints(count: number): Promise<{ blogId: bigint; endpointIds: string[] }> {
  const blogId = newBlogId()
  const endpointIds: string[] = []
  for (let i = 0; i < count; i++) {
    const { data } = await harness().client.write.call('sites.create', {
      body: { blog_id: blogId.toString(), monitor_url: `https://cap-${blogId}.example/${i}` },
    })
    endpointIds.push(String(data.endpoints.at(-1)!.endpoint_id))
  }
  return { blogId, endpointIds }
}

const trigger = (path: string) => harness().fetch(path, { method: 'POST', token: harness().tokens.write })

async function waitForStarted(count: number): Promise<void> {
  const deadline = Date.now() + 5_000
  while (started < count) {
    if (Date.now() > deadline) throw new Error(`only ${started} of ${count} probes started`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('trigger-now under a process-wide cap', () => {
  it('answers 429 trigger_now_busy with Retry-After while the running checks fill the cap, and runs again after', async () => {
    const two = await siteWithEndpoints(2)
    const one = await siteWithEndpoints(1)
    const other = await siteWithEndpoints(2)
    hold()
    started = 0
    // Two checks of three are running…
    const first = trigger(`/sites/${two.blogId}/trigger-now`)
    await waitForStarted(1)
    // …one more fits…
    const second = trigger(`/endpoints/${one.endpointIds[0]}/trigger-now`)
    await waitForStarted(2)
    // …two more do not, on either route, and nothing is probed for them.
    for (const path of [`/sites/${other.blogId}/trigger-now`, `/endpoints/${other.endpointIds[0]}/trigger-now`]) {
      const busy = await trigger(path)
      expect(busy.status, path).toBe(429)
      expect(busy.headers.get('retry-after')).toBe('2')
      const error = await envelopeOf(busy)
      expect(error.code).toBe('trigger_now_busy')
      expect(error.message).toMatch(/at most 3 checks/)
    }
    expect(started).toBe(2)
    release()
    expect((await first).status).toBe(200)
    expect((await second).status).toBe(200)
    // The slots were given back.
    const again = await trigger(`/sites/${other.blogId}/trigger-now`)
    expect(again.status).toBe(200)
    expect(((await again.json()) as { results: unknown[] }).results).toHaveLength(2)
  })

  it('lets a site with more endpoints than the cap run alone', async () => {
    const many = await siteWithEndpoints(5)
    const answer = await trigger(`/sites/${many.blogId}/trigger-now`)
    expect(answer.status).toBe(200)
    expect(((await answer.json()) as { results: unknown[] }).results).toHaveLength(5)
  })
})
