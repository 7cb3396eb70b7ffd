import { describe, expect, it } from 'vitest'
import { downNotification, recoveryNotification } from '../test/_notifications.js'
import { emailOptionsFromConfig, renderAlertEmail, renderAlertHtml } from './email.js'
import { SenderConfigError } from './errors.js'
import { renderAlertMessage, renderAlertText } from './message.js'
import { createAlertSender } from './sender.js'
import { slackMessage } from './slack.js'
import { teamsMessage } from './teams.js'

const dashboardUrl = 'https://jetmon.example/'

describe('renderAlertMessage', () => {
  it('says what is down, since when, why, what the verifliers saw, and links the event', () => {
    const message = renderAlertMessage(downNotification, { dashboardUrl })
    expect(message).toMatchObject({
      kind: 'trigger',
      tag: 'DOWN',
      tone: 'critical',
      title: 'DOWN: https://example.com/',
      subject: '[Jetmon] DOWN: example.com',
      eventUrl: 'https://jetmon.example/events/5',
      siteUrl: 'https://example.com/',
    })
    expect(renderAlertText(message)).toBe(
      [
        'Down: https://example.com/ — connect_timeout: no answer within 10 s; 2 of 3 verifliers saw it down (since 2026-05-01 10:00:00 UTC)',
        '',
        'State:      Down',
        'Site:       https://example.com/',
        'Since:      2026-05-01 10:00:00 UTC',
        'Why:        connect_timeout: no answer within 10 s',
        'Verifliers: 2 of 3 saw it down',
        '  - v-eu (eu): down, error 7',
        '  - v-us (us): down, error 7',
        '  - v-ap (ap): up, HTTP 200, 120 ms',
        '',
        'Open the event in Jetmon: https://jetmon.example/events/5',
        '',
        '-- ',
        'Jetmon event 5 (blog 42, endpoint 12), transition 77 (verifier_confirmed) at 2026-05-01 10:01:10 UTC.',
        '',
      ].join('\n'),
    )
  })

  it('says how long a recovered site was down', () => {
    const message = renderAlertMessage(recoveryNotification, { dashboardUrl })
    expect(message).toMatchObject({
      kind: 'recovery',
      tag: 'RECOVERED',
      tone: 'ok',
      subject: '[Jetmon] RECOVERED: example.com',
    })
    expect(message.summary).toBe('Recovered: https://example.com/ — Down for 12m 5s')
    expect(message.fields).toEqual([
      { label: 'State', value: 'Recovered (was Down)' },
      { label: 'Site', value: 'https://example.com/' },
      { label: 'Down for', value: '12m 5s' },
      { label: 'From', value: '2026-05-01 10:00:00 UTC' },
      { label: 'Until', value: '2026-05-01 10:12:05 UTC' },
      { label: 'Why it was down', value: 'connect_timeout: no answer within 10 s' },
    ])
    expect(message.votes).toEqual([])
  })

  it('names false alarms and manual closes in the subject and says why', () => {
    const message = renderAlertMessage({
      ...recoveryNotification,
      event: { ...recoveryNotification.event, state: 'Seems Down', severity: 3 },
      transition: { ...recoveryNotification.transition, reason: 'false_alarm' },
    })
    expect(message.subject).toBe('[Jetmon] RESOLVED: example.com')
    expect(message.fields).toContainEqual({ label: 'Closed because', value: 'false alarm: the verifliers found it up' })
    expect(message.fields).toContainEqual({ label: 'Seems Down for', value: '12m 5s' })
  })

  it.each([
    ['slo_burn', 'burn_rate_subsided', 'the error budget no longer burns fast enough to alert'],
    ['slo_budget', 'budget_recovered', 'the error budget left is above its warning threshold again'],
  ])('says why an objective’s %s alert closed (%s)', (checkType, reason, why) => {
    const message = renderAlertMessage({
      ...recoveryNotification,
      event: { ...recoveryNotification.event, checkType, state: 'Degraded', severity: 2 },
      transition: { ...recoveryNotification.transition, reason },
    })
    expect(message.subject).toBe(`[Jetmon] RESOLVED: example.com [${checkType}]`)
    expect(message.fields).toContainEqual({ label: 'Closed because', value: why })
  })

  it('tags other check types, keeps the path in the subject and prefers an explicit event URL', () => {
    const message = renderAlertMessage(
      {
        ...downNotification,
        event: { ...downNotification.event, checkType: 'tls_expiry', state: 'Warning', severity: 1 },
        site: { ...downNotification.site, monitorUrl: 'https://example.com/shop?x=1' },
        cause: { errorDetail: 'certificate expires in 12 days' },
        eventUrl: 'https://elsewhere.example/e/5',
      },
      { dashboardUrl },
    )
    expect(message.subject).toBe('[Jetmon] WARNING: example.com/shop [tls_expiry]')
    expect(message.tone).toBe('warning')
    expect(message.eventUrl).toBe('https://elsewhere.example/e/5')
    expect(message.fields).toContainEqual({ label: 'Check', value: 'tls_expiry' })
  })

  it('has no link without a dashboard URL', () => {
    const message = renderAlertMessage(downNotification)
    expect(message.eventUrl).toBeNull()
    expect(renderAlertText(message)).not.toContain('Open the event')
  })

  it('renders a test send', () => {
    const message = renderAlertMessage({
      match: 'test',
      contactLabel: 'Ops pager',
      sentAt: new Date('2026-05-01T10:00:00Z'),
    })
    expect(message).toMatchObject({
      kind: 'test',
      subject: '[Jetmon] TEST: Ops pager',
      summary: 'This is a test alert from Jetmon for contact Ops pager',
      fields: [
        { label: 'Contact', value: 'Ops pager' },
        { label: 'Sent at', value: '2026-05-01 10:00:00 UTC' },
      ],
    })
  })

  it('keeps CR/LF out of the subject whatever the URL or label holds', () => {
    const injected = renderAlertMessage({
      ...downNotification,
      site: { ...downNotification.site, monitorUrl: 'not a url\r\nBcc: x@evil.example' },
    })
    expect(injected.subject).toBe('[Jetmon] DOWN: not a url Bcc: x@evil.example')
    const test = renderAlertMessage({ match: 'test', contactLabel: 'Ops\r\nBcc: x@evil.example', sentAt: new Date() })
    expect(test.subject).toBe('[Jetmon] TEST: Ops Bcc: x@evil.example')
    expect(renderAlertEmail(test, 'a@example.com\r\nBcc: x@evil.example').to).not.toMatch(/[\r\n]/)
  })
})

