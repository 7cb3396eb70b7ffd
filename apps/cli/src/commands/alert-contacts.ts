/** `jetmon2 api alert-contacts …`: who is told about incidents, and how. */
import { resourceGroup } from '../_route-command.js'
import { ALERT_CONTACT_COLUMNS, DELIVERY_COLUMNS } from './_tables.js'

const CONTACT = { id: 'The alert contact id' }

/** `jetmon2 api alert-contacts …`. */
export default resourceGroup('alert-contacts', 'Alert contacts (email, PagerDuty, Slack, Teams) and their deliveries', {
  list: {
    name: 'list',
    route: 'alertContacts.list',
    columns: ALERT_CONTACT_COLUMNS,
    examples: ['jetmon2 api alert-contacts list'],
  },
  get: { name: 'get', route: 'alertContacts.get', params: CONTACT, examples: ['jetmon2 api alert-contacts get 5'] },
  create: {
    name: 'create',
    route: 'alertContacts.create',
    examples: [
      `jetmon2 api alert-contacts create --label "On-call" --transport email --destination '{"address":"oncall@example.com"}'`,
      `jetmon2 api alert-contacts create --label Ops --transport slack --destination '{"webhook_url":"https://hooks.slack.com/…"}' --min-severity "Seems Down"`,
    ],
  },
  update: {
    name: 'update',
    route: 'alertContacts.update',
    params: CONTACT,
    examples: ['jetmon2 api alert-contacts update 5 --max-per-hour 10'],
  },
  delete: {
    name: 'delete',
    route: 'alertContacts.delete',
    params: CONTACT,
    done: (p) => `alert contact ${p.id} deleted`,
    examples: ['jetmon2 api alert-contacts delete 5'],
  },
  test: { name: 'test', route: 'alertContacts.test', params: CONTACT, examples: ['jetmon2 api alert-contacts test 5'] },
  deliveries: {
    name: 'deliveries',
    route: 'alertContacts.deliveries',
    params: CONTACT,
    columns: DELIVERY_COLUMNS,
    examples: ['jetmon2 api alert-contacts deliveries 5 --status abandoned'],
  },
  retry: {
    name: 'retry',
    route: 'alertContacts.retryDelivery',
    params: { ...CONTACT, delivery_id: 'The delivery id (see alert-contacts deliveries)' },
    examples: ['jetmon2 api alert-contacts retry 5 7702'],
  },
})
