import { describe, expect, it } from 'vitest'
import {
  InvalidObjectiveError,
  type Objective,
  objectivesFromOpenSlo,
  objectiveToOpenSlo,
  openSloDocuments,
  openSloYaml,
} from '../src/index.js'

// biome-ignore lint/suspicious/noExplicitAny: the tests edit documents at any depth
type Tree = any

const base: Objective = {
  id: 7n,
  name: 'Shop: checkout availability',
  blogId: 42n,
  endpointId: null,
  sli: 'availability',
  latencyThresholdMs: null,
  target: 99.9,
  window: '30d',
  alertPolicy: null,
  budgetWarnPercent: 25,
  budgetCriticalPercent: 10,
  active: true,
  ownerTenantId: null,
  createdBy: 'test',
  createdAt: new Date('2026-05-01T00:00:00Z'),
  updatedAt: new Date('2026-05-01T00:00:00Z'),
}

const fieldsOf = (objective: Objective) => ({
  name: objective.name,
  blog_id: objective.blogId,
  endpoint_id: objective.endpointId,
  sli: objective.sli,
  latency_threshold_ms: objective.latencyThresholdMs,
  target: objective.target,
  window: objective.window,
  alert_policy:
    objective.alertPolicy?.map((rule) => ({
      long: rule.long,
      short: rule.short,
      burn_rate: rule.burnRate,
      severity: rule.severity,
    })) ?? null,
  budget_warn_percent: objective.budgetWarnPercent,
  budget_critical_percent: objective.budgetCriticalPercent,
  active: true,
})

