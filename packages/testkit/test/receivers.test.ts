import { createHmac } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTransport } from 'nodemailer'
import { afterAll, describe, expect, it } from 'vitest'
import { startMailCatcher, startWebhookReceiver } from '../src/fixtures/index.js'

const dir = mkdtempSync(join(tmpdir(), 'jetmon-mail-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('startMailCatcher', () => {
  it('receives, parses and keeps a message as an .eml file', async () => {
    const catcher = await startMailCatcher({ dir })
    const seen: string[] = []
    catcher.onMessage((mail) => seen.push(mail.subject))
    try {
      const transport = createTransport({ host: catcher.host, port: catcher.port, secure: false, ignoreTLS: true })
      await transport.sendMail({
        from: 'jetmon@example.com',
        to: 'oncall@example.com',
        subject: '[Jetmon] DOWN: example.com',
        text: 'example.com is down',
        html: '<p>example.com is down</p>',
      })
      expect(catcher.messages).toHaveLength(1)
      const [mail] = catcher.messages
      expect(mail).toMatchObject({
        from: 'jetmon@example.com',
        to: ['oncall@example.com'],
        subject: '[Jetmon] DOWN: example.com',
      })
      expect(mail?.text.trim()).toBe('example.com is down')
      expect(readFileSync(mail!.file!, 'utf8')).toContain('Subject: [Jetmon] DOWN: example.com')
      expect(seen).toEqual(['[Jetmon] DOWN: example.com'])
    } finally {
      await catcher.close()
    }
  })
})

describe('startWebhookReceiver', () => {
  it('checks signatures against its secrets', async () => {
    const receiver = await startWebhookReceiver({ secrets: ['whsec_test'] })
    try {
      const body = JSON.stringify({ type: 'event.opened' })
      const t = Math.floor(Date.now() / 1000)
      const v1 = createHmac('sha256', 'whsec_test').update(`${t}.${body}`).digest('hex')
      const good = await fetch(receiver.url, {
        method: 'POST',
        body,
        headers: { 'x-jetmon-signature': `t=${t},v1=${v1}`, 'x-jetmon-event': 'event.opened' },
      })
      expect(good.status).toBe(200)
      const bad = await fetch(receiver.url, { method: 'POST', body, headers: { 'x-jetmon-signature': `t=${t},v1=00` } })
      expect(bad.status).toBe(401)
      expect(receiver.received.map((hook) => hook.signature)).toEqual(['valid', 'invalid'])
      expect(receiver.received[0]).toMatchObject({ event: 'event.opened', body: { type: 'event.opened' } })
    } finally {
      await receiver.close()
    }
  })
})
