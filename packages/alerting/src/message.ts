import {
  type AlertNotification,
  alertSummary,
  closingWords,
  describeCause,
  formatDuration,
  humanTime,
  type VeriflierVote,
} from './notification.js'

/**
 * A test send (`POST /alert-contacts/{id}/test`): no event behind it, only the contact that asked.
 * Renders as "This is a test alert from Jetmon for contact <label>".
 */
export interface TestNotification {
  match: 'test'
  /** The alert contact's label, as its owner named it. */
  contactLabel: string
  /** When the test was asked for. */
  sentAt: Date
}

/**
 * A digest (the weekly report of a contact's service level objectives): no event behind it, the
 * words composed by its maker. Sent by email, Slack and Teams; PagerDuty pages only on events and
 * refuses it.
 */
export interface DigestNotification {
  match: 'digest'
  /** A heading, `Service level objectives, week of 2026-11-23`. */
  title: string
  /** One line on the whole report. */
  summary: string
  /** One per objective (`Checkout availability` → `99.95 % over 7 days…`). */
  fields: AlertMessageField[]
  /** Where the report comes from and why the contact receives it. */
  footer: string
}

/** What a sender can deliver: a matched transition, a test or a digest. */
export type OutgoingNotification = AlertNotification | TestNotification | DigestNotification

/** How a message should look: red, amber, green or neutral. */
export type AlertTone = 'critical' | 'warning' | 'ok' | 'info'

/** One labelled fact of a message (`State: Down`). */
export interface AlertMessageField {
  label: string
  value: string
}

/**
 * A notification rendered into the parts every transport needs, in plain text (each transport
 * escapes for its own format). Header-bound parts (`subject`) carry no CR, LF or other control
 * characters.
 */
export interface AlertMessage {
  kind: 'trigger' | 'recovery' | 'test' | 'digest'
  /** `DOWN`, `SEEMS DOWN`, `DEGRADED`, `WARNING`, `RECOVERED`, `RESOLVED`, `CLOSED` or `TEST`. */
  tag: string
  tone: AlertTone
  /** `DOWN: https://example.com/`, for a heading. */
  title: string
  /** `[Jetmon] DOWN: example.com`, for an email subject. */
  subject: string
  /** One line an on-call person can act on (the same words as PagerDuty's summary). */
  summary: string
  /** State, site, since when, why, verifliers; or duration for a recovery. */
  fields: AlertMessageField[]
  /** One per veriflier vote: `v-eu (eu)` → `down, error 7`. */
  votes: AlertMessageField[]
  /** The event in the dashboard, when known. */
  eventUrl: string | null
  /** The site's URL when it is http(s), for a link; `null` otherwise. */
  siteUrl: string | null
  /** Where the message comes from: event and transition ids, or a note for a test. */
  footer: string
}

/** Options of {@link renderAlertMessage}. */
export interface RenderOptions {
  /** The dashboard's public URL; event links are `${dashboardUrl}/events/<id>`. */
  dashboardUrl?: string | null
}

const SUBJECT_MAX = 200

/**
 * Renders a notification into an {@link AlertMessage}: what happened (state), to what (site URL),
 * since when, why (error name and detail, veriflier votes) and a link to the event; for a recovery
 * how long it was down; for a test, that it is one.
 *
 * @example
 * renderAlertMessage(notification, { dashboardUrl: 'https://jetmon.example' }).subject
 * // '[Jetmon] DOWN: example.com'
 */
