/** `jetmon2 api webhooks …`: signed event notifications to HTTP receivers. */
import { resourceGroup } from '../_route-command.js'
import { DELIVERY_COLUMNS, WEBHOOK_COLUMNS, webhookSecretTable } from './_tables.js'

const WEBHOOK = { id: 'The webhook id' }
// The body field `url` would be --url, the API's own address: the receiver's is --webhook-url.
const RENAME = { url: 'webhook-url' }

/** `jetmon2 api webhooks …`. */
export default resourceGroup('webhooks', 'Webhooks: signed event notifications, their secrets and deliveries', {
  list: { name: 'list', route: 'webhooks.list', columns: WEBHOOK_COLUMNS, examples: ['jetmon2 api webhooks list'] },
  get: { name: 'get', route: 'webhooks.get', params: WEBHOOK, examples: ['jetmon2 api webhooks get 3'] },
  create: {
    name: 'create',
    route: 'webhooks.create',
    rename: RENAME,
    table: webhookSecretTable,
    examples: [
      'jetmon2 api webhooks create --webhook-url https://hooks.example.com/jetmon --events event.opened,event.closed',
      `jetmon2 api webhooks create --webhook-url https://hooks.example.com/jetmon --site-filter '{"blog_ids":[42]}'`,
    ],
  },
  update: {
    name: 'update',
    route: 'webhooks.update',
    params: WEBHOOK,
    rename: RENAME,
    examples: ['jetmon2 api webhooks update 3 --active false'],
  },
  delete: {
    name: 'delete',
    route: 'webhooks.delete',
    params: WEBHOOK,
    done: (p) => `webhook ${p.id} deleted`,
    examples: ['jetmon2 api webhooks delete 3'],
  },
  'rotate-secret': {
    name: 'rotate-secret',
    route: 'webhooks.rotateSecret',
    params: WEBHOOK,
    table: webhookSecretTable,
    examples: ['jetmon2 api webhooks rotate-secret 3 --grace-seconds 3600'],
  },
  test: { name: 'test', route: 'webhooks.test', params: WEBHOOK, examples: ['jetmon2 api webhooks test 3'] },
  deliveries: {
    name: 'deliveries',
    route: 'webhooks.deliveries',
    params: WEBHOOK,
    columns: DELIVERY_COLUMNS,
    examples: ['jetmon2 api webhooks deliveries 3 --status abandoned'],
  },
  retry: {
    name: 'retry',
    route: 'webhooks.retryDelivery',
    params: { ...WEBHOOK, delivery_id: 'The delivery id (see webhooks deliveries)' },
    examples: ['jetmon2 api webhooks retry 3 5501'],
  },
})
