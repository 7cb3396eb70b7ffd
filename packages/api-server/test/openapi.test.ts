import { type RouteDefinition, routes } from '@jetmon/api-client'
import { compileErrors, validate } from '@readme/openapi-parser'
import { describe, expect, it } from 'vitest'
import { buildOpenApiDocument, honoPath } from '../src/index.js'
import { useTestApi } from './_helpers.js'

const harness = useTestApi()

interface Document {
  openapi: string
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[] }>>
}

describe('the OpenAPI document', () => {
  it('is served at /openapi.json and is a valid OpenAPI 3.1 document', async () => {
    const response = await harness().fetch('/openapi.json', { token: null })
    expect(response.status).toBe(200)
    const served = (await response.json()) as Document
    expect(served).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())))
    // The validator dereferences in place: give it a copy.
    const result = await validate(structuredClone(served) as never)
    if (!result.valid) throw new Error(compileErrors(result))
    expect(served.openapi).toBe('3.1.0')
  })

  it('lists exactly the routes the router serves, with their path parameters', async () => {
    const document = buildOpenApiDocument() as unknown as Document
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort()
    const served = harness()
      .api.app.routes.filter((route) => route.path.startsWith('/api/v1/') && route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path.replace(/^\/api\/v1/, '').replace(/:([a-z_]+)/g, '{$1}')}`)
      .sort()
    expect(served).toEqual(documented)
    expect(documented.length).toBe(Object.keys(routes).length)

    for (const [id, route] of Object.entries(routes as Record<string, RouteDefinition>)) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()]
      expect(operation?.operationId, id).toBe(id)
      const names = [...route.path.matchAll(/\{([a-z_]+)\}/g)].map((match) => match[1])
      const pathParameters = (operation?.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)
      expect(pathParameters.sort(), id).toEqual(names.sort())
      expect(honoPath(route.path)).not.toContain('{')
    }
  })

  it('answers every route it documents with something other than 404 route_not_found', async () => {
    for (const route of Object.values(routes as Record<string, RouteDefinition>)) {
      const path = route.path.replace(/\{[a-z_]+\}/g, '1')
      const response = await harness().fetch(path, { method: route.method, token: null })
      const text = await response.text()
      expect(text, `${route.method} ${route.path}`).not.toContain('route_not_found')
      expect(text).not.toContain('method_not_allowed')
    }
  })
})