export function renderAlertMessage(notification: OutgoingNotification, options: RenderOptions = {}): AlertMessage {
  if (notification.match === 'test') return renderTest(notification)
  if (notification.match === 'digest') return renderDigest(notification)
  const { event, site, transition, cause } = notification
  const eventUrl = notification.eventUrl || eventLink(options.dashboardUrl, event.id)
  const checkTag = event.checkType === 'http' ? '' : ` [${event.checkType}]`
  const summary = alertSummary(notification)
  const fields: AlertMessageField[] = []
  const why = describeCause(cause)
  const contact = notification.contactLabel
    ? ` You receive this because alert contact “${oneLine(notification.contactLabel)}” covers this site.`
    : ''
  const footer =
    `Jetmon event ${event.id} (blog ${site.blogId}${site.endpointId === null ? '' : `, endpoint ${site.endpointId}`}), ` +
    `transition ${transition.id} (${transition.reason}) at ${humanTime(transition.changedAt)}.${contact}`

  if (notification.match === 'recovery') {
    const [headline, explanation] = closingWords(transition.reason)
    const endedAt = event.endedAt ?? transition.changedAt
    fields.push(
      { label: 'State', value: `${headline} (was ${event.state})` },
      { label: 'Site', value: site.monitorUrl },
    )
    if (checkTag) fields.push({ label: 'Check', value: event.checkType })
    fields.push(
      { label: `${event.state} for`, value: formatDuration(endedAt.getTime() - event.startedAt.getTime()) },
      { label: 'From', value: humanTime(event.startedAt) },
      { label: 'Until', value: humanTime(endedAt) },
    )
    if (explanation) fields.push({ label: 'Closed because', value: explanation })
    if (why) fields.push({ label: 'Why it was down', value: why })
    const tag = headline.toUpperCase()
    return {
      kind: 'recovery',
      tag,
      tone: 'ok',
      title: `${tag}: ${site.monitorUrl}${checkTag}`,
      subject: subjectOf(`${tag}: ${siteLabel(site.monitorUrl)}${checkTag}`),
      summary,
      fields,
      votes: [],
      eventUrl,
      siteUrl: httpUrl(site.monitorUrl),
      footer,
    }
  }

  fields.push({ label: 'State', value: event.state }, { label: 'Site', value: site.monitorUrl })
  if (checkTag) fields.push({ label: 'Check', value: event.checkType })
  fields.push({ label: 'Since', value: humanTime(event.startedAt) })
  if (why) fields.push({ label: 'Why', value: why })
  if (cause?.httpCode && cause.errorName) fields.push({ label: 'HTTP status', value: String(cause.httpCode) })
  const votes = cause?.votes ?? []
  if (votes.length > 0) {
    const down = votes.filter((vote) => !vote.success).length
    fields.push({ label: 'Verifliers', value: `${down} of ${votes.length} saw it down` })
  }
  const tag = event.state.toUpperCase()
  return {
    kind: 'trigger',
    tag,
    tone: event.severity >= 3 ? 'critical' : 'warning',
    title: `${tag}: ${site.monitorUrl}${checkTag}`,
    subject: subjectOf(`${tag}: ${siteLabel(site.monitorUrl)}${checkTag}`),
    summary,
    fields,
    votes: votes.map(describeVote),
    eventUrl,
    siteUrl: httpUrl(site.monitorUrl),
    footer,
  }
}

function renderDigest(notification: DigestNotification): AlertMessage {
  const title = oneLine(notification.title)
  return {
    kind: 'digest',
    tag: 'DIGEST',
    tone: 'info',
    title,
    subject: subjectOf(title),
    summary: notification.summary,
    fields: notification.fields.map((field) => ({ label: oneLine(field.label), value: field.value })),
    votes: [],
    eventUrl: null,
    siteUrl: null,
    footer: notification.footer,
  }
}

function renderTest(notification: TestNotification): AlertMessage {
  const label = oneLine(notification.contactLabel)
  return {
    kind: 'test',
    tag: 'TEST',
    tone: 'info',
    title: `TEST: ${label}`,
    subject: subjectOf(`TEST: ${label}`),
    summary: `This is a test alert from Jetmon for contact ${label}`,
    fields: [
      { label: 'Contact', value: label },
      { label: 'Sent at', value: humanTime(notification.sentAt) },
    ],
    votes: [],
    eventUrl: null,
    siteUrl: null,
    footer: 'No site is down. If you can read this, alerts for this contact reach you.',
  }
}

/**
 * The plain-text form of a message: the summary, the facts, the veriflier votes, the link and
 * where it comes from. Used as the email's text part.
 */
export function renderAlertText(message: AlertMessage): string {
  const width = Math.max(...message.fields.map((field) => field.label.length)) + 2
  const lines = [message.summary, '']
  for (const field of message.fields) lines.push(`${`${field.label}:`.padEnd(width)}${field.value}`)
  for (const vote of message.votes) lines.push(`  - ${vote.label}: ${vote.value}`)
  if (message.eventUrl) lines.push('', `Open the event in Jetmon: ${message.eventUrl}`)
  lines.push('', '-- ', message.footer)
  return `${lines.join('\n')}\n`
}

/** `v-eu (eu)` → `down, error 7`; `v-ap (ap)` → `up, HTTP 200, 120 ms`. */
export function describeVote(vote: VeriflierVote): AlertMessageField {
  const details: string[] = []
  if (vote.http_code) details.push(`HTTP ${vote.http_code}`)
  if (vote.error_code) details.push(`error ${vote.error_code}`)
  if (vote.rtt_ms !== null && vote.rtt_ms !== undefined) details.push(`${Math.round(vote.rtt_ms)} ms`)
  const where = vote.region ? ` (${vote.region})` : ''
  return {
    label: `${vote.veriflier}${where}`,
    value: `${vote.success ? 'up' : 'down'}${details.length ? `, ${details.join(', ')}` : ''}`,
  }
}

/** `${dashboardUrl}/events/<id>`, or `null` without a dashboard URL. */
export function eventLink(dashboardUrl: string | null | undefined, eventId: bigint): string | null {
  if (!dashboardUrl) return null
  return `${dashboardUrl.replace(/\/+$/, '')}/events/${eventId}`
}

/** `example.com` or `example.com/shop`: what a subject line has room for. */
function siteLabel(monitorUrl: string): string {
  try {
    const url = new URL(monitorUrl)
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`
  } catch {
    return monitorUrl
  }
}

function httpUrl(value: string): string | null {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

/** Control characters (CR and LF above all) become spaces: nothing can start a new header line. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()
}

function subjectOf(text: string): string {
  const subject = `[Jetmon] ${oneLine(text)}`
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1)}…`
}
