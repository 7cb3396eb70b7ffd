import { expect, it } from 'vitest'
import { isYaml, wantsYaml } from './media.js'

it('names YAML by its media types, with or without parameters', () => {
  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml; charset=utf-8', ' TEXT/X-YAML ']) {
    expect(isYaml(type), type).toBe(true)
  }
  for (const type of [undefined, '', 'application/json', 'application/yaml-patch', 'text/plain']) {
    expect(isYaml(type), String(type)).toBe(false)
  }
})

it('answers YAML only when Accept lists it before any JSON', () => {
  expect(wantsYaml('application/yaml')).toBe(true)
  expect(wantsYaml('text/yaml, application/json;q=0.5')).toBe(true)
  expect(wantsYaml('application/json, application/yaml')).toBe(false)
  expect(wantsYaml('*/*, application/yaml')).toBe(false)
  expect(wantsYaml('*/*')).toBe(false)
  expect(wantsYaml(undefined)).toBe(false)
})
