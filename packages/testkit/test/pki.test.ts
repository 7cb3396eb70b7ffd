import { createPrivateKey, X509Certificate } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestPki, TEST_PKI_VERSION, type TestPki } from '../src/fixtures/index.js'

let pki: TestPki

beforeAll(async () => {
  pki = await createTestPki()
})

/** The certificates of a PEM bundle, in order. */
function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  )
}

describe('the CA hierarchy', () => {
  it('has a self-signed root, an intermediate issued by it, and an unrelated untrusted root', () => {
    const root = new X509Certificate(pki.rootCert)
    const intermediate = new X509Certificate(pki.intermediateCert)
    const untrusted = new X509Certificate(pki.untrustedRootCert)
    expect(root.ca && intermediate.ca && untrusted.ca).toBe(true)
    expect(root.verify(root.publicKey)).toBe(true)
    expect(intermediate.checkIssued(root) && intermediate.verify(root.publicKey)).toBe(true)
    expect(untrusted.verify(untrusted.publicKey)).toBe(true)
    expect(untrusted.verify(root.publicKey)).toBe(false)
  })
})

describe('issueLeaf', () => {
  it('issues an RSA-2048 leaf via the intermediate by default, with DNS and IP SANs', async () => {
    const leaf = await pki.issueLeaf({ hosts: ['site.example.test', '*.wild.test', '127.0.0.1', '::1'] })
    const cert = new X509Certificate(leaf.cert)
    expect(cert.ca).toBe(false)
    expect(cert.subject).toBe('CN=site.example.test')
    expect(cert.checkHost('site.example.test')).toBe('site.example.test')
    expect(cert.checkHost('a.wild.test')).toBe('*.wild.test')
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(cert.checkIP('::1')).toBe('::1')
    expect(cert.verify(new X509Certificate(pki.intermediateCert).publicKey)).toBe(true)
    expect(createPrivateKey(leaf.key).asymmetricKeyDetails?.modulusLength).toBe(2048)
    expect(cert.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true)
    expect(certificates(leaf.chain).map((c) => c.subject)).toEqual([
      cert.subject,
      'CN=Jetmon Test Intermediate CA\nO=Jetmon tests',
    ])
  })

  it('honours validity dates', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z')
    const notAfter = new Date('2021-01-01T00:00:00Z')
    const cert = new X509Certificate((await pki.issueLeaf({ hosts: ['old.test'], notBefore, notAfter })).cert)
    expect(new Date(cert.validFrom).getTime()).toBe(notBefore.getTime())
    expect(new Date(cert.validTo).getTime()).toBe(notAfter.getTime())
  })

  it('issues directly from the root, self-signed, from the untrusted root, and with ECDSA keys', async () => {
    const direct = await pki.issueLeaf({ hosts: ['direct.test'], viaIntermediate: false })
    expect(new X509Certificate(direct.cert).verify(new X509Certificate(pki.rootCert).publicKey)).toBe(true)
    expect(certificates(direct.chain)).toHaveLength(1)

    const self = new X509Certificate((await pki.issueLeaf({ hosts: ['self.test'], selfSigned: true })).cert)
    expect(self.issuer).toBe(self.subject)
    expect(self.verify(self.publicKey)).toBe(true)

    const untrusted = await pki.issueLeaf({ hosts: ['untrusted.test'], untrusted: true })
    expect(certificates(untrusted.chain).map((c) => c.subject)).toEqual([
      'CN=untrusted.test',
      'CN=Jetmon Untrusted Root CA\nO=Somebody else',
    ])

    const ec = await pki.issueLeaf({ hosts: ['ec.test'], keyType: 'ecdsa-p256' })
    expect(createPrivateKey(ec.key).asymmetricKeyType).toBe('ec')
    expect(new X509Certificate(ec.cert).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
  })

  it('reuses certificates for identical options and rejects empty host lists', async () => {
    const a = await pki.issueLeaf({ hosts: ['same.test'] })
    expect(await pki.issueLeaf({ hosts: ['same.test'] })).toBe(a)
    expect((await pki.issueLeaf({ hosts: ['same.test'], viaIntermediate: false })).cert).not.toBe(a.cert)
    await expect(pki.issueLeaf({ hosts: [] })).rejects.toThrow(/hosts/)
  })
})

describe('the on-disk cache', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jetmon-pki-test-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is written on first use and read back instead of generating again', async () => {
    const first = await createTestPki({ cacheDir: dir })
    const file = join(dir, `pki-${TEST_PKI_VERSION}.json`)
    expect(existsSync(file)).toBe(true)
    expect(JSON.parse(readFileSync(file, 'utf8')).certs.root).toBe(first.rootCert)
    // Same process, same folder: the same instance.
    expect(await createTestPki({ cacheDir: dir })).toBe(first)
    // A different spelling of the folder misses the in-process memo and must load the file.
    const reread = await createTestPki({ cacheDir: `${dir}/.` })
    expect(reread).not.toBe(first)
    expect(reread.rootCert).toBe(first.rootCert)
  })

  it('is kept under <repo>/.jetmon/test-pki by default', () => {
    const repo = join(import.meta.dirname, '..', '..', '..')
    expect(existsSync(join(repo, '.jetmon', 'test-pki', `pki-${TEST_PKI_VERSION}.json`))).toBe(true)
  })
})
