import { type EndpointChange, EndpointSource } from '@jetmon/scheduler'
import { describe, expect, it } from 'vitest'
import { newBlogId, useTestApi } from './_helpers.js'

const harness = useTestApi()

describe('changes made through the API reach a monitor’s endpoint source', () => {
  it('a new site, a URL and interval change, a pause, a resume and a delete each show at the next refresh', async () => {
    const source = new EndpointSource({ db: harness().database.db })
    const changes: EndpointChange[] = []
    source.onChange((change) => changes.push(change))
    await source.setRanges([{ min: 0, max: 999 }])
    const write = harness().client.write
    const refreshed = async () => {
      changes.length = 0
      const summary = await source.refresh()
      return {
        upserts: changes.flatMap((c) =>
          c.upserts.map((u) => ({ id: u.endpointId, url: u.url, intervalMs: u.intervalMs })),
        ),
        removals: changes.flatMap((c) => [...c.removals]),
        summary,
      }
    }

    const blogId = newBlogId()
    const { data: site } = await write.call('sites.create', {
      body: { blog_id: Number(blogId), monitor_url: `https://refresh-${blogId}.example/` },
    })
    const endpointId = BigInt(site.endpoints[0]!.endpoint_id)
    expect((await refreshed()).upserts).toEqual([
      { id: endpointId, url: `https://refresh-${blogId}.example/`, intervalMs: 300_000 },
    ])

    await write.call('endpoints.update', {
      params: { endpoint_id: endpointId },
      body: { monitor_url: `https://refresh-${blogId}.example/moved`, check_interval_sec: 45 },
    })
    const moved = await refreshed()
    expect(moved.upserts).toEqual([
      { id: endpointId, url: `https://refresh-${blogId}.example/moved`, intervalMs: 45_000 },
    ])
    expect(source.get(endpointId)?.url).toBe(`https://refresh-${blogId}.example/moved`)

    await write.call('sites.pause', { params: { blog_id: blogId } })
    expect(await refreshed()).toMatchObject({ upserts: [], removals: [endpointId] })
    expect(source.get(endpointId)).toBeUndefined()

    await write.call('sites.resume', { params: { blog_id: blogId } })
    expect((await refreshed()).upserts.map((u) => u.id)).toEqual([endpointId])

    await write.call('sites.delete', { params: { blog_id: blogId } })
    expect(await refreshed()).toMatchObject({ upserts: [], removals: [endpointId] })
    expect(source.size).toBe(0)

    await source.stop()
  })
})
