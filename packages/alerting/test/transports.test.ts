/**
 * Every transport against a real peer on loopback: an SMTP server (smtp-server, mails parsed with
 * mailparser) and node:http receivers standing in for PagerDuty, Slack, Teams and WordPress.com.
 */
import { recordingLogger, refusedPort } from '@jetmon/testkit'
import { Agent } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { emailOptionsFromConfig } from '../src/email.js'
import { type AlertSender, type AlertSenderOptions, createAlertSender } from '../src/sender.js'
import { downNotification, recoveryNotification } from './_notifications.js'
import {
  type HttpReceiver,
  type SmtpReceiver,
  type SmtpReceiverOptions,
  selfSignedCertificate,
  startHttpReceiver,
  startPlainSmtpPeer,
  startSmtpReceiver,
  type TestCertificate,
} from './_receivers.js'

const dashboardUrl = 'https://jetmon.example'
const eventUrl = 'https://jetmon.example/events/5'
const oncall = { address: 'oncall@example.com' }
const from = 'Jetmon <jetmon@example.com>'
const KEY = 'a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6'
const now = new Date('2026-05-01T10:30:00.000Z')

describe('email over SMTP', () => {
  let certificate: TestCertificate
  const servers: SmtpReceiver[] = []

  beforeAll(async () => {
    certificate = await selfSignedCertificate()
  })
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })

  async function smtp(options: SmtpReceiverOptions = {}) {
    const server = await startSmtpReceiver(options)
    servers.push(server)
    return server
  }

  it('delivers a multipart Down alert an on-call person can act on', async () => {
    const server = await smtp()
    const sender = createAlertSender({
      dashboardUrl,
      email: { transport: 'smtp', from, host: server.host, port: server.port },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    await sender.close()

    expect(result).toMatchObject({ ok: true, statusCode: 250 })
    expect(result.response).toContain('Accepted for the test')
    expect(server.mails).toHaveLength(1)
    const mail = server.mails[0]!
    expect(mail.envelope).toEqual({ from: 'jetmon@example.com', to: ['oncall@example.com'] })
    expect(mail.user).toBeNull()
    const { parsed } = mail
    expect(parsed.subject).toBe('[Jetmon] DOWN: example.com')
    expect(parsed.from?.value).toEqual([{ address: 'jetmon@example.com', name: 'Jetmon' }])
    expect(parsed.to && !Array.isArray(parsed.to) && parsed.to.value).toEqual([
      { address: 'oncall@example.com', name: '' },
    ])
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated')
    expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/i)
    for (const part of [parsed.text ?? '', parsed.html || '']) {
      expect(part).toContain('Down')
      expect(part).toContain('https://example.com/')
      expect(part).toContain('2026-05-01 10:00:00 UTC')
      expect(part).toContain('connect_timeout: no answer within 10 s')
      expect(part).toContain('2 of 3 saw it down')
      expect(part).toContain('v-ap (ap): up, HTTP 200, 120 ms')
      expect(part).toContain(eventUrl)
    }
    expect(parsed.html).toContain(`<a href="${eventUrl}"`)
  })

  it('says how long it was down in the recovery', async () => {
    const server = await smtp()
    const sender = createAlertSender({
      dashboardUrl,
      email: { transport: 'smtp', from, host: server.host, port: server.port },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: recoveryNotification })
    expect(result.ok).toBe(true)
    const { parsed } = server.mails[0]!
    expect(parsed.subject).toBe('[Jetmon] RECOVERED: example.com')
    expect(parsed.text).toContain('Recovered: https://example.com/ — Down for 12m 5s')
    expect(parsed.html).toContain('12m 5s')
  })

  it('lets no CR/LF from a site URL or a label inject a header', async () => {
    const server = await smtp()
    const sender = createAlertSender({ email: { transport: 'smtp', from, host: server.host, port: server.port } })
    const results = [
      await sender.sendTest({ transport: 'email', destination: oncall, label: 'Ops\r\nBcc: x@evil.example' }, now),
      await sender.send({
        transport: 'email',
        destination: oncall,
        notification: {
          ...downNotification,
          site: { ...downNotification.site, monitorUrl: 'not a url\r\nBcc: x@evil.example' },
        },
      }),
    ]
    expect(results.map((result) => result.ok)).toEqual([true, true])
    expect(server.mails).toHaveLength(2)
    for (const mail of server.mails) {
      expect(mail.envelope.to).toEqual(['oncall@example.com'])
      expect(mail.parsed.bcc).toBeUndefined()
      expect(mail.parsed.headers.has('bcc')).toBe(false)
      const head = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'))
      expect(head).not.toMatch(/^bcc:/im)
    }
    expect(server.mails[0]?.parsed.subject).toBe('[Jetmon] TEST: Ops Bcc: x@evil.example')
    expect(server.mails[0]?.parsed.text).toContain(
      'This is a test alert from Jetmon for contact Ops Bcc: x@evil.example',
    )
    expect(server.mails[1]?.parsed.subject).toBe('[Jetmon] DOWN: not a url Bcc: x@evil.example')
  })

  it('authenticates after STARTTLS', async () => {
    const server = await smtp({ auth: { user: 'jetmon', password: 's3cret-pw' }, tls: certificate })
    const sender = createAlertSender({
      email: {
        transport: 'smtp',
        from,
        host: server.host,
        port: server.port,
        secure: false,
        requireTls: true,
        user: 'jetmon',
        password: 's3cret-pw',
        tls: { ca: certificate.cert },
      },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toMatchObject({ ok: true, statusCode: 250 })
    expect(server.mails[0]).toMatchObject({ user: 'jetmon', secure: true })
  })

  describe('credentials and a server without STARTTLS', () => {
    const smtpConfig = {
      EMAIL_TRANSPORT: 'smtp' as const,
      EMAIL_FROM: from,
      SMTP_HOST: '127.0.0.1',
      SMTP_USER: 'jetmon',
      SMTP_PASSWORD: 'plain-text-pw-8841',
    }
    const wire = (password: string) => [password, Buffer.from(`\0jetmon\0${password}`).toString('base64')]

    it('refuses to send the password over a plain connection, by default when a user is set', async () => {
      const peer = await startPlainSmtpPeer()
      const sender = createAlertSender({
        email: emailOptionsFromConfig({ ...smtpConfig, SMTP_PORT: peer.port }),
      })
      const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
      await sender.close()
      await peer.close()

      expect(result.ok).toBe(false)
      expect(result.error).toBe(
        `email: SMTP server 127.0.0.1:${peer.port} offers no STARTTLS; SMTP_REQUIRE_TLS refuses to send credentials or mail without TLS`,
      )
      expect(peer.received).toMatch(/^EHLO /m)
      expect(peer.received).not.toMatch(/^AUTH/im)
      expect(peer.received).not.toMatch(/^MAIL FROM/im)
      for (const secret of wire('plain-text-pw-8841')) expect(peer.received).not.toContain(secret)
      expect(JSON.stringify(result)).not.toContain('plain-text-pw-8841')
    })

    it('refuses the same with SMTP_REQUIRE_TLS and no credentials', async () => {
      const peer = await startPlainSmtpPeer()
      const sender = createAlertSender({
        email: emailOptionsFromConfig({
          EMAIL_TRANSPORT: 'smtp',
          EMAIL_FROM: from,
          SMTP_HOST: '127.0.0.1',
          SMTP_PORT: peer.port,
          SMTP_REQUIRE_TLS: true,
        }),
      })
      const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
      await sender.close()
      await peer.close()
      expect(result.ok).toBe(false)
      expect(result.error).toMatch(/offers no STARTTLS; SMTP_REQUIRE_TLS refuses/)
      expect(peer.received).not.toMatch(/^MAIL FROM/im)
    })

    it('logs in over the plain connection only when SMTP_REQUIRE_TLS is false', async () => {
      const peer = await startPlainSmtpPeer()
      const sender = createAlertSender({
        email: emailOptionsFromConfig({ ...smtpConfig, SMTP_PORT: peer.port, SMTP_REQUIRE_TLS: false }),
      })
      const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
      await sender.close()
      await peer.close()
      expect(result).toMatchObject({ ok: true, statusCode: 250 })
      expect(peer.received).toMatch(/^AUTH /m)
    })
  })

  it('speaks TLS from the first byte with secure', async () => {
    const server = await smtp({ tls: certificate, secure: true })
    const sender = createAlertSender({
      email: {
        transport: 'smtp',
        from,
        host: server.host,
        port: server.port,
        secure: true,
        tls: { ca: certificate.cert },
      },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result.ok).toBe(true)
    expect(server.mails[0]?.secure).toBe(true)
  })

  it('refuses a certificate it cannot verify', async () => {
    const server = await smtp({ tls: certificate, secure: true })
    const sender = createAlertSender({
      email: { transport: 'smtp', from, host: server.host, port: server.port, secure: true },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result.ok).toBe(false)
    expect(result.error).toMatch(/^email: SMTP server 127\.0\.0\.1:\d+: .*self[- ]signed/i)
    expect(server.mails).toHaveLength(0)
  })

  it('reports a refused login without the password', async () => {
    const server = await smtp({ auth: { user: 'jetmon', password: 'right-pw' } })
    const sender = createAlertSender({
      email: {
        transport: 'smtp',
        from,
        host: server.host,
        port: server.port,
        // This loopback server has no certificate: plain login is allowed for the test.
        requireTls: false,
        user: 'jetmon',
        password: 'wrong-pw-123',
      },
    })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toMatchObject({ ok: false, statusCode: 535 })
    expect(result.error).toMatch(/^email: SMTP server 127\.0\.0\.1:\d+: .*535/)
    expect(JSON.stringify(result)).not.toContain('wrong-pw-123')
    expect(server.mails).toHaveLength(0)
  })

  it('reports a refused connection as retryable', async () => {
    const port = await refusedPort()
    const sender = createAlertSender({ email: { transport: 'smtp', from, host: '127.0.0.1', port } })
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toMatchObject({ ok: false, statusCode: null, retryable: true })
    expect(result.error).toMatch(new RegExp(`^email: SMTP server 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
  })

  it('refuses an invalid address before connecting', async () => {
    const server = await smtp()
    const sender = createAlertSender({ email: { transport: 'smtp', from, host: server.host, port: server.port } })
    const result = await sender.send({
      transport: 'email',
      destination: { address: 'oncall@example.com\r\nBcc: x@evil.example' },
      notification: downNotification,
    })
    expect(result).toMatchObject({ ok: false, retryable: false })
    expect(result.error).toBe('email: destination.address must be an email address such as oncall@example.com')
    expect(server.mails).toHaveLength(0)
  })
})

describe('email stub', () => {
  it('logs the email, says it was not delivered and sends nothing', async () => {
    const logger = recordingLogger()
    const sender = createAlertSender({ logger })
    expect(sender.emailTransport).toBe('stub')
    const result = await sender.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toMatchObject({ ok: false, statusCode: null, response: null, retryable: false })
    expect(result.error).toMatch(/^email: not delivered: EMAIL_TRANSPORT is stub/)
    expect(logger.entries).toContainEqual({
      level: 'warn',
      obj: { to: 'oncall@example.com', subject: '[Jetmon] DOWN: example.com' },
      msg: expect.stringContaining('NOT delivered'),
    })
  })
})

/**
 * A local HTTP receiver for a describe block, and `sender()`: an alert sender with `defaults`
 * (and the test's options) that is closed after the test, its guarded dispatcher destroyed.
 */
function useReceiverAndSenders(defaults: AlertSenderOptions = {}) {
  let receiver: HttpReceiver | undefined
  const senders: AlertSender[] = []
  beforeAll(async () => {
    receiver = await startHttpReceiver()
  })
  afterAll(async () => {
    await receiver?.close()
  })
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((made) => made.close()))
    if (receiver) receiver.requests.length = 0
  })
  return {
    get receiver(): HttpReceiver {
      if (!receiver) throw new Error('the receiver starts in beforeAll')
      return receiver
    },
    sender(options: AlertSenderOptions = {}): AlertSender {
      const made = createAlertSender({ ...defaults, ...options })
      senders.push(made)
      return made
    },
  }
}

describe('HTTP transports', () => {
  // The receiver is on loopback: past the SSRF guard only with allowPrivateTargets.
  const base: AlertSenderOptions = { dashboardUrl, allowInsecureHttp: true, allowPrivateTargets: true }
  const fx = useReceiverAndSenders()
  const { sender } = fx
  afterEach(() => {
    fx.receiver.answer((_request, res) => {
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success"}')
    })
  })

  it('email via WordPress.com: POSTs {to, subject, text, html} with the bearer token', async () => {
    const alerts = sender({
      ...base,
      email: { transport: 'wpcom', url: `${fx.receiver.origin}/wpcom/mail`, token: 'wpcom-token-1', from },
    })
    const result = await alerts.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toEqual({ ok: true, statusCode: 202, response: '{"status":"success"}', retryable: false })
    const [request] = fx.receiver.requests
    expect(request).toMatchObject({ method: 'POST', path: '/wpcom/mail' })
    expect(request?.headers.authorization).toBe('Bearer wpcom-token-1')
    expect(request?.headers['content-type']).toBe('application/json')
    const body = request?.json as Record<string, string>
    expect(Object.keys(body).sort()).toEqual(['from', 'html', 'subject', 'text', 'to'])
    expect(body).toMatchObject({ to: 'oncall@example.com', subject: '[Jetmon] DOWN: example.com', from })
    expect(body.text).toContain(eventUrl)
    expect(body.html).toContain(`<a href="${eventUrl}"`)

    // The endpoint builds the headers from these fields: they must arrive without CR/LF.
    const test = await alerts.sendTest(
      { transport: 'email', destination: oncall, label: 'Ops\r\nBcc: x@evil.example' },
      now,
    )
    expect(test.ok).toBe(true)
    expect(fx.receiver.requests[1]?.json).toMatchObject({ subject: '[Jetmon] TEST: Ops Bcc: x@evil.example' })
  })

  it('email via WordPress.com: a refusal that echoes the token does not leak it', async () => {
    fx.receiver.answer((request, res) => {
      res.writeHead(401).end(`bad token ${request.headers.authorization}`)
    })
    const alerts = sender({
      ...base,
      email: { transport: 'wpcom', url: `${fx.receiver.origin}/wpcom/mail`, token: 'wpcom-token-2' },
    })
    const result = await alerts.send({ transport: 'email', destination: oncall, notification: downNotification })
    expect(result).toMatchObject({
      ok: false,
      statusCode: 401,
      retryable: false,
      response: 'bad token Bearer [redacted]',
    })
    expect(result.error).toBe(
      `email: ${new URL(fx.receiver.origin).host} answered HTTP 401: bad token Bearer [redacted]`,
    )
  })

  it('PagerDuty: trigger, then resolve with the same dedup_key', async () => {
    const alerts = sender({ ...base, pagerDutyEventsUrl: `${fx.receiver.origin}/v2/enqueue` })
    const destination = { integration_key: KEY }
    const trigger = await alerts.send({ transport: 'pagerduty', destination, notification: downNotification })
    const resolve = await alerts.send({ transport: 'pagerduty', destination, notification: recoveryNotification })
    expect([trigger.ok, resolve.ok]).toEqual([true, true])
    expect(trigger).toMatchObject({ statusCode: 202, response: '{"status":"success"}' })
    expect(fx.receiver.requests.map((request) => request.path)).toEqual(['/v2/enqueue', '/v2/enqueue'])
    const [first, second] = fx.receiver.requests.map((request) => request.json as Record<string, unknown>)
    expect(first).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'jetmon-event-5',
      payload: { severity: 'critical', source: 'https://example.com/' },
      links: [{ href: eventUrl, text: 'Open the event in Jetmon' }],
    })
    expect(second).toMatchObject({
      routing_key: KEY,
      event_action: 'resolve',
      dedup_key: 'jetmon-event-5',
      payload: { summary: 'Recovered: https://example.com/ — Down for 12m 5s' },
    })
  })

  it('PagerDuty: a test send is an info trigger of its own', async () => {
    const alerts = sender({ ...base, pagerDutyEventsUrl: `${fx.receiver.origin}/v2/enqueue` })
    const result = await alerts.sendTest(
      { transport: 'pagerduty', destination: { integration_key: KEY }, label: 'Ops' },
      now,
    )
    expect(result).toEqual({ ok: true, status_code: 202, response: '{"status":"success"}', error: null })
    expect(fx.receiver.requests[0]?.json).toMatchObject({
      event_action: 'trigger',
      dedup_key: `jetmon-test-${now.getTime()}`,
      payload: { summary: 'This is a test alert from Jetmon for contact Ops', severity: 'info' },
    })
  })

  it('Slack: Block Kit blocks and a text fallback', async () => {
    fx.receiver.answer((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    })
    const alerts = sender(base)
    const webhook = `${fx.receiver.origin}/services/T000/B000/slacksecret`
    const result = await alerts.send({
      transport: 'slack',
      destination: { webhook_url: webhook },
      notification: downNotification,
    })
    expect(result).toEqual({ ok: true, statusCode: 200, response: 'ok', retryable: false })
    const [request] = fx.receiver.requests
    expect(request?.path).toBe('/services/T000/B000/slacksecret')
    const body = request?.json as { text: unknown; blocks: unknown }
    expect(body.text).toBe(
      'Down: https://example.com/ — connect_timeout: no answer within 10 s; 2 of 3 verifliers saw it down (since 2026-05-01 10:00:00 UTC)',
    )
    expectBlockKit(body.blocks)
    const blocks = body.blocks as { type: string; elements?: { url?: string }[] }[]
    expect(blocks.find((block) => block.type === 'actions')?.elements?.[0]?.url).toBe(eventUrl)
  })

  it('Teams: a message with an Adaptive Card attachment', async () => {
    const alerts = sender(base)
    const result = await alerts.send({
      transport: 'teams',
      destination: { webhook_url: `${fx.receiver.origin}/workflows/abc?sig=teamssecret` },
      notification: downNotification,
    })
    expect(result.ok).toBe(true)
    const body = fx.receiver.requests[0]?.json as Record<string, unknown>
    expect(body.type).toBe('message')
    const attachments = body.attachments as { contentType: string; content: Record<string, unknown> }[]
    expect(attachments).toHaveLength(1)
    expect(attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive')
    const card = attachments[0]!.content
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' })
    const elements = card.body as { type: string; text?: string; facts?: { title: string; value: string }[] }[]
    expect(elements.every((element) => ['TextBlock', 'FactSet'].includes(element.type))).toBe(true)
    expect(elements[0]).toMatchObject({ type: 'TextBlock', text: 'DOWN: https://example.com/', color: 'Attention' })
    expect(elements.flatMap((element) => element.facts ?? [])).toContainEqual({
      title: 'Why',
      value: 'connect_timeout: no answer within 10 s',
    })
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the event in Jetmon', url: eventUrl }])
  })

  it('a 500 is ok:false with the status and the start of the answer', async () => {
    fx.receiver.answer((_request, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal oops\n${'x'.repeat(5000)}`)
    })
    const alerts = sender(base)
    const result = await alerts.send({
      transport: 'slack',
      destination: { webhook_url: `${fx.receiver.origin}/services/T000/B000/slacksecret` },
      notification: downNotification,
    })
    expect(result).toMatchObject({ ok: false, statusCode: 500, retryable: true })
    expect(result.response).toHaveLength(2048)
    expect(result.response?.startsWith('internal oops\nxxx')).toBe(true)
    expect(result.error).toMatch(
      new RegExp(`^slack: ${new URL(fx.receiver.origin).host} answered HTTP 500: internal oops x+$`),
    )
  })

  it('never shows a webhook URL’s secret path, even when the receiver echoes it', async () => {
    fx.receiver.answer((request, res) => {
      res.writeHead(404).end(`no such webhook: ${request.path}`)
    })
    const alerts = sender(base)
    const result = await alerts.sendTest(
      {
        transport: 'slack',
        destination: { webhook_url: `${fx.receiver.origin}/services/T000/B000/slacksecret` },
        label: 'Ops',
      },
      now,
    )
    expect(result).toMatchObject({ ok: false, status_code: 404, response: 'no such webhook: [redacted]' })
    expect(JSON.stringify(result)).not.toContain('slacksecret')
  })

  it('does not follow redirects', async () => {
    fx.receiver.answer((_request, res) => {
      res.writeHead(301, { location: `${fx.receiver.origin}/elsewhere` }).end()
    })
    const alerts = sender(base)
    const result = await alerts.send({
      transport: 'teams',
      destination: { webhook_url: `${fx.receiver.origin}/workflows/abc` },
      notification: downNotification,
    })
    expect(result).toMatchObject({ ok: false, statusCode: 301, retryable: false })
    expect(result.error).toContain('redirect')
    expect(fx.receiver.requests).toHaveLength(1)
  })

  it('a refused port is ok:false "transport: …"', async () => {
    const port = await refusedPort()
    const alerts = sender({ ...base, pagerDutyEventsUrl: `http://127.0.0.1:${port}/v2/enqueue` })
    const result = await alerts.send({
      transport: 'pagerduty',
      destination: { integration_key: KEY },
      notification: downNotification,
    })
    expect(result).toEqual({
      ok: false,
      statusCode: null,
      response: null,
      error: `pagerduty: could not reach 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
      retryable: true,
    })
  })

  it('a receiver that never answers is ok:false after the time limit', async () => {
    fx.receiver.answer(() => {
      // Never answers.
    })
    const alerts = sender({ ...base, timeoutMs: 300 })
    const started = Date.now()
    const result = await alerts.send({
      transport: 'teams',
      destination: { webhook_url: `${fx.receiver.origin}/workflows/abc` },
      notification: downNotification,
    })
    const elapsed = Date.now() - started
    expect(result).toEqual({
      ok: false,
      statusCode: null,
      response: null,
      error: `teams: no answer from ${new URL(fx.receiver.origin).host} within 300 ms`,
      retryable: true,
    })
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(5000)
  })

  it('refuses an http webhook unless allowed, and sends nothing', async () => {
    const alerts = sender({ dashboardUrl })
    const result = await alerts.send({
      transport: 'slack',
      destination: { webhook_url: `${fx.receiver.origin}/services/T000/B000/slacksecret` },
      notification: downNotification,
    })
    expect(result).toMatchObject({ ok: false, retryable: false })
    expect(result.error).toMatch(/^slack: destination\.webhook_url must be an https URL/)
    expect(fx.receiver.requests).toHaveLength(0)
  })

  it('answers an unknown transport in the API’s shape', async () => {
    const alerts = sender(base)
    const { send } = { send: alerts.sendTest }
    expect(await send({ transport: 'sms', destination: {}, label: 'x' }, now)).toEqual({
      ok: false,
      status_code: null,
      response: null,
      error: 'sms: unknown transport; expected one of email, pagerduty, slack, teams',
    })
  })
})

describe('the SSRF guard (HTTP transports)', () => {
  // Guard on (the default) unless told; http allowed so that only the guard stands in the way.
  const fx = useReceiverAndSenders({ dashboardUrl, allowInsecureHttp: true })
  const { sender } = fx

  const cases = [
    { transport: 'slack', path: '/services/T000/B000/slacksecret', secret: 'slacksecret' },
    { transport: 'teams', path: '/workflows/abc?sig=teamssecret', secret: 'teamssecret' },
  ] as const

  for (const { transport, path, secret } of cases) {
    it(`${transport}: refuses a loopback receiver for good and sends nothing`, async () => {
      const url = `${fx.receiver.origin}${path}`
      const result = await sender().send({
        transport,
        destination: { webhook_url: url },
        notification: downNotification,
      })
      expect(result).toMatchObject({ ok: false, statusCode: null, response: null, retryable: false })
      expect(result.error).toMatch(
        new RegExp(`^${transport}: 127\\.0\\.0\\.1 is a loopback address: .*WEBHOOK_ALLOW_PRIVATE_TARGETS`),
      )
      expect(JSON.stringify(result)).not.toContain(secret)
      expect(JSON.stringify(result)).not.toContain(path.split('?')[0])
      expect(fx.receiver.requests).toHaveLength(0)
    })

    it(`${transport}: delivers to the same receiver with allowPrivateTargets`, async () => {
      const url = `${fx.receiver.origin}${path}`
      const result = await sender({ allowPrivateTargets: true }).send({
        transport,
        destination: { webhook_url: url },
        notification: downNotification,
      })
      expect(result).toMatchObject({ ok: true, statusCode: 202 })
      expect(fx.receiver.requests.map((request) => request.path)).toEqual([path])
    })
  }

  it('judges a host name by what it resolves to, at connection time', async () => {
    const url = `http://localhost:${new URL(fx.receiver.origin).port}/services/T000/B000/slacksecret`
    const result = await sender().sendTest({ transport: 'slack', destination: { webhook_url: url }, label: 'Ops' }, now)
    expect(result).toMatchObject({ ok: false, status_code: null })
    expect(result.error).toMatch(/^slack: localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/)
    expect(result.error).not.toContain('slacksecret')
    expect(fx.receiver.requests).toHaveLength(0)
  })

  it('PagerDuty: refuses a private events URL, with allowPrivateTargets delivers', async () => {
    const pagerDutyEventsUrl = `${fx.receiver.origin}/v2/enqueue`
    const request = { transport: 'pagerduty', destination: { integration_key: KEY }, notification: downNotification }
    const refused = await sender({ pagerDutyEventsUrl }).send(request)
    expect(refused).toMatchObject({ ok: false, statusCode: null, retryable: false })
    expect(refused.error).toMatch(/^pagerduty: 127\.0\.0\.1 is a loopback address/)
    expect(JSON.stringify(refused)).not.toContain(KEY)
    expect(fx.receiver.requests).toHaveLength(0)

    const sent = await sender({ pagerDutyEventsUrl, allowPrivateTargets: true }).send(request)
    expect(sent).toMatchObject({ ok: true, statusCode: 202 })
    expect(fx.receiver.requests).toHaveLength(1)
  })

  it('a dispatcher of the caller’s replaces the guard (allowPrivateTargets is ignored)', async () => {
    const dispatcher = new Agent()
    try {
      const result = await sender({ dispatcher, allowPrivateTargets: false }).send({
        transport: 'teams',
        destination: { webhook_url: `${fx.receiver.origin}/workflows/abc` },
        notification: downNotification,
      })
      expect(result.ok).toBe(true)
      expect(fx.receiver.requests).toHaveLength(1)
    } finally {
      await dispatcher.close()
    }
  })
})

/** The Block Kit rules Slack enforces on the blocks Jetmon sends (api.slack.com/reference/block-kit). */
function expectBlockKit(blocks: unknown): void {
  expect(Array.isArray(blocks)).toBe(true)
  const list = blocks as Record<string, unknown>[]
  expect(list.length).toBeGreaterThan(0)
  expect(list.length).toBeLessThanOrEqual(50)
  const text = (value: unknown, types: string[], max: number) => {
    const object = value as { type: string; text: string }
    expect(types).toContain(object.type)
    expect(typeof object.text).toBe('string')
    expect(object.text.length).toBeGreaterThan(0)
    expect(object.text.length).toBeLessThanOrEqual(max)
  }
  for (const block of list) {
    switch (block.type) {
      case 'header':
        text(block.text, ['plain_text'], 150)
        break
      case 'section': {
        expect(block.text !== undefined || block.fields !== undefined).toBe(true)
        if (block.text !== undefined) text(block.text, ['plain_text', 'mrkdwn'], 3000)
        const fields = (block.fields ?? []) as unknown[]
        expect(fields.length).toBeLessThanOrEqual(10)
        for (const field of fields) text(field, ['plain_text', 'mrkdwn'], 2000)
        break
      }
      case 'context': {
        const elements = block.elements as unknown[]
        expect(elements.length).toBeGreaterThan(0)
        expect(elements.length).toBeLessThanOrEqual(10)
        for (const element of elements) text(element, ['plain_text', 'mrkdwn'], 3000)
        break
      }
      case 'actions': {
        const elements = block.elements as Record<string, unknown>[]
        expect(elements.length).toBeLessThanOrEqual(25)
        for (const element of elements) {
          expect(element.type).toBe('button')
          text(element.text, ['plain_text'], 75)
          expect(String(element.url)).toMatch(/^https?:\/\//)
        }
        break
      }
      default:
        throw new Error(`unexpected block type ${String(block.type)}`)
    }
  }
}
