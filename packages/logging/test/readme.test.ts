/**
 * The README's first example, run as written with standard output not a terminal: it writes JSON
 * lines, the child's with its module, and the secrets of the second line redacted as its comment shows.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it, vi } from 'vitest'

const file = new URL(`./.readme-example-${process.pid}.ts`, import.meta.url)

afterAll(() => {
  vi.restoreAllMocks()
  rmSync(file, { force: true })
})

describe('README example', () => {
  it('logs JSON lines from a child logger with secrets redacted', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(code, 'the README has a ts example').toContain('createLogger(')
    writeFileSync(file, code)

    // Not a terminal, as under a service manager: JSON, one object per line.
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY')
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true })
    const written: string[] = []
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    try {
      await import(file.href)
    } finally {
      write.mockRestore()
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty)
      else delete (process.stdout as { isTTY?: boolean }).isTTY
    }

    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({
      level: 30,
      name: 'jetmon2',
      module: 'scheduler',
      endpointId: '42',
      durationMs: 118,
      msg: 'check finished',
    })
    expect(lines[1]).toMatchObject({
      level: 30,
      module: 'scheduler',
      config: { DATABASE_URL: 'mysql://jetmon:%5Bredacted%5D@db:3306/jetmon', SMTP_PASSWORD: '[redacted]' },
      request: { headers: { authorization: '[redacted]' } },
      msg: 'starting',
    })
    expect(written.join('')).not.toMatch(/s3cret|hunter2|jm_/)
  })
})
