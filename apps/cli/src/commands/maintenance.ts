/** `jetmon2 api maintenance …`: scheduled maintenance windows of a site. */
import { resourceGroup } from '../_route-command.js'
import { MAINTENANCE_COLUMNS } from './_tables.js'

/** `jetmon2 api maintenance …`. */
export default resourceGroup('maintenance', 'Maintenance windows: checks inside one never alert', {
  list: {
    name: 'list',
    route: 'maintenance.list',
    params: { blog_id: 'The site: its blog id' },
    columns: MAINTENANCE_COLUMNS,
    examples: ['jetmon2 api maintenance list 42'],
  },
  add: {
    name: 'add',
    route: 'maintenance.create',
    params: { blog_id: 'The site: its blog id' },
    examples: [
      'jetmon2 api maintenance add 42 --starts-at 2026-05-01T22:00:00Z --ends-at 2026-05-01T23:30:00Z --reason "DB upgrade"',
    ],
  },
  delete: {
    name: 'delete',
    route: 'maintenance.delete',
    params: { id: 'The maintenance window id (see maintenance list)' },
    done: (p) => `maintenance window ${p.id} deleted`,
    examples: ['jetmon2 api maintenance delete 7'],
  },
})
