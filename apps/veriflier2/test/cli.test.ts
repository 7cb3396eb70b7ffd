import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '@jetmon/testkit'
import { type DnsServer, type FixtureServer, startDnsServer, startFixtureServer } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NEXT_TOKEN, postChecks, type ServeProcess, startServe, TOKEN, veriflier2 } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'veriflier2-cli-'))
const file = (name: string, content: unknown) => {
  const path = join(tmp, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

let sites: FixtureServer
let dns: DnsServer
let configFile: string
const running: ServeProcess[] = []

beforeAll(async () => {
  sites = await startFixtureServer()
  dns = await startDnsServer({ zone: sites.zone() })
  configFile = file('veriflier.json', {
    VERIFLIER_ID: 'cli-1',
    VERIFLIER_REGION: 'eu-test',
    VERIFLIER_TOKENS: [TOKEN, NEXT_TOKEN],
    DNS_SERVERS: [dns.server],
    CA_FILE: file('ca.pem', sites.ca),
  })
})

afterAll(async () => {
  for (const serve of running) if (serve.child.exitCode === null) serve.child.kill('SIGKILL')
  await Promise.all([sites?.close(), dns?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

async function serve(env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const started = await startServe({ VERIFLIER_CONFIG: configFile, ...env })
  running.push(started)
  return started
}

describe('veriflier2', () => {
  it('prints its version', async () => {
    const result = await veriflier2(['version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^veriflier2 \d+\.\d+\.\d+\n$/)
  })

  it('treats an unknown or missing subcommand as a usage error (exit 2), never as "serve"', async () => {
    const unknown = await veriflier2(['srve'], { VERIFLIER_CONFIG: configFile })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Unknown command srve/)
    expect(unknown.stdout).toMatch(/USAGE/)
    const none = await veriflier2([], { VERIFLIER_CONFIG: configFile })
    expect(none.code).toBe(2)
    expect(none.stdout).toMatch(/serve/)
  })
})

describe('veriflier2 validate-config', () => {
  it('passes a good configuration without printing its tokens', async () => {
    const result = await veriflier2(['validate-config'], { VERIFLIER_CONFIG: configFile })
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^PASS {2}config +valid: /m)
    expect(result.stdout).toMatch(/^PASS {2}tokens +2 tokens accepted/m)
    expect(result.stdout).toMatch(/^PASS {2}checker +DNS 127\.0\.0\.1:\d+, extra CA from /m)
    expect(result.stdout + result.stderr).not.toContain(TOKEN)
  })

  it('names every problem as path: message and exits 1', async () => {
    const bad = file('bad.json', { VERIFLIER_TOKENS: ['short'], MAX_CONCURRENCY: 0, PORTT: 1 })
    const result = await veriflier2(['validate-config', '--config', bad])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^FAIL {2}config {2}VERIFLIER_REGION: is required$/m)
    expect(result.stdout).toMatch(/^FAIL {2}config {2}VERIFLIER_TOKENS\[0\]: must be at least 16 characters/m)
    expect(result.stdout).toMatch(/^FAIL {2}config {2}MAX_CONCURRENCY: must be at least 1/m)
    expect(result.stdout).toMatch(/^WARN {2}config {2}PORTT: unknown key, ignored; did you mean PORT\?/m)
    expect(result.stdout).not.toContain('short')
  })

  it('fails on a CA_FILE that cannot be read', async () => {
    const result = await veriflier2(['validate-config'], {
      VERIFLIER_CONFIG: configFile,
      CA_FILE: join(tmp, 'missing.pem'),
    })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^FAIL {2}checker +CA_FILE: cannot read .*missing\.pem: file not found/m)
  })
})

describe('veriflier2 serve', () => {
  it('refuses to start on an invalid configuration: path: message lines, exit 1', async () => {
    const result = await veriflier2(['serve'], {
      VERIFLIER_CONFIG: file('serve-bad.json', { VERIFLIER_TOKENS: [] }),
      PORT: '70000',
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/the configuration has 3 problem\(s\)/)
    expect(result.stderr).toMatch(/^VERIFLIER_REGION: is required$/m)
    expect(result.stderr).toMatch(/^VERIFLIER_TOKENS: must list at least one token/m)
    expect(result.stderr).toMatch(/^PORT: .*\(from environment variable PORT\)$/m)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('serves checks on a free port, logs JSON without its tokens, and drains on SIGTERM', async () => {
    const server = await serve()
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const listening = server.logs.find((entry) => typeof entry.port === 'number')
    expect(listening).toMatchObject({ name: 'veriflier2', veriflier: 'cli-1', region: 'eu-test', msg: /listening/ })

    const health = await (await fetch(`${server.url}/v1/health`)).json()
    expect(health).toMatchObject({ status: 'ok', id: 'cli-1', region: 'eu-test', in_flight: 0 })
    expect((await postChecks(server.url, { request_id: 'x', checks: [] }, { token: 'nope' })).status).toBe(401)

    const answer = await postChecks(
      server.url,
      {
        request_id: 'cli-batch',
        checks: [
          { endpoint_id: 1, url: sites.url('ok', '/', { https: true }) },
          { endpoint_id: '2', url: sites.url('status-500') },
        ],
      },
      { token: NEXT_TOKEN },
    )
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({
      veriflier: { id: 'cli-1', region: 'eu-test' },
      results: [
        { endpoint_id: 1, ok: true, http_status: 200 },
        { endpoint_id: '2', ok: false, error: 'http_status', http_status: 500 },
      ],
    })

    // SIGTERM with a slow check in flight: the answer still arrives, then the process exits 0.
    const slow = postChecks(server.url, {
      request_id: 'in-flight',
      checks: [{ endpoint_id: 3, url: sites.url('slow-ttfb--sigterm', '/?ms=600') }],
    })
    await waitFor('a check in flight', async () => {
      const body = (await (await fetch(`${server.url}/v1/health`)).json()) as { in_flight: number }
      return body.in_flight > 0
    })
    server.child.kill('SIGTERM')
    const drained = await slow
    expect(drained.status).toBe(200)
    expect(drained.json).toMatchObject({ results: [{ endpoint_id: 3, ok: true }] })
    expect(await server.exited).toBe(0)
    expect(server.logs.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['check batch answered', 'stopped']))
    expect(server.stdout() + server.stderr()).not.toContain(TOKEN)
    expect(server.stdout() + server.stderr()).not.toContain(NEXT_TOKEN)
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow()
  })

  it('never has more than MAX_CONCURRENCY checks in flight', async () => {
    const server = await serve({ MAX_CONCURRENCY: '2' })
    const host = 'slow-ttfb--cli-concurrency'
    const posted = postChecks(server.url, {
      request_id: 'bounded',
      checks: [1, 2, 3, 4, 5, 6].map((n) => ({ endpoint_id: n, url: sites.url(host, '/?ms=250') })),
    })
    let done = false
    void posted.then(() => {
      done = true
    })
    const seen: number[] = []
    while (!done) {
      const body = (await (await fetch(`${server.url}/v1/health`)).json()) as { in_flight: number }
      seen.push(body.in_flight)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(((await posted).json as { results: { ok: boolean }[] }).results.every((r) => r.ok)).toBe(true)
    expect(Math.max(...seen)).toBe(2)
    server.child.kill('SIGINT')
    expect(await server.exited).toBe(0)
  })
})
