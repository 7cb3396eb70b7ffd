import { describe, expect, it } from 'vitest'
import {
  type AlertContactForMatching,
  type AlertMatch,
  matchesAlertContact,
  type TransitionForAlerting,
} from './matching.js'

const down: AlertContactForMatching = { active: true, siteFilter: null, minSeverity: 4 }
const seemsDown: AlertContactForMatching = { ...down, minSeverity: 3 }
const warning: AlertContactForMatching = { ...down, minSeverity: 1 }

const t = (
  reason: string,
  before: [string | null, number | null],
  after: [string | null, number | null],
  blogId: bigint | number | string = 42n,
): TransitionForAlerting =>
  ({
    blogId,
    reason,
    stateBefore: before[0],
    severityBefore: before[1],
    stateAfter: after[0],
    severityAfter: after[1],
  }) as TransitionForAlerting

const cases: [string, AlertContactForMatching, TransitionForAlerting, AlertMatch | null][] = [
  // trigger: severity_after ≥ min_severity while open
  ['Seems Down opened, contact wants Down', down, t('opened', [null, null], ['Seems Down', 3]), null],
  ['Seems Down opened, contact wants Seems Down', seemsDown, t('opened', [null, null], ['Seems Down', 3]), 'trigger'],
  ['confirmed Down, contact wants Down', down, t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]), 'trigger'],
  [
    'confirmed Down, contact wants Seems Down',
    seemsDown,
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]),
    'trigger',
  ],
  ['Warning opened, contact wants Warning', warning, t('opened', [null, null], ['Warning', 1]), 'trigger'],
  ['Warning escalated to Degraded', warning, t('severity_escalation', ['Warning', 1], ['Warning', 2]), 'trigger'],
  ['Degraded opened, contact wants Down', down, t('opened', [null, null], ['Degraded', 2]), null],
  ['cause linked on a Down event re-triggers', down, t('cause_linked', ['Down', 4], ['Down', 4]), 'trigger'],
  // recovery: severity_before ≥ min and the event closed or dropped to 0
  ['Down cleared, contact wants Down', down, t('verifier_cleared', ['Down', 4], ['Resolved', null]), 'recovery'],
  [
    'Seems Down probe-cleared, contact wants Down',
    down,
    t('probe_cleared', ['Seems Down', 3], ['Resolved', null]),
    null,
  ],
  [
    'Seems Down probe-cleared, contact wants Seems Down',
    seemsDown,
    t('probe_cleared', ['Seems Down', 3], ['Resolved', null]),
    'recovery',
  ],
  [
    'false alarm, contact wants Seems Down',
    seemsDown,
    t('false_alarm', ['Seems Down', 3], ['Resolved', null]),
    'recovery',
  ],
  ['operator closed a Down', down, t('manual_override', ['Down', 4], ['Resolved', null]), 'recovery'],
  ['maintenance swallowed a Down', down, t('maintenance_swallowed', ['Down', 4], ['Resolved', null]), 'recovery'],
  ['close with NULL state_after, by reason alone', down, t('auto_timeout', ['Down', 4], [null, null]), 'recovery'],
  [
    'Resolved state with an unfamiliar reason',
    down,
    t('some_future_close', ['Down', 4], ['Resolved', null]),
    'recovery',
  ],
  [
    'close with NULL severity_before counts as 0',
    warning,
    t('verifier_cleared', [null, null], ['Resolved', null]),
    null,
  ],
  [
    'severity dropped to 0 without closing',
    seemsDown,
    t('severity_deescalation', ['Seems Down', 3], ['Up', 0]),
    'recovery',
  ],
  ['dropped to 0 from below the minimum', down, t('severity_deescalation', ['Degraded', 2], ['Up', 0]), null],
  [
    'de-escalation that stays above the minimum re-triggers',
    seemsDown,
    t('severity_deescalation', ['Down', 4], ['Seems Down', 3]),
    'trigger',
  ],
  ['de-escalation below the minimum is silent', down, t('severity_deescalation', ['Down', 4], ['Seems Down', 3]), null],
  [
    'open transition without severity_after matches nothing',
    warning,
    t('state_change', ['Down', 4], ['Down', null]),
    null,
  ],
  // active and site filter
  ['inactive contact', { ...down, active: false }, t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]), null],
  [
    'inactive contact, recovery',
    { ...down, active: false },
    t('verifier_cleared', ['Down', 4], ['Resolved', null]),
    null,
  ],
  [
    'site in filter (number)',
    { ...down, siteFilter: { blog_ids: [42] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]),
    'trigger',
  ],
  [
    'site in filter (string)',
    { ...down, siteFilter: { blog_ids: ['7', '42'] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]),
    'trigger',
  ],
  [
    'site not in filter',
    { ...down, siteFilter: { blog_ids: [7] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]),
    null,
  ],
  [
    'site not in filter, recovery',
    { ...down, siteFilter: { blog_ids: [7] } },
    t('verifier_cleared', ['Down', 4], ['Resolved', null]),
    null,
  ],
  [
    'empty filter = all sites',
    { ...down, siteFilter: { blog_ids: [] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4]),
    'trigger',
  ],
  [
    'blog id beyond 2^53',
    { ...down, siteFilter: { blog_ids: ['9007199254740993'] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4], 9_007_199_254_740_993n),
    'trigger',
  ],
  [
    'neighbour of a blog id beyond 2^53',
    { ...down, siteFilter: { blog_ids: ['9007199254740992'] } },
    t('verifier_confirmed', ['Seems Down', 3], ['Down', 4], 9_007_199_254_740_993n),
    null,
  ],
]

describe('matchesAlertContact', () => {
  it.each(cases)('%s', (_name, contact, transition, expected) => {
    expect(matchesAlertContact(contact, transition)).toBe(expected)
  })
})
