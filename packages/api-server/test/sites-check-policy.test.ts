import type { JetmonClient } from '@jetmon/api-client'
import { endpointConfig } from '@jetmon/db'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { buildOpenApiDocument } from '../src/index.js'
import { envelopeOf, newBlogId, type TestApi, useTestApi } from './_helpers.js'

/** The stored (raw) method and profile of an endpoint: NULL means the fleet default. */
async function stored(harness: TestApi, endpointId: number | string) {
  const [row] = await harness.database.db
    .select({ requestMethod: endpointConfig.requestMethod, detectionProfile: endpointConfig.detectionProfile })
    .from(endpointConfig)
    .where(eq(endpointConfig.endpointId, BigInt(endpointId)))
  return row
}

/** Creates a site on its own host (so `q` finds exactly the sites of one test) and returns its endpoint id. */
async function createSite(client: JetmonClient, host: string, body: Record<string, unknown> = {}) {
  const blogId = newBlogId()
  const { data } = await client.call('sites.create', {
    body: { blog_id: Number(blogId), monitor_url: `https://${blogId}.${host}/`, ...body },
  })
  return { blogId, endpointId: data.endpoints[0]!.endpoint_id, site: data }
}

async function listedBlogs(client: JetmonClient, query: Record<string, string>): Promise<string[]> {
  const { data } = await client.call('sites.list', { query: query as never })
  return data.data.map((item) => String(item.blog_id))
}

