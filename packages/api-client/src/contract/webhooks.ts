/** Webhooks: registration, secrets, test sends and their delivery queue (packages/delivery/README.md). */

import { WEBHOOK_EVENT_TYPES } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { EVENT_STATES, Id, IdInput, IdParam, listOf, PageQuery, Timestamp } from './schema.js'

// The event types a webhook can subscribe to are @jetmon/vocabulary's, the list `@jetmon/webhooks` uses.
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@jetmon/vocabulary'

/** States a `state_filter` can name: the transition's `state_after`, `Resolved` for a close. */
export const WEBHOOK_FILTER_STATES = [...EVENT_STATES, 'Resolved'] as const

/** Statuses of a delivery row (webhook or alert). */
export const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'abandoned', 'suppressed'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

const MAX_URL_LENGTH = 2083
const MAX_FILTER_ITEMS = 1000

function webhookUrlProblem(text: string): string | null {
  if (/\s/.test(text)) return 'must not contain whitespace'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'must be an absolute http(s) URL, e.g. https://example.com/hooks/jetmon'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http or https, not ${url.protocol}`
  if (url.hostname === '') return 'must have a host'
  if (url.username !== '' || url.password !== '') {
    return 'must not contain a user name or password (they would be shown in every answer)'
  }
  return null
}

/** A webhook target: an absolute http(s) URL with a host, no credentials, at most 2083 characters. */
export const WebhookUrl = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = webhookUrlProblem(dataset.value)
    if (problem) addIssue({ message: problem })
  }),
  v.description('An http(s) URL. Delivery refuses loopback and private addresses unless the operator allows them.'),
)

const EventsInput = v.pipe(
  v.array(v.picklist(WEBHOOK_EVENT_TYPES, `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`)),
  v.maxLength(WEBHOOK_EVENT_TYPES.length * 2, 'lists too many event types'),
  v.transform((types) => [...new Set(types)]),
  v.description('Event types to send; empty = all.'),
)

/** `{"blog_ids": [...]}`: deliver only these sites' transitions; empty or absent = all sites. */
export const DeliverySiteFilterInput = v.strictObject({
  blog_ids: v.optional(
    v.pipe(
      v.array(IdInput),
      v.maxLength(MAX_FILTER_ITEMS, `must list at most ${MAX_FILTER_ITEMS} sites`),
      v.transform((ids) => [...new Set(ids)]),
    ),
    [],
  ),
})

const StateFilterInput = v.strictObject({
  states: v.optional(
    v.pipe(
      v.array(v.picklist(WEBHOOK_FILTER_STATES, `must be one of ${WEBHOOK_FILTER_STATES.join(', ')}`)),
      v.transform((states) => [...new Set(states)]),
    ),
    [],
  ),
})

/** A site filter in an answer. */
export const DeliverySiteFilter = v.object({ blog_ids: v.array(Id) })

export const Webhook = v.object({
  id: Id,
  url: v.string(),
  active: v.boolean(),
  events: v.pipe(v.array(v.picklist(WEBHOOK_EVENT_TYPES)), v.description('Empty = every event type.')),
  site_filter: v.pipe(DeliverySiteFilter, v.description('Empty `blog_ids` = every site.')),
  state_filter: v.pipe(
    v.object({ states: v.array(v.picklist(WEBHOOK_FILTER_STATES)) }),
    v.description('Matched against the state after the transition (`Resolved` for a close); empty = all.'),
  ),
  secret_preview: v.pipe(v.string(), v.description('The last 4 characters of the signing secret.')),
  previous_secret_expires_at: v.pipe(
    v.nullable(Timestamp),
    v.description('While set, requests carry a second signature made with the previous secret, until then.'),
  ),
  owner_tenant_id: v.optional(v.pipe(v.string(), v.description('Gateway mode only: the owning tenant.'))),
  created_by: v.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type Webhook = v.InferOutput<typeof Webhook>

const WebhookWithSecret = v.object({
  webhook: Webhook,
  secret: v.pipe(
    v.string(),
    v.description('The signing secret (`whsec_…`), shown this once: store it now to verify signatures.'),
  ),
})

/** One row of a delivery queue (webhook or alert contact). */
export const Delivery = v.object({
  id: Id,
  transition_id: Id,
  event_id: Id,
  blog_id: Id,
  event_type: v.string(),
  status: v.picklist(DELIVERY_STATUSES),
  attempt: v.pipe(v.number(), v.description('Attempts made so far (reset to 0 by a manual retry).')),
  next_attempt_at: v.nullable(Timestamp),
  last_status_code: v.pipe(v.nullable(v.number()), v.description('0 when the last attempt got no answer.')),
  last_response: v.pipe(
    v.nullable(v.string()),
    v.description('First 2 KiB of the last answer, `transport: …` when there was none, or why it was abandoned.'),
  ),
  last_attempt_at: v.nullable(Timestamp),
  delivered_at: v.nullable(Timestamp),
  created_at: Timestamp,
})
export type Delivery = v.InferOutput<typeof Delivery>

/** `?status=` of the delivery lists. */
export const DeliveryQuery = v.strictObject({
  ...PageQuery,
  status: v.optional(v.picklist(DELIVERY_STATUSES, `must be one of ${DELIVERY_STATUSES.join(', ')}`)),
})

const webhookErrors = ['webhook_not_found'] as const

export const listWebhooks = defineRoute({
  method: 'GET',
  path: '/webhooks',
  scope: 'read',
  tag: 'webhooks',
  summary: 'Webhooks, newest first',
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(Webhook),
})

export const createWebhook = defineRoute({
  method: 'POST',
  path: '/webhooks',
  scope: 'write',
  tag: 'webhooks',
  summary: 'Register a webhook; the signing secret is returned once',
  body: v.strictObject({
    url: WebhookUrl,
    active: v.optional(v.boolean(), true),
    events: v.optional(EventsInput, []),
    site_filter: v.optional(DeliverySiteFilterInput, { blog_ids: [] }),
    state_filter: v.optional(StateFilterInput, { states: [] }),
  }),
  status: 201,
  response: WebhookWithSecret,
  errors: ['target_not_allowed', 'site_not_found'],
  idempotent: true,
})

export const getWebhook = defineRoute({
  method: 'GET',
  path: '/webhooks/{id}',
  scope: 'read',
  tag: 'webhooks',
  summary: 'One webhook',
  params: v.object({ id: IdParam }),
  status: 200,
  response: Webhook,
  errors: webhookErrors,
})

export const updateWebhook = defineRoute({
  method: 'PATCH',
  path: '/webhooks/{id}',
  scope: 'write',
  tag: 'webhooks',
  summary: 'Change a webhook: fields left out keep their value; an empty filter matches everything',
  params: v.object({ id: IdParam }),
  body: v.strictObject({
    url: v.optional(WebhookUrl),
    active: v.optional(v.boolean()),
    events: v.optional(EventsInput),
    site_filter: v.optional(DeliverySiteFilterInput),
    state_filter: v.optional(StateFilterInput),
  }),
  status: 200,
  response: Webhook,
  errors: [...webhookErrors, 'target_not_allowed', 'site_not_found'],
})

export const deleteWebhook = defineRoute({
  method: 'DELETE',
  path: '/webhooks/{id}',
  scope: 'write',
  tag: 'webhooks',
  summary: 'Delete a webhook; its pending deliveries are abandoned by the delivery worker',
  params: v.object({ id: IdParam }),
  status: 204,
  errors: webhookErrors,
})

export const rotateWebhookSecret = defineRoute({
  method: 'POST',
  path: '/webhooks/{id}/rotate-secret',
  scope: 'write',
  tag: 'webhooks',
  summary: 'Issue a new signing secret (returned once); the old one keeps signing alongside it for grace_seconds',
  params: v.object({ id: IdParam }),
  body: v.optional(
    v.strictObject({
      grace_seconds: v.optional(
        v.pipe(v.number(), v.safeInteger('must be whole seconds'), v.minValue(0), v.maxValue(30 * 86_400)),
        86_400,
      ),
    }),
    {},
  ),
  status: 200,
  response: WebhookWithSecret,
  errors: webhookErrors,
  idempotent: true,
})

export const testWebhook = defineRoute({
  method: 'POST',
  path: '/webhooks/{id}/test',
  scope: 'write',
  tag: 'webhooks',
  summary:
    'Send a signed ping now and return the receiver answer (any status); 502 webhook_unreachable when there is none',
  params: v.object({ id: IdParam }),
  status: 200,
  response: v.object({
    status_code: v.pipe(v.number(), v.description("The receiver's HTTP status (redirects are not followed).")),
    response_excerpt: v.pipe(v.string(), v.description('The first 2 KiB of its body.')),
    duration_ms: v.number(),
    error: v.pipe(v.nullable(v.string()), v.description('Set when the body could not be read to the end.')),
  }),
  errors: [...webhookErrors, 'webhook_unreachable', 'target_not_allowed'],
  idempotent: true,
})

export const listWebhookDeliveries = defineRoute({
  method: 'GET',
  path: '/webhooks/{id}/deliveries',
  scope: 'read',
  tag: 'webhooks',
  summary: "A webhook's deliveries, newest first",
  params: v.object({ id: IdParam }),
  query: DeliveryQuery,
  status: 200,
  response: listOf(Delivery),
  errors: webhookErrors,
})

export const retryWebhookDelivery = defineRoute({
  method: 'POST',
  path: '/webhooks/{id}/deliveries/{delivery_id}/retry',
  scope: 'write',
  tag: 'webhooks',
  summary: 'Queue an abandoned delivery again from attempt 0 (409 delivery_not_retryable otherwise)',
  params: v.object({ id: IdParam, delivery_id: IdParam }),
  status: 200,
  response: Delivery,
  errors: [...webhookErrors, 'delivery_not_found', 'delivery_not_retryable'],
  idempotent: true,
})

export const webhooksRoutes = {
  'webhooks.list': listWebhooks,
  'webhooks.create': createWebhook,
  'webhooks.get': getWebhook,
  'webhooks.update': updateWebhook,
  'webhooks.delete': deleteWebhook,
  'webhooks.rotateSecret': rotateWebhookSecret,
  'webhooks.test': testWebhook,
  'webhooks.deliveries': listWebhookDeliveries,
  'webhooks.retryDelivery': retryWebhookDelivery,
}
