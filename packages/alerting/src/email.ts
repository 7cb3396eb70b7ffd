import type { ConnectionOptions } from 'node:tls'
import { SenderConfigError } from './errors.js'
import { type AlertMessage, type AlertTone, oneLine, renderAlertText } from './message.js'

/** The `EMAIL_TRANSPORT` choices. */
export type EmailTransportName = 'smtp' | 'wpcom' | 'stub'

/** `EMAIL_TRANSPORT=smtp`: nodemailer to an SMTP server. */
export interface SmtpEmailOptions {
  transport: 'smtp'
  /** `EMAIL_FROM`, such as `Jetmon <jetmon@example.com>`. */
  from: string
  /** `SMTP_HOST`. */
  host: string
  /** `SMTP_PORT`; default 465 with `secure`, 587 without. */
  port?: number
  /**
   * `SMTP_SECURE`: TLS from the first byte (usually port 465). When false the connection is
   * upgraded with STARTTLS if the server offers it.
   */
  secure?: boolean
  /**
   * `SMTP_REQUIRE_TLS`: refuse to log in or send unless the plain connection is upgraded with
   * STARTTLS (a server that offers no STARTTLS, or a path that strips it, gets neither the
   * credentials nor the mail). Default: true when `user` is set, false otherwise. Moot with `secure`.
   */
  requireTls?: boolean
  /** `SMTP_USER`; leave out for a server without authentication. */
  user?: string
  /** `SMTP_PASSWORD`. Never logged, never in an error. */
  password?: string
  /** Extra `tls.connect` options, such as `ca` for a relay with a private certificate authority. */
  tls?: ConnectionOptions
}

/** `EMAIL_TRANSPORT=wpcom`: a JSON POST to the WordPress.com email endpoint. */
export interface WpcomEmailOptions {
  transport: 'wpcom'
  /** `WPCOM_EMAIL_URL`. */
  url: string
  /** `WPCOM_EMAIL_TOKEN`, sent as `Authorization: Bearer <token>`. Never logged, never in an error. */
  token: string
  /** `EMAIL_FROM`; sent as `from` in the body when set. */
  from?: string
}

/** `EMAIL_TRANSPORT=stub`: emails are logged, not delivered (the app WARNs about it at startup). */
export interface StubEmailOptions {
  transport: 'stub'
}

/** How alert emails leave. */
export type EmailOptions = SmtpEmailOptions | WpcomEmailOptions | StubEmailOptions

/** The configuration keys {@link emailOptionsFromConfig} reads (the app's parsed config fits). */
export interface EmailConfig {
  EMAIL_TRANSPORT?: EmailTransportName
  EMAIL_FROM?: string
  SMTP_HOST?: string
  SMTP_PORT?: number
  SMTP_USER?: string
  SMTP_PASSWORD?: string
  SMTP_SECURE?: boolean
  SMTP_REQUIRE_TLS?: boolean
  WPCOM_EMAIL_URL?: string
  WPCOM_EMAIL_TOKEN?: string
}

/**
 * Maps the `EMAIL_TRANSPORT`, `EMAIL_FROM`, `SMTP_*` and `WPCOM_EMAIL_*` keys to
 * {@link EmailOptions}. `EMAIL_TRANSPORT` defaults to `stub`.
 *
 * @throws {SenderConfigError} when a key the chosen transport needs is missing (the config
 *   validation reports these first; this guards callers that skipped it).
 */
export function emailOptionsFromConfig(config: EmailConfig): EmailOptions {
  const transport = config.EMAIL_TRANSPORT ?? 'stub'
  const need = (key: keyof EmailConfig): string => {
    const value = config[key]
    if (typeof value !== 'string' || value === '') {
      throw new SenderConfigError(`${key} is required when EMAIL_TRANSPORT is ${transport}`)
    }
    return value
  }
  switch (transport) {
    case 'stub':
      return { transport: 'stub' }
    case 'wpcom':
      return {
        transport: 'wpcom',
        url: need('WPCOM_EMAIL_URL'),
        token: need('WPCOM_EMAIL_TOKEN'),
        ...(config.EMAIL_FROM ? { from: config.EMAIL_FROM } : {}),
      }
    case 'smtp': {
      if (config.SMTP_PASSWORD !== undefined && !config.SMTP_USER) {
        throw new SenderConfigError('SMTP_USER is required when SMTP_PASSWORD is set')
      }
      const options: SmtpEmailOptions = {
        transport: 'smtp',
        from: need('EMAIL_FROM'),
        host: need('SMTP_HOST'),
        secure: config.SMTP_SECURE ?? false,
      }
      if (config.SMTP_PORT !== undefined) options.port = config.SMTP_PORT
      if (config.SMTP_REQUIRE_TLS !== undefined) options.requireTls = config.SMTP_REQUIRE_TLS
      if (config.SMTP_USER) {
        options.user = config.SMTP_USER
        options.password = config.SMTP_PASSWORD ?? ''
      }
      return options
    }
    default:
      throw new SenderConfigError(`EMAIL_TRANSPORT must be smtp, wpcom or stub, not ${String(transport)}`)
  }
}

/** An alert email, ready for any email transport. */
export interface AlertEmail {
  to: string
  /** `[Jetmon] DOWN: example.com`; no CR or LF. */
  subject: string
  text: string
  html: string
}

/**
 * The email for a message: the subject line, the text part and an HTML part with every value
 * escaped. `to` is stripped of control characters like the subject.
 */
export function renderAlertEmail(message: AlertMessage, to: string): AlertEmail {
  return {
    to: oneLine(to),
    subject: oneLine(message.subject),
    text: renderAlertText(message),
    html: renderAlertHtml(message),
  }
}

const TONE_COLOURS: Record<AlertTone, string> = {
  critical: '#d63638',
  warning: '#dba617',
  ok: '#00a32a',
  info: '#2271b1',
}

/** The HTML part: a heading in the tone's colour, the summary, a table of facts, the link. */
export function renderAlertHtml(message: AlertMessage): string {
  const rows = message.fields
    .map(
      (field) =>
        `<tr><th align="left" valign="top" style="padding:4px 16px 4px 0;white-space:nowrap">${escapeHtml(field.label)}</th>` +
        `<td style="padding:4px 0">${escapeHtml(field.value)}</td></tr>`,
    )
    .join('\n')
  const votes = message.votes.length
    ? `<ul style="margin:8px 0;padding-left:20px">\n${message.votes.map((vote) => `<li>${escapeHtml(`${vote.label}: ${vote.value}`)}</li>`).join('\n')}\n</ul>\n`
    : ''
  const link = message.eventUrl
    ? `<p style="margin:16px 0"><a href="${escapeHtml(message.eventUrl)}" style="color:#2271b1">Open the event in Jetmon</a></p>\n`
    : ''
  return (
    '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8">' +
    `<title>${escapeHtml(message.subject)}</title></head>\n` +
    '<body style="font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2327;font-size:14px">\n' +
    `<h1 style="font-size:20px;margin:0 0 8px;color:${TONE_COLOURS[message.tone]}">${escapeHtml(message.title)}</h1>\n` +
    `<p style="margin:0 0 12px">${escapeHtml(message.summary)}</p>\n` +
    `<table role="presentation" style="border-collapse:collapse">\n${rows}\n</table>\n` +
    votes +
    link +
    `<p style="margin:16px 0 0;color:#646970;font-size:12px">${escapeHtml(message.footer)}</p>\n` +
    '</body>\n</html>\n'
  )
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char)
}
