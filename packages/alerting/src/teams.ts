import type { AlertMessage, AlertTone } from './message.js'

/** An Adaptive Card element Jetmon uses. */
export type AdaptiveCardElement =
  | {
      type: 'TextBlock'
      text: string
      wrap: true
      size?: 'Small' | 'Default' | 'Medium' | 'Large'
      weight?: 'Default' | 'Bolder'
      color?: 'Default' | 'Attention' | 'Warning' | 'Good' | 'Accent'
      isSubtle?: boolean
      spacing?: 'None' | 'Small' | 'Medium'
    }
  | { type: 'FactSet'; facts: { title: string; value: string }[] }

/** An Adaptive Card (schema 1.4, which Teams renders on every client). */
export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json'
  type: 'AdaptiveCard'
  version: '1.4'
  body: AdaptiveCardElement[]
  actions?: { type: 'Action.OpenUrl'; title: string; url: string }[]
  msteams: { width: 'Full' }
}

/** The Teams incoming-webhook body: a message with one Adaptive Card attachment. */
export interface TeamsMessage {
  type: 'message'
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive'
    contentUrl: null
    content: AdaptiveCard
  }[]
}

const TONE_COLOURS: Record<AlertTone, 'Attention' | 'Warning' | 'Good' | 'Accent'> = {
  critical: 'Attention',
  warning: 'Warning',
  ok: 'Good',
  info: 'Accent',
}

/**
 * The Teams incoming-webhook (workflow or connector) body for a message: an Adaptive Card with the
 * title in the tone's colour, the summary, the facts, the veriflier votes, the origin and an
 * "Open the event" action.
 */
export function teamsMessage(message: AlertMessage): TeamsMessage {
  const body: AdaptiveCardElement[] = [
    {
      type: 'TextBlock',
      text: message.title,
      wrap: true,
      size: 'Large',
      weight: 'Bolder',
      color: TONE_COLOURS[message.tone],
    },
    { type: 'TextBlock', text: message.summary, wrap: true },
  ]
  if (message.fields.length > 0) {
    body.push({ type: 'FactSet', facts: message.fields.map((field) => ({ title: field.label, value: field.value })) })
  }
  if (message.votes.length > 0) {
    body.push({ type: 'TextBlock', text: 'Veriflier votes', wrap: true, weight: 'Bolder', spacing: 'Medium' })
    body.push({
      type: 'FactSet',
      facts: message.votes.map((vote) => ({ title: vote.label, value: vote.value })),
    })
  }
  body.push({ type: 'TextBlock', text: message.footer, wrap: true, size: 'Small', isSubtle: true, spacing: 'Medium' })
  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  }
  if (message.eventUrl)
    card.actions = [{ type: 'Action.OpenUrl', title: 'Open the event in Jetmon', url: message.eventUrl }]
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  }
}
