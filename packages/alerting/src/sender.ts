import { ALERT_TRANSPORTS, type AlertTransport, type Logger, noopLogger } from '@jetmon/vocabulary'
import { createWebhookDispatcher } from '@jetmon/webhooks'
import { createTransport, type NodemailerError } from 'nodemailer'
import type { Dispatcher } from 'undici'
import { formatMs, type HttpContext, postJson, redactor, urlSecrets } from './_http.js'
import { isAlertTransport, validateDestination } from './destination.js'
import {
  type AlertEmail,
  type EmailOptions,
  type EmailTransportName,
  renderAlertEmail,
  type SmtpEmailOptions,
  type WpcomEmailOptions,
} from './email.js'
import { SenderConfigError } from './errors.js'
import { type AlertMessage, type OutgoingNotification, renderAlertMessage } from './message.js'
import { PAGERDUTY_EVENTS_URL, pagerDutyEvent, pagerDutyTestEvent } from './pagerduty.js'
import type { AlertSendResult } from './result.js'
import { slackMessage } from './slack.js'
import { teamsMessage } from './teams.js'

/** The subset of pino's logger the senders use (the shared `Logger`); pass a pino logger (a child) or nothing. */
export type AlertingLogger = Logger

const noop = () => {}

/** Options of {@link createAlertSender}. */
export interface AlertSenderOptions {
  /** How emails leave (see `emailOptionsFromConfig`). Default `{ transport: 'stub' }`: logged, not delivered. */
  email?: EmailOptions
  /** The dashboard's public URL; messages link to `${dashboardUrl}/events/<id>`. */
  dashboardUrl?: string | null
  /** Where PagerDuty events go. Default {@link PAGERDUTY_EVENTS_URL}. */
  pagerDutyEventsUrl?: string
  /** Per send, from connecting to the end of the answer (SMTP: each wait). Default 10 000 ms. */
  timeoutMs?: number
  /**
   * An undici dispatcher for every HTTP send (an Agent with limits, a proxy agent); the caller owns
   * it, and it replaces the SSRF guard. Default: PagerDuty, Slack and Teams go through
   * `createWebhookDispatcher` of @jetmon/webhooks (the guard at connection time), owned by the
   * sender and destroyed by its `close()`; WordPress.com email through undici's global dispatcher.
   */
  dispatcher?: Dispatcher
  /**
   * `WEBHOOK_ALLOW_PRIVATE_TARGETS`. HTTP transports — Slack, Teams, PagerDuty — connect through the
   * SSRF guard of @jetmon/webhooks (no loopback, private, link-local, metadata… addresses) unless
   * true. Default false. Ignored when `dispatcher` is given.
   */
  allowPrivateTargets?: boolean
  /**
   * Accept `http://` Slack and Teams webhook URLs (a local relay, tests). Default false: they must
   * be https, as the API requires when a contact is saved.
   */
  allowInsecureHttp?: boolean
  /** Default `Jetmon`. */
  userAgent?: string
  logger?: AlertingLogger
}

/** One send: a transport, its destination (as stored on the contact) and what to say. */
export interface AlertSendRequest {
  transport: AlertTransport | string
  destination: unknown
  notification: OutgoingNotification
}

/** The alert contact a test send goes to (the API's `alertTester` takes it as is). */
export interface AlertTestContact {
  transport: AlertTransport | string
  destination: unknown
  label: string
}

/** A test send's outcome in the API's words (`status_code`, `response`, `error`). */
export interface AlertTestResult {
  ok: boolean
  status_code?: number | null
  response?: string | null
  error?: string | null
}

