import { defineCommand } from 'citty'
import { VERSION } from './version.js'

/** The `jetmon2` command tree. Every subcommand is explicit: an unknown one is a usage error. */
export const jetmon2 = defineCommand({
  meta: { name: 'jetmon2', version: VERSION, description: 'Jetmon 2: site monitoring with confirmed outages' },
  subCommands: {
    db: () => import('./commands/db.js').then((m) => m.default),
    migrate: () => import('./commands/migrate.js').then((m) => m.default),
    'validate-config': () => import('./commands/validate-config.js').then((m) => m.default),
    demo: () => import('./commands/demo.js').then((m) => m.default),
    serve: () => import('./commands/serve.js').then((m) => m.default),
    deliver: () => import('./commands/deliver.js').then((m) => m.default),
    status: () => import('./commands/process-control.js').then((m) => m.status),
    drain: () => import('./commands/process-control.js').then((m) => m.drain),
    reload: () => import('./commands/process-control.js').then((m) => m.reload),
    keys: () => import('./commands/keys.js').then((m) => m.default),
    audit: () => import('./commands/audit.js').then((m) => m.default),
    'projection-drift': () => import('./commands/projection-drift.js').then((m) => m.default),
    legacy: () => import('./commands/legacy.js').then((m) => m.default),
    'site-tenants': () => import('./commands/site-tenants.js').then((m) => m.default),
    api: () => import('@jetmon/cli').then((m) => m.apiCommand),
    version: defineCommand({
      meta: { name: 'version', description: 'Print the version' },
      run() {
        process.stdout.write(`jetmon2 ${VERSION}\n`)
      },
    }),
  },
})