/** The problems of invalid documents, as `path: message` lines. */
function problems(input: unknown): string[] {
  try {
    objectivesFromOpenSlo(input)
  } catch (error) {
    if (error instanceof InvalidObjectiveError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
    throw error
  }
  throw new Error('the documents were accepted')
}

const variants: Objective[] = [
  base,
  {
    ...base,
    id: 8n,
    name: 'api latency',
    endpointId: 9_007_199_254_740_993n,
    sli: 'latency',
    latencyThresholdMs: 800,
    target: 99.995,
    window: 'month',
    alertPolicy: [
      { severity: 'page', long: '1h', short: '5m', burnRate: 10 },
      { severity: 'ticket', long: '3d', short: '6h', burnRate: 0.5 },
    ],
    budgetWarnPercent: 40.5,
    budgetCriticalPercent: 0,
  },
  { ...base, id: 9n, name: 'q', window: 'quarter', target: 95 },
  { ...base, id: 10n, name: 'week', window: '7d', target: 0.001 },
]

describe('OpenSLO documents', () => {
  it('writes an objective as an SLO document with its SLI and alert policy inline', () => {
    const [document] = openSloDocuments(openSloYaml([objectiveToOpenSlo(variants[1]!)]))
    expect(document).toMatchObject({
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      metadata: { name: 'api latency' },
      spec: {
        indicator: {
          spec: {
            thresholdMetric: {
              metricSource: {
                type: 'Jetmon',
                spec: { sli: 'latency', blogId: 42, endpointId: '9007199254740993', latencyThresholdMs: 800 },
              },
            },
          },
        },
        timeWindow: [{ duration: '1M', isRolling: false }],
        budgetingMethod: 'Occurrences',
        objectives: [{ target: 0.99995 }],
        alertPolicies: [
          {
            kind: 'AlertPolicy',
            spec: {
              conditions: [
                {
                  kind: 'AlertCondition',
                  spec: {
                    severity: 'page',
                    condition: { kind: 'burnrate', op: 'gt', threshold: 10, lookbackWindow: '1h', alertAfter: '5m' },
                  },
                },
                expect.anything(),
              ],
            },
          },
        ],
      },
    })
    const [defaultPolicy] = openSloDocuments(openSloYaml([objectiveToOpenSlo(base)])) as Record<string, never>[]
    expect(defaultPolicy).toMatchObject({ spec: { alertPolicies: [{ alertPolicyRef: 'jetmon-default' }] } })
  })

  it('reads back exactly the objective it wrote, through YAML and through JSON', () => {
    const documents = variants.map(objectiveToOpenSlo)
    for (const input of [openSloYaml(documents), JSON.stringify(documents), documents]) {
      const read = objectivesFromOpenSlo(input)
      expect(read.map((entry) => entry.index)).toEqual([0, 1, 2, 3])
      expect(read.map((entry) => entry.fields)).toEqual(variants.map(fieldsOf))
    }
  })

  it('reads a hand-written document with defaults and a target in percent', () => {
    const yaml = `
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: shop
  indicator:
    metadata: { name: checkout-sli }
    spec:
      thresholdMetric:
        metricSource: { type: Jetmon, spec: { sli: availability, blogId: "42" } }
  timeWindow:
    - duration: 28d
  objectives:
    - displayName: three nines
      targetPercent: 99.9
`
    const [entry] = objectivesFromOpenSlo(yaml)
    expect(entry?.fields).toEqual({
      name: 'checkout',
      blog_id: 42n,
      endpoint_id: null,
      sli: 'availability',
      latency_threshold_ms: null,
      target: 99.9,
      window: '28d',
      alert_policy: null,
      budget_warn_percent: 25,
      budget_critical_percent: 10,
      active: true,
    })
  })

  it('names every problem of invalid documents by its path in the stream', () => {
    const good = objectiveToOpenSlo(base) as { spec: Record<string, unknown>; metadata: Record<string, unknown> }
    const bad = structuredClone(objectiveToOpenSlo(variants[1]!)) as Tree
    bad.spec.objectives = [{ target: 1.5 }]
    bad.spec.timeWindow = [{ duration: '14d' }]
    bad.spec.indicator.spec.thresholdMetric.metricSource.spec.latencyThresholdMs = undefined
    bad.spec.alertPolicies[0].spec.conditions[1].spec.condition.lookbackWindow = '2h'
    bad.spec.budgetingMethod = 'Timeslices'
    bad.spec.extra = true
    expect(problems([good, bad, { apiVersion: 'openslo/v1', kind: 'Service' }])).toEqual([
      '1.spec.extra: is not a field Jetmon reads here',
      '1.spec.timeWindow.0.duration: must be one of 7d, 28d, 30d, 90d (rolling) or 1M, 1Q (calendar, UTC)',
      '1.spec.objectives.0.target: must be a fraction between 0 and 1 (0.999 for 99.9 %)',
      '1.spec.budgetingMethod: must be Occurrences: latency counts checks',
      '2.kind: must be SLO (Jetmon reads SLO documents, with their SLI and alert policy inline)',
    ])

    // Once the document's shape holds, the objective's own rules are reported at their document paths.
    const latency = structuredClone(objectiveToOpenSlo(variants[1]!)) as Tree
    latency.spec.indicator.spec.thresholdMetric.metricSource.spec.latencyThresholdMs = undefined
    latency.spec.alertPolicies[0].spec.conditions[1].spec.condition.lookbackWindow = '2h'
    latency.spec.alertPolicies[0].spec.conditions[0].spec.condition.alertAfter = '1h'
    expect(problems(latency)).toEqual([
      '0.spec.alertPolicies.0.spec.conditions.1.spec.condition.lookbackWindow: must be one of 5m, 30m, 1h, 6h, 24h, 3d',
    ])
    latency.spec.alertPolicies[0].spec.conditions[1].spec.condition.lookbackWindow = '3d'
    expect(problems(latency)).toEqual([
      '0.spec.indicator.spec.thresholdMetric.metricSource.spec.latencyThresholdMs: is required for a latency objective',
      '0.spec.alertPolicies.0.spec.conditions.0.spec.condition.alertAfter: must be shorter than long (1h)',
    ])
  })

  it('refuses two documents naming one objective, YAML that does not parse, and OpenSLO it cannot honour', () => {
    const one = objectiveToOpenSlo(base)
    expect(problems([one, { ...one }])).toEqual(['1.metadata.name: names the same objective as document 0'])
    expect(problems('kind: [unclosed')[0]).toMatch(/^: is not valid YAML or JSON: /)
    expect(problems('')).toEqual([': holds no documents'])
    const refs = structuredClone(one) as Tree
    refs.spec.indicatorRef = 'elsewhere'
    delete refs.spec.indicator
    refs.spec.alertPolicies = [{ alertPolicyRef: 'pager' }]
    expect(problems(refs)).toEqual([
      '0.spec.indicatorRef: must be inline (spec.indicator): Jetmon does not read separate SLI documents',
      "0.spec.alertPolicies.0.alertPolicyRef: must be jetmon-default (Jetmon's default policy); put other policies inline",
    ])
  })
})
