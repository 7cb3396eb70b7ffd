// The veriflier over HTTPS: monitors send it their bearer token and every site's custom headers,
// so it serves TLS when given a certificate and key (TLS_CERT_FILE, TLS_KEY_FILE).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestPki, type TestPki } from '@jetmon/testkit/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateConfiguration } from '../src/commands/validate-config.js'
import { loadVeriflier2Config } from '../src/config.js'
import { createVeriflierServer, TlsSetupError, type VeriflierServer } from '../src/index.js'
import { startServe, TOKEN, testConfig } from './helpers.js'

let pki: TestPki
let dir: string
let certFile: string
let keyFile: string
let otherKeyFile: string
const servers: VeriflierServer[] = []

beforeAll(async () => {
  pki = await createTestPki()
  dir = mkdtempSync(join(tmpdir(), 'veriflier2-tls-'))
  const leaf = await pki.issueLeaf({ hosts: ['127.0.0.1', 'localhost'] })
  const other = await pki.issueLeaf({ hosts: ['127.0.0.1'], keyType: 'ecdsa-p256' })
  certFile = join(dir, 'cert.pem')
  keyFile = join(dir, 'key.pem')
  otherKeyFile = join(dir, 'other-key.pem')
  writeFileSync(certFile, leaf.chain)
  writeFileSync(keyFile, leaf.key)
  writeFileSync(otherKeyFile, other.key)
})

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close({ timeoutMs: 0 })))
  rmSync(dir, { recursive: true, force: true })
})

/** One HTTPS request trusting `ca` (Node's default roots when undefined). */
function https(
  url: string,
  options: { ca?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        ...(options.ca && { ca: options.ca }),
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

async function startTls(): Promise<string> {
  const server = createVeriflierServer({
    config: testConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }),
    checker: async (check) => ({
      url: check.url,
      finalUrl: check.url,
      method: 'GET',
      startedAt: new Date().toISOString(),
      ok: true,
      error: null,
      errorCode: 0,
      detail: null,
      httpStatus: 200,
      timings: { dnsMs: 1, connectMs: 1, tlsMs: null, ttfbMs: 1, transferMs: 1, totalMs: 4 },
      redirects: [],
      advisories: [],
    }),
  })
  servers.push(server)
  return (await server.listen()).url
}

describe('HTTPS', () => {
  it('serves /v1/health and /v1/check over TLS with the configured certificate', async () => {
    const url = await startTls()
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)

    const health = await https(`${url}/v1/health`, { ca: pki.rootCert })
    expect(health).toMatchObject({ status: 200, json: { status: 'ok', id: 'test-1' } })

    const check = await https(`${url}/v1/check`, {
      ca: pki.rootCert,
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        request_id: 'r1',
        checks: [{ endpoint_id: 1, blog_id: 2, url: 'https://example.test/' }],
      }),
    })
    expect(check).toMatchObject({ status: 200, json: { results: [{ endpoint_id: 1, ok: true, http_status: 200 }] } })
  })

  it('answers no plain HTTP on its port, and a client that does not trust its CA refuses it', async () => {
    const url = await startTls()
    await expect(fetch(`${url.replace('https:', 'http:')}/v1/health`)).rejects.toThrow()
    await expect(https(`${url}/v1/health`)).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/),
    })
  })

  it('veriflier2 serve logs an https:// address when given the files', async () => {
    const serve = await startServe({
      VERIFLIER_REGION: 'test-region',
      VERIFLIER_TOKENS: JSON.stringify([TOKEN]),
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
    })
    try {
      expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      expect(await https(`${serve.url}/v1/health`, { ca: pki.rootCert })).toMatchObject({ status: 200 })
    } finally {
      serve.child.kill('SIGTERM')
      expect(await serve.exited).toBe(0)
    }
  })
})

describe('TLS configuration', () => {
  const base = { VERIFLIER_REGION: 'r', VERIFLIER_TOKENS: JSON.stringify([TOKEN]) }

  it('needs both files or neither', () => {
    const result = loadVeriflier2Config({ env: { ...base, TLS_CERT_FILE: certFile } })
    expect(!result.ok && result.issues).toEqual([
      { path: 'TLS_KEY_FILE', message: 'is required when TLS_CERT_FILE is set (both or neither)' },
    ])
    const other = loadVeriflier2Config({ env: { ...base, TLS_KEY_FILE: keyFile } })
    expect(!other.ok && other.issues).toEqual([
      { path: 'TLS_CERT_FILE', message: 'is required when TLS_KEY_FILE is set (both or neither)' },
    ])
  })

  it('a missing file or a key that does not match the certificate is refused at start, naming the key', () => {
    const missing = testConfig({ TLS_CERT_FILE: join(dir, 'nope.pem'), TLS_KEY_FILE: keyFile })
    expect(() => createVeriflierServer({ config: missing })).toThrow(TlsSetupError)
    expect(() => createVeriflierServer({ config: missing })).toThrow(/nope\.pem: file not found/)
    const mismatched = testConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: otherKeyFile })
    expect(() => createVeriflierServer({ config: mismatched })).toThrow(/does not match/)
  })

  it('validate-config: PASS with usable files, FAIL with unusable ones, WARN for plain HTTP off loopback', () => {
    const verdicts = (env: Record<string, string>) =>
      validateConfiguration({ env: { ...base, ...env } }).filter((finding) => finding.topic === 'tls')

    expect(verdicts({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })).toEqual([
      { verdict: 'PASS', topic: 'tls', message: expect.stringMatching(/^HTTPS with .*cert\.pem \(CN=127\.0\.0\.1/) },
    ])
    expect(verdicts({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: otherKeyFile })).toEqual([
      { verdict: 'FAIL', topic: 'tls', message: expect.stringMatching(/^TLS_KEY_FILE: .*does not match/) },
    ])
    expect(verdicts({ BIND: '0.0.0.0' })).toEqual([
      { verdict: 'WARN', topic: 'tls', message: expect.stringMatching(/plain HTTP on 0\.0\.0\.0.*TLS_CERT_FILE/) },
    ])
    expect(verdicts({ BIND: '127.0.0.1' })).toEqual([
      { verdict: 'INFO', topic: 'tls', message: expect.stringMatching(/plain HTTP on 127\.0\.0\.1 \(loopback only\)/) },
    ])
  })
})
