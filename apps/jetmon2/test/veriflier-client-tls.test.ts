// The monitor's veriflier traffic over HTTPS: it carries the bearer token and every site's custom
// headers, so the monitor verifies the veriflier's certificate (system roots plus CA_FILE).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CheckRequest, type CheckResult, ERROR_CODES } from '@jetmon/checker'
import { createVeriflierHealthProbe } from '@jetmon/dashboard'
import { askVerifliers, type VeriflierCheck, type VeriflierTarget, veriflierFetch } from '@jetmon/monitor'
import { createTestPki, type TestPki } from '@jetmon/testkit/fixtures'
import { createVeriflierServer, type VeriflierServer, veriflier2ConfigSchema } from '@jetmon/veriflier2'
import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateConfiguration } from '../src/commands/validate-config.js'

const TOKEN = 'client-tls-token-0123456789'

let pki: TestPki
let dir: string
let trusted: VeriflierTarget
let untrusted: VeriflierTarget
let plain: VeriflierTarget
const servers: VeriflierServer[] = []
/** What the verifliers were asked, to prove the token and headers arrived. */
const seen: CheckRequest[] = []

/** Every site is down from the verifliers' regions. */
async function down(request: CheckRequest): Promise<CheckResult> {
  seen.push(request)
  return {
    url: request.url,
    finalUrl: request.url,
    method: 'GET',
    startedAt: new Date().toISOString(),
    ok: false,
    error: 'http_status',
    errorCode: ERROR_CODES.http_status,
    detail: 'the server answered HTTP 503',
    httpStatus: 503,
    timings: { dnsMs: 1, connectMs: 1, tlsMs: null, ttfbMs: 1, transferMs: 1, totalMs: 4 },
    redirects: [],
    advisories: [],
  }
}

async function startVeriflier(id: string, tls?: { cert: string; key: string }): Promise<VeriflierTarget> {
  const files: Record<string, string> = {}
  if (tls) {
    files.TLS_CERT_FILE = join(dir, `${id}-cert.pem`)
    files.TLS_KEY_FILE = join(dir, `${id}-key.pem`)
    writeFileSync(files.TLS_CERT_FILE, tls.cert)
    writeFileSync(files.TLS_KEY_FILE, tls.key)
  }
  const config = v.parse(veriflier2ConfigSchema, {
    VERIFLIER_ID: id,
    VERIFLIER_REGION: 'eu-west',
    VERIFLIER_TOKENS: [TOKEN],
    PORT: 0,
    BIND: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...files,
  })
  const server = createVeriflierServer({ config, checker: down })
  servers.push(server)
  const { url } = await server.listen()
  return { id, region: 'eu-west', url, token: TOKEN }
}

beforeAll(async () => {
  pki = await createTestPki()
  dir = mkdtempSync(join(tmpdir(), 'jetmon2-veriflier-tls-'))
  const leaf = await pki.issueLeaf({ hosts: ['127.0.0.1'] })
  const stranger = await pki.issueLeaf({ hosts: ['127.0.0.1'], untrusted: true })
  trusted = await startVeriflier('tls-1', { cert: leaf.chain, key: leaf.key })
  untrusted = await startVeriflier('tls-2', { cert: stranger.chain, key: stranger.key })
  plain = await startVeriflier('plain-1')
  writeFileSync(join(dir, 'ca.pem'), pki.rootCert)
})

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close({ timeoutMs: 0 })))
  rmSync(dir, { recursive: true, force: true })
})

const check: VeriflierCheck = {
  endpointId: 7n,
  blogId: 70n,
  url: 'https://site.example/',
  headers: { authorization: 'Basic c2l0ZTpzZWNyZXQ=' },
}

