/**
 * The README's first example, run with bash: only the certificate's folder and the listening port
 * are the test's own, and `serve` is stopped by the signal the comment promises to honour.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstCodeBlock, outputByCommand, runShellExample } from '@jetmon/testkit'
import { createTestPki } from '@jetmon/testkit/fixtures'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'veriflier2-readme-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const VERIFLIER2 = join(import.meta.dirname, '..', 'src', 'cli.ts')
const ROOT = join(import.meta.dirname, '..', '..', '..')

/** `veriflier2 serve` in the background until it listens; then SIGTERM, and its exit status is the line's. */
const SERVE_AND_STOP = [
  `veriflier2 serve > "${dir}/serve.log" 2>&1 & pid=$!`,
  `until grep -q 'listening on' "${dir}/serve.log"; do kill -0 $pid || break; sleep 0.05; done`,
  `cat "${dir}/serve.log"`,
  'kill -TERM $pid',
  'wait $pid',
].join('; ')

describe('the README example', () => {
  it('validates the configuration, serves HTTPS until SIGTERM and exits 0, and prints its version', async () => {
    const pki = await createTestPki()
    const leaf = await pki.issueLeaf({ hosts: ['127.0.0.1', 'localhost'] })
    writeFileSync(join(dir, 'cert.pem'), leaf.chain)
    writeFileSync(join(dir, 'key.pem'), leaf.key)

    const example = firstCodeBlock(readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8'), 'sh')
    expect(example).toMatch(/^veriflier2 serve\b/m)
    const script = example.replaceAll('/etc/veriflier/', `${dir}/`).replace(/^veriflier2 serve\b.*$/m, SERVE_AND_STOP)
    const result = await runShellExample(script, {
      binaries: { veriflier2: VERIFLIER2 },
      env: { PORT: '0', BIND: '127.0.0.1', LOG_FORMAT: 'json' },
      cwd: ROOT,
    })
    expect(result.code, result.stderr).toBe(0)

    const printed = outputByCommand(result.stdout)
    const of = (command: string) => {
      const key = [...printed.keys()].find((line) => line.startsWith(command))
      expect(key, `the example runs \`${command}\``).toBeDefined()
      return printed.get(key as string) as string
    }
    expect(of('veriflier2 validate-config')).toMatch(/^PASS /m)
    expect(of('veriflier2 validate-config')).not.toMatch(/^FAIL /m)
    expect(of('veriflier2 serve')).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/)
    expect(of('veriflier2 version')).toMatch(/\d+\.\d+\.\d+/)
  }, 120_000)
})
