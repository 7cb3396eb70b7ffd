/** `jetmon2 api stats …`: uptime, response time, the per-phase timing breakdown and the vantages of a site. */
import { resourceGroup } from '../_route-command.js'
import { responseTimeTable, timingBreakdownTable, uptimeTable, vantagesTable } from './_tables.js'

const BLOG = { blog_id: 'The site: its blog id' }

/** `jetmon2 api stats …`. */
export default resourceGroup('stats', 'Uptime and response-time statistics of a site', {
  uptime: {
    name: 'uptime',
    route: 'stats.uptime',
    params: BLOG,
    table: uptimeTable,
    examples: [
      'jetmon2 api stats uptime 42 --window 30d',
      'jetmon2 api stats uptime 42 --from 2026-04-01T00:00:00Z --to 2026-05-01T00:00:00Z',
    ],
  },
  'response-time': {
    name: 'response-time',
    route: 'stats.responseTime',
    params: BLOG,
    table: responseTimeTable,
    examples: [
      'jetmon2 api stats response-time 42 --window 24h',
      'jetmon2 api stats response-time 42 --window 24h --vantage veriflier-eu',
    ],
  },
  'timing-breakdown': {
    name: 'timing-breakdown',
    route: 'stats.timingBreakdown',
    params: BLOG,
    table: timingBreakdownTable,
    examples: ['jetmon2 api stats timing-breakdown 42 --window 7d --endpoint-id 1001'],
  },
  vantages: {
    name: 'vantages',
    route: 'stats.vantages',
    params: BLOG,
    table: vantagesTable,
    examples: ['jetmon2 api stats vantages 42 --window 24h'],
  },
})
