import { canonicalId } from '@jetmon/vocabulary'
import { eventTypeForReason, isClosingReason } from './event-types.js'

/**
 * The subscription side of a webhook, shaped like its `jetmon_webhooks` row: each filter empty
 * (or `null`) matches everything; the filters are AND-ed.
 */
export interface WebhookFilters {
  /** An inactive webhook matches nothing. Omitted = active. */
  active?: boolean
  /** Event types (`event.opened`, …). */
  events?: readonly string[] | null
  /** `{"blog_ids": [...]}`; ids as numbers, decimal strings or bigints. */
  siteFilter?: { blog_ids?: readonly (bigint | number | string)[] | null } | null
  /**
   * States compared with the transition's `state_after` (`Resolved` for a close). The documented shape
   * (docs/webhooks.md) is `{"states": [...]}`; a bare array is accepted too.
   */
  stateFilter?: { states?: readonly string[] | null } | readonly string[] | null
}

/** What matching needs from a `jetmon_event_transitions` row. */
export interface TransitionForMatching {
  reason: string
  blogId: bigint | number | string
  stateAfter: string | null
}

/**
 * Whether a webhook wants this transition (docs/webhooks.md): the event type is in `events`, the blog
 * is in `site_filter.blog_ids`, and the state after the transition — `Resolved` for any closing
 * reason — is in `state_filter.states`. A transition whose reason has no event type matches nothing.
 */
export function matchesWebhook(webhook: WebhookFilters, transition: TransitionForMatching): boolean {
  if (webhook.active === false) return false
  const type = eventTypeForReason(transition.reason)
  if (type === null) return false

  const events = webhook.events ?? []
  if (events.length > 0 && !events.includes(type)) return false

  const blogIds = webhook.siteFilter?.blog_ids ?? []
  if (blogIds.length > 0) {
    const blog = canonicalId(transition.blogId)
    if (!blogIds.some((id) => canonicalId(id) === blog)) return false
  }

  const states = filterStates(webhook.stateFilter)
  if (states.length > 0) {
    const state = isClosingReason(transition.reason) ? 'Resolved' : (transition.stateAfter ?? '')
    if (!states.includes(state)) return false
  }
  return true
}

function filterStates(filter: WebhookFilters['stateFilter']): readonly string[] {
  if (filter === null || filter === undefined) return []
  if (isStateList(filter)) return filter
  return filter.states ?? []
}

function isStateList(filter: NonNullable<WebhookFilters['stateFilter']>): filter is readonly string[] {
  return Array.isArray(filter)
}