describe('askVerifliers over HTTPS', () => {
  it('verifies the veriflier against the given CA and gets its vote', async () => {
    expect(trusted.url).toMatch(/^https:\/\//)
    const votes = await askVerifliers({ verifliers: [trusted], checks: [check], timeoutMs: 5_000, ca: [pki.rootCert] })
    expect(votes.get(7n)).toEqual([expect.objectContaining({ veriflier: 'tls-1', vote: 'down', httpStatus: 503 })])
    expect(seen.at(-1)?.headers).toEqual(check.headers)
  })

  it('refuses a certificate it cannot verify, saying so, and sends it nothing', async () => {
    const before = seen.length
    const votes = await askVerifliers({
      verifliers: [trusted, untrusted],
      checks: [check],
      timeoutMs: 5_000,
      // Node's built-in roots only: the test CA is not among them.
    })
    const untrustedVote = {
      vote: 'error',
      error: 'untrusted_certificate',
      errorCode: null,
      detail: expect.stringMatching(/certificate.*not trusted.*CA_FILE/),
    }
    expect(votes.get(7n)).toEqual([
      expect.objectContaining({ veriflier: 'tls-1', ...untrustedVote }),
      expect.objectContaining({ veriflier: 'tls-2', ...untrustedVote }),
    ])
    const withCa = await askVerifliers({
      verifliers: [untrusted],
      checks: [check],
      timeoutMs: 5_000,
      ca: [pki.rootCert],
    })
    expect(withCa.get(7n)).toEqual([expect.objectContaining({ veriflier: 'tls-2', ...untrustedVote })])
    expect(seen.length).toBe(before)
  })
})

it("the dashboard's veriflier health probe trusts CA_FILE through veriflierFetch", async () => {
  const trusting = createVeriflierHealthProbe({ targets: () => [trusted], fetch: veriflierFetch([pki.rootCert]) })
  expect(await trusting.read()).toEqual([expect.objectContaining({ id: 'tls-1', reachable: true })])
  const builtIn = createVeriflierHealthProbe({ targets: () => [trusted], fetch: veriflierFetch() })
  expect(await builtIn.read()).toEqual([expect.objectContaining({ id: 'tls-1', reachable: false })])
})

describe('jetmon2 validate-config and veriflier URLs', () => {
  // A database that refuses at once: these cases are about the verifliers.
  const base = { DATABASE_URL: 'mysql://nobody@127.0.0.1:1/jetmon', EMAIL_TRANSPORT: 'stub' }
  async function verifliers(config: Record<string, unknown>) {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(file, JSON.stringify({ ...base, ...config }))
    const findings = await validateConfiguration({ file, env: {} })
    return findings.filter((finding) => finding.topic === 'verifliers')
  }

  it('fails an http:// veriflier URL whose host is not loopback', async () => {
    const found = await verifliers({
      VERIFLIERS: [{ id: 'v1', region: 'eu', url: 'http://10.1.2.3:7803', token: TOKEN }],
    })
    expect(found).toContainEqual({
      verdict: 'FAIL',
      topic: 'verifliers',
      message: expect.stringMatching(/^v1 \(eu\) http:\/\/10\.1\.2\.3:7803: plain HTTP to another host.*https:\/\//),
    })
    expect(JSON.stringify(found)).not.toContain(TOKEN)
  })

  it('passes an http:// veriflier on loopback', async () => {
    const found = await verifliers({ VERIFLIERS: [plain] })
    expect(found.map((finding) => finding.verdict)).toEqual(['PASS', 'PASS'])
  })

  it('reaches an https:// veriflier through CA_FILE, and says when its certificate is not trusted', async () => {
    const ok = await verifliers({ VERIFLIERS: [trusted], CA_FILE: join(dir, 'ca.pem') })
    expect(ok.map((finding) => finding.verdict)).toEqual(['PASS', 'PASS'])
    const refused = await verifliers({ VERIFLIERS: [trusted] })
    expect(refused).toContainEqual({
      verdict: 'WARN',
      topic: 'verifliers',
      message: expect.stringMatching(
        /^tls-1 \(eu-west\) at https:\/\/127\.0\.0\.1:\d+ unreachable: .*not trusted.*CA_FILE/,
      ),
    })
  })
})
