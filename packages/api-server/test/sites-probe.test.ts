import { describe, expect, it } from 'vitest'
import { envelopeOf, newBlogId, useTestApi } from './_helpers.js'

// No `deps.probe`: this process cannot run checks (an API without the monitor).
const harness = useTestApi()

describe('trigger-now without a probe', () => {
  it('answers 503 probe_unavailable on both routes', async () => {
    const blogId = newBlogId()
    const { data } = await harness().client.write.call('sites.create', {
      body: { blog_id: Number(blogId), monitor_url: `https://${blogId}.example/` },
    })
    for (const path of [`/sites/${blogId}/trigger-now`, `/endpoints/${data.endpoints[0]!.endpoint_id}/trigger-now`]) {
      const response = await harness().fetch(path, { method: 'POST', token: harness().tokens.write })
      expect(response.status, path).toBe(503)
      const error = await envelopeOf(response)
      expect(error.code).toBe('probe_unavailable')
      expect(error.message).toContain('jetmon2 serve')
    }
  })
})