describe('renderAlertHtml', () => {
  it('escapes every value', () => {
    const message = renderAlertMessage(
      {
        ...downNotification,
        site: { ...downNotification.site, monitorUrl: 'https://example.com/?q="><script>alert(1)</script>' },
        cause: { errorName: 'http_status', errorDetail: "<b>Bad</b> & 'worse'" },
        contactLabel: '<img src=x onerror=alert(1)>',
      },
      { dashboardUrl },
    )
    const html = renderAlertHtml(message)
    expect(html).not.toMatch(/<script|<b>|<img/)
    expect(html).toContain('https://example.com/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('&lt;b&gt;Bad&lt;/b&gt; &amp; &#39;worse&#39;')
    expect(html).toContain('<a href="https://jetmon.example/events/5"')
  })
})

describe('slackMessage', () => {
  it('builds Block Kit blocks with a text fallback and escapes mrkdwn', () => {
    const message = renderAlertMessage(
      {
        ...downNotification,
        cause: { errorName: 'http_status', errorDetail: 'got <!channel> & <https://evil|click>' },
      },
      { dashboardUrl },
    )
    const slack = slackMessage(message)
    expect(slack.text).toContain('got &lt;!channel&gt; &amp; &lt;https://evil|click&gt;')
    expect(slack.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'actions', 'context'])
    expect(JSON.stringify(slack)).not.toContain('<!channel>')
    expect(slack.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 DOWN: https://example.com/', emoji: true },
    })
  })

  it('stays within Block Kit limits for huge values', () => {
    const message = renderAlertMessage({
      ...downNotification,
      site: { ...downNotification.site, monitorUrl: `https://example.com/${'a'.repeat(5000)}` },
    })
    const slack = slackMessage(message)
    const header = slack.blocks[0]
    expect(header?.type === 'header' && header.text.text.length).toBeLessThanOrEqual(150)
    for (const block of slack.blocks) {
      if (block.type === 'section') {
        expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000)
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000)
      }
    }
  })
})

