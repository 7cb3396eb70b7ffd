import type { AlertMessage, AlertTone } from './message.js'

/** A Block Kit text object. */
export interface SlackText {
  type: 'plain_text' | 'mrkdwn'
  text: string
  emoji?: boolean
}

/** The Block Kit blocks Jetmon sends. */
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | {
      type: 'actions'
      elements: { type: 'button'; text: SlackText; url: string; action_id: string }[]
    }

/** An incoming-webhook message: Block Kit `blocks` and a `text` fallback for notifications. */
export interface SlackMessage {
  text: string
  blocks: SlackBlock[]
}

// Block Kit limits (api.slack.com/reference/block-kit): longer texts are refused, not cut.
const HEADER_MAX = 150
const TEXT_MAX = 3000
const FIELD_MAX = 2000
const FIELDS_MAX = 10
const BUTTON_URL_MAX = 3000
const FALLBACK_MAX = 3000

const TONE_EMOJI: Record<AlertTone, string> = {
  critical: '🔴',
  warning: '🟡',
  ok: '✅',
  info: 'ℹ️',
}

/**
 * The Slack incoming-webhook body for a message: a header, the summary, the facts as fields, the
 * veriflier votes, a button to the event and the origin as context, within Block Kit's limits.
 * Every mrkdwn text is escaped (`&`, `<`, `>`), so a site URL cannot forge a link or a mention.
 */
export function slackMessage(message: AlertMessage): SlackMessage {
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${TONE_EMOJI[message.tone]} ${message.title}`, HEADER_MAX), emoji: true },
    },
    { type: 'section', text: mrkdwn(escapeSlack(message.summary), TEXT_MAX) },
  ]
  if (message.fields.length > 0) {
    blocks.push({
      type: 'section',
      fields: message.fields
        .slice(0, FIELDS_MAX)
        .map((field) => mrkdwn(`*${escapeSlack(field.label)}*\n${escapeSlack(field.value)}`, FIELD_MAX)),
    })
  }
  if (message.votes.length > 0) {
    const lines = message.votes.map((vote) => `• ${escapeSlack(vote.label)}: ${escapeSlack(vote.value)}`).join('\n')
    blocks.push({ type: 'section', text: mrkdwn(`*Veriflier votes*\n${lines}`, TEXT_MAX) })
  }
  if (message.eventUrl && message.eventUrl.length <= BUTTON_URL_MAX) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the event in Jetmon' },
          url: message.eventUrl,
          action_id: 'jetmon_open_event',
        },
      ],
    })
  }
  blocks.push({ type: 'context', elements: [mrkdwn(escapeSlack(message.footer), TEXT_MAX)] })
  return { text: cut(escapeSlack(message.summary), FALLBACK_MAX), blocks }
}

/** Slack's three control characters in message text: `&`, `<`, `>`. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function mrkdwn(text: string, max: number): SlackText {
  return { type: 'mrkdwn', text: cut(text, max) }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