/** Sends alerts through any alert contact. Its functions may be passed around unbound. */
export interface AlertSender {
  /** Which email transport is in use; the app WARNs at startup when it is `stub`. */
  readonly emailTransport: EmailTransportName
  /**
   * Renders the notification for the transport and sends it. Never throws: a receiver's failure
   * (non-2xx, time limit, refused connection), an invalid destination and the stub transport are
   * `ok: false` results with an `error` of the form `<transport>: …`.
   */
  send(request: AlertSendRequest): Promise<AlertSendResult>
  /**
   * Sends "This is a test alert from Jetmon for contact <label>" to the contact, answering in the
   * shape the API server's `alertTester.send` returns: `{ alertTester: { send: sender.sendTest } }`.
   */
  sendTest(contact: AlertTestContact, now: Date): Promise<AlertTestResult>
  /** Closes the SMTP transport's connections, if any, and the HTTP dispatcher the sender made. */
  close(): Promise<void>
}

/**
 * Builds the sender used by the delivery worker and by the API's synchronous test send.
 *
 * - `email`: SMTP (nodemailer; TLS or STARTTLS; auth optional), WordPress.com (a JSON POST with a
 *   bearer token) or stub; multipart text + HTML, header values stripped of CR/LF.
 * - `pagerduty`: Events API v2 `trigger`/`resolve` with `dedup_key = jetmon-event-<event id>`.
 * - `slack`: incoming webhook, Block Kit blocks with a `text` fallback.
 * - `teams`: incoming webhook, a message with one Adaptive Card attachment.
 *
 * HTTP goes through undici with no redirects followed; answers are kept to their first 2 KiB.
 * PagerDuty, Slack and Teams connect through the SSRF guard of @jetmon/webhooks unless
 * `allowPrivateTargets` (or a `dispatcher` of the caller's): a refused address is a permanent
 * failure (`retryable: false`).
 * Secrets (SMTP password, bearer token, integration keys, webhook URLs' paths) never appear in a
 * result or a log line.
 *
 * @throws {SenderConfigError} when the options cannot work (a missing SMTP host, a non-http URL).
 */
