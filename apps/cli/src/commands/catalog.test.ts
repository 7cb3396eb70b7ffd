import { routes } from '@jetmon/api-client'
import { expect, test } from 'vitest'
import { apiCommand } from '../api.js'
import { listCommands } from './catalog.js'

test('every command has a description and an example that runs that command', async () => {
  const entries = await listCommands(apiCommand)
  expect(entries.length).toBeGreaterThan(50)
  for (const entry of entries) {
    expect(entry.description, entry.command).not.toBe('')
    for (const example of entry.examples)
      expect(example, entry.command).toMatch(new RegExp(`(^|\\| )jetmon2 api ${entry.command}( |$)`))
    expect(entry.example, entry.command).not.toBe('')
  }
})

test('every route a command names is in the contract, and every contract route but key and audit admin has a command', async () => {
  const entries = await listCommands(apiCommand)
  const used = new Set(entries.flatMap((e) => e.routes.map((r) => r.id)))
  for (const entry of entries)
    for (const route of entry.routes)
      expect(route.path, `${entry.command} → ${route.id}`).not.toMatch(/not in this build/)
  // Keys and the audit log are local admin commands (`jetmon2 keys`, `jetmon2 audit`); openapi.json is for tools.
  const elsewhere = new Set(['openapi', 'keys.list', 'keys.create', 'keys.revoke', 'keys.rotate', 'audit.list'])
  expect(Object.keys(routes).filter((id) => !used.has(id) && !elsewhere.has(id))).toEqual([])
})
