/** `jetmon2 api sites …`: sites, their endpoints, bulk-add and export. */
import { resourceGroup } from '../_route-command.js'
import { ENDPOINT_COLUMNS, SITE_COLUMNS, siteTable } from './_tables.js'
import { bulkAdd, exportSites } from './sites-bulk.js'

const BLOG = { blog_id: 'The site: its blog id' }
const ENDPOINT = { endpoint_id: 'The endpoint id (see sites endpoints list)' }

const endpoints = resourceGroup('endpoints', 'The monitored URLs of a site, one by one', {
  list: {
    name: 'list',
    route: 'sites.endpoints.list',
    params: BLOG,
    columns: ENDPOINT_COLUMNS,
    examples: ['jetmon2 api sites endpoints list 42', 'jetmon2 api sites endpoints list 42 --detection-profile legacy'],
  },
  add: {
    name: 'add',
    route: 'sites.endpoints.create',
    params: BLOG,
    examples: [
      'jetmon2 api sites endpoints add 42 --monitor-url https://example.com/shop --check-keyword "Add to cart"',
    ],
  },
  get: { name: 'get', route: 'endpoints.get', params: ENDPOINT, examples: ['jetmon2 api sites endpoints get 1001'] },
  update: {
    name: 'update',
    route: 'endpoints.update',
    params: ENDPOINT,
    examples: [
      'jetmon2 api sites endpoints update 1001 --timeout-ms 5000 --redirect-policy fail',
      'jetmon2 api sites endpoints update 1001 --request-method HEAD --detection-profile legacy',
    ],
  },
  delete: {
    name: 'delete',
    route: 'endpoints.delete',
    params: ENDPOINT,
    done: (p) => `endpoint ${p.endpoint_id} is no longer monitored (its open events are closed)`,
    examples: ['jetmon2 api sites endpoints delete 1001'],
  },
  pause: {
    name: 'pause',
    route: 'endpoints.pause',
    params: ENDPOINT,
    examples: ['jetmon2 api sites endpoints pause 1001'],
  },
  resume: {
    name: 'resume',
    route: 'endpoints.resume',
    params: ENDPOINT,
    examples: ['jetmon2 api sites endpoints resume 1001'],
  },
  'trigger-now': {
    name: 'trigger-now',
    route: 'endpoints.triggerNow',
    params: ENDPOINT,
    examples: ['jetmon2 api sites endpoints trigger-now 1001'],
  },
})

/** `jetmon2 api sites …`. */
export default resourceGroup('sites', 'Monitored sites (blog ids) and their endpoints', {
  list: {
    name: 'list',
    route: 'sites.list',
    columns: SITE_COLUMNS,
    examples: [
      'jetmon2 api sites list --state-in "Seems Down,Down"',
      'jetmon2 api sites list --q example.com --all',
      'jetmon2 api sites list --request-method HEAD --detection-profile legacy',
    ],
  },
  get: { name: 'get', route: 'sites.get', params: BLOG, table: siteTable, examples: ['jetmon2 api sites get 42'] },
  create: {
    name: 'create',
    route: 'sites.create',
    table: siteTable,
    examples: [
      'jetmon2 api sites create --blog-id 42 --monitor-url https://example.com/',
      `jetmon2 api sites create --body '{"blog_id":42,"monitor_url":"https://example.com/","check_interval_sec":60}'`,
    ],
  },
  update: {
    name: 'update',
    route: 'sites.update',
    params: BLOG,
    table: siteTable,
    examples: [
      'jetmon2 api sites update 42 --check-interval-sec 60',
      'jetmon2 api sites update 42 --maintenance-start 2026-05-01T22:00:00Z --maintenance-end 2026-05-01T23:00:00Z',
    ],
  },
  delete: {
    name: 'delete',
    route: 'sites.delete',
    params: BLOG,
    done: (p) => `site ${p.blog_id} is no longer monitored (its open events are closed, its endpoints deactivated)`,
    examples: ['jetmon2 api sites delete 42'],
  },
  pause: {
    name: 'pause',
    route: 'sites.pause',
    params: BLOG,
    table: siteTable,
    examples: ['jetmon2 api sites pause 42'],
  },
  resume: {
    name: 'resume',
    route: 'sites.resume',
    params: BLOG,
    table: siteTable,
    examples: ['jetmon2 api sites resume 42'],
  },
  'trigger-now': {
    name: 'trigger-now',
    route: 'sites.triggerNow',
    params: BLOG,
    examples: ['jetmon2 api sites trigger-now 42'],
  },
  endpoints,
  'bulk-add': bulkAdd,
  export: exportSites,
})