export function createAlertSender(options: AlertSenderOptions = {}): AlertSender {
  const logger = options.logger ?? noopLogger
  const timeoutMs = options.timeoutMs ?? 10_000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SenderConfigError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  }
  const userAgent = options.userAgent ?? 'Jetmon'
  const pagerDutyUrl = httpUrlOption('pagerDutyEventsUrl', options.pagerDutyEventsUrl ?? PAGERDUTY_EVENTS_URL)
  const allowInsecureHttp = options.allowInsecureHttp ?? false
  const emailOptions = options.email ?? { transport: 'stub' }
  // WordPress.com email goes to an operator's configured endpoint (WPCOM_EMAIL_URL), as before.
  const sendEmail = emailSender(emailOptions, { timeoutMs, dispatcher: options.dispatcher, userAgent }, logger)
  // Made last: nothing above may throw once the sender owns a dispatcher it must destroy.
  const ownDispatcher =
    options.dispatcher === undefined
      ? createWebhookDispatcher({
          allowPrivateTargets: options.allowPrivateTargets === true,
          connectTimeoutMs: timeoutMs,
        })
      : null
  const http: HttpContext = { timeoutMs, dispatcher: options.dispatcher ?? ownDispatcher ?? undefined, userAgent }

  async function deliver(
    transport: AlertTransport,
    destination: unknown,
    message: AlertMessage,
    request: AlertSendRequest,
  ) {
    const fields = destination as Record<string, string>
    switch (transport) {
      case 'email':
        return sendEmail(renderAlertEmail(message, fields.address ?? ''))
      case 'pagerduty': {
        const key = fields.integration_key ?? ''
        const { notification } = request
        if (notification.match === 'digest') return refused('pagerduty: pages only on events; a digest is not sent')
        const body =
          notification.match === 'test'
            ? pagerDutyTestEvent(key, notification.contactLabel, notification.sentAt)
            : pagerDutyEvent({ ...notification, integrationKey: key, eventUrl: message.eventUrl })
        return postJson(http, { transport, url: pagerDutyUrl, body, secrets: [key] })
      }
      case 'slack':
      case 'teams': {
        const url = new URL(fields.webhook_url ?? '')
        const body = transport === 'slack' ? slackMessage(message) : teamsMessage(message)
        return postJson(http, { transport, url, body, secrets: urlSecrets(url) })
      }
    }
  }

  async function send(request: AlertSendRequest): Promise<AlertSendResult> {
    const { transport, destination } = request
    if (!isAlertTransport(transport)) {
      return refused(`${transport}: unknown transport; expected one of ${ALERT_TRANSPORTS.join(', ')}`)
    }
    const problem = destinationProblem(transport, destination, allowInsecureHttp)
    if (problem) return refused(`${transport}: ${problem}`)
    const started = performance.now()
    let result: AlertSendResult
    try {
      const message = renderAlertMessage(request.notification, { dashboardUrl: options.dashboardUrl ?? null })
      result = await deliver(transport, destination, message, request)
    } catch (error) {
      // Rendering or a transport broke on its own (a bug, bad input such as an unknown severity):
      // reported like any failure so one bad notification cannot stop a worker.
      logger.error({ err: error, transport }, `alert send failed inside Jetmon (${transport}); this is a bug`)
      const reason = error instanceof Error ? error.message : String(error)
      result = refused(`${transport}: could not build or send the message: ${reason}`)
    }
    logger.debug(
      {
        transport,
        kind: request.notification.match,
        ok: result.ok,
        statusCode: result.statusCode,
        durationMs: Math.round(performance.now() - started),
        ...(result.error ? { error: result.error } : {}),
      },
      result.ok ? 'alert sent' : 'alert not sent',
    )
    return result
  }

  async function sendTest(contact: AlertTestContact, now: Date): Promise<AlertTestResult> {
    const result = await send({
      transport: contact.transport,
      destination: contact.destination,
      notification: { match: 'test', contactLabel: contact.label, sentAt: now },
    })
    return { ok: result.ok, status_code: result.statusCode, response: result.response, error: result.error ?? null }
  }

  return {
    emailTransport: emailOptions.transport,
    send,
    sendTest,
    close: async () => {
      sendEmail.close()
      // destroy, not close: a receiver that never answers must not hold up a shutdown.
      await ownDispatcher?.destroy().catch(() => {})
    },
  }
}

/** A send refused before anything went out: sending it again would be refused again. */
function refused(error: string): AlertSendResult {
  return { ok: false, statusCode: null, response: null, error, retryable: false }
}

