/** The README's receiver example, run as written (on a free port instead of 8787), verifies what it says. */
import { once } from 'node:events'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { generateWebhookSecret, signatureHeader } from '../src/index.js'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)
let server: Server | undefined

afterAll(async () => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
  if (server?.listening) await new Promise((resolve) => server?.close(resolve))
})

describe('README example', () => {
  it('answers 204 to a signed delivery and 400 with the reason to a forged one', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code, 'the README has a ts example').toContain('.listen(8787)')
    writeFileSync(file, (code as string).replace('.listen(8787)', '.listen(0)'))

    const secret = generateWebhookSecret()
    process.env.JETMON_WEBHOOK_SECRET = secret
    const printed: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args)
    })
    const listen = vi.spyOn(Server.prototype, 'listen')
    await import(file.href)
    server = listen.mock.contexts[0] as Server
    if (!server.listening) await once(server, 'listening')
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

    const body = JSON.stringify({
      type: 'event.transition',
      site: { monitor_url: 'https://example.com/' },
      transition: { state_after: 'Down' },
    })
    const header = signatureHeader({ secrets: [secret], body, timestamp: Math.floor(Date.now() / 1000) })
    const signed = await fetch(url, { method: 'POST', body, headers: { 'x-jetmon-signature': header } })
    expect(signed.status).toBe(204)
    expect(printed).toContainEqual(['event.transition', 'https://example.com/', 'Down'])

    const forged = signatureHeader({
      secrets: [generateWebhookSecret()],
      body,
      timestamp: Math.floor(Date.now() / 1000),
    })
    const refused = await fetch(url, { method: 'POST', body, headers: { 'x-jetmon-signature': forged } })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toBe('no_matching_signature')
  })
})
