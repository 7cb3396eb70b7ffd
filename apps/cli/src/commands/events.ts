/** `jetmon2 api events …`: incidents and their transitions. */
import { resourceGroup } from '../_route-command.js'
import { EVENT_COLUMNS, eventTable, TRANSITION_COLUMNS } from './_tables.js'

const EVENT = { event_id: 'The event id' }

/** `jetmon2 api events …`. */
export default resourceGroup('events', 'Incident events: list, inspect, close', {
  list: {
    name: 'list',
    route: 'events.list',
    columns: EVENT_COLUMNS,
    examples: [
      'jetmon2 api events list --active true',
      'jetmon2 api events list --blog-id 42 --state-in "Seems Down,Down" --started-at-gte 2026-05-01T00:00:00Z',
    ],
  },
  get: { name: 'get', route: 'events.get', params: EVENT, table: eventTable, examples: ['jetmon2 api events get 123'] },
  transitions: {
    name: 'transitions',
    route: 'events.transitions',
    params: EVENT,
    columns: TRANSITION_COLUMNS,
    examples: ['jetmon2 api events transitions 123 --all'],
  },
  close: {
    name: 'close',
    route: 'events.close',
    params: EVENT,
    table: eventTable,
    examples: ['jetmon2 api events close 123 --reason false_alarm --note "CDN hiccup, verified by hand"'],
  },
})