describe('teamsMessage', () => {
  it('wraps an Adaptive Card in a message', () => {
    const teams = teamsMessage(renderAlertMessage(recoveryNotification, { dashboardUrl }))
    expect(teams.type).toBe('message')
    expect(teams.attachments).toHaveLength(1)
    const card = teams.attachments[0]?.content
    expect(teams.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive')
    expect(card?.body[0]).toMatchObject({ type: 'TextBlock', text: 'RECOVERED: https://example.com/', color: 'Good' })
    expect(card?.body).toContainEqual({
      type: 'FactSet',
      facts: expect.arrayContaining([{ title: 'Down for', value: '12m 5s' }]),
    })
    expect(card?.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the event in Jetmon', url: 'https://jetmon.example/events/5' },
    ])
  })
})

describe('emailOptionsFromConfig', () => {
  it('maps each EMAIL_TRANSPORT', () => {
    expect(emailOptionsFromConfig({})).toEqual({ transport: 'stub' })
    expect(
      emailOptionsFromConfig({
        EMAIL_TRANSPORT: 'smtp',
        EMAIL_FROM: 'Jetmon <jetmon@example.com>',
        SMTP_HOST: 'smtp.example.com',
        SMTP_PORT: 2525,
        SMTP_USER: 'jetmon',
        SMTP_PASSWORD: 'pw',
        SMTP_SECURE: true,
      }),
    ).toEqual({
      transport: 'smtp',
      from: 'Jetmon <jetmon@example.com>',
      host: 'smtp.example.com',
      port: 2525,
      secure: true,
      user: 'jetmon',
      password: 'pw',
    })
    expect(
      emailOptionsFromConfig({
        EMAIL_TRANSPORT: 'wpcom',
        WPCOM_EMAIL_URL: 'https://public-api.example/mail',
        WPCOM_EMAIL_TOKEN: 'tok',
      }),
    ).toEqual({ transport: 'wpcom', url: 'https://public-api.example/mail', token: 'tok' })
  })

  it('names the missing key', () => {
    expect(() => emailOptionsFromConfig({ EMAIL_TRANSPORT: 'smtp', EMAIL_FROM: 'a@example.com' })).toThrow(
      new SenderConfigError('SMTP_HOST is required when EMAIL_TRANSPORT is smtp'),
    )
    expect(() => emailOptionsFromConfig({ EMAIL_TRANSPORT: 'wpcom', WPCOM_EMAIL_URL: 'https://x.example' })).toThrow(
      /WPCOM_EMAIL_TOKEN is required/,
    )
  })
})

describe('createAlertSender', () => {
  it('refuses options that cannot work, at startup', () => {
    expect(() => createAlertSender({ pagerDutyEventsUrl: 'ftp://example.com' })).toThrow(SenderConfigError)
    expect(() => createAlertSender({ timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => createAlertSender({ email: { transport: 'wpcom', url: 'https://x.example', token: '' } })).toThrow(
      /WPCOM_EMAIL_TOKEN is empty/,
    )
    expect(createAlertSender().emailTransport).toBe('stub')
  })
})

describe('a digest', () => {
  const digest = {
    match: 'digest' as const,
    title: 'Service level objectives, week of 2026-11-23',
    summary: '1 objective from 2026-11-23 to 2026-11-30 (UTC).',
    fields: [{ label: 'checkout <shop> (blog 7)', value: 'SLI 99.9 % over the week · alerts opened 1' }],
    footer: 'You receive it because alert contact “ops” opted in.',
  }

  it('renders as an informational message with no event, one field per item', () => {
    const message = renderAlertMessage(digest, { dashboardUrl })
    expect(message).toMatchObject({ kind: 'digest', tag: 'DIGEST', tone: 'info', eventUrl: null, votes: [] })
    expect(message.subject).toBe('[Jetmon] Service level objectives, week of 2026-11-23')
    const email = renderAlertEmail(message, 'ops@example.com')
    expect(email.text).toContain('checkout <shop> (blog 7): SLI 99.9 % over the week · alerts opened 1')
    expect(email.html).toContain('checkout &lt;shop&gt; (blog 7)')
    expect(JSON.stringify(slackMessage(message))).toContain('alerts opened 1')
    expect(JSON.stringify(teamsMessage(message))).toContain('alerts opened 1')
  })
})