function destinationProblem(
  transport: AlertTransport,
  destination: unknown,
  allowInsecureHttp: boolean,
): string | null {
  let checked = destination
  if (allowInsecureHttp && (transport === 'slack' || transport === 'teams') && isRecord(destination)) {
    const url = destination.webhook_url
    // Checked as if it were https: everything else about the URL still has to hold.
    if (typeof url === 'string' && /^http:/i.test(url))
      checked = { ...destination, webhook_url: `https:${url.slice(5)}` }
  }
  const issues = validateDestination(transport, checked)
  return issues.length ? issues.map((issue) => `${issue.path} ${issue.message}`).join('; ') : null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function httpUrlOption(name: string, value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new SenderConfigError(`${name} is not a URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SenderConfigError(`${name} must be an http(s) URL, not ${url.protocol.replace(/:$/, '')}`)
  }
  return url
}

type EmailSender = ((email: AlertEmail) => Promise<AlertSendResult>) & { close(): void }

function emailSender(options: EmailOptions, http: HttpContext, logger: AlertingLogger): EmailSender {
  switch (options.transport) {
    case 'stub':
      return Object.assign(
        async (email: AlertEmail): Promise<AlertSendResult> => {
          logger.warn(
            { to: email.to, subject: email.subject },
            'alert email NOT delivered: EMAIL_TRANSPORT is stub, which only logs emails (set it to smtp or wpcom)',
          )
          logger.debug({ to: email.to, text: email.text }, 'the undelivered alert email')
          return refused(
            'email: not delivered: EMAIL_TRANSPORT is stub, which only logs emails; set EMAIL_TRANSPORT to smtp or wpcom',
          )
        },
        { close: noop },
      )
    case 'wpcom':
      return wpcomSender(options, http)
    case 'smtp':
      return smtpSender(options, http.timeoutMs)
    default:
      throw new SenderConfigError(
        `email transport must be smtp, wpcom or stub, not ${String((options as { transport: unknown }).transport)}`,
      )
  }
}

function wpcomSender(options: WpcomEmailOptions, http: HttpContext): EmailSender {
  const url = httpUrlOption('WPCOM_EMAIL_URL', options.url)
  if (!options.token) throw new SenderConfigError('WPCOM_EMAIL_TOKEN is empty: WordPress.com would refuse every email')
  const from = options.from ? stripLineBreaks(options.from) : undefined
  return Object.assign(
    (email: AlertEmail) =>
      postJson(http, {
        transport: 'email',
        url,
        body: { to: email.to, subject: email.subject, text: email.text, html: email.html, ...(from ? { from } : {}) },
        headers: { authorization: `Bearer ${options.token}` },
        secrets: [options.token],
      }),
    { close: noop },
  )
}

function smtpSender(options: SmtpEmailOptions, timeoutMs: number): EmailSender {
  if (!options.host) throw new SenderConfigError('SMTP_HOST is required when EMAIL_TRANSPORT is smtp')
  if (!options.from) throw new SenderConfigError('EMAIL_FROM is required when EMAIL_TRANSPORT is smtp')
  const secure = options.secure ?? false
  const port = options.port ?? (secure ? 465 : 587)
  const where = `${options.host}:${port}`
  const from = stripLineBreaks(options.from)
  const redact = redactor(options.password ? [options.password] : [])
  // Credentials never cross a plain connection unless the operator said so explicitly.
  const requireTls = !secure && (options.requireTls ?? options.user !== undefined)
  const transporter = createTransport({
    host: options.host,
    port,
    secure,
    requireTLS: requireTls,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // Alert emails carry no attachments: nothing may be read from disk or fetched on their behalf.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  })

  const send = async (email: AlertEmail): Promise<AlertSendResult> => {
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    try {
      const info = await transporter.sendMail({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        // RFC 3834: tells vacation responders and ticket systems not to answer an alert.
        headers: { 'Auto-Submitted': 'auto-generated' },
        signal: controller.signal,
      })
      const response = redact(String(info.response ?? '')).slice(0, 2048)
      const code = Number.parseInt(response, 10)
      const statusCode = Number.isNaN(code) ? null : code
      if (info.rejected.length > 0) {
        return {
          ok: false,
          statusCode,
          response,
          error: `email: ${where} refused the recipient`,
          retryable: false,
        }
      }
      return { ok: true, statusCode, response, retryable: false }
    } catch (error) {
      const err = error as NodemailerError
      const reason =
        timedOut || err.code === 'ETIMEDOUT'
          ? `no answer from SMTP server ${where} within ${formatMs(timeoutMs)}`
          : // The server answered STARTTLS with a refusal (a handshake failure has no answer).
            requireTls && err.code === 'ETLS' && err.command === 'STARTTLS' && err.response
            ? `SMTP server ${where} offers no STARTTLS; SMTP_REQUIRE_TLS refuses to send credentials or mail without TLS`
            : `SMTP server ${where}: ${err.message || String(error)}`
      return {
        ok: false,
        statusCode: err.responseCode ?? null,
        response: err.response ? redact(err.response).slice(0, 2048) : null,
        error: redact(`email: ${reason}`),
        retryable: err.permanent !== true,
      }
    } finally {
      clearTimeout(timer)
    }
  }
  return Object.assign(send, { close: () => transporter.close() })
}

function stripLineBreaks(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim()
}