describe('check policy with the built-in fleet defaults (GET, full)', () => {
  const harness = useTestApi({ manualClock: true })

  it('stores request_method and detection_profile on create and answers NULL as the fleet default', async () => {
    const write = harness().client.write
    const pinned = await createSite(write, 'create.example', { request_method: 'HEAD', detection_profile: 'legacy' })
    expect(pinned.site.endpoints[0]).toMatchObject({ request_method: 'HEAD', detection_profile: 'legacy' })
    expect(await stored(harness(), pinned.endpointId)).toEqual({ requestMethod: 'HEAD', detectionProfile: 'legacy' })

    const plain = await createSite(write, 'create.example')
    expect(plain.site.endpoints[0]).toMatchObject({ request_method: 'GET', detection_profile: 'full' })
    expect(await stored(harness(), plain.endpointId)).toEqual({ requestMethod: null, detectionProfile: null })

    const { data: endpoint } = await harness().client.read.call('endpoints.get', {
      params: { endpoint_id: pinned.endpointId },
    })
    expect(endpoint).toMatchObject({ request_method: 'HEAD', detection_profile: 'legacy' })
  })

  it('changes them per endpoint and per site, and null puts an endpoint back on the fleet default', async () => {
    const write = harness().client.write
    const { blogId, endpointId } = await createSite(write, 'update.example')
    const second = await write.call('sites.endpoints.create', {
      params: { blog_id: blogId },
      body: { monitor_url: `https://${blogId}.update.example/second`, detection_profile: 'full' },
    })

    const patched = await write.call('endpoints.update', {
      params: { endpoint_id: endpointId },
      body: { detection_profile: 'simple_http' },
    })
    expect(patched.data).toMatchObject({ request_method: 'GET', detection_profile: 'simple_http' })
    expect(await stored(harness(), endpointId)).toEqual({ requestMethod: null, detectionProfile: 'simple_http' })

    const site = await write.call('sites.update', {
      params: { blog_id: blogId },
      body: { request_method: 'HEAD', detection_profile: 'legacy' },
    })
    expect(site.data.endpoints.map((e) => [e.request_method, e.detection_profile])).toEqual([
      ['HEAD', 'legacy'],
      ['HEAD', 'legacy'],
    ])
    expect(await stored(harness(), second.data.endpoint_id)).toEqual({
      requestMethod: 'HEAD',
      detectionProfile: 'legacy',
    })

    const reset = await write.call('endpoints.update', {
      params: { endpoint_id: endpointId },
      body: { request_method: null, detection_profile: null },
    })
    expect(reset.data).toMatchObject({ request_method: 'GET', detection_profile: 'full' })
    expect(await stored(harness(), endpointId)).toEqual({ requestMethod: null, detectionProfile: null })
  })

  it('filters sites and a site’s endpoints by effective method and profile, a NULL matching the default', async () => {
    const write = harness().client.write
    const read = harness().client.read
    const host = 'filter.example'
    const legacyHead = await createSite(write, host, { request_method: 'HEAD', detection_profile: 'legacy' })
    const simple = await createSite(write, host, { detection_profile: 'simple_http' })
    const defaults = await createSite(write, host)
    const explicitFull = await createSite(write, host, { request_method: 'GET', detection_profile: 'full' })
    const ids = (...sites: { blogId: bigint }[]) => sites.map((s) => s.blogId.toString())

    expect(await listedBlogs(read, { q: host })).toEqual(ids(legacyHead, simple, defaults, explicitFull))
    expect(await listedBlogs(read, { q: host, detection_profile: 'legacy' })).toEqual(ids(legacyHead))
    expect(await listedBlogs(read, { q: host, detection_profile: 'full' })).toEqual(ids(defaults, explicitFull))
    expect(await listedBlogs(read, { q: host, request_method: 'GET' })).toEqual(ids(simple, defaults, explicitFull))
    expect(await listedBlogs(read, { q: host, request_method: 'HEAD', detection_profile: 'legacy' })).toEqual(
      ids(legacyHead),
    )
    expect(await listedBlogs(read, { q: host, request_method: 'HEAD', detection_profile: 'full' })).toEqual([])
    // Without another filter, the default-matching filter walks the fleet in page order.
    const page = await read.call('sites.list', { query: { detection_profile: 'simple_http', limit: 100 } })
    expect(page.data.data.map((item) => String(item.blog_id))).toContain(simple.blogId.toString())
    expect(page.data.data.map((item) => String(item.blog_id))).not.toContain(defaults.blogId.toString())

    // One site, endpoints on three policies.
    const blogId = defaults.blogId
    await write.call('sites.endpoints.create', {
      params: { blog_id: blogId },
      body: { monitor_url: `https://${blogId}.${host}/head`, request_method: 'HEAD', detection_profile: 'legacy' },
    })
    await write.call('sites.endpoints.create', {
      params: { blog_id: blogId },
      body: { monitor_url: `https://${blogId}.${host}/simple`, detection_profile: 'simple_http' },
    })
    const endpointUrls = async (query: Record<string, string>) =>
      (await read.call('sites.endpoints.list', { params: { blog_id: blogId }, query: query as never })).data.data.map(
        (e) => e.monitor_url.replace(`https://${blogId}.${host}/`, '/'),
      )
    expect(await endpointUrls({})).toEqual(['/', '/head', '/simple'])
    expect(await endpointUrls({ detection_profile: 'full' })).toEqual(['/'])
    expect(await endpointUrls({ request_method: 'GET' })).toEqual(['/', '/simple'])
    expect(await endpointUrls({ request_method: 'HEAD', detection_profile: 'legacy' })).toEqual(['/head'])
    // The site now has a legacy endpoint too.
    expect(await listedBlogs(read, { q: host, detection_profile: 'legacy' })).toEqual(ids(legacyHead, defaults))
  })

  it('answers 400 invalid_request with the field path for an unsupported value', async () => {
    const { blogId, endpointId } = await createSite(harness().client.write, 'invalid.example')
    const send = (path: string, method: string, body?: unknown) =>
      harness().fetch(path, {
        method,
        token: harness().tokens.write,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      })
    const cases: [Promise<Response>, string][] = [
      [
        send('/sites', 'POST', { blog_id: 9_900_001, monitor_url: 'https://x.example/', detection_profile: 'strict' }),
        'detection_profile',
      ],
      [send(`/sites/${blogId}`, 'PATCH', { detection_profile: 'FULL' }), 'detection_profile'],
      [send(`/endpoints/${endpointId}`, 'PATCH', { detection_profile: 1 }), 'detection_profile'],
      [
        send(`/sites/${blogId}/endpoints`, 'POST', { monitor_url: 'https://y.example/', request_method: 'PUT' }),
        'request_method',
      ],
      [send('/sites?detection_profile=strict', 'GET'), 'query.detection_profile'],
      [send('/sites?request_method=get', 'GET'), 'query.request_method'],
      [send(`/sites/${blogId}/endpoints?detection_profile=none`, 'GET'), 'query.detection_profile'],
    ]
    for (const [pending, path] of cases) {
      const response = await pending
      expect(response.status, path).toBe(400)
      const error = await envelopeOf(response)
      expect(error.code).toBe('invalid_request')
      expect(error.details?.map((detail) => detail.path)).toContain(path)
      expect(JSON.stringify(error.details)).toMatch(/legacy, simple_http or full|GET or HEAD/)
    }
    expect(await stored(harness(), endpointId)).toEqual({ requestMethod: null, detectionProfile: null })
  })

  it('documents the field and both filters in the OpenAPI document', () => {
    const document = buildOpenApiDocument() as unknown as {
      paths: Record<string, Record<string, { parameters?: { name: string; schema: { enum?: string[] } }[] }>>
    }
    for (const path of ['/sites', '/sites/{blog_id}/endpoints']) {
      const parameters = document.paths[path]!.get!.parameters ?? []
      expect(parameters.find((p) => p.name === 'detection_profile')?.schema.enum, path).toEqual([
        'legacy',
        'simple_http',
        'full',
      ])
      expect(parameters.find((p) => p.name === 'request_method')?.schema.enum, path).toEqual(['GET', 'HEAD'])
    }
    expect(JSON.stringify(document)).toContain('DEFAULT_DETECTION_PROFILE')
  })
})

describe('check policy with configured fleet defaults (HEAD, legacy: a range taken over from v1)', () => {
  const harness = useTestApi({
    manualClock: true,
    deps: { checkPolicyDefaults: { requestMethod: 'HEAD', detectionProfile: 'legacy' } },
  })

  it('answers and filters a NULL as the configured default', async () => {
    const write = harness().client.write
    const host = 'fleet-defaults.example'
    const inherited = await createSite(write, host)
    expect(inherited.site.endpoints[0]).toMatchObject({ request_method: 'HEAD', detection_profile: 'legacy' })
    expect(await stored(harness(), inherited.endpointId)).toEqual({ requestMethod: null, detectionProfile: null })
    const moved = await createSite(write, host, { request_method: 'GET', detection_profile: 'full' })

    const read = harness().client.read
    expect(await listedBlogs(read, { q: host, detection_profile: 'legacy' })).toEqual([inherited.blogId.toString()])
    expect(await listedBlogs(read, { q: host, request_method: 'GET' })).toEqual([moved.blogId.toString()])
    const { data } = await read.call('sites.get', { params: { blog_id: inherited.blogId } })
    expect(data.endpoints[0]).toMatchObject({ request_method: 'HEAD', detection_profile: 'legacy' })
  })
})
