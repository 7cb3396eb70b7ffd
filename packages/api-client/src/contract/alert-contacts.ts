/** Alert contacts: who is told about incidents, through which transport, and their delivery queue (packages/delivery/README.md). */
import { ALERT_TRANSPORTS, MIN_SEVERITY_NAMES } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { Id, IdParam, listOf, PageQuery, Timestamp } from './schema.js'
import { Delivery, DeliveryQuery, DeliverySiteFilter, DeliverySiteFilterInput } from './webhooks.js'

// The transports and `min_severity` names are @jetmon/vocabulary's; re-exported because this
// package's API has always offered these names.
export { ALERT_TRANSPORTS, type AlertTransport, MIN_SEVERITY_NAMES, type MinSeverityName } from '@jetmon/vocabulary'

const Label = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
)
const Transport = v.picklist(ALERT_TRANSPORTS, `must be one of ${ALERT_TRANSPORTS.join(', ')}`)
const MinSeverity = v.pipe(
  v.picklist(MIN_SEVERITY_NAMES, `must be one of ${MIN_SEVERITY_NAMES.join(', ')}`),
  v.description('Alert when an event reaches this state or worse (and when such an event recovers).'),
)
const MaxPerHour = v.pipe(
  v.number(),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must be 0 (unlimited) or more'),
  v.maxValue(100_000, 'must be at most 100000'),
  v.description('Messages per rolling hour; over it alerts are suppressed. 0 = unlimited.'),
)
const SloDigest = v.pipe(
  v.nullable(v.picklist(['weekly'], 'must be weekly or null')),
  v.description(
    '`weekly`: a digest of the objectives the contact may see, sent once a week (Monday, UTC) for the week before; null: none. Not for PagerDuty contacts.',
  ),
)

const Destination = v.pipe(
  v.record(v.string(), v.unknown(), 'must be an object'),
  v.description(
    'Write-only. email: {"address"}; pagerduty: {"integration_key"} (32 characters); slack, teams: {"webhook_url"} (https).',
  ),
)

export const AlertContact = v.object({
  id: Id,
  label: v.string(),
  active: v.boolean(),
  transport: v.picklist(ALERT_TRANSPORTS),
  destination_preview: v.pipe(v.string(), v.description('The last 4 characters of the destination.')),
  site_filter: v.pipe(DeliverySiteFilter, v.description('Empty `blog_ids` = every site.')),
  min_severity: v.picklist(MIN_SEVERITY_NAMES),
  max_per_hour: v.number(),
  slo_digest: SloDigest,
  owner_tenant_id: v.optional(v.pipe(v.string(), v.description('Gateway mode only: the owning tenant.'))),
  created_by: v.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type AlertContact = v.InferOutput<typeof AlertContact>

const contactErrors = ['alert_contact_not_found'] as const

export const listAlertContacts = defineRoute({
  method: 'GET',
  path: '/alert-contacts',
  scope: 'read',
  tag: 'alert-contacts',
  summary: 'Alert contacts, newest first',
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(AlertContact),
})

export const createAlertContact = defineRoute({
  method: 'POST',
  path: '/alert-contacts',
  scope: 'write',
  tag: 'alert-contacts',
  summary: 'Add an alert contact; its destination is never shown again',
  body: v.strictObject({
    label: Label,
    active: v.optional(v.boolean(), true),
    transport: Transport,
    destination: Destination,
    site_filter: v.optional(DeliverySiteFilterInput, { blog_ids: [] }),
    min_severity: v.optional(MinSeverity, 'Down'),
    max_per_hour: v.optional(MaxPerHour, 60),
    slo_digest: v.optional(SloDigest, null),
  }),
  status: 201,
  response: AlertContact,
  errors: ['target_not_allowed', 'site_not_found', 'digest_not_supported'],
  idempotent: true,
})

export const getAlertContact = defineRoute({
  method: 'GET',
  path: '/alert-contacts/{id}',
  scope: 'read',
  tag: 'alert-contacts',
  summary: 'One alert contact',
  params: v.object({ id: IdParam }),
  status: 200,
  response: AlertContact,
  errors: contactErrors,
})

export const updateAlertContact = defineRoute({
  method: 'PATCH',
  path: '/alert-contacts/{id}',
  scope: 'write',
  tag: 'alert-contacts',
  summary: 'Change an alert contact (not its transport); a new destination is checked against the transport',
  params: v.object({ id: IdParam }),
  body: v.strictObject({
    label: v.optional(Label),
    active: v.optional(v.boolean()),
    transport: v.optional(
      v.pipe(Transport, v.description('May be given, but must be the current one (422 transport_immutable).')),
    ),
    destination: v.optional(Destination),
    site_filter: v.optional(DeliverySiteFilterInput),
    min_severity: v.optional(MinSeverity),
    max_per_hour: v.optional(MaxPerHour),
    slo_digest: v.optional(SloDigest),
  }),
  status: 200,
  response: AlertContact,
  errors: [...contactErrors, 'transport_immutable', 'target_not_allowed', 'site_not_found', 'digest_not_supported'],
})

export const deleteAlertContact = defineRoute({
  method: 'DELETE',
  path: '/alert-contacts/{id}',
  scope: 'write',
  tag: 'alert-contacts',
  summary: 'Delete an alert contact; its pending deliveries are abandoned by the delivery worker',
  params: v.object({ id: IdParam }),
  status: 204,
  errors: contactErrors,
})

export const testAlertContact = defineRoute({
  method: 'POST',
  path: '/alert-contacts/{id}/test',
  scope: 'write',
  tag: 'alert-contacts',
  summary:
    "Send a test message through the contact's transport now (no severity or hourly cap, no delivery row); 502 alert_send_failed with the transport's error",
  params: v.object({ id: IdParam }),
  status: 200,
  response: v.object({
    transport: v.picklist(ALERT_TRANSPORTS),
    status_code: v.pipe(v.nullable(v.number()), v.description("The transport's status (HTTP status, SMTP code).")),
    response: v.pipe(v.nullable(v.string()), v.description("The start of the transport's answer.")),
    duration_ms: v.number(),
  }),
  errors: [...contactErrors, 'alert_send_failed', 'alert_transport_unavailable'],
  idempotent: true,
})

export const listAlertDeliveries = defineRoute({
  method: 'GET',
  path: '/alert-contacts/{id}/deliveries',
  scope: 'read',
  tag: 'alert-contacts',
  summary: "An alert contact's deliveries, newest first",
  params: v.object({ id: IdParam }),
  query: DeliveryQuery,
  status: 200,
  response: listOf(Delivery),
  errors: contactErrors,
})

export const retryAlertDelivery = defineRoute({
  method: 'POST',
  path: '/alert-contacts/{id}/deliveries/{delivery_id}/retry',
  scope: 'write',
  tag: 'alert-contacts',
  summary: 'Queue an abandoned alert delivery again from attempt 0 (409 delivery_not_retryable otherwise)',
  params: v.object({ id: IdParam, delivery_id: IdParam }),
  status: 200,
  response: Delivery,
  errors: [...contactErrors, 'delivery_not_found', 'delivery_not_retryable'],
  idempotent: true,
})

export const alertContactsRoutes = {
  'alertContacts.list': listAlertContacts,
  'alertContacts.create': createAlertContact,
  'alertContacts.get': getAlertContact,
  'alertContacts.update': updateAlertContact,
  'alertContacts.delete': deleteAlertContact,
  'alertContacts.test': testAlertContact,
  'alertContacts.deliveries': listAlertDeliveries,
  'alertContacts.retryDelivery': retryAlertDelivery,
}
