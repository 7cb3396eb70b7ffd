import { defineCommand } from 'citty'

/**
 * `jetmon2 api …`: the operator commands that talk only to the REST API, so they run from a laptop
 * or a bastion with no database access. Subcommands load on first use.
 */
export const apiCommand = defineCommand({
  meta: {
    name: 'api',
    description: 'Operate a Jetmon deployment through its REST API (/api/v1), from any host',
  },
  subCommands: {
    health: () => import('./commands/admin.js').then((m) => m.health),
    me: () => import('./commands/admin.js').then((m) => m.me),
    request: () => import('./commands/admin.js').then((m) => m.request),
    commands: () => import('./commands/catalog.js').then((m) => m.commands),
    sites: () => import('./commands/sites.js').then((m) => m.default),
    events: () => import('./commands/events.js').then((m) => m.default),
    stats: () => import('./commands/stats.js').then((m) => m.default),
    maintenance: () => import('./commands/maintenance.js').then((m) => m.default),
    webhooks: () => import('./commands/webhooks.js').then((m) => m.default),
    'alert-contacts': () => import('./commands/alert-contacts.js').then((m) => m.default),
    smoke: () => import('./commands/smoke.js').then((m) => m.smoke),
    rollout: () => import('./commands/rollout.js').then((m) => m.default),
    slos: () => import('./commands/slos.js').then((m) => m.default),
    'local-config': () => import('./commands/local-config.js').then((m) => m.default),
  },
})
