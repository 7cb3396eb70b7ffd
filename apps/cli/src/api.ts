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
    'local-config': () => import('./commands/local-config.js').then((m) => m.default),
  },
})
