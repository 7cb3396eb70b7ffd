import { describe, expect, it } from 'vitest'
import { matchesWebhook, type TransitionForMatching, type WebhookFilters } from './filters.js'

const opened: TransitionForMatching = { reason: 'opened', blogId: 42n, stateAfter: 'Seems Down' }
const confirmed: TransitionForMatching = { reason: 'verifier_confirmed', blogId: 42n, stateAfter: 'Down' }
const closed: TransitionForMatching = { reason: 'verifier_cleared', blogId: 42n, stateAfter: 'Resolved' }
const closedNullState: TransitionForMatching = { reason: 'false_alarm', blogId: 42n, stateAfter: null }
const bigBlog: TransitionForMatching = { reason: 'opened', blogId: 9_007_199_254_740_993n, stateAfter: 'Warning' }

const cases: [string, WebhookFilters, TransitionForMatching, boolean][] = [
  ['no filters match everything', {}, opened, true],
  ['null filters match everything', { events: null, siteFilter: null, stateFilter: null }, closed, true],
  [
    'empty filters match everything',
    { events: [], siteFilter: { blog_ids: [] }, stateFilter: { states: [] } },
    confirmed,
    true,
  ],
  ['inactive webhook matches nothing', { active: false }, opened, false],
  ['active webhook', { active: true }, opened, true],
  // events
  ['event type listed', { events: ['event.opened'] }, opened, true],
  ['event type not listed', { events: ['event.closed'] }, opened, false],
  ['state_changed covers verifier_confirmed', { events: ['event.state_changed'] }, confirmed, true],
  ['closed covers every closing reason', { events: ['event.closed'] }, closedNullState, true],
  ['unknown reason never matches', {}, { reason: 'mystery', blogId: 42n, stateAfter: 'Down' }, false],
  // site filter: ids as bigint, number or string
  ['blog id listed as number', { siteFilter: { blog_ids: [1, 42] } }, opened, true],
  ['blog id listed as string', { siteFilter: { blog_ids: ['42'] } }, opened, true],
  ['blog id listed with leading zeros', { siteFilter: { blog_ids: ['0042'] } }, opened, true],
  ['blog id listed as bigint', { siteFilter: { blog_ids: [42n] } }, opened, true],
  ['blog id not listed', { siteFilter: { blog_ids: [43, '44'] } }, opened, false],
  ['blog id beyond 2^53 listed as string', { siteFilter: { blog_ids: ['9007199254740993'] } }, bigBlog, true],
  ['neighbour of a blog id beyond 2^53', { siteFilter: { blog_ids: ['9007199254740992'] } }, bigBlog, false],
  ['transition blog id as a string', { siteFilter: { blog_ids: [42] } }, { ...opened, blogId: '42' }, true],
  ['site filter without blog_ids', { siteFilter: {} }, opened, true],
  // state filter, against state_after; a close is Resolved
  ['state listed', { stateFilter: { states: ['Down'] } }, confirmed, true],
  ['state not listed', { stateFilter: { states: ['Down'] } }, opened, false],
  ['close matches Resolved', { stateFilter: { states: ['Resolved'] } }, closed, true],
  [
    'close with NULL state_after still matches Resolved',
    { stateFilter: { states: ['Resolved'] } },
    closedNullState,
    true,
  ],
  ['close does not match its previous state', { stateFilter: { states: ['Down'] } }, closed, false],
  ['state comparison is exact', { stateFilter: { states: ['down'] } }, confirmed, false],
  ['bare array state filter', { stateFilter: ['Seems Down'] }, opened, true],
  ['bare array state filter, no match', { stateFilter: ['Down'] }, opened, false],
  // AND
  [
    'all three match',
    { events: ['event.state_changed'], siteFilter: { blog_ids: [42] }, stateFilter: { states: ['Down'] } },
    confirmed,
    true,
  ],
  [
    'event and state match, site does not',
    { events: ['event.state_changed'], siteFilter: { blog_ids: [7] }, stateFilter: { states: ['Down'] } },
    confirmed,
    false,
  ],
  [
    'site and state match, event does not',
    { events: ['event.opened'], siteFilter: { blog_ids: [42] }, stateFilter: { states: ['Down'] } },
    confirmed,
    false,
  ],
  [
    'event and site match, state does not',
    { events: ['event.state_changed'], siteFilter: { blog_ids: [42] }, stateFilter: { states: ['Warning'] } },
    confirmed,
    false,
  ],
]

describe('matchesWebhook', () => {
  it.each(cases)('%s', (_name, webhook, transition, expected) => {
    expect(matchesWebhook(webhook, transition)).toBe(expected)
  })
})
