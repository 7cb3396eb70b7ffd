import type { ConfirmationPipeline } from '@jetmon/monitor'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { registerMonitorMetrics } from './metrics.js'

describe('the monitor metrics', () => {
  it('count checks by result, method and profile, and the failed checks of endpoints already Down', async () => {
    const registry = new Registry()
    const stats = {
      checks: 0,
      failures: 0,
      opened: 0,
      confirmed: 0,
      falseAlarms: 0,
      inconclusive: 0,
      recovered: 0,
      swallowed: 0,
      stillDown: 0,
    } as ConfirmationPipeline['stats']
    const metrics = registerMonitorMetrics(registry, () => ({ pipeline: { stats } as ConfirmationPipeline }))
    metrics.checks.inc({ result: 'ok', method: 'HEAD', profile: 'legacy' })
    metrics.checks.inc({ result: 'ok', method: 'HEAD', profile: 'legacy' })
    metrics.checks.inc({ result: 'keyword', method: 'GET', profile: 'full' })
    stats.stillDown = 3
    const text = await registry.metrics()
    expect(text).toContain('jetmon_checks_total{result="ok",method="HEAD",profile="legacy"} 2')
    expect(text).toContain('jetmon_checks_total{result="keyword",method="GET",profile="full"} 1')
    expect(text).toMatch(/^# TYPE jetmon_still_down_checks_total counter$/m)
    expect(text).toMatch(/^jetmon_still_down_checks_total 3$/m)
    stats.stillDown = 5
    expect(await registry.metrics()).toMatch(/^jetmon_still_down_checks_total 5$/m)
  })
})
